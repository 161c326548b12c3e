"""SUP-2 rectification notices (通知整改), on both stores: a confirmed violation opens one notice with the
profile's (non-statutory) deadline; the department answers, the authority reopens, escalates and
accepts (the violation becomes rectified); an overdue notice escalates one step per missed deadline
in the order of seed 002 art. 40; each step is on the timeline and told to the department and its
principal head; 403 comes before 409 and another department's notice is 404."""

from __future__ import annotations

import datetime as dt

from govdata.core import clock
from govdata.supervision import notices, service
from tests.support.http import assert_problem
from tests.support.pages import HTML, browser, text

DAY = dt.date(2026, 3, 2)  # a Monday


def confirmed_violation(session, client, as_user, object_id: int = 7) -> int:
    ga = client.get("/api/v1/me", headers=as_user("ga_officer")).json()["department_id"]
    violation_id = service.record_violation(
        session,
        kind="application_overdue",
        department_id=ga,
        object_type="application",
        object_id=object_id,
        evidence={"application_id": object_id},
    )
    session.commit()
    for user in ("dsj_officer", "ga_head", "scjg_officer", "auditor"):
        as_user(user)  # tokens issued now, before the clock is frozen
    with clock.frozen(DAY):
        response = client.post(f"/api/v1/violations/{violation_id}/confirm", headers=as_user("dsj_officer"))
    assert response.status_code == 200
    return violation_id


def the_notice(client, as_user, violation_id: int) -> dict:
    listed = client.get("/api/v1/notices", headers=as_user("dsj_officer")).json()
    assert "items" in listed, listed
    return next(n for n in listed["items"] if n["violation_id"] == violation_id)


def test_a_notice_runs_through_answer_reopen_escalate_and_close(client, as_user, session):
    violation_id = confirmed_violation(session, client, as_user)
    notice = the_notice(client, as_user, violation_id)
    url = f"/api/v1/notices/{notice['id']}"
    assert notice["status"] == "open" and notice["step"] is None
    assert notice["deadline"] == "2026-03-30"  # 20 working days, the profile's value
    assert notice["deadline_statutory"] is False and notice["deadline_provisional"] is False
    # confirming again is refused, and the notice stays one
    again = client.post(f"/api/v1/violations/{violation_id}/confirm", headers=as_user("dsj_officer"))
    assert_problem(again, 409)
    assert client.get("/api/v1/notices", headers=as_user("dsj_officer")).json()["total"] == 1

    # who sees and who may act: 403 before 409, another department's notice is 404
    assert client.get("/api/v1/notices", headers=as_user("ga_officer")).json()["total"] == 1
    assert client.get("/api/v1/notices", headers=as_user("scjg_officer")).json()["total"] == 0
    assert_problem(client.get(url, headers=as_user("scjg_officer")), 404)
    assert_problem(
        client.post(f"{url}/answer", json={"text": "已整改"}, headers=as_user("scjg_officer")), 404
    )
    assert_problem(client.post(f"{url}/accept", headers=as_user("ga_officer")), 403)
    assert_problem(client.post(f"{url}/accept", headers=as_user("auditor")), 403)
    assert_problem(client.post(f"{url}/accept", headers=as_user("dsj_officer")), 409)
    assert_problem(client.post(f"{url}/answer", json={"text": " "}, headers=as_user("ga_officer")), 422)

    with clock.frozen(DAY + dt.timedelta(days=3)):
        answered = client.post(f"{url}/answer", json={"text": "已补答复申请"}, headers=as_user("ga_officer"))
        assert answered.status_code == 200 and answered.json()["status"] == "answered"
        assert_problem(
            client.post(f"{url}/escalate", json={"reason": "x"}, headers=as_user("dsj_officer")), 409
        )
        assert_problem(client.post(f"{url}/reopen", json={"reason": ""}, headers=as_user("dsj_officer")), 422)
        reopened = client.post(
            f"{url}/reopen", json={"reason": "未附答复文书"}, headers=as_user("dsj_officer")
        )
        assert reopened.json()["status"] == "open" and reopened.json()["deadline"] == "2026-04-02"
        escalated = client.post(
            f"{url}/escalate", json={"reason": "屡催不改"}, headers=as_user("dsj_officer")
        )
        assert escalated.json()["step"] == "reported" and escalated.json()["step_label"] == "报告本级人民政府"
        client.post(f"{url}/answer", json={"text": "已补发答复文书"}, headers=as_user("ga_head"))
        accepted = client.post(f"{url}/accept", json={"reason": "整改到位"}, headers=as_user("dsj_officer"))
    closed = accepted.json()
    assert closed["status"] == "closed" and closed["closed_at"]
    assert [e["action"] for e in closed["timeline"]] == [
        "opened",
        "answered",
        "reopened",
        "escalated",
        "answered",
        "accepted",
    ]
    escalation = closed["timeline"][3]
    assert escalation["actor"] == "dsj_officer" and escalation["text"] == "屡催不改"
    violation = client.get(f"/api/v1/violations/{violation_id}", headers=as_user("ga_officer")).json()
    assert violation["status"] == "rectified"

    # the department and, in person, its principal head (赵永刚, ga_head) were told each step
    head = client.get("/api/v1/notifications", headers=as_user("ga_head")).json()["items"]
    kinds = [m["kind"] for m in head if m["kind"].startswith("notice.")]
    assert kinds.count("notice.escalated") == 2 and "notice.accepted" in kinds and "notice.reopened" in kinds
    authority = client.get("/api/v1/notifications", headers=as_user("dsj_officer")).json()["items"]
    assert sum(m["kind"] == "notice.answered" for m in authority) == 2


def test_the_sweep_escalates_an_overdue_notice_one_step_per_missed_deadline(client, as_user, session):
    violation_id = confirmed_violation(session, client, as_user)
    notice_id = the_notice(client, as_user, violation_id)["id"]
    with clock.frozen(dt.date(2026, 3, 30)):  # the deadline day itself is not overdue
        assert notices.sweep(session)["escalated"] == 0
    steps = []
    for day in (dt.date(2026, 3, 31), dt.date(2026, 3, 31), dt.date(2026, 5, 6), dt.date(2026, 6, 30)):
        with clock.frozen(day):  # the sweep asked for over HTTP, as the hourly job runs it
            swept = client.post("/api/v1/supervision/sweep", headers=as_user("dsj_officer"))
            assert swept.status_code == 200 and "escalated" in swept.json(), swept.text
            steps.append(
                client.get(f"/api/v1/notices/{notice_id}", headers=as_user("ga_officer")).json()["step"]
            )
    assert steps == ["reported", "reported", "ordered", "criticised"]
    assert_problem(client.post("/api/v1/supervision/sweep", headers=as_user("ga_officer")), 403)
    with clock.frozen(dt.date(2026, 9, 1)):
        assert notices.sweep(session)["escalated"] == 0  # no step is left
        last = client.post(
            f"/api/v1/notices/{notice_id}/escalate", json={"reason": "x"}, headers=as_user("dsj_officer")
        )
    assert_problem(last, 409)
    timeline = client.get(f"/api/v1/notices/{notice_id}", headers=as_user("dsj_officer")).json()["timeline"]
    assert [(e["step"], e["actor"], e["text"]) for e in timeline if e["action"] == "escalated"] == [
        ("reported", "govdata", "逾期未完成整改"),
        ("ordered", "govdata", "逾期未完成整改"),
        ("criticised", "govdata", "逾期未完成整改"),
    ]
    authority = client.get("/api/v1/notifications", headers=as_user("dsj_officer")).json()["items"]
    assert sum(m["kind"] == "notice.escalated" for m in authority) == 3


def test_the_pages_show_the_notice_and_offer_the_forms_of_who_may(client, as_user, session):
    violation_id = confirmed_violation(session, client, as_user)
    notice_id = the_notice(client, as_user, violation_id)["id"]
    officer = browser(client.app, "ga_officer")
    register = officer.get(f"/supervision/violations?id={violation_id}", headers=HTML).text
    assert f'href="/supervision/notices/{notice_id}"' in register
    listed = text(officer.get("/supervision/notices", headers=HTML).text)
    assert "共享申请逾期未答复" in listed and "待整改" in listed
    page = officer.get(f"/supervision/notices/{notice_id}", headers=HTML).text
    assert "答复整改情况" in page and "验收通过" not in page and "非法定期限" in page
    pdf = b"%PDF-1.4\n%test\n"
    with clock.frozen(DAY):
        posted = officer.post(
            f"/supervision/notices/{notice_id}/answer",
            data={"text": "已整改"},
            files={"file": ("整改报告.pdf", pdf, "application/pdf")},
            follow_redirects=False,
        )
    assert posted.status_code == 303
    authority = browser(client.app, "dsj_officer").get(f"/supervision/notices/{notice_id}", headers=HTML).text
    assert "整改报告.pdf" in authority and "验收通过" in authority and "退回重新整改" in authority
    assert browser(client.app, "scjg_officer").get(f"/supervision/notices/{notice_id}").status_code == 404
