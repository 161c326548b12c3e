"""The workbench in a browser (#13 items 15–17; SUP-5, SEC-3, AGG-6): the authority's region-wide view,
the audit log as an auditor filters it, and a record's history as the provider's officer finds it from
the data pages — at desktop (1366) and phone (390) width, on the real server with the demo region.
Screenshots go to ``test-artifacts/`` (``GOVDATA_SCREENS_TO_DOCS=1`` refreshes those in ``docs/screens/``)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from govdata.demo import DEMO_PASSWORD
from tests.e2e.support import log_in, log_out
from tests.support.batches import good_rows

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / ("docs/screens" if os.environ.get("GOVDATA_SCREENS_TO_DOCS") else "test-artifacts")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def viewport() -> dict[str, int]:
    return {"width": 1366, "height": 900}


def screen(page, name: str) -> Path:
    """A screenshot of the viewport (small), for the docs when asked."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False, scale="css")
    return path


def fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"


@pytest.fixture(scope="module")
def loaded(base_url) -> dict:
    """市公安局's 人口基础信息 with 30 people, one of them renamed by a later batch and another deleted."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        token = client.post("/api/v1/auth/token", data={"username": "ga_officer", "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        found = client.get("/api/v1/resources", params={"q": "人口基础信息", "limit": 50}, headers=headers)
        code = next(
            r["code"]
            for r in found.json()["items"]
            if r["name"] == "人口基础信息" and r["status"] == "published"
        )
        rows = good_rows(30, start=500)
        records = [{"gmsfhm": r[0], "xm": r[1], "xb": r[2], "csrq": r[3], "hjdz": r[4]} for r in rows]
        batches = []
        for mode, body in (
            ("upsert", records),
            ("upsert", [dict(records[4], xm="王改名", hjdz="焦作市山阳区人民路88号")]),
            ("delete", [{"gmsfhm": records[9]["gmsfhm"]}]),
        ):
            answer = client.post(
                f"/api/v1/resources/{code}/batches",
                json={"mode": mode, "policy": "strict", "records": body},
                headers=headers,
            )
            assert answer.status_code == 201 and answer.json()["status"] == "applied", answer.text
            batches.append(answer.json()["id"])
    return {"code": code, "key": records[4]["gmsfhm"], "batches": batches}


def test_the_authority_sees_the_region(browser, page, base_url, loaded):
    """#13 item 15: the region-wide view and a department's page, desktop and phone."""
    from playwright.sync_api import expect

    log_in(page, base_url, "dsj_officer")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="全域视图").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("全域视图")
    departments = page.locator("table.region-departments")
    expect(departments).to_contain_text("焦作市公安局")
    expect(departments).to_contain_text("尚无数据")  # departments without data are listed as such
    expect(page.locator("#due")).to_contain_text("人口基础信息")
    screen(page, "region")
    departments.get_by_role("link", name="焦作市公安局").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("焦作市公安局")
    expect(page.locator("main")).to_contain_text("张丽")
    screen(page, "region-department")
    log_out(page)

    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, base_url, "dsj_officer")
    phone.goto(f"{base_url}/region")
    expect(phone.get_by_role("heading", level=1)).to_have_text("全域视图")
    fits(phone)
    screen(phone, "region-phone")
    phone.context.close()


def test_the_auditor_reads_and_filters_the_log(browser, page, base_url, loaded):
    """#13 item 16: Chinese actions, people by name, filters, desktop and phone."""
    from playwright.sync_api import expect

    log_in(page, base_url, "auditor")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="审计日志").click()
    page.get_by_label("操作人").select_option(label="张丽")
    page.get_by_label("动作").select_option(label="提交归集批次")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("张丽")
    expect(rows.first).to_contain_text("人口基础信息")
    expect(rows.first).to_contain_text("按关键标识删除")  # the batch's mode, laid out
    assert all("提交归集批次" in text for text in rows.all_inner_texts())
    screen(page, "audit-log")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    log_out(page)

    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, base_url, "auditor")
    phone.goto(f"{base_url}/audit?person=ga_officer")
    expect(phone.get_by_role("heading", level=1)).to_have_text("审计日志")
    fits(phone)
    phone.locator("table.audit tbody tr").first.evaluate("row => row.scrollIntoView({block: 'start'})")
    screen(phone, "audit-log-phone")
    phone.context.close()


def test_the_officer_follows_a_records_history(browser, page, base_url, loaded):
    """#13 item 17: from the resource's data page to the records, a record's history, and the record as of
    the first batch; desktop and phone."""
    from playwright.sync_api import expect

    log_in(page, base_url, "ga_officer")
    page.goto(f"{base_url}/data/{loaded['code']}")
    page.get_by_role("link", name="浏览全部数据与记录历史").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已存数据")
    page.get_by_role("searchbox", name="关键标识").fill(loaded["key"])
    page.get_by_role("button", name="查询").click()
    expect(page.locator("table.records tbody tr")).to_have_count(1)
    page.get_by_role("link", name="历史").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("记录历史")
    versions = page.locator("article.record-version")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("王改名")
    expect(versions.first.locator("div.changed")).to_have_count(2)  # the name and the address changed
    page.get_by_label("查看截至批次").select_option(value=str(loaded["batches"][0]))
    page.get_by_role("button", name="查看当时的记录").click()
    expect(page.locator(".as-of-result")).to_contain_text(f"截至批次 #{loaded['batches'][0]}")
    expect(page.locator(".as-of-result")).not_to_contain_text("王改名")
    screen(page, "record-history")
    log_out(page)

    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, base_url, "ga_officer")
    phone.goto(f"{base_url}/data/{loaded['code']}/records/history?key={loaded['key']}")
    expect(phone.locator("article.record-version")).to_have_count(2)
    fits(phone)
    phone.locator("#versions-title").evaluate("title => title.scrollIntoView({block: 'start'})")
    screen(phone, "record-history-phone")
    phone.context.close()
