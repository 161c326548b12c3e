"""The real server as a subprocess (uvicorn, the app factory) on a test's store, and what the tests
that kill it or run two of it do through its API and directly on the store."""

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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import httpx
import psycopg
from sqlalchemy import text

from govdata.core.db import make_engine
from govdata.core.ids import ric_check_digit
from govdata.demo import DEMO_PASSWORD
from tests.support.catalog import population
from tests.support.http import ADMIN_PASSWORD


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


IDENTITY = "x-test-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def silent_port() -> Iterator[int]:
    """A local port where nothing listens (a connection is refused), held for the block so that no
    server of a test running in parallel can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


class Server:
    """``govdata.app:create_app`` under uvicorn in a subprocess, on the test's store."""

    def __init__(self, settings, log: Path, env: dict[str, str] | None = None) -> None:
        self.settings, self.log, self.port, self.extra_env = settings, log, free_port(), env or {}
        self.url = f"http://127.0.0.1:{self.port}"
        self.identity = uuid.uuid4().hex
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        # The port was free when chosen, but a parallel test may bind it first: then choose again.
        for _ in range(5):
            if self._start():
                return
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        raise AssertionError("no free port for the server:\n" + self.log.read_text(errors="replace")[-3000:])

    def _start(self) -> bool:
        """True once the server answers; False if its port was taken in the meantime."""
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
        # Marks this server's answers: another test's server on the same port must not pass for it.
        command += ["--header", f"{IDENTITY}:{self.identity}"]
        with self.log.open("ab") as log:
            logged = log.tell()
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.log.read_bytes()[logged:].decode(errors="replace")
                if "address already in use" in output.lower():
                    return False
                raise AssertionError(output[-3000:])
            try:
                answer = httpx.get(f"{self.url}/healthz", timeout=1)
                if answer.status_code == 200 and answer.headers.get(IDENTITY) == self.identity:
                    return True
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
