"""CAT-9 one number, one source (#13 item 5): keys are how resources join, never duplicate collection;
the authority designates the authoritative source of each data element about each subject (base
library fields included); duplicates are shown against it, and the authority asks a department to
stop collecting and share instead — on both stores."""

from __future__ import annotations

from urllib.parse import quote

from tests.support.catalog import enterprises, population, publish
from tests.support.http import assert_problem
from tests.support.pages import browser, text

GA = "焦作市公安局"
RS = "焦作市人力资源和社会保障局"


def insured(**overrides) -> dict:
    """市人社局's 社保参保人员信息: 公民身份号码 (its key), 姓名, 出生日期 and 社会保障卡号 of persons."""
    body = population(
        name="社保参保人员信息",
        summary="全市社会保险参保人员的基本信息，每月更新。",
        classification="203",
        update_cycle="monthly",
    )
    items = [body["items"][0], body["items"][1], body["items"][3]]  # 公民身份号码, 姓名, 出生日期
    items.append(
        {"code": "shbzkh", "name": "社会保障卡号", "data_type": "C", "length": 20, "element": "社会保障卡号"}
    )
    body["items"] = items
    body.update(overrides)
    return body


def source_url(subject: str, element: str) -> str:
    return f"/api/v1/sources/{subject}/{quote(element)}"


def groups_by_element(client, headers) -> dict[str, dict]:
    response = client.get("/api/v1/sources/duplicates", headers=headers)
    assert response.status_code == 200, response.text
    return {(g["element"], g["subject"]): g for g in response.json()}


def test_keys_are_not_duplicate_collection_CAT9(client, as_user):
    """Both departments hold 公民身份号码 as their key: that is how they join, not a duplicate."""
    authority = as_user("dsj_officer")
    publish(client, as_user, "ga_officer", population())
    assert groups_by_element(client, authority) == {}
    publish(client, as_user, "rs_officer", insured())
    groups = groups_by_element(client, authority)
    assert ("公民身份号码", "natural_person") not in groups
    assert set(groups) == {("姓名", "natural_person"), ("出生日期", "natural_person")}
    name = groups[("姓名", "natural_person")]
    assert name["source"] is None and name["departments"] == 2 and name["subject_label"] == "自然人"
    assert {h["department_name"] for h in name["holders"]} == {GA, RS}
    assert not any(h["duplicate"] for h in name["holders"])  # no source named yet: nothing to act on
    # a legal person's 统一社会信用代码 is a key too; their names are another subject's element
    publish(client, as_user, "scjg_officer", enterprises())
    assert set(groups_by_element(client, authority)) == set(groups)
    assert_problem(client.get("/api/v1/sources/duplicates", headers=as_user("ga_officer")), 403)


def test_duplicates_are_shown_against_the_source_and_the_department_is_asked_to_stop_CAT9(client, as_user):
    authority, rs = as_user("dsj_officer"), as_user("rs_officer")
    ga_code = publish(client, as_user, "ga_officer", population())
    rs_code = publish(client, as_user, "rs_officer", insured())
    # no stop request before a source is named
    assert_problem(
        client.post("/api/v1/sources/stop-requests", json={"resource_code": rs_code}, headers=authority),
        409,
        "not-duplicate",
    )
    # 姓名 of natural persons is a field of the 人口 base library: naming its source names the field's
    named = client.put(
        source_url("natural_person", "姓名"), json={"resource_code": ga_code}, headers=authority
    )
    assert named.status_code == 200, named.text
    assert named.json()["library_name"] == "人口基础库"
    assert named.json()["source"]["resource_code"] == ga_code
    libraries = client.get("/api/v1/libraries", headers=authority).json()
    population_library = next(lib for lib in libraries if lib["code"] == "population")
    field = next(f for f in population_library["fields"] if f["element"] == "姓名")
    assert field["source"]["resource_code"] == ga_code and field["chosen_by_name"] == "李明"

    groups = groups_by_element(client, authority)
    name = groups[("姓名", "natural_person")]
    assert name["source"]["department_name"] == GA
    holders = {h["resource_code"]: h for h in name["holders"]}
    assert holders[ga_code]["authoritative"] is True and holders[ga_code]["duplicate"] is False
    assert holders[rs_code]["duplicate"] is True and holders[rs_code]["stop_request"] is None
    assert groups[("出生日期", "natural_person")]["source"] is None  # still to be named

    asked = client.post("/api/v1/sources/stop-requests", json={"resource_code": rs_code}, headers=authority)
    assert asked.status_code == 201, asked.text
    body = asked.json()
    assert [(d["element"], d["source_code"]) for d in body["duplicated"]] == [("姓名", ga_code)]
    violation = next(
        v
        for v in client.get("/api/v1/violations", headers=rs).json()["items"]
        if v["id"] == body["violation_id"]
    )
    assert violation["kind"] == "duplicate_collection" and violation["object_id"] == rs_code
    assert violation["evidence"]["duplicated"][0]["source_code"] == ga_code
    messages = client.get("/api/v1/notifications", headers=rs).json()["items"]
    asking = next(m for m in messages if m["kind"] == "library.duplicate.stop_requested")
    assert "停止重复采集" in asking["title"] and ga_code in asking["body"] and "共享" in asking["body"]
    # shown as asked, and asked once
    holder = next(
        h
        for h in groups_by_element(client, authority)[("姓名", "natural_person")]["holders"]
        if h["duplicate"]
    )
    assert holder["stop_request"]["violation_id"] == body["violation_id"]
    assert holder["stop_request"]["status_label"] == "待确认"
    assert_problem(
        client.post("/api/v1/sources/stop-requests", json={"resource_code": rs_code}, headers=authority),
        409,
        "already-requested",
    )
    # the department may contest it with its good reason (the violations register)
    contested = client.post(
        f"/api/v1/violations/{body['violation_id']}/contest",
        json={"reason": "参保登记须核对本人姓名，已改为共享比对"},
        headers=rs,
    )
    assert contested.status_code == 200, contested.text
    assert_problem(
        client.post("/api/v1/sources/stop-requests", json={"resource_code": rs_code}, headers=rs), 403
    )


def test_sources_beyond_the_base_libraries_CAT9(client, as_user):
    authority = as_user("dsj_officer")
    ga_code = publish(client, as_user, "ga_officer", population())
    rs_code = publish(client, as_user, "rs_officer", insured())
    legal_code = publish(client, as_user, "scjg_officer", enterprises())
    url = source_url("natural_person", "社会保障卡号")
    # the source must hold the element, be published, and be about that subject
    assert_problem(client.put(url, json={"resource_code": ga_code}, headers=authority), 422)
    wrong_subject = client.put(
        source_url("natural_person", "单位名称"), json={"resource_code": legal_code}, headers=authority
    )
    assert_problem(wrong_subject, 422)
    assert "法人" in wrong_subject.json()["detail"]
    draft = client.post(
        "/api/v1/resources", json=insured(name="参保人员草稿"), headers=as_user("rs_officer")
    ).json()
    assert_problem(client.put(url, json={"resource_code": draft["code"]}, headers=authority), 422)
    assert_problem(
        client.put(
            source_url("natural_person", "无此数据元"), json={"resource_code": None}, headers=authority
        ),
        404,
    )
    assert_problem(
        client.put(source_url("nobody", "姓名"), json={"resource_code": None}, headers=authority), 422
    )
    assert_problem(client.put(url, json={"resource_code": rs_code}, headers=as_user("rs_officer")), 403)

    named = client.put(
        url, json={"resource_code": rs_code, "note": "社保卡由人社部门发放"}, headers=authority
    )
    assert named.status_code == 200, named.text
    assert named.json()["library_name"] is None
    listed = client.get("/api/v1/sources", headers=as_user("wj_user")).json()  # internal users read them
    entry = next(d for d in listed if d["element"] == "社会保障卡号")
    assert entry["subject_label"] == "自然人" and entry["source"]["department_name"] == RS
    assert entry["designated_by_name"] == "李明" and entry["note"] == "社保卡由人社部门发放"
    # 人社's pool names it as the source of it
    rs_id = client.get("/api/v1/me", headers=as_user("rs_officer")).json()["department_id"]
    pool = client.get(f"/api/v1/departments/{rs_id}/pool", headers=authority).json()
    assert pool["resources"][0]["authoritative_for"] == ["社会保障卡号（自然人）"]
    cleared = client.put(url, json={"resource_code": None}, headers=authority)
    assert cleared.status_code == 200 and cleared.json()["source"] is None
    assert all(
        d["element"] != "社会保障卡号" for d in client.get("/api/v1/sources", headers=authority).json()
    )


def test_the_one_source_page_CAT9(app, client, as_user):
    ga_code = publish(client, as_user, "ga_officer", population())
    rs_code = publish(client, as_user, "rs_officer", insured())
    authority = browser(app, "dsj_officer")
    page = authority.get("/sources")
    assert page.status_code == 200
    shown = text(page.text)
    assert "重复采集" in shown and "2 个部门采集" in shown and "尚未指定权威来源" in shown
    duplicates = shown.split("重复采集（")[1].split("已指定的权威来源")[0]
    assert "重复采集（2 项）" in shown and "gmsfhm" not in duplicates  # keys are not listed as duplicates
    named = authority.post(
        "/sources/designate",
        data={"element": "姓名", "subject": "natural_person", "resource_code": ga_code},
        follow_redirects=False,
    )
    assert named.status_code == 303
    page = authority.get(named.headers["location"])
    assert "已更新权威来源" in page.text and "要求停止采集、改为共享" in page.text
    asked = authority.post("/sources/stop", data={"resource_code": rs_code}, follow_redirects=False)
    assert asked.status_code == 303
    page = text(authority.get(asked.headers["location"]).text)
    assert "已要求停止" in page and "待确认" in page
    refused = authority.post("/sources/stop", data={"resource_code": rs_code})
    assert refused.status_code == 409 and "已于" in text(refused.text)
    assert browser(app, "ga_officer").get("/sources").status_code == 403
    assert 'href="/sources"' in authority.get("/libraries").text
