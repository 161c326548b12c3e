"""SEC-3: state changes are audited in an SM3 hash chain that detects tampering."""

from __future__ import annotations

import hashlib
import threading

from sqlalchemy import text
from typer.testing import CliRunner

from govdata.core import audit
from govdata.core.auth import Actor, Role
from govdata.core.db import make_sessionmaker, unit_of_work
from tests.support.http import assert_problem


def test_sm3_is_the_chinese_standard_hash():
    # GB/T 32905 example: SM3("abc")
    assert audit.sm3("abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert hashlib.new("sm3", b"abc").hexdigest() == audit.sm3("abc")


def test_state_changes_are_recorded_with_who_what_and_where(client, as_user):
    officer = as_user("ga_officer")
    gongan = next(
        d["id"]
        for d in client.get("/api/v1/departments?limit=100", headers=officer).json()["items"]
        if d["name"] == "焦作市公安局"
    )
    system = client.post(
        f"/api/v1/departments/{gongan}/systems", json={"name": "审计测试系统"}, headers=officer
    ).json()
    events = client.get("/api/v1/audit/events?action=orgs.system", headers=as_user("auditor")).json()
    event = events["items"][0]
    assert event["action"] == "orgs.system.created"
    assert event["actor"] == "ga_officer" and event["roles"] == "dept_officer"
    assert event["department_id"] == gongan and event["object_id"] == str(system["id"])
    assert event["source"] == "testclient"
    assert "审计测试系统" in event["details"]
    logins = client.get(
        "/api/v1/audit/events?action=auth.login&actor=ga_officer", headers=as_user("auditor")
    ).json()
    assert logins["total"] >= 1


def test_audit_trail_is_readable_only_by_auditors_and_admins(client, as_user):
    assert_problem(client.get("/api/v1/audit/events", headers=as_user("dsj_officer")), 403)
    assert_problem(client.get("/api/v1/audit/verify", headers=as_user("ga_head")), 403)
    assert client.get("/api/v1/audit/verify", headers=as_user("admin")).status_code == 200


def test_chain_verifies_and_a_tampered_row_is_named(client, as_user, session):
    auditor = as_user("auditor")
    result = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert result["ok"] is True and result["first_broken"] is None and result["checked"] > 20
    target = session.execute(
        text("SELECT seq FROM audit_events WHERE action = 'orgs.user.created' ORDER BY seq LIMIT 1 OFFSET 2")
    ).scalar_one()
    session.execute(
        text("UPDATE audit_events SET details = :d WHERE seq = :s"),
        {"d": '{"username":"mallory"}', "s": target},
    )
    session.commit()
    result = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert result["ok"] is False
    assert result["first_broken"]["id"] == target
    assert result["checked"] == target - 1
    assert "篡改" in result["first_broken"]["reason"]


def test_deleting_the_last_events_is_detected(client, as_user, session):
    auditor = as_user("auditor")
    last = session.execute(text("SELECT max(seq) FROM audit_events")).scalar_one()
    session.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": last})
    session.commit()
    result = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert result["ok"] is False and result["first_broken"]["id"] == last


def test_deleting_an_event_in_the_middle_is_detected(client, as_user, session):
    auditor = as_user("auditor")
    session.execute(text("DELETE FROM audit_events WHERE seq = 5"))
    session.commit()
    result = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert result["ok"] is False and result["first_broken"]["id"] == 6


def test_concurrent_writers_keep_one_chain(engine):
    factory = make_sessionmaker(engine)
    actor = Actor(kind="user", roles=frozenset({Role.admin}), username="load")
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                with unit_of_work(factory) as session:
                    audit.record(session, actor, "test.concurrent", "thread", f"{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with unit_of_work(factory) as session:
        result = audit.verify_chain(session)
        assert result.ok, result.first_broken
        assert (
            session.execute(
                text("SELECT count(*) FROM audit_events WHERE action = 'test.concurrent'")
            ).scalar()
            == 40
        )


def test_cli_verify_names_the_first_broken_link(settings, session, monkeypatch):
    from govdata.cli import app
    from govdata.core.config import get_settings

    for key, value in {
        "GOVDATA_DATA_DIR": str(settings.data_dir),
        "GOVDATA_DATABASE_URL": settings.resolved_database_url(),
        "GOVDATA_STORE_URL": settings.resolved_store_url(),
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "审计链完整" in ok.output
    session.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"))
    session.commit()
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "事件 3" in broken.output
    get_settings.cache_clear()


def test_events_appended_together_chain_as_one_by_one(engine):
    """SEC-3: the usage log appends a batch of service calls with one insert (``record_many``); the
    batch sits in the chain between single events exactly as if appended one at a time, and a change
    to any event of the batch is named."""
    factory = make_sessionmaker(engine)
    actor = Actor(kind="user", roles=frozenset({Role.admin}), username="batch")
    with unit_of_work(factory) as session:
        audit.record(session, actor, "test.before", "thing", "0")
        audit.record_many(
            session,
            [audit.Pending(actor, "test.batch", "thing", str(i), details={"i": i}) for i in range(5)],
        )
        audit.record_many(session, [])  # nothing to append: the head stays where it is
        audit.record(session, actor, "test.after", "thing", "6")
    with unit_of_work(factory) as session:
        assert audit.verify_chain(session).ok
        rows = session.execute(
            text("SELECT seq, action, object_id FROM audit_events WHERE action LIKE 'test.%' ORDER BY seq")
        ).all()
        assert [r.action for r in rows] == ["test.before", *["test.batch"] * 5, "test.after"]
        assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + 7))
        assert [r.object_id for r in rows[1:6]] == ["0", "1", "2", "3", "4"]
        session.execute(
            text("UPDATE audit_events SET details = :d WHERE seq = :s"), {"d": '{"i":9}', "s": rows[3].seq}
        )
    with unit_of_work(factory) as session:
        result = audit.verify_chain(session)
        assert not result.ok and result.first_broken["id"] == rows[3].seq


def test_the_chain_verifies_while_others_append_to_it(engine):
    """SEC-3: verification reads the events, then the head; events committed by another transaction
    in between (a worker auditing a batch, say) are checked too instead of making the intact chain
    look cut short. PostgreSQL reads each statement's own committed state, so the moment is forced
    here: the append runs just before the head is read."""
    from sqlalchemy import event

    factory = make_sessionmaker(engine)
    actor = Actor(kind="user", roles=frozenset({Role.admin}), username="meanwhile")
    with unit_of_work(factory) as session:
        audit.record(session, actor, "test.before", "thing", "0")
    appended: list[int] = []

    def append_before_the_head_is_read(state) -> None:
        if state.is_select and not appended and audit.AuditHead in {m.class_ for m in state.all_mappers}:
            with unit_of_work(factory) as other:
                audit.record(other, actor, "test.meanwhile", "thing", "1")
            appended.append(1)

    verifying = factory()
    event.listen(verifying, "do_orm_execute", append_before_the_head_is_read)
    try:
        result = audit.verify_chain(verifying)
    finally:
        verifying.close()
    assert appended and result.ok, result.first_broken
    with unit_of_work(factory) as session:
        assert result.checked == session.execute(text("SELECT count(*) FROM audit_events")).scalar()
