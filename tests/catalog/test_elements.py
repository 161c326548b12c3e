"""CAT-4 (#13 item 13): the data element dictionary — browsed and searched by department staff, kept by
the authority (new elements, synonyms, definitions) through pages and the API, with the rules that keep
references meaningful."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from govdata.core.audit import AuditEvent
from tests.support.catalog import create, population
from tests.support.http import assert_problem
from tests.support.pages import HTML, browser, nav_labels, text

LICENCE = {
    "code": "JSZH",
    "name": "机动车驾驶证号",
    "synonyms": "驾驶证号、驾照号\njszh",
    "data_type": "C",
    "length": "20",
    "subject": "person",
    "key_kind": "",
    "level": "2",
    "code_list": "",
    "pattern": "",
    "description": "公安机关交通管理部门核发的机动车驾驶证编号",
}


def test_cat4_the_authority_adds_an_element_that_officers_then_find(app, client, as_user):
    """#13 item 13: the authority adds an element with synonyms through the page; department staff find
    it by a synonym or its pinyin, and the compilation form offers it."""
    authority = browser(app, "dsj_officer")
    created = authority.post("/catalog/elements/new", data=LICENCE, headers=HTML)
    assert created.status_code == 200 and created.url.path == "/catalog/elements/JSZH"
    shown = text(created.text)
    assert "已新增数据元" in shown and "机动车驾驶证号" in shown
    assert "驾驶证号" in shown and "驾照号" in shown and "jszh" in shown and "自然人" in shown

    officer = browser(app, "ga_officer")
    listing = officer.get("/catalog/elements", headers=HTML).text
    assert "数据元" in nav_labels(listing) and "新增数据元" not in listing
    assert "公民身份号码" in text(listing) and "机动车驾驶证号" in text(listing)
    for query in ("驾照", "JSZH", "jszh"):
        found = text(officer.get("/catalog/elements", params={"q": query}, headers=HTML).text)
        assert "机动车驾驶证号" in found and "公民身份号码" not in found, query
    persons = text(officer.get("/catalog/elements", params={"subject": "legal_person"}, headers=HTML).text)
    assert "统一社会信用代码" in persons and "机动车驾驶证号" not in persons

    compile_form = officer.get("/catalog/new", headers=HTML).text
    assert re.search(r'<option value="机动车驾驶证号"[^>]*>机动车驾驶证号</option>', compile_form)

    # only the authority keeps the dictionary
    refused = officer.post(
        "/catalog/elements/new", data={**LICENCE, "code": "X1", "name": "某某"}, headers=HTML
    )
    assert refused.status_code == 403
    assert_problem(
        client.post(
            "/api/v1/catalog/elements",
            json={"code": "X1", "name": "某某", "data_type": "C"},
            headers=as_user("ga_officer"),
        ),
        403,
    )
    assert browser(app, "citizen").get("/catalog/elements", headers=HTML).status_code == 403


def test_cat4_a_synonym_the_authority_adds_is_offered_to_compilers(client, as_user):
    """#13 item 13: an item named by a synonym added to 公民身份号码 is offered that element."""
    body = population(name="居住证持有人信息", classification="203")
    body["items"][0] = {k: v for k, v in body["items"][0].items() if k != "element"}
    body["items"][0].update(name="居民身份证号", key=False)
    officer = as_user("ga_officer")
    before = assert_problem(client.post("/api/v1/resources", json=body, headers=officer), 422)
    assert "居民身份证号" not in before["detail"]

    authority = as_user("dsj_officer")
    current = client.get("/api/v1/catalog/elements/GMSFHM", headers=authority).json()
    patched = client.patch(
        "/api/v1/catalog/elements/GMSFHM",
        json={"synonyms": [*current["synonyms"], "居民身份证号"]},
        headers=authority,
    )
    assert patched.status_code == 200, patched.text
    assert "居民身份证号" in patched.json()["synonyms"] and patched.json()["standard"] is True

    after = assert_problem(client.post("/api/v1/resources", json=body, headers=officer), 422)
    assert "信息项“居民身份证号”可引用数据元“公民身份号码”" in after["detail"]


def test_cat4_the_dictionary_keeps_references_meaningful(client, as_user, session):
    """#13 item 13: a synonym names one element; a standard element's name, and the name and identifier
    kind of an element items reference, cannot change; every change is audited."""
    authority = as_user("dsj_officer")
    taken = client.post(
        "/api/v1/catalog/elements",
        json={"code": "ZJHM", "name": "证件号", "data_type": "C", "synonyms": ["身份证号"]},
        headers=authority,
    )
    body = assert_problem(taken, 409, "synonym-taken")
    assert "公民身份号码" in body["detail"] and body["errors"][0]["field"] == "synonyms"
    assert_problem(
        client.post(
            "/api/v1/catalog/elements",
            json={"code": "xm2", "name": "姓名", "data_type": "C"},
            headers=authority,
        ),
        409,
        "duplicate-element",
    )
    assert_problem(
        client.patch("/api/v1/catalog/elements/XM", json={"name": "人员姓名"}, headers=authority),
        409,
        "element-name-fixed",
    )

    made = client.post(
        "/api/v1/catalog/elements",
        json={"code": "jzzh", "name": "居住证号", "data_type": "C", "length": 30, "subject": "person"},
        headers=authority,
    )
    assert made.status_code == 201 and made.json()["code"] == "JZZH"
    renamed = client.patch("/api/v1/catalog/elements/JZZH", json={"name": "居住证编号"}, headers=authority)
    assert renamed.status_code == 200 and renamed.json()["name"] == "居住证编号"

    body = population(name="居住证信息", classification="203")
    body["items"].append({"code": "jzzbh", "name": "居住证编号", "data_type": "C", "element": "居住证编号"})
    create(client, as_user("ga_officer"), body)
    assert client.get("/api/v1/catalog/elements/JZZH", headers=authority).json()["resources"] == 1
    assert_problem(
        client.patch("/api/v1/catalog/elements/JZZH", json={"name": "居住证号码"}, headers=authority),
        409,
        "element-name-fixed",
    )
    assert_problem(
        client.patch("/api/v1/catalog/elements/JZZH", json={"key_kind": "ric"}, headers=authority),
        409,
        "element-key-fixed",
    )
    ok = client.patch(
        "/api/v1/catalog/elements/JZZH", json={"synonyms": ["居住证号"], "level": 3}, headers=authority
    )
    assert ok.status_code == 200 and ok.json()["level"] == 3

    events = session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == "JZZH").order_by(AuditEvent.seq)
    ).all()
    assert [e.action for e in events] == [
        "catalog.element.created",
        "catalog.element.updated",
        "catalog.element.updated",
    ]
    changes = json.loads(events[-1].details)["changes"]
    assert changes["level"] == {"before": 1, "after": 3} and changes["synonyms"]["after"] == ["居住证号"]


def test_cat4_the_element_page_lists_the_resources_the_reader_may_see(app, client, as_user):
    """#13 item 13: which resources reference an element, as the reader may see them (a draft only
    for its department), and the edit form shows what cannot change and why."""
    create(client, as_user("ga_officer"), population(name="暂住人口信息", classification="203"))
    own = text(browser(app, "ga_officer").get("/catalog/elements/GMSFHM", headers=HTML).text)
    assert "暂住人口信息" in own and "草稿" in own
    other = text(browser(app, "rs_officer").get("/catalog/elements/GMSFHM", headers=HTML).text)
    assert "暂住人口信息" not in other and "还没有资源引用该数据元" in other

    form = browser(app, "dsj_officer").get("/catalog/elements/GMSFHM/edit", headers=HTML)
    shown = text(form.text)
    assert "平台内置的标准数据元，名称不能修改" in shown and "已被 1 个资源引用，标识类型不能修改" in shown
    saved = browser(app, "dsj_officer").post(
        "/catalog/elements/GMSFHM/edit",
        data={
            "synonyms": "身份证号、身份证号码、证件号码、sfzh、公民身份证号",
            "data_type": "C",
            "length": "18",
            "subject": "person",
            "level": "3",
            "key_kind": "",
            "name": "改名",
        },
        headers=HTML,
    )
    assert saved.status_code == 200 and "已保存修改" in text(saved.text)
    assert "公民身份证号" in text(saved.text) and "公民身份号码" in text(saved.text)  # the name stays
    answer = client.get("/api/v1/catalog/elements/GMSFHM", headers=as_user("ga_officer")).json()
    assert answer["key_kind"] == "ric" and answer["name"] == "公民身份号码"
    bad = browser(app, "dsj_officer").post(
        "/catalog/elements/GMSFHM/edit",
        data={"synonyms": "姓名", "data_type": "C", "level": "3"},
        headers=HTML,
    )
    assert bad.status_code == 409 and "同一名称只能指向一个数据元" in text(bad.text)
