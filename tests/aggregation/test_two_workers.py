"""Jobs are claimed, not just run (core.jobs): two server processes share one PostgreSQL store, batches
are queued on both, one process is killed while it applies a batch, and every batch is still applied
exactly once — the survivor takes the dead process's job over when its lease runs out, and the batch
job finds nothing of the killed attempt in the store (its transaction died with it)."""

from __future__ import annotations

import time

import httpx
import psycopg
import pytest
from sqlalchemy import select

from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.core.jobs import Job
from tests.support.server import (
    Server,
    batch_state,
    counts,
    login,
    population_csv,
    publish,
    resource_id,
    running,
    upload,
)

BATCHES = 4
ROWS = 200_000  # about a second each: the kill lands inside a batch, not between two
REGIONS = ["410802", "410803", "410804", "410811"]
LEASE = {"GOVDATA_JOB_LEASE_SECONDS": "2"}


def claimed_by(factory, pid: int) -> list[str]:
    """Keys of the batch jobs that process ``pid`` holds right now."""
    with unit_of_work(factory) as session:
        return list(
            session.scalars(
                select(Job.key).where(
                    Job.state == "running", Job.claimed_by.like(f"%:{pid}:%"), Job.key.like("batch:%")
                )
            )
        )


def applied_events(settings, batch_id: int) -> int:
    with psycopg.connect(settings.resolved_database_url().replace("+psycopg", "")) as conn:
        return conn.execute(
            "SELECT count(*) FROM audit_events WHERE action = 'aggregation.batch.applied' AND object_id = %s",
            (str(batch_id),),
        ).fetchone()[0]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_servers_apply_every_batch_exactly_once_when_one_dies(settings, tmp_path):
    first = Server(settings, tmp_path / "first.log", env=LEASE)
    second = Server(settings, tmp_path / "second.log", env={**LEASE, "GOVDATA_PULL_SCHEDULER": "off"})
    files = [population_csv(ROWS, region) for region in REGIONS[:BATCHES]]
    with (
        running(first),
        running(second),
        httpx.Client(base_url=first.url, timeout=60) as a,
        httpx.Client(base_url=second.url, timeout=60) as b,
    ):
        code = publish(a)
        ids = []
        for index, data in enumerate(files):  # queued on both servers in turn
            queued = upload(a if index % 2 == 0 else b, code, data, wait=False)
            assert queued.status_code == 202, queued.text
            ids.append(queued.json()["id"])
        engine = make_engine(settings.resolved_database_url())
        factory = make_sessionmaker(engine)
        deadline = time.monotonic() + 120
        while not claimed_by(factory, first.process.pid):
            assert time.monotonic() < deadline, "the first server never took a batch"
            time.sleep(0.01)
        first.kill()
        held = claimed_by(factory, first.process.pid)  # what the dead process still holds
        engine.dispose()
        assert held, "the kill came between two batches"
        deadline = time.monotonic() + 300
        while any(batch_state(b, i)["status"] in ("queued", "running") for i in ids):
            assert time.monotonic() < deadline, [batch_state(b, i) for i in ids]
            time.sleep(0.2)
        states = [batch_state(b, i) for i in ids]
        records = b.get(f"/api/v1/share/{code}/records?limit=1", headers=login(b, "ga_officer"))
    assert [s["status"] for s in states] == ["applied"] * BATCHES, states
    assert all(s["rows_applied"] == ROWS for s in states), states
    assert records.json()["total"] == BATCHES * ROWS
    table = resource_id(settings, code)
    for batch_id in ids:  # each batch wrote its rows once and finished once
        assert counts(settings, table, batch_id)[1] == ROWS
        assert applied_events(settings, batch_id) == 1
    engine = make_engine(settings.resolved_database_url())
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            taken_over = session.scalar(select(Job).where(Job.key == held[0]))
            assert taken_over.state == "done" and taken_over.attempts == 2
    finally:
        engine.dispose()
