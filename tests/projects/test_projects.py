"""PRJ-1, PRJ-2 information projects, on both stores: filing with the pre-compiled catalog, the initial
review's findings and decisions, acceptance by whom the policy names, and who may see what."""

from __future__ import annotations

from sqlalchemy import select

from govdata.core import policy
from govdata.core.audit import AuditEvent
from govdata.core.auth import SYSTEM_ACTOR
from tests.support.batches import csv_bytes, good_rows, upload
from tests.support.catalog import create, enterprises, population, publish, publish_draft
from tests.support.http import assert_problem


def me(client, headers) -> dict:
    return client.get("/api/v1/me", headers=headers).json()


def file(client, headers, codes, **extra) -> dict:
    body = {
        "name": "智慧社保服务平台",
        "summary": "社保经办业务系统升级，归集参保人员信息。",
        "department_id": me(client, headers)["department_id"],
        "resource_codes": codes,
        **extra,
    }
    response = client.post("/api/v1/projects", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def review(client, headers, project_id, decision, reason=None):
    body = {"decision": decision} | ({"reason": reason} if reason else {})
    return client.post(f"/api/v1/projects/{project_id}/review", json=body, headers=headers)


def messages(client, headers) -> list[dict]:
    return client.get("/api/v1/notifications", headers=headers).json()["items"]


def test_a_project_without_a_pre_compiled_catalog_is_filed_but_cannot_be_approved(client, as_user):
    officer, authority = as_user("rs_officer"), as_user("dsj_officer")
    project = file(client, officer, [], budget=120.5, builds_own_platform=True)
    assert project["status"] == "filed" and project["resource_codes"] == [] and project["budget"] == 120.5
    assert project["findings"]["has_catalog"] is False
    assert any("自建数据中心" in f for f in project["findings"]["flags"])

    refused = review(client, authority, project["id"], "approve")
    assert_problem(refused, 409)
    assert "没有预编目录" in refused.json()["detail"]
    assert client.get(f"/api/v1/projects/{project['id']}", headers=officer).json()["status"] == "filed"

    # refusing needs a reason
    assert_problem(review(client, authority, project["id"], "refuse"), 422)
    done = review(client, authority, project["id"], "refuse", "未附预编目录")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "refused" and done.json()["review_reason"] == "未附预编目录"
    assert done.json()["findings"]["blocking"]  # kept with the decision
    told = [m for m in messages(client, as_user("rs_head")) if m["kind"] == "project.refused"]
    assert told and told[0]["link"] == f"/projects/{project['id']}"
    # decided once
    assert_problem(review(client, authority, project["id"], "refuse", "再次"), 409)


def test_review_findings_name_duplication_and_a_project_that_cannot_share_is_not_approved(
    client, as_user, session
):
    officer, authority = as_user("rs_officer"), as_user("dsj_officer")
    held = publish(client, as_user, "ga_officer", population())  # 市公安局 provides 姓名, 出生日期 …
    mine = create(client, officer, population(name="参保人员基础信息"))["code"]
    closed = create(
        client,
        officer,
        enterprises(
            name="参保单位内部台账",
            classification="203",
            share_type="none",
            open_type="none",
            legal_basis="《中华人民共和国社会保险法》",
            legal_basis_kind="law",
            items=[
                {
                    "code": "tzbh",
                    "name": "台账编号",
                    "data_type": "C",
                    "length": 20,
                    "required": True,
                    "key": True,
                },
                {"code": "bz", "name": "备注", "data_type": "C", "length": 200},
            ],
        ),
    )["code"]

    # another department's draft, or a published resource, is no pre-compiled catalog of this one
    other = create(client, as_user("ga_officer"), population(name="另一份草稿"))["code"]
    bad = client.post(
        "/api/v1/projects",
        json={
            "name": "x",
            "summary": "y",
            "department_id": me(client, officer)["department_id"],
            "resource_codes": [other, held],
        },
        headers=officer,
    )
    assert_problem(bad, 422)
    assert "不是本部门的资源" in bad.json()["detail"]

    project = file(client, officer, [mine])
    shown = client.get(f"/api/v1/projects/{project['id']}", headers=authority).json()
    findings = shown["findings"]
    assert findings["catalog_ok"] is True and findings["cannot_share"] is False
    dup = {e["element"]: e["holders"] for d in findings["duplication"] for e in d["elements"]}
    assert "姓名" in dup and "公民身份号码" not in dup  # identifiers join records, they are no duplication
    assert dup["姓名"][0]["code"] == held and dup["姓名"][0]["department_name"] == "焦作市公安局"

    closed_project = file(client, officer, [closed])
    refused = review(client, authority, closed_project["id"], "approve")
    assert_problem(refused, 409)
    assert "不能共享" in refused.json()["detail"]

    approved = review(client, authority, project["id"], "approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["findings"]["duplication"]
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "project")))
    assert {"project.filed", "project.approved"} <= actions


def test_acceptance_fails_until_resources_are_published_and_loaded_then_passes(client, as_user):
    officer, authority = as_user("ga_officer"), as_user("dsj_officer")
    code = create(client, officer, population())["code"]
    project = file(client, officer, [code])
    # not before the initial review
    assert_problem(client.post(f"/api/v1/projects/{project['id']}/acceptance", json={}, headers=officer), 409)
    assert review(client, authority, project["id"], "approve").status_code == 200

    first = client.post(f"/api/v1/projects/{project['id']}/acceptance", json={}, headers=officer)
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["accepted"] is False and report["status"] == "not_accepted" and report["not_funded"]
    assert any("尚未在目录中发布" in r for r in report["reasons"])
    assert any("尚未归集数据" in r for r in report["reasons"])
    assert report["reported_to_authority"] is True
    shown = client.get(f"/api/v1/projects/{project['id']}", headers=authority).json()
    assert shown["status"] == "not_accepted" and shown["not_funded"] is True
    assert any(m["kind"] == "project.acceptance_reported" for m in messages(client, authority))

    publish_draft(client, as_user, code)
    second = client.post(f"/api/v1/projects/{project['id']}/acceptance", json={}, headers=officer).json()
    assert second["accepted"] is False
    assert [r for r in second["reasons"] if "尚未在目录中发布" in r] == []
    assert any("尚未归集数据" in r for r in second["reasons"])

    loaded = upload(client, officer, code, csv_bytes(good_rows(3)))
    assert loaded.status_code in (200, 201), loaded.text
    third = client.post(f"/api/v1/projects/{project['id']}/acceptance", json={}, headers=officer)
    report = third.json()
    assert report["accepted"] is True and report["reasons"] == [] and report["status"] == "accepted"
    assert report["not_funded"] is False
    row = report["resources"][0]
    assert row["code"] == code and row["published"] and row["has_data"]
    assert row["share_type"] == "conditional" and row["grade"] == "important" and row["open"] is False
    assert row["items_by_level"] == {"1": 1, "2": 2, "3": 2}
    assert client.get(f"/api/v1/projects/{project['id']}", headers=officer).json()["not_funded"] is False


def test_the_policy_switch_names_who_accepts(client, as_user, session):
    officer, authority = as_user("ga_officer"), as_user("dsj_officer")
    code = create(client, officer, population())["code"]
    project = file(client, officer, [code])
    assert review(client, authority, project["id"], "approve").status_code == 200
    url = f"/api/v1/projects/{project['id']}/acceptance"

    # default: the building department accepts; the authority may not
    assert_problem(client.post(url, json={}, headers=authority), 403)
    assert_problem(client.post(url, json={}, headers=as_user("rs_officer")), 404)

    profile = policy.profile_from_dict(
        {"name": "approver", "switches": {"project_acceptor": "approving_authority"}}
    )
    policy.save_profile(session, SYSTEM_ACTOR, profile, activate=True)
    session.commit()
    assert_problem(client.post(url, json={}, headers=officer), 403)
    done = client.post(url, json={}, headers=authority)
    assert done.status_code == 200, done.text
    assert done.json()["acceptor"] == "approving_authority" and done.json()["reported_to_authority"] is False


def test_who_sees_and_files_what(client, as_user):
    officer = as_user("ga_officer")
    project = file(client, officer, [])
    url = f"/api/v1/projects/{project['id']}"
    assert client.get(url, headers=as_user("ga_head")).status_code == 200
    assert client.get(url, headers=as_user("auditor")).status_code == 200
    assert_problem(client.get(url, headers=as_user("rs_officer")), 404)
    assert client.get("/api/v1/projects", headers=as_user("rs_officer")).json()["total"] == 0
    assert client.get("/api/v1/projects", headers=as_user("dsj_officer")).json()["total"] == 1
    # only for one's own department, only by a catalog officer, reviewed only by the authority
    other = me(client, as_user("rs_officer"))["department_id"]
    body = {"name": "x", "summary": "y", "department_id": other, "resource_codes": []}
    assert_problem(client.post("/api/v1/projects", json=body, headers=officer), 403)
    assert_problem(client.post("/api/v1/projects", json=body, headers=as_user("rs_head")), 403)
    assert_problem(review(client, officer, project["id"], "approve"), 403)

    # the pages: the list, the form with the department's drafts, the project with its findings
    page = client.get("/projects", headers=officer)
    assert page.status_code == 200 and "智慧社保服务平台" in page.text and "申报项目" in page.text
    assert client.get("/projects/new", headers=officer).status_code == 200
    assert "初审发现" in client.get(f"/projects/{project['id']}", headers=as_user("dsj_officer")).text
    assert client.get(f"/projects/{project['id']}", headers=as_user("rs_officer")).status_code == 404
    form = {"name": "不动产登记平台", "summary": "登记业务系统", "budget": "80", "builds_own_platform": "1"}
    posted = client.post("/projects/new", data=form, headers=officer, follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"].endswith("?done=filed")
    filed = client.get(posted.headers["location"], headers=officer)
    assert "项目已申报" in filed.text and "不动产登记平台" in filed.text
    no_reason = client.post(
        f"/projects/{project['id']}/review", data={"decision": "refuse"}, headers=as_user("dsj_officer")
    )
    assert no_reason.status_code == 422 and "必填" in no_reason.text
