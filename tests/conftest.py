"""Every test that touches storage runs twice: embedded (SQLite + DuckDB) and PostgreSQL.

A store with the demo region is built once per backend as a template (a SQLite file, a PostgreSQL
template database); each test gets its own copy, so tests never see each other's changes.

`make test` runs the suite in parallel (pytest-xdist): every worker builds its own templates under
its own names, in its own temporary directory; the workers of a run share only the answer to where
PostgreSQL is (``find_postgres``), through a directory the controlling process makes and removes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import profiles
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from govdata.app import create_app
from govdata.bootstrap import initialise
from govdata.core.auth import use_password_parameters
from govdata.core.config import Settings
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.demo import DEMO_PASSWORD, REGION, create_demo
from tests.support.http import ADMIN_PASSWORD, login
from tests.support.postgres import create_database, drop_database, find_postgres, stop_throwaway_cluster

# Passwords stay argon2id, at the library's cheapest cost: the suite hashes hundreds of them.
use_password_parameters(profiles.CHEAPEST)

BACKENDS = ["sqlite", "postgresql"]
# Unique per process: each xdist worker (gw0, gw1, …) names its PostgreSQL template after itself.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
RUN_ID = f"{uuid.uuid4().hex[:8]}_{WORKER}"
SHARED_DIR = pytest.StashKey[Path]()


def pytest_configure(config) -> None:
    if not hasattr(config, "workerinput"):  # the controller, or the only process without xdist
        config.stash[SHARED_DIR] = Path(tempfile.mkdtemp(prefix="govdata-tests-"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist, on the controller: tell each worker the run's shared directory."""
    node.workerinput["govdata_shared_dir"] = str(node.config.stash[SHARED_DIR])


def pytest_unconfigure(config) -> None:
    if not hasattr(config, "workerinput") and SHARED_DIR in config.stash:
        stop_throwaway_cluster(config.stash[SHARED_DIR])
        shutil.rmtree(config.stash[SHARED_DIR], ignore_errors=True)


def _shared_dir(config) -> Path:
    if hasattr(config, "workerinput"):
        return Path(config.workerinput["govdata_shared_dir"])
    return config.stash[SHARED_DIR]


@pytest.fixture(scope="session")
def postgres_admin_url(pytestconfig) -> str:
    url, how = find_postgres(_shared_dir(pytestconfig))
    if url is None:
        message = f"PostgreSQL is required for the storage tests: {how}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url


def _settings(data_dir: Path, database_url: str, store_url: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        store_url=store_url,
        admin_password=ADMIN_PASSWORD,
        secret_key="test-secret",
        log_json=False,
        log_level="WARNING",
        login_rate_limit_per_minute=1000,  # tests log many users in from one address
    )


def _build_template(settings: Settings) -> str:
    """Initialise a store with the demo region; returns the demo system's token."""
    initialise(settings, node_region=REGION)
    engine = make_engine(settings.resolved_database_url())
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            _, token = create_demo(session, with_catalog=False)
    finally:
        engine.dispose()
    return token


@pytest.fixture(scope="session")
def templates() -> Iterator[dict]:
    """Template stores per backend, built on first use and dropped at the end of the run."""
    cache: dict = {}
    yield cache
    if "postgresql" in cache:
        drop_database(cache["postgresql"]["admin_url"], cache["postgresql"]["name"])


def _template(backend: str, request, tmp_path_factory, cache: dict) -> dict:
    if backend in cache:
        return cache[backend]
    base = tmp_path_factory.mktemp(f"template-{backend}")
    if backend == "sqlite":
        db_file = base / "govdata.sqlite3"
        settings = _settings(base, f"sqlite:///{db_file}", f"duckdb:///{base / 'data.duckdb'}")
        token = _build_template(settings)
        cache[backend] = {"file": db_file, "token": token}
    else:
        admin_url = request.getfixturevalue("postgres_admin_url")
        name = f"govdata_tmpl_{RUN_ID}"
        url = create_database(admin_url, name)
        settings = _settings(base, url, url)
        cache[backend] = {"admin_url": admin_url, "name": name, "token": None}
        token = _build_template(settings)
        cache[backend] = {"admin_url": admin_url, "name": name, "token": token}
    return cache[backend]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def settings(backend, request, tmp_path, tmp_path_factory, templates) -> Iterator[Settings]:
    """Settings of a fresh store holding the demo region, on the test's backend."""
    template = _template(backend, request, tmp_path_factory, templates)
    if backend == "sqlite":
        db_file = tmp_path / "govdata.sqlite3"
        shutil.copy(template["file"], db_file)
        yield _settings(tmp_path, f"sqlite:///{db_file}", f"duckdb:///{tmp_path / 'data.duckdb'}")
        return
    name = f"govdata_t_{uuid.uuid4().hex[:12]}"
    url = create_database(template["admin_url"], name, template=template["name"])
    yield _settings(tmp_path, url, url)
    drop_database(template["admin_url"], name)


@pytest.fixture
def demo_token(settings, backend, templates) -> str:
    """The bearer token of the demo application system (市人社局)."""
    return templates[backend]["token"]


@pytest.fixture
def engine(settings):
    engine = make_engine(settings.resolved_database_url())
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    session = make_sessionmaker(engine)()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def as_user(client):
    """``as_user("ga_officer")`` → headers of a logged-in demo user."""
    cache: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in cache:
            cache[username] = login(
                client, username, ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD
            )
        return cache[username]

    return headers


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Show that the PostgreSQL runs happened (they must not be skipped silently)."""
    counts = {b: {"passed": 0, "failed": 0, "skipped": 0} for b in BACKENDS}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            for b in BACKENDS:
                on_backend = f"[{b}" in nodeid or f"-{b}]" in nodeid or f"-{b}-" in nodeid
                if on_backend and (report.when == "call" or outcome in ("skipped", "error")):
                    counts[b]["failed" if outcome == "error" else outcome] += 1
    terminalreporter.write_line(
        "storage backends: "
        + "; ".join(
            f"{b}: {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped"
            for b, c in counts.items()
        )
    )
