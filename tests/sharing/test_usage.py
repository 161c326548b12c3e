"""The usage log's queue (SHR-7, SEC-3): written off the request path in call order, with one audit event per
answered call, never dropping a call — a full queue holds the caller back, a batch that cannot be written
stays queued, and the app's shutdown writes what is left; on both stores."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from govdata.app import create_app
from govdata.core import clock
from govdata.core.audit import AuditEvent, verify_chain
from govdata.core.auth import Actor, Role
from govdata.core.db import make_engine, make_sessionmaker
from govdata.sharing import usage
from govdata.sharing.models import UsageRecord
from tests.support.sharing import people, system_headers

SYSTEM = Actor(kind="system", roles=frozenset({Role.app}), system_id=1, department_id=4, end_user="李办事员")


def entry(n: int, status: int = 200) -> usage.Entry:
    return usage.Entry(
        at=clock.now() + timedelta(milliseconds=n),
        actor=SYSTEM,
        resource_code="101/002000001",
        mode="query",
        status_code=status,
        latency_ms=1.5,
        provider_id=3,
        consumer_department_id=4,
        grant_id=7,
        purpose="养老保险待遇资格认证",
        items=("gmsfhm", "xm"),
        rows=n,
    )


def written(session) -> list[UsageRecord]:
    session.rollback()
    return list(session.scalars(select(UsageRecord).order_by(UsageRecord.id)))


def data_events(session) -> list[AuditEvent]:
    session.rollback()
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("sharing.data.%")).order_by(AuditEvent.seq)
        )
    )


def test_a_full_queue_holds_the_caller_back_until_the_writer_made_room(engine, session):
    log = usage.UsageLog(make_sessionmaker(engine), capacity=2)  # no writer thread drains this one
    log.put(entry(1))
    log.put(entry(2))
    third = threading.Thread(target=log.put, args=(entry(3),))
    third.start()
    third.join(timeout=0.5)
    assert third.is_alive() and len(log) == 2  # waiting for room, not dropped, not over capacity
    assert log.flush() == 2
    third.join(timeout=10)
    assert not third.is_alive() and len(log) == 1
    assert log.flush() == 1
    rows = written(session)
    assert [r.rows for r in rows] == [1, 2, 3]
    assert rows[0].caller == "system:1" and rows[0].end_user == "李办事员" and rows[0].outcome == "ok"
    events = data_events(session)
    assert [json.loads(e.details)["rows"] for e in events] == [1, 2, 3]  # in call order
    assert [e.actor for e in events] == ["system:1"] * 3 and events[0].end_user == "李办事员"
    assert verify_chain(session).ok


def test_refusals_are_logged_without_waiting_and_without_an_audit_event(engine, session):
    log = usage.UsageLog(make_sessionmaker(engine), capacity=1)
    log.put(entry(1))
    log.put(entry(2, status=403), wait=False)  # a refused call never waits, even on a full queue
    log.put(entry(3, status=429), wait=False)
    assert log.flush() == 3
    assert [(r.outcome, r.status_code) for r in written(session)] == [
        ("ok", 200),
        ("denied", 403),
        ("limited", 429),
    ]
    assert len(data_events(session)) == 1


def test_a_batch_that_cannot_be_written_stays_queued(engine, session, tmp_path):
    elsewhere = make_engine(
        f"sqlite:///{tmp_path / 'no-tables.sqlite3'}"
    )  # a database without the log's table
    try:
        log = usage.UsageLog(make_sessionmaker(elsewhere))
        for n in range(3):
            log.put(entry(n))
        try:
            log.flush()
        except Exception:
            pass
        else:
            raise AssertionError("writing to a database without the table must fail")
        assert len(log) == 3
        log.factory = make_sessionmaker(engine)  # the database is back
        assert log.flush() == 3 and len(log) == 0
        assert [r.rows for r in written(session)] == [0, 1, 2]
    finally:
        elsewhere.dispose()


def test_the_apps_shutdown_writes_every_queued_call(settings, demo_token, session, as_user, client):
    from tests.support.catalog import publish
    from tests.support.sharing import grant, load, shared_population

    code = publish(client, as_user, "ga_officer", shared_population())
    load(client, as_user("ga_officer"), code, people(3))
    me = client.get("/api/v1/me", headers=system_headers(demo_token)).json()
    grant(client, as_user, code, me["system_id"], ["gmsfhm", "xm"])
    app = create_app(settings)
    with TestClient(app) as other:
        for person in people(3):
            response = other.get(
                f"/api/v1/share/{code}/records",
                params={"key": person["gmsfhm"]},
                headers=system_headers(demo_token),
            )
            assert response.status_code == 200, response.text
    # the app has shut down: its queue is written and forgotten
    assert app.state.engine not in usage._logs
    app.state.engine.dispose()
    calls = [r for r in written(session) if r.resource_code == code]
    assert len(calls) == 3 and {r.outcome for r in calls} == {"ok"}
    assert len([e for e in data_events(session) if e.object_id == code]) == 3
