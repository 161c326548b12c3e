"""The dashboards in a browser (SUP-5): the authority opens its dashboard, clicks a violations figure,
reaches the violations register filtered by it, opens a violation and reaches its rectification notice;
a department officer opens its own to-do. At desktop (1366) and phone (390) width, on the real server
with the demo region; screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import re

import httpx
import pytest

from govdata.core.db import unit_of_work
from govdata.demo import DEMO_PASSWORD
from govdata.supervision import service as supervision
from tests.e2e.support import log_in, log_out, shot

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def viewport() -> dict[str, int]:
    return {"width": 1366, "height": 900}


def fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


@pytest.fixture(scope="module")
def confirmed(live_server) -> dict:
    """A violation of 市公安局 (data not aggregated on time) that the authority confirmed: its notice is
    open. Recorded as the platform's detectors record one, confirmed through the API."""
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        token = client.post("/api/v1/auth/token", data={"username": "ga_officer", "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        department_id = client.get("/api/v1/me", headers=headers).json()["department_id"]
        with unit_of_work(live_server.app.state.sessionmaker) as session:
            violation_id = supervision.record_violation(
                session,
                kind="aggregation_late",
                department_id=department_id,
                object_type="resource",
                object_id="dashboard-journey@2026-11-30",
                evidence={"resource_name": "人口基础信息", "next_due": "2026-11-30"},
            )
        token = client.post("/api/v1/auth/token", data={"username": "dsj_officer", "password": DEMO_PASSWORD})
        authority = {"Authorization": f"Bearer {token.json()['access_token']}"}
        answer = client.post(f"/api/v1/violations/{violation_id}/confirm", headers=authority)
        assert answer.status_code == 200, answer.text
        notices = client.get(f"/api/v1/notices?department_id={department_id}&limit=200", headers=authority)
        notice = next(n for n in notices.json()["items"] if n["violation_id"] == violation_id)
    return {"violation_id": violation_id, "notice_id": notice["id"]}


def test_the_authority_walks_from_a_figure_to_a_violation_to_its_notice(browser, page, base_url, confirmed):
    from playwright.sync_api import expect

    log_in(page, base_url, "dsj_officer")
    page.get_by_role("link", name="全域监督看板").click()  # the home page's card
    expect(page.get_by_role("heading", level=1)).to_have_text("全域监督看板")
    figures = page.get_by_label("全市概况")
    expect(figures.locator("#figure-violations_confirmed .value")).not_to_have_text("0")
    expect(page.get_by_role("link", name=re.compile("下载2026年度报告"))).to_have_attribute(
        "href", "/api/v1/reports/annual/2026?format=pdf"
    )
    expect(page.locator("#violations svg").first).to_be_visible()
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("link", name=re.compile("下载2026年度报告")).click()
    assert download.value.suggested_filename.endswith(".pdf")
    shot(page, "dashboard-authority")
    shot(page, "dashboard-authority-top", full_page=False)

    figures.locator("#figure-violations_confirmed").click()
    expect(page).to_have_url(re.compile(r"/supervision/violations\?status=confirmed$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("违规记录")
    row = page.locator(f"#violation-{confirmed['violation_id']}")
    expect(row).to_contain_text("数据未按期归集")
    expect(row).to_contain_text("已确认")
    row.get_by_role("link", name=f"#{confirmed['violation_id']}").click()  # the violation alone
    expect(page).to_have_url(re.compile(rf"/supervision/violations\?id={confirmed['violation_id']}$"))
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    page.locator(f"#violation-{confirmed['violation_id']}").get_by_role("link", name="整改通知").click()
    expect(page).to_have_url(re.compile(rf"/supervision/notices/{confirmed['notice_id']}$"))
    expect(page.locator("main")).to_contain_text("数据未按期归集")
    expect(page.locator("main")).to_contain_text("待整改")
    shot(page, "dashboard-authority-notice", full_page=False)
    log_out(page)

    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, base_url, "dsj_officer")
    phone.goto(f"{base_url}/evaluation/dashboard")
    expect(phone.get_by_role("heading", level=1)).to_have_text("全域监督看板")
    fits(phone)
    shot(phone, "dashboard-authority-phone")
    phone.context.close()


def test_a_department_officer_sees_its_own_to_do(browser, page, base_url, confirmed):
    from playwright.sync_api import expect

    log_in(page, base_url, "ga_officer")
    page.get_by_role("link", name="本部门待办看板").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("待办看板")
    notices = page.locator("#notices")
    expect(
        notices.get_by_role("link", name=re.compile(f"整改通知 #{confirmed['notice_id']}"))
    ).to_be_visible()
    shot(page, "dashboard-department")
    page.locator("#figure-notices_open").click()
    expect(page).to_have_url(re.compile(r"/supervision/notices\?status=open$"))
    expect(page.locator(f"#notice-{confirmed['notice_id']}")).to_be_visible()
    log_out(page)

    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, base_url, "ga_officer")
    phone.goto(f"{base_url}/evaluation/dashboard")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("待办看板")
    fits(phone)
    shot(phone, "dashboard-department-phone")
    phone.context.close()
