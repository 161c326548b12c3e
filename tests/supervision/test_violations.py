"""SUP-2 the violations register, on both stores: detection is idempotent, a department sees and
contests its own violations only, the authority confirms or withdraws them, each step in the order the
state machine allows (else 409), the department and the authority are told in their message centre,
and every change is in the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from govdata.core.audit import AuditEvent
from govdata.supervision import service
from govdata.supervision.models import Violation
from tests.support.http import assert_problem
from tests.support.pages import HTML, browser, text

EVIDENCE = {"application_id": 7, "deadline": "2026-10-16", "answered": None}


def department_of(client, headers) -> int:
    return client.get("/api/v1/me", headers=headers).json()["department_id"]


def record(session, department_id: int, object_id: object = 7, kind: str = "application_overdue") -> int:
    violation_id = service.record_violation(
        session,
        kind=kind,
        department_id=department_id,
        object_type="application",
        object_id=object_id,
        evidence=EVIDENCE,
    )
    session.commit()
    return violation_id


def messages(client, headers) -> list[dict]:
    return client.get("/api/v1/notifications", headers=headers).json()["items"]


@pytest.fixture
def ga(client, as_user) -> int:
    return department_of(client, as_user("ga_officer"))


def test_recording_the_same_fact_twice_records_one_violation(client, as_user, session, ga):
    first = record(session, ga)
    again = service.record_violation(
        session,
        kind="application_overdue",
        department_id=ga,
        object_type="application",
        object_id="7",
        evidence={"other": "evidence"},
    )
    session.commit()
    assert again == first
    assert session.scalar(select(func.count()).select_from(Violation)) == 1
    recorded = session.scalars(select(AuditEvent).where(AuditEvent.action == "violation.recorded")).all()
    assert len(recorded) == 1 and recorded[0].actor == "govdata"
    # another kind about the same object is another violation
    assert record(session, ga, kind="refusal_without_basis") != first

    listed = client.get("/api/v1/violations", headers=as_user("ga_officer")).json()
    assert listed["total"] == 2
    violation = next(v for v in listed["items"] if v["id"] == first)
    assert violation["kind"] == "application_overdue" and violation["status"] == "detected"
    assert violation["department_id"] == ga and violation["object_type"] == "application"
    assert violation["object_id"] == "7" and violation["evidence"] == EVIDENCE and violation["detected_at"]
    told = [m for m in messages(client, as_user("ga_head")) if m["kind"] == "violation.recorded"]
    assert len(told) == 2 and told[-1]["link"] == f"/supervision/violations?id={first}"
    assert messages(client, as_user("scjg_officer")) == []


def test_a_concurrent_detector_recording_first_leaves_the_callers_work_intact(session, ga, monkeypatch):
    first = record(session, ga)
    # the caller's own work in its transaction, before it finds the violation
    own = service.record_violation(
        session,
        kind="refusal_without_basis",
        department_id=ga,
        object_type="application",
        object_id=8,
        evidence={},
    )
    real_find = service._find
    calls = []

    def find_nothing_first(*args):
        calls.append(args)
        return None if len(calls) == 1 else real_find(*args)

    # the check finds nothing, as when another transaction commits the same fact just after it: the
    # unique key refuses the insert, and the violation recorded first is returned
    monkeypatch.setattr(service, "_find", find_nothing_first)
    again = service.record_violation(
        session,
        kind="application_overdue",
        department_id=ga,
        object_type="application",
        object_id=7,
        evidence={},
    )
    assert again == first and len(calls) == 2
    session.commit()  # the transaction goes on (on PostgreSQL too) and keeps the caller's work
    assert sorted(session.scalars(select(Violation.id))) == sorted([first, own])


def test_a_department_sees_only_its_own_violations(client, as_user, session, ga):
    scjg = department_of(client, as_user("scjg_officer"))
    mine = record(session, ga, object_id=1)
    theirs = record(session, scjg, object_id=2)

    def ids(user: str, **params) -> list[int]:
        response = client.get("/api/v1/violations", headers=as_user(user), params=params)
        assert response.status_code == 200, response.text
        return [v["id"] for v in response.json()["items"]]

    assert ids("ga_officer") == [mine] and ids("rs_user") == []
    assert ids("ga_officer", department_id=scjg) == []
    assert sorted(ids("dsj_officer")) == sorted(ids("auditor")) == sorted(ids("admin")) == [mine, theirs]
    assert ids("dsj_officer", department_id=scjg) == [theirs]
    assert ids("dsj_officer", kind="refusal_without_basis") == []
    assert ids("dsj_officer", status="detected", kind="application_overdue") == [theirs, mine]
    assert_problem(
        client.get("/api/v1/violations", params={"kind": "late"}, headers=as_user("dsj_officer")), 422
    )
    assert_problem(client.get("/api/v1/violations", headers=as_user("citizen")), 403)
    assert client.get(f"/api/v1/violations/{mine}", headers=as_user("ga_head")).status_code == 200
    assert_problem(client.get(f"/api/v1/violations/{theirs}", headers=as_user("ga_officer")), 404)
    # another department's violation stays invisible, whatever one tries to do with it
    refused = client.post(
        f"/api/v1/violations/{theirs}/contest", json={"reason": "不是我们的"}, headers=as_user("ga_officer")
    )
    assert_problem(refused, 404)


def test_contest_then_confirm_and_the_state_machine(client, as_user, session, ga):
    violation_id = record(session, ga)
    officer, head, authority = as_user("ga_officer"), as_user("ga_head"), as_user("dsj_officer")
    url = f"/api/v1/violations/{violation_id}"

    # who may: the department's officer or head contests, the authority decides
    assert_problem(client.post(f"{url}/contest", json={"reason": "理由"}, headers=authority), 403)
    assert_problem(client.post(f"{url}/contest", json={"reason": "理由"}, headers=as_user("rs_user")), 403)
    assert_problem(client.post(f"{url}/confirm", json={}, headers=officer), 403)
    assert_problem(client.post(f"{url}/withdraw", json={"reason": "x"}, headers=as_user("auditor")), 403)
    assert_problem(client.post(f"{url}/contest", json={"reason": " "}, headers=officer), 422)

    contested = client.post(f"{url}/contest", json={"reason": "申请材料不全，已依法退回"}, headers=officer)
    assert contested.status_code == 200, contested.text
    body = contested.json()
    assert body["status"] == "contested" and body["contest_reason"] == "申请材料不全，已依法退回"
    assert body["contested_by"] == "ga_officer"
    assert_problem(
        client.post(f"{url}/contest", json={"reason": "再说一次"}, headers=head), 409, "invalid-state"
    )
    told = [m for m in messages(client, authority) if m["kind"] == "violation.contested"]
    assert len(told) == 1 and "申请材料不全" in told[0]["body"]

    confirmed = client.post(f"{url}/confirm", json={"reason": "退回未说明依据"}, headers=authority)
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["status"] == "confirmed" and body["decided_by"] == "dsj_officer" and body["decided_at"]
    assert body["reason"] == "退回未说明依据"
    for action, payload in (
        ("confirm", {}),
        ("withdraw", {"reason": "撤销"}),
        ("contest", {"reason": "异议"}),
    ):
        who = officer if action == "contest" else authority
        assert_problem(client.post(f"{url}/{action}", json=payload, headers=who), 409)
    assert any(m["kind"] == "violation.confirmed" for m in messages(client, head))

    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(violation_id))))
    assert {"violation.recorded", "violation.contested", "violation.confirmed"} <= actions


def test_the_authority_withdraws_with_a_reason(client, as_user, session, ga):
    violation_id = record(session, ga)
    authority = as_user("dsj_officer")
    url = f"/api/v1/violations/{violation_id}"
    assert_problem(client.post(f"{url}/withdraw", json={}, headers=authority), 422)
    withdrawn = client.post(f"{url}/withdraw", json={"reason": "系统误报"}, headers=authority)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["reason"] == "系统误报"
    assert_problem(client.post(f"{url}/contest", json={"reason": "异议"}, headers=as_user("ga_officer")), 409)
    # confirm takes no body at all as well
    other = record(session, ga, object_id=99)
    assert (
        client.post(f"/api/v1/violations/{other}/confirm", headers=authority).json()["status"] == "confirmed"
    )
    # a rectified violation is settled too
    row = session.get(Violation, record(session, ga, object_id=100))
    row.status = "rectified"
    session.commit()
    assert_problem(client.post(f"/api/v1/violations/{row.id}/confirm", headers=authority), 409)
    assert any(m["kind"] == "violation.withdrawn" for m in messages(client, as_user("ga_officer")))


def test_the_page_lists_violations_and_offers_the_forms_of_who_may(client, session, ga):
    violation_id = record(session, ga)
    officer = browser(client.app, "ga_officer")
    page = officer.get("/supervision/violations", headers=HTML)
    assert page.status_code == 200
    visible = text(page.text)
    assert "违规记录" in visible and f'id="violation-{violation_id}"' in page.text
    assert "2026-10-16" in visible and "/contest" in page.text and "/confirm" not in page.text
    other = browser(client.app, "scjg_officer").get("/supervision/violations", headers=HTML)
    assert other.status_code == 200 and "共 0 条" in text(other.text) and "没有违规记录" in text(other.text)

    blank = officer.post(f"/supervision/violations/{violation_id}/contest", data={"reason": ""}, headers=HTML)
    assert blank.status_code == 422 and "理由：必填" in text(blank.text)
    done = officer.post(
        f"/supervision/violations/{violation_id}/contest",
        data={"reason": "已在期限内答复", "back": f"/supervision/violations?id={violation_id}"},
        headers=HTML,
    )
    assert done.status_code == 200 and "已提出异议" in text(done.text) and "部门有异议" in text(done.text)

    authority = browser(client.app, "dsj_officer")
    shown = authority.get(f"/supervision/violations?id={violation_id}", headers=HTML)
    assert "确认违规" in shown.text and "撤销记录" in shown.text and "/contest" not in shown.text
    assert "已在期限内答复" in text(shown.text)
    confirmed = authority.post(f"/supervision/violations/{violation_id}/confirm", data={}, headers=HTML)
    assert confirmed.status_code == 200 and "已确认违规" in text(confirmed.text)
    again = authority.post(f"/supervision/violations/{violation_id}/confirm", data={}, headers=HTML)
    assert again.status_code == 409 and "已确认" in text(again.text)
    assert "违规记录" in text(browser(client.app, "auditor").get("/supervision/violations").text)
