"""Sharing in a browser (SHR-2 … SHR-7, SEC-4, NF-5): 市人社局's data user applies on the catalog's resource
page for 市公安局's 人口基础信息, 市公安局's officer approves in part from the decision queue (联系电话
withheld, 姓名 masked), the data user queries under the grant and sees the masked value with the
receipt, 市公安局 suspends the grant, and the data user's next query is refused in Chinese. Drives
Debian's chromium through Playwright against the real server on a fresh demo store; screenshots at
desktop and phone width go to ``test-artifacts/`` (``GOVDATA_SCREENS_TO_DOCS=1`` refreshes the ones in
``docs/screens/``)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from govdata.demo import DEMO_PASSWORD
from tests.e2e.support import log_in, log_out
from tests.support.batches import good_rows

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / ("docs/screens" if os.environ.get("GOVDATA_SCREENS_TO_DOCS") else "test-artifacts")
PHONE = {"width": 390, "height": 844}
ROWS = 30
SUSPENSION = "发现超出申请用途批量查询"


@pytest.fixture(scope="module")
def viewport() -> dict[str, int]:
    return {"width": 1366, "height": 900}


def screen(page, name: str, *, full_page: bool = False) -> Path:
    """A screenshot (for the docs when asked), kept small: the viewport unless asked."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, scale="css")
    return path


def population_with_data(base_url: str) -> tuple[str, list[list[str]]]:
    """The demo's 人口基础信息 (市公安局), loaded with ``ROWS`` people through the API; its code and rows."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        token = client.post("/api/v1/auth/token", data={"username": "ga_officer", "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        found = client.get("/api/v1/resources", params={"q": "人口基础信息", "limit": 50}, headers=headers)
        code = next(
            r["code"]
            for r in found.json()["items"]
            if r["name"] == "人口基础信息" and r["status"] == "published"
        )
        rows = good_rows(ROWS)
        records = [
            {"gmsfhm": r[0], "xm": r[1], "xb": r[2], "csrq": r[3], "hjdz": r[4], "lxdh": f"1390391{i:04d}"}
            for i, r in enumerate(rows)
        ]
        loaded = client.post(
            f"/api/v1/resources/{code}/batches",
            json={"mode": "upsert", "policy": "strict", "records": records},
            headers=headers,
        )
        assert loaded.status_code == 201 and loaded.json()["status"] == "applied", loaded.text
    return code, rows


def test_apply_partial_approval_query_and_suspension(browser, page, base_url):
    from playwright.sync_api import expect

    code, rows = population_with_data(base_url)
    person = rows[7]

    # 1. 市人社局's data user finds the resource and applies for four items, one of them conditional
    log_in(page, base_url, "rs_user")
    page.goto(f"{base_url}/catalog/r/{quote(code, safe='/')}")
    panel = page.locator("section.sharing-panel")
    expect(panel).to_contain_text("有条件共享")
    expect(panel).to_contain_text("共享申请函（加盖公章）")
    panel.get_by_role("link", name="申请共享").click()
    expect(page).to_have_url(re.compile(r"/sharing/apply\?resource="))
    expect(page.get_by_role("heading", level=1)).to_contain_text("申请共享：人口基础信息")
    for name in ("公民身份号码", "姓名", "出生日期", "联系电话"):
        page.get_by_label(f"申请{name}", exact=True).check()
    expect(page.get_by_label("使用数据的应用系统")).to_have_value(re.compile(r"\d+"))
    page.get_by_label("使用目的").fill("困难群众参保补贴核定")
    page.get_by_label("具体应用场景").fill("经办人员在补贴核定环节按公民身份号码核对申请人身份和联系电话")
    page.get_by_label("法律依据或履职需要").fill("《中华人民共和国社会保险法》")
    expect(page.get_by_label("检索查询")).to_be_checked()
    screen(page, "sharing-apply", full_page=True)
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"/sharing/applications/\d+\?done=submitted"))
    application_id = int(re.search(r"/applications/(\d+)", page.url).group(1))
    expect(page.get_by_role("status")).to_have_text("申请已提交。")
    expect(page.locator("h1 .badge")).to_have_text("待答复")
    expect(page.locator(".countdown").first).to_have_text(re.compile(r"剩 \d+ 个工作日"))
    screen(page, "sharing-application")
    log_out(page)

    # 2. 市公安局's officer: the decision queue with its countdown, then a partial approval
    log_in(page, base_url, "ga_officer")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="数据共享").click()
    expect(page.get_by_role("link", name=re.compile(r"待办申请（\d+）"))).to_have_attribute(
        "aria-current", "page"
    )
    row = page.locator(f"#application-{application_id}")
    expect(row).to_contain_text("人口基础信息")
    expect(row).to_contain_text("陈静")
    expect(row.locator(".countdown")).to_have_text(re.compile(r"剩 \d+ 个工作日"))
    screen(page, "sharing-queue")
    row.get_by_role("link", name="办理").click()
    expect(page).to_have_url(f"{base_url}/sharing/applications/{application_id}")
    page.get_by_role("radio", name="部分同意").check()
    page.get_by_label("提供联系电话").uncheck()
    page.get_by_label("脱敏：姓名").check()
    page.get_by_label("附加条件（部分同意时可填）").fill("仅限补贴核定使用，联系电话请向申请人核实")
    page.get_by_role("button", name="提交答复").click()
    expect(page.get_by_role("status")).to_have_text("已答复。")
    expect(page.locator("h1 .badge")).to_have_text("部分同意")
    grant_link = page.get_by_role("link", name=re.compile(r"查看授权 #\d+"))
    grant_id = int(re.search(r"#(\d+)", grant_link.inner_text()).group(1))
    screen(page, "sharing-decided", full_page=True)
    log_out(page)

    # 3. the data user queries under the grant: 姓名 masked to the family name, with the receipt
    log_in(page, base_url, "rs_user")
    page.goto(f"{base_url}/sharing/applications/{application_id}")
    page.get_by_role("link", name=f"查看授权 #{grant_id}").click()
    expect(page.locator("h1 .badge")).to_have_text("有效")
    page.get_by_label("关键标识（如公民身份号码，每行一个）").fill(person[0])
    page.get_by_role("button", name="查询数据").click()
    answer = page.locator("#answer")
    expect(answer.get_by_role("heading")).to_have_text("查询结果：共 1 条")
    table = answer.locator("table.answer")
    expect(table).to_contain_text(person[0])
    expect(table).to_contain_text("居**")
    expect(table).not_to_contain_text(person[1])
    expect(table).not_to_contain_text("1390391")  # 联系电话 was withheld
    expect(answer.locator(".receipt code").first).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    screen(page, "sharing-grant-query", full_page=True)

    # 4. 市公安局 suspends the grant from its list, while the data user's page stays open
    officer = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900}).new_page()
    log_in(officer, base_url, "ga_officer")
    officer.goto(f"{base_url}/sharing?tab=provided")
    grant_row = officer.locator(f"#grant-{grant_id}")
    grant_row.get_by_text("暂停、恢复或撤销").click()
    grant_row.get_by_label("暂停理由").fill(SUSPENSION)
    grant_row.get_by_role("button", name="暂停授权").click()
    expect(officer.get_by_role("status")).to_contain_text("授权已暂停")
    expect(officer.locator(f"#grant-{grant_id}")).to_contain_text("已暂停")
    screen(officer, "sharing-provided")
    officer.context.close()

    # 5. the data user's next query is refused, in Chinese, with the provider's reason
    page.get_by_role("button", name="查询数据").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("调用被拒绝")
    expect(alert).to_contain_text(f"该共享授权已被提供部门暂停：{SUSPENSION}")
    expect(page.locator("table.answer")).to_have_count(0)
    expect(page.locator("h1 .badge")).to_have_text("已暂停")
    screen(page, "sharing-grant-refused")

    # the usage log shows the call answered under the grant, with its charts
    page.goto(f"{base_url}/sharing/usage")
    expect(page.locator("svg.share-chart")).to_have_count(3)
    expect(page.get_by_role("heading", name=re.compile(r"共 \d+ 次调用"))).to_be_visible()
    screen(page, "sharing-usage", full_page=True)
    log_out(page)


def test_the_pages_fit_a_phone(browser, base_url):
    from playwright.sync_api import expect

    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, base_url, "ga_officer")
    phone.goto(f"{base_url}/sharing")
    expect(phone.get_by_role("heading", level=1)).to_have_text("数据共享")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
    screen(phone, "sharing-queue-phone")
    link = phone.locator("table.list tbody a").first
    link.click()
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    screen(phone, "sharing-application-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    log_out(phone)
    log_in(phone, base_url, "rs_user")
    phone.goto(f"{base_url}/sharing?tab=grants")
    phone.locator("table.list tbody a").first.click()
    expect(phone.get_by_role("button", name="查询数据")).to_be_visible()
    screen(phone, "sharing-grant-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.goto(f"{base_url}/sharing/usage")
    expect(phone.locator("svg.share-chart")).to_have_count(3)
    screen(phone, "sharing-usage-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.context.close()
