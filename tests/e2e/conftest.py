"""Fixtures of the browser journeys: each test module gets its own live server on a fresh demo store
(``live_server``, ``base_url``) and Debian's chromium (``browser``); each test a fresh ``page``.

A module may override ``viewport`` for the size of its pages (and screenshots)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, LiveServer, serve


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The platform served by uvicorn with the demo region and catalog: ``.url`` and ``.app``."""
    with serve(tmp_path_factory.mktemp("e2e-store")) as server:
        yield server


@pytest.fixture(scope="module")
def base_url(live_server: LiveServer) -> str:
    return live_server.url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium and a CJK font"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def viewport() -> dict[str, int]:
    return {"width": 1280, "height": 860}


@pytest.fixture
def page(browser, viewport):
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
