"""QUA-2: consumers report quality problems, the provider confirms and fixes or rejects with a reason,
within the policy's reply deadline (working days); everything audited, on both stores."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from govdata.core.calendar import TrackedDeadline, WorkingCalendar
from govdata.core.clock import today
from govdata.quality.models import QualityProblem
from tests.support.batches import good_rows
from tests.support.http import assert_problem
from tests.support.quality import load, quality


def report(client, headers, code, **body):
    body.setdefault("description", "姓名与户籍登记不一致")
    return client.post(f"/api/v1/resources/{code}/quality-problems", json=body, headers=headers)


def answer(client, headers, problem_id, **body):
    return client.post(f"/api/v1/quality-problems/{problem_id}/answer", json=body, headers=headers)


def test_a_consumer_reports_and_the_provider_confirms_then_fixes(client, as_user, population_code, session):
    rows = good_rows(5)
    load(client, as_user("ga_officer"), population_code, rows)
    key = rows[2][0].lower()  # the identifier is normalised as the store keeps it
    response = report(client, as_user("rs_user"), population_code, record_key=key, item="xm")
    assert response.status_code == 201, response.text
    problem = response.json()
    assert problem["status"] == "open" and problem["status_label"] == "待答复"
    assert problem["record_key"] == key.upper() and problem["item"] == "xm"
    assert problem["reporter"] == "rs_user" and problem["reporter_department"] == "焦作市人力资源和社会保障局"
    expected = WorkingCalendar().add_working_days(today(), 10)  # deadlines.quality_problem_reply
    assert problem["deadline"] == expected.date.isoformat() and problem["overdue"] is False

    counts = quality(client, as_user("ga_officer"), population_code)["problems"]
    assert counts == {"open": 1, "total": 1, "overdue": 0}
    # a colleague of the reporter (a third department does not see it: test_boundaries.py)
    listed = client.get(
        f"/api/v1/resources/{population_code}/quality-problems?status=open", headers=as_user("rs_officer")
    ).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == problem["id"]

    # only the provider's catalog officer answers
    assert_problem(answer(client, as_user("ga_head"), problem["id"], action="confirm"), 403)
    assert_problem(answer(client, as_user("rs_officer"), problem["id"], action="confirm"), 403)
    assert_problem(answer(client, as_user("rs_user"), problem["id"], action="confirm"), 403)
    assert_problem(answer(client, as_user("auditor"), problem["id"], action="confirm"), 403)

    officer = as_user("ga_officer")
    confirmed = answer(client, officer, problem["id"], action="confirm", reason="已核实，将于下一批次更正")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert_problem(answer(client, officer, problem["id"], action="confirm"), 409, "invalid-state")
    assert_problem(answer(client, officer, problem["id"], action="reject", reason="改主意了"), 409)
    fixed = answer(client, officer, problem["id"], action="fix", reason="已随批次更正")
    assert fixed.json()["status"] == "fixed" and fixed.json()["fixed_by"] == "ga_officer"
    assert_problem(answer(client, officer, problem["id"], action="fix"), 409)

    # the reporter sees the answer
    seen = client.get(f"/api/v1/quality-problems/{problem['id']}", headers=as_user("rs_user")).json()
    assert seen["status"] == "fixed" and seen["answer_reason"] == "已核实，将于下一批次更正"
    assert seen["fixed_note"] == "已随批次更正" and seen["answered_late"] is False
    mine = client.get("/api/v1/quality-problems?side=reported", headers=as_user("rs_officer")).json()
    assert [p["id"] for p in mine["items"]] == [problem["id"]]
    received = client.get("/api/v1/quality-problems?side=received", headers=officer).json()
    assert received["total"] == 1
    assert (
        client.get("/api/v1/quality-problems?side=received", headers=as_user("rs_officer")).json()["total"]
        == 0
    )
    assert quality(client, officer, population_code)["problems"] == {"open": 0, "total": 1, "overdue": 0}

    events = client.get("/api/v1/audit/events?action=quality.problem", headers=as_user("auditor")).json()
    assert [e["action"] for e in reversed(events["items"])] == [
        "quality.problem.reported",
        "quality.problem.confirmed",
        "quality.problem.fixed",
    ]


def test_rejection_needs_a_reason_and_reaches_the_reporter(client, as_user, population_code):
    problem = report(client, as_user("dsj_officer"), population_code).json()  # the authority may report
    officer = as_user("ga_officer")
    body = assert_problem(answer(client, officer, problem["id"], action="reject"), 422)
    assert "理由" in body["detail"]
    assert_problem(answer(client, officer, problem["id"], action="reject", reason="   "), 422)
    assert_problem(answer(client, officer, problem["id"], action="ignore"), 422)
    rejected = answer(client, officer, problem["id"], action="reject", reason="经核对与户籍系统一致")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert_problem(answer(client, officer, problem["id"], action="fix"), 409)
    seen = client.get(f"/api/v1/quality-problems/{problem['id']}", headers=as_user("dsj_officer")).json()
    assert seen["status_label"] == "已驳回" and seen["answer_reason"] == "经核对与户籍系统一致"


def test_who_may_report_and_what_a_report_must_name(client, as_user, population_code):
    load(client, as_user("ga_officer"), population_code, good_rows(3))
    # the provider's own staff do not report on their own resource; a head reports nothing
    assert_problem(report(client, as_user("ga_officer"), population_code), 403)
    assert_problem(report(client, as_user("ga_head"), population_code), 403)
    assert_problem(report(client, as_user("citizen"), population_code), 403)
    assert_problem(report(client, as_user("auditor"), population_code), 403)
    assert_problem(report(client, None, population_code), 401)
    # the input is checked, in Chinese
    assert (
        "问题描述"
        in assert_problem(report(client, as_user("rs_user"), population_code, description=" "), 422)["detail"]
    )
    assert_problem(report(client, as_user("rs_user"), population_code, item="salary"), 422)
    unknown = report(client, as_user("rs_user"), population_code, record_key=" 41080219850101001x ")
    assert unknown.status_code == 201 and unknown.json()["record_key"] == "41080219850101001X"
    assert report(client, as_user("rs_officer"), population_code, item="XB").json()["item"] == "xb"
    # a draft is invisible to other departments, and takes no problems from anyone
    draft = client.post(
        "/api/v1/resources", json={**_draft_body(), "name": "草稿资源"}, headers=as_user("ga_officer")
    ).json()["code"]
    assert_problem(report(client, as_user("rs_user"), draft), 404)
    assert_problem(report(client, as_user("dsj_officer"), draft), 409)
    assert_problem(client.get(f"/api/v1/resources/{draft}/quality-problems", headers=as_user("rs_user")), 404)
    assert_problem(
        client.get(f"/api/v1/resources/{population_code}/quality-problems", headers=as_user("citizen")), 403
    )


def _draft_body() -> dict:
    from tests.support.catalog import population

    return population()


def test_an_unanswered_problem_past_its_deadline_is_flagged_overdue(
    client, as_user, population_code, session
):
    problem = report(client, as_user("rs_user"), population_code).json()
    tracked_id = session.scalar(
        select(QualityProblem.tracked_deadline_id).where(QualityProblem.id == problem["id"])
    )
    session.execute(
        update(TrackedDeadline).where(TrackedDeadline.id == tracked_id).values(due_date=date(2026, 1, 5))
    )
    session.commit()
    seen = client.get(f"/api/v1/quality-problems/{problem['id']}", headers=as_user("ga_officer")).json()
    assert seen["overdue"] is True and seen["deadline"] == "2026-01-05"
    assert quality(client, as_user("ga_officer"), population_code)["problems"]["overdue"] == 1
    answered = answer(client, as_user("ga_officer"), problem["id"], action="confirm").json()
    assert answered["overdue"] is False and answered["answered_late"] is True
    events = client.get(
        "/api/v1/audit/events?action=quality.problem.confirmed", headers=as_user("auditor")
    ).json()
    assert events["items"][0]["details"]
    assert '"late":true' in events["items"][0]["details"].replace(" ", "")
