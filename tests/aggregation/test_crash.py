"""AGG-5: a batch is applied wholly or not at all, also when the process dies in the middle of it.

The real server runs as a subprocess (uvicorn, the app factory) on a fresh store of each backend. A
first batch is applied; a second, large one is uploaded with ``wait=false`` and the server is killed
with SIGKILL while that batch is being written to the data store — the test watches the store
itself to be sure of that: DuckDB's file growing with the batch's uncommitted row groups, or
PostgreSQL running the batch's INSERT. With the server dead, the store must still hold exactly the
first batch. After a restart the runner resumes the batch from the metadata database and applies it
once: the data are both batches, and the history holds the second batch's rows exactly once.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import select

from govdata.aggregation import jobs as _batch_jobs  # noqa: F401  (registers the batch job)
from govdata.aggregation.models import Batch
from govdata.aggregation.service import RUN_BATCH
from govdata.core import clock
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.core.jobs import Job, JobContext, Worker
from govdata.store.base import TableSpec
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

SECOND_ROWS = 300_000
APPLYING = "写入数据存储"


def wait_until_writing(client: httpx.Client, settings, batch_id: int) -> str:
    """Return once the batch is inside its apply transaction, with evidence of it."""
    headers = login(client, "ga_officer")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = client.get(f"/api/v1/batches/{batch_id}", headers=headers).json()
        assert state["status"] in ("queued", "running"), (
            f"the batch finished before it could be killed: {state}"
        )
        if state["stage"] == APPLYING:
            break
        time.sleep(0.01)
    else:
        raise AssertionError("the batch never reached the applying stage")
    url = settings.resolved_store_url()
    if url.startswith("duckdb:///"):
        # DuckDB writes the row groups of a large insert to the file before the commit
        data_file = Path(url.removeprefix("duckdb:///").split("?")[0])
        start = data_file.stat().st_size
        while time.monotonic() < deadline:
            grown = data_file.stat().st_size - start
            if grown > 1024 * 1024:
                return f"data file grew by {grown} bytes of uncommitted row groups"
            time.sleep(0.002)
        raise AssertionError("the data file never grew during the apply")
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            active = conn.execute(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'active' AND (query LIKE 'INSERT INTO govdata_data.%' OR query LIKE 'COPY incoming%')"
            ).fetchall()
            if active:
                return f"PostgreSQL was running: {active[0][0][:60]}"
            time.sleep(0.002)
    raise AssertionError("the batch's INSERT was never seen running")


def wait_for_backends_to_go(settings) -> None:
    """PostgreSQL rolls back a dead client's transaction when it notices; make it notice now."""
    url = settings.resolved_store_url()
    if url.startswith("duckdb:///"):
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_a_batch_killed_while_applying_is_applied_once_after_restart(settings, tmp_path):
    first = population_csv(1_000, "410803")
    second = population_csv(SECOND_ROWS, "410802")
    server = Server(settings, tmp_path / "server.log")
    with running(server), httpx.Client(base_url=server.url, timeout=60) as client:
        code = publish(client)
        applied = upload(client, code, first, wait=True)
        assert applied.status_code == 201 and applied.json()["status"] == "applied", applied.text
        queued = upload(client, code, second, wait=False)
        assert queued.status_code == 202, queued.text
        batch_id = queued.json()["id"]
        evidence = wait_until_writing(client, settings, batch_id)
        server.kill()
    assert evidence
    table_id = resource_id(settings, code)
    wait_for_backends_to_go(settings)
    # nothing of the second batch is visible: the kill came before its commit
    assert counts(settings, table_id, batch_id) == (1_000, 0)

    restarted = Server(settings, tmp_path / "server.log")
    with running(restarted), httpx.Client(base_url=restarted.url, timeout=60) as client:
        deadline = time.monotonic() + 180
        while (state := batch_state(client, batch_id))["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, state
            time.sleep(0.2)
        assert state["status"] == "applied", state
        assert (state["rows_total"], state["rows_applied"], state["rows_inserted"]) == (SECOND_ROWS,) * 3
        records = client.get(f"/api/v1/share/{code}/records?limit=1", headers=login(client, "ga_officer"))
        assert records.json()["total"] == 1_000 + SECOND_ROWS
    # the resumed batch was written once: its history rows are exactly its valid rows
    assert counts(settings, table_id, batch_id) == (1_000 + SECOND_ROWS, SECOND_ROWS)


def test_a_batch_that_died_after_its_commit_is_not_applied_twice(
    request, settings, client, as_user, population_code
):
    """The process died after the data store committed but before the batch was marked: on restart
    the runner finds the batch's history and only completes the record."""
    data = population_csv(50, "410802")
    batch = client.post(
        f"/api/v1/resources/{population_code}/batches",
        files={"file": ("人口.csv", data, "text/csv")},
        data={"mode": "upsert", "policy": "strict"},
        headers=as_user("ga_officer"),
    ).json()
    assert batch["status"] == "applied"
    # the restarted process's worker is the one below; the app's own worker stops first, or it could
    # take over the expired lease before that one does
    client.app.state.jobs.stop()
    engine = make_engine(settings.resolved_database_url())
    request.addfinalizer(engine.dispose)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:  # as the metadata database looked before the crash
        record = session.get(Batch, batch["id"])
        record.status, record.stage, record.rows_applied = "running", APPLYING, 0
        job = session.scalar(select(Job).where(Job.key == f"batch:{batch['id']}"))
        job.state, job.claimed_by, job.lease_until = "running", "a-process-that-died", clock.now()
    store = client.app.state.store
    worker = Worker(JobContext(factory, store, settings.data_dir), kinds={RUN_BATCH})
    assert worker.drain() == 1  # it takes the dead process's job over once its lease ran out
    with unit_of_work(factory) as session:
        record = session.get(Batch, batch["id"])
        assert (record.status, record.rows_applied) == ("applied", 50)
        assert "此前已完整入库" in record.message
        resource = session.get(Batch, batch["id"]).resource_id
    assert store.batch_keys(TableSpec(resource, (), ()), batch["id"]) == 50
    assert (
        client.get(f"/api/v1/share/{population_code}/records", headers=as_user("ga_officer")).json()["total"]
        == 50
    )
