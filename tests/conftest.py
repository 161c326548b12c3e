"""Every test that touches storage runs twice: embedded (SQLite + DuckDB) and PostgreSQL.

A store with the demo region is built once per backend as a template (a SQLite file, a PostgreSQL
template database); each test gets its own copy, so tests never see each other's changes.

`make test` runs the suite in parallel (pytest-xdist): every worker builds its own templates under
its own names, in its own temporary directory; the workers of a run share only the answer to where
PostgreSQL is (``find_postgres``), through a directory the controlling process makes and removes.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import profiles
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy.orm import Session
from xdist.scheduler import LoadScopeScheduling

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

# Property tests check results, not speed: how long one example takes depends on what else the machine
# (and the other xdist workers) is doing, so hypothesis's per-example deadline is off.
hypothesis_settings.register_profile("govdata", deadline=None)
hypothesis_settings.load_profile("govdata")

BACKENDS = ["sqlite", "postgresql"]
# Unique per process: each xdist worker (gw0, gw1, …) names its PostgreSQL template after itself.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
RUN_ID = f"{uuid.uuid4().hex[:8]}_{WORKER}"
SHARED_DIR = pytest.StashKey[Path]()


def pytest_configure(config) -> None:
    if not hasattr(config, "workerinput"):  # the controller, or the only process without xdist
        config.stash[SHARED_DIR] = Path(tempfile.mkdtemp(prefix="govdata-tests-"))
        # pytest imports readline, which exports its guess of the terminal size (COLUMNS=80) to the
        # process environment behind os.environ's back; xdist workers would inherit it, and the CLI's
        # Rich consoles, made at import, would keep 80 columns where the tests set COLUMNS themselves.
        for name in ("COLUMNS", "LINES"):
            if name not in os.environ:
                os.unsetenv(name)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist, on the controller: tell each worker the run's shared directory."""
    node.workerinput["govdata_shared_dir"] = str(node.config.stash[SHARED_DIR])


def pytest_unconfigure(config) -> None:
    if not hasattr(config, "workerinput") and SHARED_DIR in config.stash:
        stop_throwaway_cluster(config.stash[SHARED_DIR])
        shutil.rmtree(config.stash[SHARED_DIR], ignore_errors=True)


# The longest tests (a minute or more each on 2 cores): under xdist they start first, so that no worker
# is left running one of them alone at the end. Prefixes of node ids.
SLOW_FIRST = (
    "tests/test_api_contract.py::test_the_api_keeps_its_openapi_contract",
    "tests/aggregation/test_two_workers.py",
    "tests/aggregation/test_crash.py",
    "tests/test_api_contract.py::test_swagger_ui_works_offline",
    "tests/aggregation/test_validation_property.py",
    "tests/aggregation/test_ingest_cli.py::test_with_a_server_running",
    "tests/e2e/",
)
LAST = len(SLOW_FIRST) + 1  # rank of the tests marked ``alone``: see pytest_runtest_protocol


# Modules whose tests share an expensive module-scoped fixture (a live server, chromium): under xdist
# all of a module's tests go to one worker, which starts it once.
TOGETHER = ("tests/e2e/",)


def pytest_collection_modifyitems(config, items) -> None:
    """Under xdist the slowest tests first (every worker collects, and must collect the same order)."""
    if not hasattr(config, "workerinput"):
        return

    def rank(item) -> int:
        if item.get_closest_marker("alone"):
            return LAST
        return next(
            (i for i, prefix in enumerate(SLOW_FIRST) if item.nodeid.startswith(prefix)), len(SLOW_FIRST)
        )

    items.sort(key=rank)  # stable: the rest keep pytest's order


class _TogetherScheduling(LoadScopeScheduling):
    """xdist's ``load``, one test at a time in collection order, except that the tests of a module in
    ``TOGETHER`` form one unit of work. (``xdist_group`` marks would do, but xdist 3.8 cannot add the
    group to a node id under pytest 9.)"""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return path if path.startswith(TOGETHER) else nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "load":  # what -n chooses unless --dist says otherwise
        return _TogetherScheduling(config, log)
    return None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Under xdist a test marked ``alone`` (one that times the answers of a busy server) runs while no
    other worker runs a test: the workers share a readers-writer lock, taken through a turnstile so
    that the lone test waits only for the tests already running, and no new one starts meanwhile.
    They come last in the order, when what other workers still run is short."""
    config = item.config
    if not hasattr(config, "workerinput"):
        return (yield)
    shared = _shared_dir(config)
    alone = item.get_closest_marker("alone") is not None
    with (shared / "turnstile.lock").open("a") as turnstile, (shared / "tests.lock").open("a") as tests:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(tests, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            if not alone:
                fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            return (yield)
        finally:
            fcntl.flock(tests, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(turnstile, fcntl.LOCK_UN)


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
