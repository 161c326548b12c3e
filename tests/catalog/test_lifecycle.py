"""CAT-1…5: metadata rules, codes, the review lifecycle, versions and visibility — on both stores."""

from __future__ import annotations

import re

import pytest

from tests.support.catalog import create, enterprises, population
from tests.support.catalog import publish_draft as publish
from tests.support.http import assert_problem


def test_compile_return_resubmit_publish(client, as_user):
    officer, authority = as_user("ga_officer"), as_user("dsj_officer")
    draft = create(client, officer, population())
    code = draft["code"]
    assert re.fullmatch(r"101/002\d{6}", code), code  # <classification>/<provider code><sequence>
    assert draft["status"] == "draft" and draft["version"] == 1 and draft["provider"] == "焦作市公安局"
    assert draft["items"][0]["key"] is True

    assert client.post(f"/api/v1/resources/{code}/submit", headers=officer).json()["status"] == "submitted"
    assert_problem(client.post(f"/api/v1/resources/{code}/submit", headers=officer), 409)
    assert_problem(client.patch(f"/api/v1/resources/{code}", json={"summary": "改"}, headers=officer), 409)
    assert client.get("/api/v1/catalog/review-queue", headers=authority).json()[0]["code"] == code

    assert_problem(client.post(f"/api/v1/resources/{code}/return", json={}, headers=authority), 422)
    returned = client.post(
        f"/api/v1/resources/{code}/return", json={"comment": "请补充信息项的数据元"}, headers=authority
    )
    assert returned.json()["status"] == "returned"
    log = client.get(f"/api/v1/resources/{code}/log", headers=officer).json()
    assert log[0]["action"] == "returned" and log[0]["comment"] == "请补充信息项的数据元"

    edited = client.patch(
        f"/api/v1/resources/{code}", json={"summary": "全市户籍人口基础信息（已补充数据元）"}, headers=officer
    )
    assert edited.status_code == 200 and edited.json()["status"] == "returned"
    client.post(f"/api/v1/resources/{code}/submit", headers=officer)
    published = client.post(f"/api/v1/resources/{code}/publish", headers=authority).json()
    assert (
        published["status"] == "published"
        and published["code"] == code
        and published["published_version"] == 1
    )
    assert_problem(client.post(f"/api/v1/resources/{code}/submit", headers=officer), 409)


def test_only_the_authority_publishes_and_returns(client, as_user):
    code = create(client, as_user("ga_officer"), population())["code"]
    client.post(f"/api/v1/resources/{code}/submit", headers=as_user("ga_officer"))
    assert_problem(client.post(f"/api/v1/resources/{code}/publish", headers=as_user("ga_officer")), 403)
    assert_problem(client.post(f"/api/v1/resources/{code}/publish", headers=as_user("ga_head")), 403)
    assert_problem(
        client.post(f"/api/v1/resources/{code}/return", json={"comment": "x"}, headers=as_user("rs_officer")),
        403,
    )
    assert_problem(client.post("/api/v1/resources", json=population(), headers=as_user("dsj_officer")), 403)
    assert_problem(client.post("/api/v1/resources", json=population(), headers=as_user("auditor")), 403)


def test_departments_never_see_each_others_drafts(client, as_user):
    code = create(client, as_user("ga_officer"), population())["code"]
    assert client.get(f"/api/v1/resources/{code}", headers=as_user("ga_head")).status_code == 200
    assert client.get(f"/api/v1/resources/{code}", headers=as_user("dsj_officer")).status_code == 200
    assert_problem(client.get(f"/api/v1/resources/{code}", headers=as_user("rs_user")), 404)
    assert_problem(client.get(f"/api/v1/resources/{code}/versions", headers=as_user("rs_officer")), 404)
    assert_problem(client.post(f"/api/v1/resources/{code}/submit", headers=as_user("rs_officer")), 404)
    found = client.get("/api/v1/resources?q=人口", headers=as_user("rs_user")).json()
    assert code not in [r["code"] for r in found["items"]]
    mine = client.get("/api/v1/resources?q=人口", headers=as_user("ga_officer")).json()
    assert code in [r["code"] for r in mine["items"]]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"share_conditions": None}, "share_conditions", "共享条件"),
        ({"legal_basis": ""}, "legal_basis", "共享依据"),
        ({"share_type": "none", "legal_basis": None}, "legal_basis", "依据"),
        ({"share_type": "none", "legal_basis_kind": "rule"}, "legal_basis_kind", "规章"),
        ({"classification": "109"}, "classification", "不存在"),
    ],
)
def test_resource_rules_name_the_field_in_chinese(client, as_user, change, field, words):
    body = assert_problem(
        client.post("/api/v1/resources", json=population(**change), headers=as_user("ga_officer")), 422
    )
    assert any(e["field"] == field for e in body["errors"]), body
    assert words in body["detail"]


def test_item_rules(client, as_user):
    officer = as_user("ga_officer")
    items = population()["items"]
    unknown_letter = [{**items[0], "data_type": "Z"}] + items[1:]
    body = assert_problem(
        client.post("/api/v1/resources", json=population(items=unknown_letter), headers=officer), 422
    )
    assert body["errors"][0]["field"] == "items.0.data_type" and "信息项第 1 项的数据类型" in body["detail"]

    optional_key = [{**items[0], "required": False}] + items[1:]
    body = assert_problem(
        client.post("/api/v1/resources", json=population(items=optional_key), headers=officer), 422
    )
    assert "关键标识" in body["detail"] and "必填" in body["detail"]

    no_key = [{**i, "key": False} for i in items]
    body = assert_problem(
        client.post("/api/v1/resources", json=population(items=no_key), headers=officer), 422
    )
    assert "公民身份号码" in body["detail"]

    wrong_type = [{**items[0], "data_type": "N"}] + items[1:]
    assert_problem(client.post("/api/v1/resources", json=population(items=wrong_type), headers=officer), 422)
    duplicate = items + [items[1]]
    assert (
        "重复"
        in assert_problem(
            client.post("/api/v1/resources", json=population(items=duplicate), headers=officer), 422
        )["detail"]
    )
    mixed = [{**items[0], "share_type": "none"}] + items[1:]
    assert_problem(
        client.post(
            "/api/v1/resources", json=population(share_type="unconditional", items=mixed), headers=officer
        ),
        422,
    )


def test_published_changes_become_revisions_with_a_diff(client, as_user):
    officer = as_user("scjg_officer")
    code = create(client, officer, enterprises())["code"]
    client.post(f"/api/v1/resources/{code}/submit", headers=officer)
    client.post(f"/api/v1/resources/{code}/publish", headers=as_user("dsj_officer"))

    items = enterprises()["items"] + [
        {"code": "djdz", "name": "登记地址", "data_type": "C", "length": 200, "element": "登记地址"}
    ]
    assert_problem(client.patch(f"/api/v1/resources/{code}", json={"items": items}, headers=officer), 422)
    revised = client.patch(
        f"/api/v1/resources/{code}",
        json={"items": items, "reason": "依据新修订的登记条例增加登记地址"},
        headers=officer,
    )
    assert revised.status_code == 200, revised.text
    view = revised.json()
    # the published version keeps serving while the revision is prepared
    assert view["version"] == 1 and view["status"] == "published" and len(view["items"]) == 4
    assert view["revision"] == {"version": 2, "status": "draft", "reason": "依据新修订的登记条例增加登记地址"}
    others = client.get(f"/api/v1/resources/{code}", headers=as_user("rs_user")).json()
    assert others["revision"] is None and len(others["items"]) == 4
    assert [
        v["version"]
        for v in client.get(f"/api/v1/resources/{code}/versions", headers=as_user("rs_user")).json()
    ] == [1]

    client.post(f"/api/v1/resources/{code}/submit", headers=officer)
    published = client.post(f"/api/v1/resources/{code}/publish", headers=as_user("dsj_officer")).json()
    assert published["version"] == 2 and len(published["items"]) == 5 and published["code"] == code
    versions = client.get(f"/api/v1/resources/{code}/versions", headers=as_user("rs_user")).json()
    assert [v["status"] for v in versions] == ["published", "superseded"]
    assert versions[0]["diff"] == [
        {"field": "items.djdz", "change": "added", "before": None, "after": versions[0]["body"]["items"][4]}
    ]
    assert versions[0]["reason"] == "依据新修订的登记条例增加登记地址"
    old = client.get(f"/api/v1/resources/{code}/versions/1", headers=as_user("rs_user")).json()
    assert len(old["body"]["items"]) == 4


def test_classification_is_fixed_and_retired_resources_are_closed(client, as_user):
    officer = as_user("scjg_officer")
    code = create(client, officer, enterprises())["code"]
    assert_problem(
        client.patch(f"/api/v1/resources/{code}", json={"classification": "104"}, headers=officer), 409
    )
    client.post(f"/api/v1/resources/{code}/submit", headers=officer)
    client.post(f"/api/v1/resources/{code}/publish", headers=as_user("dsj_officer"))
    assert (
        client.post(f"/api/v1/resources/{code}/retire", headers=as_user("dsj_officer")).json()["status"]
        == "retired"
    )
    assert_problem(
        client.patch(f"/api/v1/resources/{code}", json={"summary": "x", "reason": "y"}, headers=officer), 409
    )
    assert_problem(client.post(f"/api/v1/resources/{code}/retire", headers=as_user("dsj_officer")), 409)


def test_codes_are_unique_and_never_reused(client, as_user):
    officer = as_user("ga_officer")
    codes = [create(client, officer, population(name=f"人口信息{i}"))["code"] for i in range(3)]
    assert len(set(codes)) == 3
    assert [int(c[-6:]) for c in codes] == sorted(int(c[-6:]) for c in codes)


def test_the_public_sees_only_open_published_resources(client, as_user, session):
    closed = create(client, as_user("ga_officer"), population())["code"]
    publish(client, as_user, closed)
    scjg = as_user("scjg_officer")
    opened = create(client, scjg, enterprises())["code"]
    client.post(f"/api/v1/resources/{opened}/submit", headers=scjg)
    client.post(f"/api/v1/resources/{opened}/publish", headers=as_user("dsj_officer"))
    citizen = as_user("citizen")
    assert client.get(f"/api/v1/resources/{opened}", headers=citizen).status_code == 200
    assert_problem(client.get(f"/api/v1/resources/{closed}", headers=citizen), 404)
    listed = client.get("/api/v1/resources", headers=citizen).json()
    assert [r["code"] for r in listed["items"]] == [opened]
    assert listed["facets"]["open_type"] == {"unconditional": 1}


def test_a_patch_that_changes_nothing_opens_no_revision(client, as_user):
    officer = as_user("scjg_officer")
    code = create(client, officer, enterprises())["code"]
    client.post(f"/api/v1/resources/{code}/submit", headers=officer)
    client.post(f"/api/v1/resources/{code}/publish", headers=as_user("dsj_officer"))
    same = client.patch(
        f"/api/v1/resources/{code}", json={"name": "企业登记信息", "reason": "无变化"}, headers=officer
    )
    assert same.status_code == 200 and same.json()["revision"] is None
    assert len(client.get(f"/api/v1/resources/{code}/versions", headers=officer).json()) == 1


def test_a_resource_as_get_answered_it_may_be_sent_back_changed(client, as_user):
    officer = as_user("scjg_officer")
    code = create(client, officer, enterprises())["code"]
    shown = client.get(f"/api/v1/resources/{code}", headers=officer).json()
    assert {"code", "status", "version", "provider"} <= set(shown)
    changed = client.patch(
        f"/api/v1/resources/{code}", json={**shown, "summary": "全市企业登记信息（含个体）"}, headers=officer
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["summary"] == "全市企业登记信息（含个体）" and changed.json()["code"] == code
    # a field no resource has is still refused
    assert_problem(client.patch(f"/api/v1/resources/{code}", json={"colour": "red"}, headers=officer), 422)
