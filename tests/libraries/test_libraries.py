"""AGG-8, CAT-9, CAT-13, QUA-3: the 人口 base library fused from 市公安局's and 市人社局's resources,
the conflict between them negotiated and decided, department resource pools — on both stores."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from sqlalchemy import select

from govdata.catalog.models import DataElement
from govdata.core import calendar, clock
from govdata.core.audit import AuditEvent
from govdata.libraries.models import LibraryConflict
from tests.support.batches import ric
from tests.support.catalog import enterprises, population, publish
from tests.support.http import assert_problem

GA = "焦作市公安局"
RS = "焦作市人力资源和社会保障局"
HTML = {"accept": "text/html"}


def social_security(**overrides) -> dict:
    body = {
        "name": "社保参保人员信息",
        "summary": "全市社会保险参保人员的基本信息，每月更新。",
        "classification": "203",
        "format": "database",
        "share_type": "unconditional",
        "share_modes": ["query"],
        "share_methods": ["interface"],  # registered complete for sharing (SHR-1)
        "materials": ["共享申请函（加盖公章）"],
        "usage_requirements": "按履职需要使用",
        "open_type": "none",
        "update_cycle": "monthly",
        "grade": "important",
        "items": [
            {
                "code": "sfzh",
                "name": "身份证号",
                "data_type": "C",
                "length": 18,
                "required": True,
                "key": True,
                "level": 3,
                "element": "公民身份号码",
            },
            {
                "code": "rymc",
                "name": "人员姓名",
                "data_type": "C",
                "length": 50,
                "required": True,
                "element": "姓名",
            },
            {"code": "csny", "name": "出生日期", "data_type": "D", "element": "出生日期"},
            {"code": "cbrq", "name": "参保日期", "data_type": "D"},
        ],
    }
    body.update(overrides)
    return body


def load(client, headers, code: str, records: list[dict]) -> int:
    response = client.post(
        f"/api/v1/resources/{code}/batches",
        json={"mode": "upsert", "policy": "strict", "records": records},
        headers=headers,
    )
    assert response.status_code == 201 and response.json()["status"] == "applied", response.text
    return response.json()["id"]


def person(i: int) -> dict:
    month, day = i % 12 + 1, i % 28 + 1
    return {
        "id": ric(f"4108021985{month:02d}{day:02d}{i:03d}"),
        "name": f"居民{i}",
        "born": f"1985-{month:02d}-{day:02d}",
    }


@pytest.fixture
def people(client, as_user) -> dict:
    """公安 holds persons 0–9, 人社 persons 5–14; for person 7 人社 has another 出生日期."""
    ga_code = publish(client, as_user, "ga_officer", population())
    rs_code = publish(client, as_user, "rs_officer", social_security())
    ga_batch = load(
        client,
        as_user("ga_officer"),
        ga_code,
        [
            {"gmsfhm": p["id"], "xm": p["name"], "xb": "1", "csrq": p["born"], "hjdz": "焦作市解放区"}
            for p in map(person, range(10))
        ],
    )
    rs_records = [
        {"sfzh": p["id"], "rymc": p["name"], "csny": p["born"], "cbrq": "2010-01-01"}
        for p in map(person, range(5, 15))
    ]
    rs_records[2]["csny"] = "1985-08-18"  # person 7: 公安 says 1985-08-08
    rs_batch = load(client, as_user("rs_officer"), rs_code, rs_records)
    return {
        "ga": ga_code,
        "rs": rs_code,
        "ga_batch": ga_batch,
        "rs_batch": rs_batch,
        "ga_keys": sorted(person(i)["id"] for i in range(10)),
        "differs": person(7)["id"],
    }


def population_library(client, headers) -> dict:
    libraries = client.get("/api/v1/libraries", headers=headers).json()
    return next(lib for lib in libraries if lib["code"] == "population")


def field_url(library_id: int, element: str) -> str:
    return f"/api/v1/libraries/{library_id}/fields/{quote(element)}"


def set_sources(client, headers, library_id: int, code: str, elements=("姓名", "出生日期")) -> None:
    for element in elements:
        response = client.put(
            field_url(library_id, element), json={"source_resource_code": code}, headers=headers
        )
        assert response.status_code == 200, response.text


def department_id(client, headers) -> int:
    return client.get("/api/v1/me", headers=headers).json()["department_id"]


@pytest.fixture
def built(client, as_user, people) -> dict:
    """The 人口 library with 姓名 and 出生日期 sourced from 公安, built once."""
    authority = as_user("dsj_officer")
    library = population_library(client, authority)
    set_sources(client, authority, library["id"], people["ga"])
    response = client.post(f"/api/v1/libraries/{library['id']}/build", headers=authority)
    assert response.status_code == 200, response.text
    return {**people, "library": library, "report": response.json()}


def test_base_libraries_are_seeded_with_their_base_items(client, as_user):
    libraries = client.get("/api/v1/libraries", headers=as_user("rs_user")).json()
    by_code = {lib["code"]: lib for lib in libraries}
    assert by_code["population"]["key_element"] == "公民身份号码"
    assert [f["element"] for f in by_code["population"]["fields"]][:2] == ["公民身份号码", "姓名"]
    assert {"出生日期", "性别", "户籍地址"} <= {f["element"] for f in by_code["population"]["fields"]}
    assert by_code["legal_person"]["key_element"] == "统一社会信用代码"
    assert {"单位名称", "法定代表人", "成立日期", "登记地址"} <= {
        f["element"] for f in by_code["legal_person"]["fields"]
    }
    assert all(f["source"] is None for f in by_code["population"]["fields"])
    # seeding happens once
    assert len(client.get("/api/v1/libraries", headers=as_user("dsj_officer")).json()) == len(libraries)


def test_candidates_are_the_published_resources_holding_the_element_and_the_key(client, as_user, people):
    library = population_library(client, as_user("dsj_officer"))
    fields = {f["element"]: f for f in library["fields"]}
    assert {c["resource_code"] for c in fields["出生日期"]["candidates"]} == {people["ga"], people["rs"]}
    assert {c["department_name"] for c in fields["出生日期"]["candidates"]} == {GA, RS}
    assert [c["resource_code"] for c in fields["性别"]["candidates"]] == [people["ga"]]
    assert fields["出生日期"]["column"] == "csrq"


def test_fusion_takes_each_field_from_its_source_and_records_one_conflict(client, as_user, built, session):
    authority = as_user("dsj_officer")
    library_id = built["library"]["id"]
    report = built["report"]
    assert report["rows"] == 10
    assert (report["conflicts_detected"], report["conflicts_new"]) == (1, 1)
    assert set(report["compared_resources"]) == {built["ga"], built["rs"]}

    records = client.get(f"/api/v1/libraries/{library_id}/records?limit=100", headers=authority).json()
    assert records["total"] == 10
    assert [r["key"] for r in records["items"]] == built["ga_keys"]  # 公安's keys, not 人社's
    record = next(r for r in records["items"] if r["key"] == built["differs"])
    fields = {f["element"]: f for f in record["fields"]}
    assert fields["出生日期"]["value"] == "1985-08-08"  # 公安's value
    assert fields["出生日期"]["source"]["resource_code"] == built["ga"]
    assert fields["出生日期"]["source"]["department_name"] == GA
    assert fields["出生日期"]["batch_id"] == built["ga_batch"]
    assert fields["姓名"]["value"] == "居民7"
    assert fields["性别"]["value"] is None and fields["性别"]["source"] is None  # no source named
    assert [c["element"] for c in record["conflicts"]] == ["出生日期"]
    one = client.get(
        f"/api/v1/libraries/{library_id}/records?key={built['differs'].lower()}", headers=authority
    ).json()
    assert one["total"] == 1 and one["items"][0]["key"] == built["differs"]

    listed = client.get("/api/v1/conflicts", headers=authority).json()
    assert listed["total"] == 1
    conflict = listed["items"][0]
    assert (conflict["key"], conflict["element"], conflict["status"]) == (
        built["differs"],
        "出生日期",
        "open",
    )
    values = {v["department_name"]: v for v in conflict["values"]}
    assert values[GA]["value"] == "1985-08-08" and values[GA]["authoritative"] is True
    assert values[RS]["value"] == "1985-08-18" and values[RS]["authoritative"] is False
    assert values[RS]["batch_id"] == built["rs_batch"]
    # the coordination deadline: policy deadlines.conflict_coordination (15 working days) from detection
    due = calendar.WorkingCalendar.load(session).add_working_days(clock.today(), 15).date
    assert conflict["deadline"] == due.isoformat() and conflict["overdue"] is False

    again = client.post(f"/api/v1/libraries/{library_id}/build", headers=authority).json()
    assert (again["conflicts_new"], again["conflicts_still_open"]) == (0, 1)
    relisted = client.get("/api/v1/conflicts", headers=authority).json()
    assert relisted["total"] == 1 and relisted["items"][0]["id"] == conflict["id"]


def test_negotiation_escalation_and_the_authoritys_decision(client, as_user, built, session):
    conflict_id = client.get("/api/v1/conflicts", headers=as_user("dsj_officer")).json()["items"][0]["id"]
    url = f"/api/v1/conflicts/{conflict_id}"
    rs, ga, authority = as_user("rs_officer"), as_user("ga_officer"), as_user("dsj_officer")

    commented = client.post(
        f"{url}/comments",
        json={"comment": "我局参保登记时核验过户口簿。", "proposed_value": "1985-08-18"},
        headers=rs,
    )
    assert commented.status_code == 200, commented.text
    assert commented.json()["status"] == "negotiating"
    reply = client.post(
        f"{url}/comments", json={"comment": "户籍登记为 8 月 8 日，请核实。"}, headers=ga
    ).json()
    assert [c["author"] for c in reply["comments"]] == ["rs_officer", "ga_officer"]
    assert reply["comments"][0]["proposed_value"] == "1985-08-18"
    assert reply["comments"][0]["department_name"] == RS

    assert_problem(client.post(f"{url}/decide", json={"value": "x", "reason": "y"}, headers=rs), 403)
    assert_problem(
        client.post(f"{url}/decide", json={"value": "1985-08-08", "reason": "以户籍为准"}, headers=authority),
        409,
        "not-escalated",
    )
    escalated = client.post(f"{url}/escalate", json={"reason": "双方各执一词"}, headers=ga).json()
    assert escalated["status"] == "escalated" and escalated["escalated_by"] == "ga_officer"
    assert_problem(client.post(f"{url}/resolve", json={"value": "1985-08-08"}, headers=rs), 409)

    decided = client.post(
        f"{url}/decide", json={"value": "1985-08-08", "reason": "以户籍登记为准。"}, headers=authority
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["status"] == "decided" and body["decided_value"] == "1985-08-08"
    assert (
        body["decided_by"] == "dsj_officer"
        and body["decided_at"]
        and body["resolution"] == "以户籍登记为准。"
    )
    assert_problem(client.post(f"{url}/comments", json={"comment": "再议"}, headers=rs), 409)
    assert client.get(url, headers=rs).json()["status"] == "decided"

    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(conflict_id))))
    assert {
        "library.conflict.commented",
        "library.conflict.escalated",
        "library.conflict.decided",
    } <= actions

    # the same disagreement on the next build stays the one decided conflict
    again = client.post(f"/api/v1/libraries/{built['library']['id']}/build", headers=authority).json()
    assert (again["conflicts_new"], again["conflicts_still_open"], again["conflicts_closed"]) == (0, 0, 0)
    listed = client.get("/api/v1/conflicts", headers=authority).json()
    assert listed["total"] == 1 and listed["items"][0]["status"] == "decided"


def test_departments_resolve_by_agreement_and_a_rebuild_closes_what_no_longer_disagrees(
    client, as_user, built
):
    """QUA-3: agreement needs both departments; one party alone cannot close the conflict."""
    authority, rs, ga = as_user("dsj_officer"), as_user("rs_officer"), as_user("ga_head")
    library_id = built["library"]["id"]
    first = client.get("/api/v1/conflicts", headers=authority).json()["items"][0]
    url = f"/api/v1/conflicts/{first['id']}"
    alone = client.post(f"{url}/resolve", json={"value": "1985-08-08", "note": "人社局将更正"}, headers=rs)
    assert alone.status_code == 200, alone.text
    alone = alone.json()
    assert alone["status"] == "negotiating" and alone["decided_value"] is None
    parties = {p["department_name"]: p for p in alone["parties"]}
    assert parties[RS]["agreed_value"] == "1985-08-08" and parties[RS]["agreed_by_name"] == "刘洋"
    assert parties[GA]["agreed_value"] is None
    assert alone["awaiting_department_ids"] == [parties[GA]["department_id"]]
    # confirming again alone changes nothing; a different value from the other side does not close it
    again = client.post(f"{url}/resolve", json={"value": "1985-08-08"}, headers=rs).json()
    assert again["status"] == "negotiating"
    other = client.post(f"{url}/resolve", json={"value": "1985-08-18"}, headers=ga).json()
    assert other["status"] == "negotiating" and other["decided_value"] is None
    assert set(other["awaiting_department_ids"]) == {p["department_id"] for p in other["parties"]}
    # 公安 confirms the value 人社 confirmed: both agree, the conflict is resolved
    resolved = client.post(f"{url}/resolve", json={"value": "1985-08-08"}, headers=ga).json()
    assert resolved["status"] == "resolved" and resolved["decided_value"] == "1985-08-08"
    assert resolved["decided_by"] == "ga_head" and resolved["awaiting_department_ids"] == []
    assert resolved["resolution"] == "相关部门协商一致。"
    assert_problem(client.post(f"{url}/escalate", json={}, headers=rs), 409)
    assert_problem(client.post(f"{url}/resolve", json={"value": "1985-08-08"}, headers=rs), 409)

    # 人社 now reports yet another date: a new disagreement, a new conflict
    p = person(7)
    load(client, rs, built["rs"], [{"sfzh": p["id"], "rymc": p["name"], "csny": "1985-08-28"}])
    report = client.post(f"/api/v1/libraries/{library_id}/build", headers=authority).json()
    assert report["conflicts_new"] == 1
    open_ = client.get("/api/v1/conflicts?status=open", headers=authority).json()
    assert open_["total"] == 1 and open_["items"][0]["id"] != first["id"]

    # 人社 corrects its data: the next build closes the open conflict
    load(client, rs, built["rs"], [{"sfzh": p["id"], "rymc": p["name"], "csny": "1985-08-08"}])
    report = client.post(f"/api/v1/libraries/{library_id}/build", headers=authority).json()
    assert (report["conflicts_new"], report["conflicts_closed"]) == (0, 1)
    closed = client.get(f"/api/v1/conflicts/{open_['items'][0]['id']}", headers=authority).json()
    assert closed["status"] == "resolved" and closed["decided_by"] == "govdata"
    assert client.get("/api/v1/conflicts?status=open", headers=authority).json()["total"] == 0
    assert client.get("/api/v1/conflicts?status=resolved", headers=authority).json()["total"] == 2


def test_who_may_do_what(client, as_user, built):
    library_id = built["library"]["id"]
    conflict_id = client.get("/api/v1/conflicts", headers=as_user("dsj_officer")).json()["items"][0]["id"]
    rs, wj = as_user("rs_officer"), as_user("wj_officer")

    # a department sees the conflicts involving its resources, and no others
    assert client.get("/api/v1/conflicts", headers=rs).json()["total"] == 1
    assert client.get("/api/v1/conflicts", headers=as_user("ga_head")).json()["total"] == 1
    assert client.get("/api/v1/conflicts", headers=wj).json() == {"items": [], "total": 0}
    assert_problem(client.get(f"/api/v1/conflicts/{conflict_id}", headers=wj), 404)
    assert_problem(
        client.post(f"/api/v1/conflicts/{conflict_id}/comments", json={"comment": "?"}, headers=wj), 404
    )
    assert_problem(client.post(f"/api/v1/conflicts/{conflict_id}/escalate", json={}, headers=wj), 404)
    assert_problem(client.get("/api/v1/conflicts", headers=as_user("rs_user")), 403)
    assert_problem(
        client.post(
            f"/api/v1/conflicts/{conflict_id}/resolve", json={"value": "x"}, headers=as_user("dsj_officer")
        ),
        403,
    )

    # only the authority defines, sources and builds
    assert_problem(client.post(f"/api/v1/libraries/{library_id}/build", headers=rs), 403)
    assert_problem(
        client.put(field_url(library_id, "姓名"), json={"source_resource_code": built["rs"]}, headers=rs), 403
    )
    assert_problem(
        client.post(
            "/api/v1/libraries", json={"code": "x1", "name": "x", "key_element": "公民身份号码"}, headers=rs
        ),
        403,
    )

    # fused rows: the authority and the lead department only
    records = f"/api/v1/libraries/{library_id}/records"
    assert_problem(client.get(records, headers=as_user("ga_officer")), 403, "not-lead")
    ga_id = department_id(client, as_user("ga_officer"))
    patched = client.patch(
        f"/api/v1/libraries/{library_id}", json={"lead_department_id": ga_id}, headers=as_user("dsj_officer")
    )
    assert patched.status_code == 200 and patched.json()["lead_department_name"] == GA
    assert client.get(records, headers=as_user("ga_officer")).json()["total"] == 10
    assert client.get(records, headers=as_user("ga_head")).status_code == 200
    assert_problem(client.get(records, headers=rs), 403)
    assert_problem(client.get(records, headers=as_user("auditor")), 403)


def test_sources_must_hold_the_element_and_the_key(client, as_user, people):
    authority = as_user("dsj_officer")
    library = population_library(client, authority)
    enterprise_code = publish(client, as_user, "scjg_officer", enterprises())
    put = client.put(
        field_url(library["id"], "姓名"), json={"source_resource_code": enterprise_code}, headers=authority
    )
    assert_problem(put, 422)
    assert "姓名" in put.json()["detail"]
    assert_problem(
        client.put(
            field_url(library["id"], "姓名"),
            json={"source_resource_code": "101/999999999999"},
            headers=authority,
        ),
        422,
    )
    assert_problem(
        client.put(
            field_url(library["id"], "不存在的数据元"), json={"source_resource_code": None}, headers=authority
        ),
        404,
    )
    draft = client.post(
        "/api/v1/resources", json=population(name="人口草稿"), headers=as_user("ga_officer")
    ).json()
    assert_problem(
        client.put(
            field_url(library["id"], "姓名"), json={"source_resource_code": draft["code"]}, headers=authority
        ),
        422,
    )
    # building with no source named is refused
    assert_problem(
        client.post(f"/api/v1/libraries/{library['id']}/build", headers=authority), 409, "no-sources"
    )
    # an element not yet a base item becomes one; the key's source defines the library's keys
    set_sources(client, authority, library["id"], people["rs"], elements=("公民身份号码",))
    added = client.put(
        field_url(library["id"], "社会保障卡号"), json={"source_resource_code": None}, headers=authority
    )
    assert added.status_code == 200, added.text
    view = client.get(f"/api/v1/libraries/{library['id']}", headers=authority).json()
    assert view["fields"][-1]["element"] == "社会保障卡号" and view["fields"][-1]["source"] is None
    set_sources(client, authority, library["id"], people["ga"], elements=("姓名",))
    report = client.post(f"/api/v1/libraries/{library['id']}/build", headers=authority).json()
    assert report["rows"] == 10  # 人社's persons 5–14
    records = client.get(f"/api/v1/libraries/{library['id']}/records?limit=100", headers=authority).json()
    names = {r["key"]: {f["element"]: f["value"] for f in r["fields"]}["姓名"] for r in records["items"]}
    assert names[person(12)["id"]] is None and names[person(7)["id"]] == "居民7"


def test_define_a_library(client, as_user):
    authority = as_user("dsj_officer")
    created = client.post(
        "/api/v1/libraries",
        json={
            "code": "insured_people",
            "name": "参保人员主题库",
            "key_element": "公民身份号码",
            "elements": ["姓名", "社会保障卡号"],
            "lead_department_id": department_id(client, as_user("rs_officer")),
        },
        headers=authority,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert [f["element"] for f in body["fields"]] == ["公民身份号码", "姓名", "社会保障卡号"]
    assert body["lead_department_name"] == RS
    assert_problem(
        client.post(
            "/api/v1/libraries",
            json={"code": "insured_people", "name": "重复", "key_element": "公民身份号码"},
            headers=authority,
        ),
        409,
    )
    assert_problem(
        client.post(
            "/api/v1/libraries",
            json={"code": "by_name", "name": "按姓名", "key_element": "姓名"},
            headers=authority,
        ),
        422,
    )
    assert_problem(
        client.post(
            "/api/v1/libraries",
            json={
                "code": "bad_items",
                "name": "x",
                "key_element": "公民身份号码",
                "elements": ["无此数据元"],
            },
            headers=authority,
        ),
        422,
    )


def test_department_resource_pool_counts_rows(client, as_user, built):
    ga = as_user("ga_officer")
    ga_id, rs_id = department_id(client, ga), department_id(client, as_user("rs_officer"))
    pool = client.get(f"/api/v1/departments/{ga_id}/pool", headers=ga)
    assert pool.status_code == 200, pool.text
    body = pool.json()
    assert body["department_name"] == GA and body["total_rows"] == 10
    (resource,) = body["resources"]
    assert resource["code"] == built["ga"] and resource["rows"] == 10
    assert resource["last_batch"]["id"] == built["ga_batch"] and resource["last_batch"]["status"] == "applied"
    assert resource["last_batch_at"] and resource["next_due"] and resource["overdue"] is False
    assert set(resource["authoritative_for"]) == {"人口基础库·姓名", "人口基础库·出生日期"}
    rs_pool = client.get(f"/api/v1/departments/{rs_id}/pool", headers=as_user("dsj_officer")).json()
    assert rs_pool["total_rows"] == 10 and rs_pool["resources"][0]["authoritative_for"] == []
    assert_problem(client.get(f"/api/v1/departments/{ga_id}/pool", headers=as_user("rs_officer")), 403)
    assert client.get(f"/api/v1/departments/{ga_id}/pool", headers=as_user("ga_head")).status_code == 200
    assert_problem(client.get(f"/api/v1/departments/{ga_id}/pool", headers=as_user("auditor")), 403)


def test_pages(client, as_user, built):
    authority = {**as_user("dsj_officer"), **HTML}
    library_id = built["library"]["id"]
    page = client.get("/libraries", headers=authority)
    assert page.status_code == 200 and "人口基础库" in page.text and "构建融合表" in page.text
    assert "焦作市公安局" in page.text
    detail = client.get(f"/libraries/{library_id}?key={built['differs']}", headers=authority)
    assert detail.status_code == 200 and "1985-08-08" in detail.text and "冲突" in detail.text
    rebuilt = client.post(f"/libraries/{library_id}/build", headers=authority, follow_redirects=False)
    assert rebuilt.status_code == 303 and "done=built" in rebuilt.headers["location"]
    assert "融合 10 条" in client.get(rebuilt.headers["location"], headers=authority).text

    listing = client.get("/conflicts", headers=authority)
    assert listing.status_code == 200 and built["differs"] in listing.text and "1985-08-18" in listing.text
    conflict_id = client.get("/api/v1/conflicts", headers=as_user("dsj_officer")).json()["items"][0]["id"]

    rs = {**as_user("rs_officer"), **HTML}
    mine = client.get(f"/conflicts/{conflict_id}", headers=rs)
    assert "确认协商一致" in mine.text and "提交裁决" in mine.text and "记录裁决" not in mine.text
    empty = client.post(f"/conflicts/{conflict_id}/comment", data={"comment": ""}, headers=rs)
    assert empty.status_code == 422 and "意见" in empty.text
    posted = client.post(
        f"/conflicts/{conflict_id}/comment",
        data={"comment": "请公安局核实", "proposed_value": "1985-08-18"},
        headers=rs,
        follow_redirects=False,
    )
    assert posted.status_code == 303
    client.post(f"/conflicts/{conflict_id}/escalate", data={"reason": "协商不成"}, headers=rs)
    assert f'action="/conflicts/{conflict_id}/decide"' in client.get("/conflicts", headers=authority).text
    decide_form = client.get(f"/conflicts/{conflict_id}", headers=authority)
    assert "记录裁决" in decide_form.text and "请公安局核实" in decide_form.text
    decided = client.post(
        f"/conflicts/{conflict_id}/decide",
        data={"value": "1985-08-08", "reason": "以户籍登记为准"},
        headers=authority,
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert "已裁决" in client.get(f"/conflicts/{conflict_id}", headers=rs).text

    other = client.get("/conflicts", headers={**as_user("wj_officer"), **HTML})
    assert other.status_code == 200 and "没有数据冲突" in other.text
    assert (
        client.get(f"/conflicts/{conflict_id}", headers={**as_user("wj_officer"), **HTML}).status_code == 404
    )
    pool = client.get("/pool", headers={**as_user("ga_officer"), **HTML})
    assert pool.status_code == 200 and built["ga"] in pool.text and "人口基础库·姓名" in pool.text
    nav = client.get("/libraries", headers={**as_user("ga_officer"), **HTML}).text
    assert 'href="/conflicts"' in nav and 'href="/pool"' in nav


def test_past_the_deadline_the_authority_decides_without_escalation(client, as_user, built, session):
    authority = as_user("dsj_officer")
    conflict_id = client.get("/api/v1/conflicts", headers=authority).json()["items"][0]["id"]
    conflict = session.get(LibraryConflict, conflict_id)
    conflict.tracked.due_date = clock.today() - dt.timedelta(days=1)
    session.commit()
    view = client.get(f"/api/v1/conflicts/{conflict_id}", headers=as_user("rs_officer")).json()
    assert view["overdue"] is True and view["status"] == "open"
    decided = client.post(
        f"/api/v1/conflicts/{conflict_id}/decide",
        json={"value": "1985-08-08", "reason": "协商期限届满，以户籍登记为准。"},
        headers=authority,
    ).json()
    assert decided["status"] == "decided" and decided["escalated_by"] == "dsj_officer"
    assert decided["overdue"] is False


def test_a_resource_keyed_otherwise_contributes_its_newest_row_per_person(client, as_user, built):
    """民政 keys its registrations on 登记编号 and 公民身份号码; a person may have several rows: the newest counts."""
    body = social_security(
        name="困难群众救助登记信息",
        classification="210",
        items=[
            {
                "code": "djbh",
                "name": "登记编号",
                "data_type": "C",
                "length": 20,
                "required": True,
                "key": True,
            },
            {
                "code": "sfzh",
                "name": "身份证号",
                "data_type": "C",
                "length": 18,
                "required": True,
                "key": True,
                "element": "公民身份号码",
            },
            {"code": "xm", "name": "姓名", "data_type": "C", "length": 50, "element": "姓名"},
        ],
    )
    mz = as_user("mz_officer")
    code = publish(client, as_user, "mz_officer", body)
    eight, nine = person(8), person(9)
    load(
        client,
        mz,
        code,
        [
            {"djbh": "MZ001", "sfzh": eight["id"], "xm": "居民8"},
            {"djbh": "MZ002", "sfzh": nine["id"], "xm": "居民9"},
        ],
    )
    load(client, mz, code, [{"djbh": "MZ003", "sfzh": eight["id"], "xm": "居民八"}])

    authority = as_user("dsj_officer")
    report = client.post(f"/api/v1/libraries/{built['library']['id']}/build", headers=authority).json()
    assert code in report["compared_resources"]
    assert (report["rows"], report["conflicts_new"], report["conflicts_still_open"]) == (10, 1, 1)
    named = client.get("/api/v1/conflicts", params={"status": "open"}, headers=authority).json()["items"]
    conflict = next(c for c in named if c["element"] == "姓名")
    assert conflict["key"] == eight["id"]
    assert {v["department_name"]: v["value"] for v in conflict["values"]} == {
        GA: "居民8",
        RS: "居民8",
        "焦作市民政局": "居民八",
    }
    # 民政 sees this one, not the 出生日期 conflict between 公安 and 人社; 人社, holding 姓名 too, sees both
    assert [c["id"] for c in client.get("/api/v1/conflicts", headers=mz).json()["items"]] == [conflict["id"]]
    assert client.get("/api/v1/conflicts", headers=as_user("rs_officer")).json()["total"] == 2


def test_numbers_agree_as_numbers_in_fusion(client, as_user, session):
    """ "1.0" in one department and "1" in another are the same number: no conflict (the rule quality
    uses too); 2 against 3 still is one."""
    session.add(DataElement(code="JTRKS", name="家庭人口数", data_type="N", subject="person", level=1))
    session.commit()

    def household(name: str, classification: str, precision: int) -> dict:
        size = {"code": "jtrks", "name": "家庭人口数", "data_type": "N", "length": 10, "precision": precision}
        return social_security(
            name=name,
            classification=classification,
            items=[
                {**social_security()["items"][0], "element": "公民身份号码"},
                {**size, "element": "家庭人口数"},
            ],
        )

    ga_code = publish(client, as_user, "ga_officer", household("户籍家庭信息", "201", 1))
    mz_code = publish(client, as_user, "mz_officer", household("低保家庭信息", "210", 0))
    one, two = person(1)["id"], person(2)["id"]
    load(
        client, as_user("ga_officer"), ga_code, [{"sfzh": one, "jtrks": "1.0"}, {"sfzh": two, "jtrks": "2.0"}]
    )
    load(client, as_user("mz_officer"), mz_code, [{"sfzh": one, "jtrks": "1"}, {"sfzh": two, "jtrks": "3"}])

    authority = as_user("dsj_officer")
    library = population_library(client, authority)
    set_sources(client, authority, library["id"], ga_code, elements=("公民身份号码", "家庭人口数"))
    report = client.post(f"/api/v1/libraries/{library['id']}/build", headers=authority).json()
    assert report["rows"] == 2 and set(report["compared_resources"]) == {ga_code, mz_code}
    assert (report["conflicts_detected"], report["conflicts_new"]) == (1, 1)
    (conflict,) = client.get("/api/v1/conflicts", headers=authority).json()["items"]
    assert (conflict["key"], conflict["element"]) == (two, "家庭人口数")
    assert sorted(v["value"] for v in conflict["values"]) == ["2.0", "3"]


def test_the_coordination_deadline_counts_from_the_day_in_china(client, as_user, people, session):
    """Built at 01:00 on Friday in China (still Thursday in UTC): the 15 working days start on Friday."""
    authority = as_user("dsj_officer")
    library = population_library(client, authority)
    set_sources(client, authority, library["id"], people["ga"])
    with clock.frozen(dt.datetime(2025, 6, 5, 17, 0, tzinfo=dt.UTC)):
        built = client.post(f"/api/v1/libraries/{library['id']}/build", headers=authority)
    assert built.status_code == 200, built.text
    (conflict,) = client.get("/api/v1/conflicts", headers=authority).json()["items"]
    due = calendar.WorkingCalendar.load(session).add_working_days(dt.date(2025, 6, 6), 15).date
    assert conflict["deadline"] == due.isoformat()
    assert due != calendar.WorkingCalendar.load(session).add_working_days(dt.date(2025, 6, 5), 15).date


def test_the_pool_page_labels_the_last_batch(client, as_user, built):
    page = client.get("/pool", headers={**as_user("ga_officer"), **HTML})
    assert page.status_code == 200 and f"#{built['ga_batch']} 已入库" in page.text


def test_the_authority_is_not_offered_to_escalate_to_itself_QUA3(client, as_user, built):
    """Escalation is a department's step; the authority decides (past the deadline, directly)."""
    authority = as_user("dsj_officer")
    conflict_id = client.get("/api/v1/conflicts", headers=authority).json()["items"][0]["id"]
    assert_problem(client.post(f"/api/v1/conflicts/{conflict_id}/escalate", json={}, headers=authority), 403)
    page = client.get(f"/conflicts/{conflict_id}", headers={**authority, **HTML})
    assert page.status_code == 200
    assert f'action="/conflicts/{conflict_id}/escalate"' not in page.text
    assert (
        f'action="/conflicts/{conflict_id}/escalate"'
        not in client.get("/conflicts", headers={**authority, **HTML}).text
    )
    party = client.get(f"/conflicts/{conflict_id}", headers={**as_user("rs_officer"), **HTML})
    assert f'action="/conflicts/{conflict_id}/escalate"' in party.text
    assert "待确认" in party.text  # neither department has confirmed a value yet
    # one party's confirmation leaves the conflict open, waiting for the other (QUA-3)
    confirmed = client.post(
        f"/conflicts/{conflict_id}/resolve",
        data={"value": "1985-08-08"},
        headers={**as_user("rs_officer"), **HTML},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303 and "done=agreed" in confirmed.headers["location"]
    shown = client.get(confirmed.headers["location"], headers={**as_user("ga_officer"), **HTML}).text
    assert "待其他相关部门确认同一值后办结" in shown and "协商中" in shown
    asked = client.get("/api/v1/notifications", headers=as_user("ga_officer")).json()["items"]
    assert any(m["kind"] == "library.conflict.agreement_requested" for m in asked)
