"""Helpers of the browser journeys: the live server, screenshots, logging in and out.

The fixtures built on them (``live_server``, ``base_url``, ``browser``, ``page``) are in
``conftest.py``; a journey imports the plain helpers from here.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from govdata.app import create_app
from govdata.bootstrap import initialise
from govdata.core.config import Settings
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.demo import DEMO_PASSWORD, REGION, create_demo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ADMIN_PASSWORD = "Admin@E2e-2026"


@dataclass(frozen=True)
class LiveServer:
    """The platform served by uvicorn: its address, and the app (e.g. to hold the batch runner)."""

    url: str
    app: FastAPI


def _settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        admin_password=ADMIN_PASSWORD,
        secret_key="e2e",
        log_json=False,
        log_level="WARNING",
    )


_DEMO_STORE: list[Path] = []  # this process's store with the demo region, built on first use


def _demo_store() -> Path:
    """A data directory holding the demo region and its catalog, built once per test process: each
    server gets a copy (building takes seconds, copying the files milliseconds)."""
    if not _DEMO_STORE:
        data_dir = Path(tempfile.mkdtemp(prefix="govdata-e2e-demo-"))
        atexit.register(shutil.rmtree, data_dir, True)
        settings = _settings(data_dir)
        initialise(settings, node_region=REGION)
        engine = make_engine(settings.resolved_database_url())
        try:
            with unit_of_work(make_sessionmaker(engine)) as session:
                create_demo(session)
        finally:
            engine.dispose()
        _DEMO_STORE.append(data_dir)
    return _DEMO_STORE[0]


@contextmanager
def serve(data_dir: Path) -> Iterator[LiveServer]:
    """uvicorn on a free local port, serving a fresh SQLite + DuckDB store with the demo region and
    its catalog (a copy of this process's demo store); stopped (and the store's engine disposed) on
    leaving."""
    shutil.copytree(_demo_store(), data_dir, dirs_exist_ok=True)
    settings = _settings(data_dir)
    app = create_app(settings)
    # Port 0: the system picks a free port as uvicorn binds it, so parallel runs never share one.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        app.state.engine.dispose()


def shot(page, name: str, *, full_page: bool = True) -> Path:
    """A screenshot in ``test-artifacts/``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def log_in(page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Open the workbench logged out (it sends one to the login page), log in, land on its home page."""
    from playwright.sync_api import expect

    page.goto(base_url + "/home")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page).to_have_title(re.compile(r"^登录"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base_url + "/home")


def log_out(page) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login"))
