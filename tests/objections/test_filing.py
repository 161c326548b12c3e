"""Filing an objection (COR-1, POL-1): who may object to which record, the one 404 that tells nothing,
the working-day deadline, evidence, and objections raised off the platform — on both stores."""

# ruff: noqa: F811  (the fixtures of tests.support, named as parameters)
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from govdata.core import clock, policy
from govdata.core.audit import AuditEvent
from govdata.core.auth import SYSTEM_ACTOR
from tests.support.batches import ric
from tests.support.http import assert_problem
from tests.support.objections import (
    TODAY,
    china_wd_after,
    file,
    granted,  # noqa: F401
    objection_body,
    records,  # noqa: F401
)
from tests.support.sharing import grant, shared_code, system  # noqa: F401

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def logged_in(as_user) -> None:
    """Log everyone in at the real time: a token issued under a frozen clock would be expired after it."""
    for username in ("rs_user", "rs_officer", "ga_officer", "ga_head", "dsj_officer", "wj_user", "auditor"):
        as_user(username)


def use_switches(session, name: str, **switches) -> None:
    current = policy.active_policy(session)
    changed = current.model_copy(
        update={
            "name": name,
            "switches": type(current.switches).model_validate(current.switches.model_dump() | switches),
        }
    )
    policy.save_profile(session, SYSTEM_ACTOR, changed, activate=True)
    session.commit()


def test_a_grant_holder_objects_and_the_provider_is_told_with_a_working_day_deadline_COR1_COR2(
    client, as_user, shared_code, system, records, session
):
    person = records[3]
    with clock.frozen(TODAY):
        grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm", "xb", "csrq", "hjdz"])
        filed = file(client, as_user("rs_user"), shared_code, person["gmsfhm"].lower(), {"XM": " 陈新名 "})
    assert filed["status"] == "under_review"
    assert filed["key"] == person["gmsfhm"]  # kept as the store keeps it (identifiers upper-case)
    assert filed["items"] == {"xm": "陈新名"}
    assert filed["deadline"] == china_wd_after(TODAY, 10).isoformat() > "2026-10-09"
    assert filed["deadline_provisional"] is False and filed["deadline_statutory"] is True
    assert filed["extended"] is False and filed["channel"] == "platform"
    assert filed["filer_kind"] == "department_user" and filed["filer_name"] == "陈静"
    inbox = client.get("/api/v1/notifications", headers=as_user("ga_officer")).json()["items"]
    assert any(n["kind"] == "objection.filed" and n["object_id"] == str(filed["id"]) for n in inbox)
    # both departments see it, the authority sees it without the record's key or values
    for username in ("rs_user", "ga_officer"):
        seen = client.get(f"/api/v1/objections/{filed['id']}", headers=as_user(username)).json()
        assert seen["key"] == person["gmsfhm"] and seen["items"] == {"xm": "陈新名"}
    authority = client.get(f"/api/v1/objections/{filed['id']}", headers=as_user("dsj_officer")).json()
    assert authority["key"] is None and authority["items"] == {"xm": None}
    assert client.get(f"/api/v1/objections/{filed['id']}", headers=as_user("wj_user")).status_code == 404
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "objections.objection.filed")).one()
    assert event.object_id == str(filed["id"]) and event.actor == "rs_user"


def test_a_key_the_caller_may_not_see_gets_the_same_404_as_an_unknown_key_COR1(
    client, as_user, shared_code, granted, records
):
    existing = records[0]["gmsfhm"]
    unknown = ric("41080219990101123")
    answers = [
        # a department without a grant, on a record that exists
        client.post(
            "/api/v1/objections",
            json=objection_body(shared_code, existing, {"xm": "某"}),
            headers=as_user("wj_user"),
        ),
        # the grant holder, on a key that does not exist
        client.post(
            "/api/v1/objections",
            json=objection_body(shared_code, unknown, {"xm": "某"}),
            headers=as_user("rs_user"),
        ),
        # the grant holder, on an item its grant does not cover (联系电话 is conditional, not granted)
        client.post(
            "/api/v1/objections",
            json=objection_body(shared_code, existing, {"lxdh": "13900000000"}),
            headers=as_user("rs_user"),
        ),
        # a resource that does not exist
        client.post(
            "/api/v1/objections",
            json=objection_body("101/999999999", existing, {"xm": "某"}),
            headers=as_user("rs_user"),
        ),
    ]
    bodies = [assert_problem(answer, 404) for answer in answers]
    assert len({(b["type"], b["detail"].replace("101/999999999", shared_code)) for b in bodies}) == 1
    assert client.get("/api/v1/objections", headers=as_user("ga_officer")).json()["total"] == 0
    # the provider's own staff object to any record of their own, without a grant
    own = file(client, as_user("ga_officer"), shared_code, existing, {"lxdh": "13900000001"})
    assert own["status"] == "under_review" and own["filer_department_id"] == own["provider_id"]


def test_what_cannot_be_objected_to_is_named_COR1(client, as_user, shared_code, granted, records):
    key = records[1]["gmsfhm"]
    rs = as_user("rs_user")
    post = lambda **body: client.post("/api/v1/objections", json=body, headers=rs)  # noqa: E731
    base = objection_body(shared_code, key, {"xm": "某"})
    assert_problem(post(**{**base, "items": {"gmsfhm": ric("41080219990101123")}}), 422)  # the key itself
    assert_problem(post(**{**base, "items": {"nosuch": "x"}}), 422)
    assert_problem(post(**{**base, "key": "41080219850101001X"}), 422)  # not a valid 公民身份号码
    assert_problem(post(**{**base, "reason": "  "}), 422)
    assert_problem(post(**{**base, "items": {}}), 422)
    # a claimed value is checked as a batch would check it, before anything is filed
    for claimed, wrong in [
        ({"csrq": "1990-02-30"}, "日期"),
        ({"xm": "名" * 60}, "长度"),
        ({"xb": "7"}, "代码表"),
    ]:
        refused = assert_problem(post(**{**base, "items": claimed}), 422)
        assert wrong in refused["detail"], refused
    first = post(**base)
    assert first.status_code == 201, first.text
    again = assert_problem(post(**base), 409, "already-open")  # one open objection per department and record
    assert again["objection_id"] == first.json()["id"]


def test_who_may_object_is_a_policy_switch_POL1(client, as_user, shared_code, granted, records, session):
    use_switches(session, "people-only", objectors=["natural_person", "legal_person"])
    refused = client.post(
        "/api/v1/objections",
        json=objection_body(shared_code, records[2]["gmsfhm"], {"xm": "某"}),
        headers=as_user("rs_user"),
    )
    assert_problem(refused, 403, "objector-not-allowed")
    # the auditor and a public account never file
    assert_problem(client.post("/api/v1/objections", json={}, headers=as_user("auditor")), 403)


def test_an_objection_raised_off_the_platform_counts_from_the_day_it_was_received_POL1(
    client, as_user, shared_code, records, session
):
    received = dt.date(2026, 9, 25)
    body = objection_body(
        shared_code,
        records[4]["gmsfhm"],
        {"hjdz": "焦作市解放区民主路4号院"},
        received_on=received.isoformat(),
        filer_name="市民 王某",
        filer_contact="0391-1234567",
    )
    with clock.frozen(TODAY):
        # only the provider's officer enters it
        assert_problem(client.post("/api/v1/objections", json=body, headers=as_user("rs_user")), 403)
        entered = client.post("/api/v1/objections", json=body, headers=as_user("ga_officer"))
        assert entered.status_code == 201, entered.text
        future = {**body, "received_on": (TODAY + dt.timedelta(days=1)).isoformat()}
        assert_problem(client.post("/api/v1/objections", json=future, headers=as_user("ga_officer")), 422)
    answer = entered.json()
    assert answer["channel"] == "off_platform" and answer["received_on"] == received.isoformat()
    assert answer["filer_kind"] == "public_account" and answer["filer_name"] == "市民 王某"
    assert answer["deadline"] == china_wd_after(received, 10).isoformat()
    # a department's objection entered off the platform is that department's to follow
    from_rs = client.get("/api/v1/me", headers=as_user("rs_user")).json()["department_id"]
    with clock.frozen(TODAY):
        by_rs = client.post(
            "/api/v1/objections",
            json={**body, "key": records[5]["gmsfhm"], "filer_name": None, "filer_department_id": from_rs},
            headers=as_user("ga_officer"),
        )
    assert by_rs.status_code == 201, by_rs.text
    assert by_rs.json()["filer_name"] == "焦作市人力资源和社会保障局"
    assert (
        client.get(f"/api/v1/objections/{by_rs.json()['id']}", headers=as_user("rs_user")).status_code == 200
    )
    # a profile that keeps objections on the platform refuses to enter one, saying why
    use_switches(session, "platform-only", objections_off_platform="not_allowed")
    refused = assert_problem(
        client.post(
            "/api/v1/objections", json={**body, "key": records[6]["gmsfhm"]}, headers=as_user("ga_officer")
        ),
        422,
    )
    assert "只能通过平台提出" in refused["detail"]


def test_evidence_is_checked_by_its_content_and_shown_only_to_the_parties_COR1(
    client, as_user, shared_code, granted, records
):
    filed = file(client, as_user("rs_user"), shared_code, records[7]["gmsfhm"], {"xm": "某"})
    url = f"/api/v1/objections/{filed['id']}/attachments"
    rs = as_user("rs_user")
    added = client.post(url, files={"file": ("户口簿.pdf", PDF, "application/pdf")}, headers=rs)
    assert added.status_code == 201, added.text
    assert added.json()["content_type"] == "application/pdf"
    assert_problem(
        client.post(url, files={"file": ("说明.pdf", b"just text", "application/pdf")}, headers=rs), 422
    )
    big = b"%PDF-" + b"0" * (10 * 1024 * 1024)
    assert_problem(client.post(url, files={"file": ("大.pdf", big, "application/pdf")}, headers=rs), 413)
    assert_problem(
        client.post(url, files={"file": ("x.pdf", PDF, "application/pdf")}, headers=as_user("wj_user")), 404
    )
    download = f"{url}/{added.json()['id']}"
    assert client.get(download, headers=as_user("ga_officer")).content == PDF
    assert client.get(download, headers=as_user("dsj_officer")).status_code == 404
    shown = client.get(f"/api/v1/objections/{filed['id']}", headers=as_user("ga_officer")).json()
    assert [a["filename"] for a in shown["attachments"]] == ["户口簿.pdf"]
