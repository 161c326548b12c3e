"""The provider's review (COR-2, COR-4, CAL-1, CAL-2, POL-1): one extension approved by the right head,
counted from the original deadline across holidays and into an unpublished year; the correction
applied as a batch (queries, history, rollback, audit); a rejection with its reason; the filer told;
overdue reviews escalated as violations — on both stores."""

# ruff: noqa: F811  (the fixtures of tests.support, named as parameters)
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from govdata.core import clock, policy
from govdata.core.audit import AuditEvent
from govdata.core.auth import SYSTEM_ACTOR
from govdata.core.calendar import WorkingCalendar
from govdata.orgs.schemas import UserIn
from govdata.orgs.service import create_user
from tests.support.http import assert_problem, login
from tests.support.objections import BASE_ITEMS, TODAY, china_wd_after, file, query, records  # noqa: F401
from tests.support.sharing import grant, shared_code, system  # noqa: F401


@pytest.fixture(autouse=True)
def logged_in(as_user) -> None:
    """Log everyone in at the real time: a token issued under a frozen clock would be expired after it."""
    for username in ("rs_user", "rs_head", "ga_officer", "ga_head", "dsj_officer", "auditor", "admin"):
        as_user(username)


@pytest.fixture
def filed(client, as_user, shared_code, system, records) -> dict:
    """市人社局's objection to the name in one record, filed on ``TODAY`` under its grant."""
    with clock.frozen(TODAY):
        grant(client, as_user, shared_code, system["id"], BASE_ITEMS)
        return file(client, as_user("rs_user"), shared_code, records[3]["gmsfhm"], {"xm": "陈新名"})


def extend(client, headers, objection_id: int, **body):
    return client.post(f"/api/v1/objections/{objection_id}/extend", json=body, headers=headers)


def resolve(client, headers, objection_id: int, **body):
    return client.post(f"/api/v1/objections/{objection_id}/resolve", json=body, headers=headers)


def test_one_extension_by_the_providers_head_counted_from_the_original_deadline_COR2(client, as_user, filed):
    original = dt.date.fromisoformat(filed["deadline"])
    oid = filed["id"]
    with clock.frozen(TODAY + dt.timedelta(days=1)):
        # the officer asks, the head decides; nobody else extends
        asked = client.post(
            f"/api/v1/objections/{oid}/extension-request",
            json={"reason": "需调取户籍档案核实", "working_days": 5},
            headers=as_user("ga_officer"),
        )
        assert asked.status_code == 200 and asked.json()["extension_request_days"] == 5
        heads = client.get("/api/v1/notifications", headers=as_user("ga_head")).json()["items"]
        assert any(n["kind"] == "objection.extension_requested" for n in heads)
        assert_problem(extend(client, as_user("ga_officer"), oid, reason="x"), 403)
        # the filer's own head sees the objection, but only the provider's head extends it
        assert_problem(extend(client, as_user("rs_head"), oid, reason="x"), 403, "not-provider")
        assert_problem(extend(client, as_user("ga_head"), oid, reason="x", working_days=11), 422)
        assert_problem(extend(client, as_user("ga_head"), oid, reason=" "), 422)
        done = extend(client, as_user("ga_head"), oid, reason="需调取户籍档案核实", working_days=5)
        assert done.status_code == 200, done.text
        again = extend(client, as_user("ga_head"), oid, reason="还需更久")
    body = done.json()
    assert body["extended"] is True and body["extension_days"] == 5 and body["extended_by"] == "ga_head"
    assert body["original_deadline"] == original.isoformat()
    assert body["deadline"] == china_wd_after(original, 5).isoformat()
    assert_problem(again, 409, "already-extended")
    filer_inbox = client.get("/api/v1/notifications", headers=as_user("rs_user")).json()["items"]
    assert any(n["kind"] == "objection.extended" for n in filer_inbox)


def test_an_unsaid_extension_is_the_policy_maximum_and_only_the_principal_head_when_the_switch_says_POL1(
    client, as_user, filed, session
):
    current = policy.active_policy(session)
    switches = current.switches.model_dump() | {"review_extension_by": "principal_head"}
    changed = current.model_copy(
        update={"name": "principal", "switches": type(current.switches).model_validate(switches)}
    )
    policy.save_profile(session, SYSTEM_ACTOR, changed, activate=True)
    ga = client.get("/api/v1/me", headers=as_user("ga_officer")).json()["department_id"]
    create_user(
        session,
        SYSTEM_ACTOR,
        UserIn(
            username="ga_deputy",
            password="Jiaozuo@2026x",
            display_name="钱副局长",
            department_id=ga,
            roles=["dept_head"],
        ),
    )
    session.commit()
    deputy = login(client, "ga_deputy", "Jiaozuo@2026x")
    with clock.frozen(TODAY):
        refused = assert_problem(
            extend(client, deputy, filed["id"], reason="核实"), 403, "not-principal-head"
        )
        assert "赵永刚" in refused["detail"]
        done = extend(client, as_user("ga_head"), filed["id"], reason="核实")  # 赵永刚 is the principal head
    assert done.status_code == 200, done.text
    assert done.json()["extension_days"] == 10
    assert done.json()["deadline"] == china_wd_after(dt.date.fromisoformat(filed["deadline"]), 10).isoformat()


def test_a_deadline_into_an_unpublished_year_is_provisional_and_recounted_on_import_CAL2(
    client, as_user, shared_code, system, records
):
    start = dt.date(2026, 12, 28)
    with clock.frozen(start):  # tokens issued then: those of the real time would be expired
        then = {u: login(client, u) for u in ("rs_user", "ga_officer")}
        grant(client, then.__getitem__, shared_code, system["id"], BASE_ITEMS)
        filed = file(client, then["rs_user"], shared_code, records[2]["gmsfhm"], {"xm": "某某"})
    assert filed["deadline_provisional"] is True
    weekdays = WorkingCalendar().add_working_days(start, 10).date  # Monday–Friday across New Year
    assert filed["deadline"] == weekdays.isoformat()
    # 2027's schedule: New Year holidays 1–3 January, a make-up Saturday on 9 January
    imported = client.post(
        "/api/v1/calendar/years",
        json={
            "year": 2027,
            "holidays": ["2027-01-01", "2027-01-04", "2027-01-05"],
            "workdays": ["2027-01-09"],
        },
        headers=as_user("admin"),
    )
    assert imported.status_code in (200, 201), imported.text
    again = client.get(f"/api/v1/objections/{filed['id']}", headers=as_user("ga_officer")).json()
    assert again["deadline_provisional"] is False
    assert again["deadline"] != filed["deadline"]


def test_a_correction_is_a_batch_the_services_show_and_the_flag_clears_COR3_COR4(
    client, as_user, shared_code, filed, records, session
):
    person = records[3]
    ga = as_user("ga_officer")
    before = query(client, ga, shared_code, person["gmsfhm"])
    assert before["under_review"] == [person["gmsfhm"]] and before["items"][0]["xm"] == person["xm"]
    first = client.get(f"/api/v1/share/{shared_code}/changes", headers=ga).json()
    assert first["more"] is False and person["gmsfhm"] in first["under_review"]
    with clock.frozen(TODAY + dt.timedelta(days=2)):
        assert_problem(resolve(client, as_user("rs_user"), filed["id"], outcome="corrected"), 403)
        done = resolve(client, ga, filed["id"], outcome="corrected", reason="经核对户籍档案，姓名已更正")
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "corrected" and body["corrected_values"] == {"xm": "陈新名"}
    assert body["late"] is False and body["resolved_by"] == "ga_officer"
    batch_id = body["correction_batch_id"]
    after = query(client, ga, shared_code, person["gmsfhm"])
    assert after["under_review"] == [] and after["items"][0]["xm"] == "陈新名"
    assert after["items"][0]["csrq"] == person["csrq"]  # the other items keep their values
    # exchange: the changes since the cursor taken before, and the export, carry the corrected value
    since = client.get(f"/api/v1/share/{shared_code}/changes", params={"cursor": first["cursor"]}, headers=ga)
    assert [(c["key"], c["record"]["xm"]) for c in since.json()["changes"]] == [(person["gmsfhm"], "陈新名")]
    assert since.json()["under_review"] == []
    exported = client.get(f"/api/v1/share/{shared_code}/export?format=csv", headers=ga)
    assert exported.status_code == 200 and f"{person['gmsfhm']},陈新名," in exported.content.decode(
        "utf-8-sig"
    )
    # the record's history: read as it was before the correction's batch
    earlier = client.get(
        f"/api/v1/share/{shared_code}/records",
        params={"key": person["gmsfhm"], "as_of_batch": batch_id - 1},
        headers=ga,
    ).json()
    assert earlier["items"][0]["xm"] == person["xm"]
    batches = client.get(f"/api/v1/resources/{shared_code}/batches", headers=ga).json()["items"]
    assert (
        batches[0]["id"] == batch_id and batches[0]["status"] == "applied" and batches[0]["rows_applied"] == 1
    )
    # the filer hears of it; nothing is left to resolve
    inbox = client.get("/api/v1/notifications", headers=as_user("rs_user")).json()["items"]
    assert any(n["kind"] == "objection.resolved" and "已更正" in n["title"] for n in inbox)
    assert_problem(resolve(client, ga, filed["id"], outcome="rejected", reason="x"), 409)
    # every step is in the audit chain, which still verifies
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "objection")))
    assert {
        "objections.objection.filed",
        "objections.objection.correction_queued",
        "objections.objection.corrected",
    } <= actions
    verified = client.get("/api/v1/audit/verify", headers=as_user("auditor"))
    assert verified.status_code == 200 and verified.json()["ok"] is True
    # rolling the correction back is rolling back a batch like any other
    rolled = client.post(f"/api/v1/batches/{batch_id}/rollback", headers=ga)
    assert rolled.status_code == 200, rolled.text
    assert query(client, ga, shared_code, person["gmsfhm"])["items"][0]["xm"] == person["xm"]


def test_a_correction_the_batch_refuses_leaves_the_review_open_with_the_reason_COR4(
    client, as_user, shared_code, filed, records
):
    ga = as_user("ga_officer")
    too_long = "名" * 60  # 姓名 holds at most 50 characters
    refused = assert_problem(
        resolve(client, ga, filed["id"], outcome="corrected", values={"xm": too_long}),
        422,
        "correction-failed",
    )
    assert "未能入库" in refused["detail"]
    shown = client.get(f"/api/v1/objections/{filed['id']}", headers=ga).json()
    assert shown["status"] == "under_review" and shown["correction_batch_id"] is None
    assert query(client, ga, shared_code, records[3]["gmsfhm"])["under_review"] == [records[3]["gmsfhm"]]
    assert_problem(
        resolve(client, ga, filed["id"], outcome="corrected", values={"csrq": "x"}), 422
    )  # not its item
    corrected = resolve(client, ga, filed["id"], outcome="corrected", values={"xm": "陈新"})
    assert corrected.status_code == 200 and corrected.json()["corrected_values"] == {"xm": "陈新"}


def test_a_rejection_needs_a_reason_and_is_sent_to_the_filer_COR4(
    client, as_user, shared_code, filed, records
):
    ga = as_user("ga_officer")
    assert_problem(resolve(client, ga, filed["id"], outcome="rejected"), 422)
    done = resolve(client, ga, filed["id"], outcome="rejected", reason="经核对户籍档案，原数据无误")
    assert done.status_code == 200 and done.json()["status"] == "rejected"
    assert done.json()["resolution_reason"] == "经核对户籍档案，原数据无误"
    assert query(client, ga, shared_code, records[3]["gmsfhm"])["under_review"] == []
    inbox = client.get("/api/v1/notifications", headers=as_user("rs_user")).json()["items"]
    assert any(n["kind"] == "objection.resolved" and "维持原数据" in n["title"] for n in inbox)
    listed = client.get("/api/v1/objections?role=filer", headers=as_user("rs_user")).json()
    assert [(o["id"], o["status"]) for o in listed["items"]] == [(filed["id"], "rejected")]


def test_an_overdue_review_is_escalated_once_as_a_violation_and_a_late_answer_is_marked_COR4_SUP2(
    client, as_user, filed
):
    deadline = dt.date.fromisoformat(filed["deadline"])
    authority = as_user("dsj_officer")
    with clock.frozen(deadline):  # the last day is still in time
        assert client.post("/api/v1/objections/sweep", headers=authority).json()["escalated"] == 0
    with clock.frozen(deadline + dt.timedelta(days=1)):
        assert client.post("/api/v1/objections/sweep", headers=authority).json()["escalated"] == 1
        assert client.post("/api/v1/objections/sweep", headers=authority).json()["escalated"] == 0
        overdue = client.get("/api/v1/objections?overdue=true", headers=authority).json()
        assert [o["id"] for o in overdue["items"]] == [filed["id"]] and overdue["items"][0]["escalated_at"]
        violations = client.get("/api/v1/violations?kind=objection_overdue", headers=authority).json()
        assert [v["object_id"] for v in violations["items"]] == [str(filed["id"])]
        inbox = client.get("/api/v1/notifications", headers=authority).json()["items"]
        assert any(n["kind"] == "objection.escalated" for n in inbox)
        # the head can no longer extend a deadline that has passed; the provider can still answer, late
        assert_problem(extend(client, as_user("ga_head"), filed["id"], reason="x"), 409, "deadline-passed")
        late = resolve(client, as_user("ga_officer"), filed["id"], outcome="rejected", reason="原数据无误")
    assert late.status_code == 200 and late.json()["late"] is True
    assert client.post("/api/v1/objections/sweep", headers=as_user("rs_user")).status_code == 403
