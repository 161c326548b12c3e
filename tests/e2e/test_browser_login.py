"""A person in a browser (NF-1, NF-5): log in, see one's department and role, compute a deadline on
the working-day calendar, log out; an auditor checks the audit chain. Drives Debian's chromium
through Playwright against the real server (uvicorn) on a fresh demo store."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from govdata.app import create_app
from govdata.bootstrap import initialise
from govdata.core.config import Settings
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.demo import DEMO_PASSWORD, REGION, create_demo

pytestmark = pytest.mark.e2e

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    """The platform served by uvicorn on a free local port, with the demo region."""
    data_dir = tmp_path_factory.mktemp("e2e-store")
    settings = Settings(
        data_dir=data_dir,
        admin_password=ADMIN_PASSWORD,
        secret_key="e2e",
        log_json=False,
        log_level="WARNING",
    )
    initialise(settings, node_region=REGION)
    engine = make_engine(settings.resolved_database_url())
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            create_demo(session)
    finally:
        engine.dispose()

    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    app.state.engine.dispose()


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


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shot(page, name: str, *, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def log_in(page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page).to_have_title(re.compile(r"^登录"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base_url + "/home")


def test_officer_logs_in_computes_a_deadline_and_logs_out(page, base_url):
    from playwright.sync_api import expect

    page.goto(base_url + "/")
    expect(page).to_have_title(re.compile(r"^登录"))
    page.get_by_label("用户名").fill("ga_officer")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    shot(page, "login-error")

    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base_url + "/home")
    main = page.locator("main")
    expect(main).to_contain_text("焦作市公安局")
    expect(main).to_contain_text("部门目录管理员")
    navigation = page.get_by_role("navigation", name="主导航")
    expect(navigation.get_by_role("link", name="审计日志")).to_have_count(0)
    shot(page, "home-ga_officer")

    navigation.get_by_role("link", name="工作日历").click()
    expect(page).to_have_url(base_url + "/calendar")
    page.get_by_label("起算日期").fill("2026-09-25")
    page.get_by_label("工作日数").fill("10")
    page.get_by_role("button", name="计算期限").click()
    result = page.get_by_role("status")
    expect(result).to_contain_text("2026-10-15")
    expect(result).not_to_contain_text("暂定")
    shot(page, "calendar-deadline")

    page.get_by_label("起算日期").fill("2027-03-01")
    page.get_by_label("工作日数").fill("5")
    page.get_by_role("button", name="计算期限").click()
    expect(page.get_by_role("status")).to_contain_text("2027-03-08")
    expect(page.locator(".badge.warn")).to_have_text("暂定")
    shot(page, "calendar-provisional")

    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto(base_url + "/home")
    expect(page).to_have_url(re.compile(r"/login\?next=/home"))


def test_auditor_sees_the_audit_chain_intact(page, base_url):
    from playwright.sync_api import expect

    log_in(page, base_url, "auditor")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="审计日志").click()
    expect(page).to_have_url(base_url + "/audit")
    expect(page.locator("table.audit")).to_contain_text("auth.login")
    page.get_by_role("button", name="校验审计链").click()
    expect(page.get_by_role("status")).to_contain_text("审计链完整")
    shot(page, "audit-verified", full_page=False)  # the chain check and the newest events

    page.get_by_label("操作人").fill("auditor")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows.first).to_contain_text("auditor")
    assert all("auditor" in text for text in rows.all_inner_texts())
