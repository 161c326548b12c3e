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

import csv
import datetime as dt
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import httpx
import psycopg
from sqlalchemy import select, text

from govdata.aggregation import jobs as _batch_jobs  # noqa: F401  (registers the batch job)
from govdata.aggregation.models import Batch
from govdata.aggregation.service import RUN_BATCH
from govdata.core import clock
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.core.ids import ric_check_digit
from govdata.core.jobs import Job, JobContext, Worker
from govdata.demo import DEMO_PASSWORD
from govdata.store.base import TableSpec
from tests.catalog.payloads import population
from tests.conftest import ADMIN_PASSWORD

SECOND_ROWS = 300_000
APPLYING = "写入数据存储"


def population_csv(rows: int, region: str) -> bytes:
    """``rows`` valid, distinct 人口 rows; ids differ between regions, so two files share no key."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["公民身份号码", "姓名", "性别", "出生日期", "户籍地址"])
    first_day = dt.date(1960, 1, 1).toordinal()
    for i in range(rows):
        birth = dt.date.fromordinal(first_day + i // 1000)
        first17 = f"{region}{birth:%Y%m%d}{i % 1000:03d}"
        writer.writerow(
            [
                first17 + ric_check_digit(first17),
                f"居民{i}",
                str(1 + i % 2),
                birth.isoformat(),
                f"焦作市民主路{i}号",
            ]
        )
    return out.getvalue().encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``govdata.app:create_app`` under uvicorn in a subprocess, on the test's store."""

    def __init__(self, settings, log: Path, env: dict[str, str] | None = None) -> None:
        self.settings, self.log, self.port, self.extra_env = settings, log, free_port(), env or {}
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "GOVDATA_DATA_DIR": str(self.settings.data_dir),
            "GOVDATA_DATABASE_URL": self.settings.resolved_database_url(),
            "GOVDATA_STORE_URL": self.settings.resolved_store_url(),
            "GOVDATA_SECRET_KEY": "test-secret",
            "GOVDATA_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "GOVDATA_LOG_JSON": "false",
            "GOVDATA_LOG_LEVEL": "WARNING",
            "GOVDATA_LOGIN_RATE_LIMIT_PER_MINUTE": "1000",
            **self.extra_env,
        }
        command = [sys.executable, "-m", "uvicorn", "govdata.app:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("the server did not start:\n" + self.log.read_text(errors="replace")[-3000:])

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def login(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def publish(client: httpx.Client) -> str:
    officer = login(client, "ga_officer")
    response = client.post("/api/v1/resources", json=population(), headers=officer)
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    assert client.post(f"/api/v1/resources/{code}/submit", headers=officer).status_code == 200
    published = client.post(f"/api/v1/resources/{code}/publish", headers=login(client, "dsj_officer"))
    assert published.status_code == 200, published.text
    return code


def upload(client: httpx.Client, code: str, data: bytes, *, wait: bool) -> httpx.Response:
    return client.post(
        f"/api/v1/resources/{code}/batches",
        files={"file": ("人口.csv", data, "text/csv")},
        data={"mode": "upsert", "policy": "strict", "wait": str(wait).lower()},
        headers=login(client, "ga_officer"),
        timeout=300,
    )


def resource_id(settings, code: str) -> int:
    engine = make_engine(settings.resolved_database_url())
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT id FROM catalog_resources WHERE code = :c"), {"c": code}
            ).scalar_one()
    finally:
        engine.dispose()


def counts(settings, table_id: int, batch_id: int) -> tuple[int, int]:
    """(current rows, rows the batch wrote), read from the store while no server runs."""
    current, history = f"r_{table_id}", f"r_{table_id}_h"
    url = settings.resolved_store_url()
    total = f'SELECT count(*) FROM "{current}"'
    written = (
        f'SELECT count(*) FROM (SELECT _key FROM "{current}" WHERE _batch_id = {batch_id} '
        f'UNION ALL SELECT _key FROM "{history}" WHERE _batch_id = {batch_id}) w'
    )
    if url.startswith("duckdb:///"):
        with duckdb.connect(url.removeprefix("duckdb:///").split("?")[0], read_only=True) as con:
            return con.execute(total).fetchall()[0][0], con.execute(written).fetchall()[0][0]
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("SET search_path TO govdata_data")
        return conn.execute(total).fetchone()[0], conn.execute(written).fetchone()[0]


def batch_state(client: httpx.Client, batch_id: int) -> dict:
    response = client.get(f"/api/v1/batches/{batch_id}", headers=login(client, "ga_officer"))
    assert response.status_code == 200, response.text
    return response.json()


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
    engine = make_engine(settings.resolved_database_url())
    request.addfinalizer(engine.dispose)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:  # as the metadata database looked before the crash
        record = session.get(Batch, batch["id"])
        record.status, record.stage, record.rows_applied = "running", APPLYING, 0
        job = session.scalar(select(Job).where(Job.key == f"batch:{batch['id']}"))
        job.state, job.claimed_by, job.lease_until = "running", "a-process-that-died", clock.now()
    store = client.app.state.store
    client.app.state.jobs.stop()  # the restarted process's worker is the one below
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
