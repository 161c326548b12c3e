"""Objections in a browser (COR-1 … COR-4, NF-5): 市人社局's data user, holding a grant of 市公安局's
population base items, queries a record, files an objection from the query answer, and sees the
record flagged "疑义复核中" in the next answer; 市公安局's officer asks for an extension, the head
approves it, the officer corrects the record; the data user's next answer shows the corrected value
without the flag. Drives Debian's chromium through Playwright against the real server on a fresh
demo store; screenshots at desktop and phone width go to ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import pytest

from govdata.core import clock
from govdata.demo import DEMO_PASSWORD
from tests.e2e.support import log_in, log_out
from tests.support.batches import good_rows

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "test-artifacts"
PHONE = {"width": 390, "height": 844}
ROWS = 12
NEW_NAME = "陈新名"


@pytest.fixture(scope="module")
def viewport() -> dict[str, int]:
    return {"width": 1366, "height": 900}


def screen(page, name: str, *, full_page: bool = False) -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, scale="css")
    return path


def token(client: httpx.Client, username: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def prepared(base_url: str) -> tuple[str, int, list[list[str]]]:
    """The demo's 人口基础信息 loaded with ``ROWS`` people, and 市人社局's grant of its base items (given
    at once: they are shared unconditionally); the resource's code, the grant's id and the rows."""
    with httpx.Client(base_url=base_url, timeout=60) as client:
        officer, user = token(client, "ga_officer"), token(client, "rs_user")
        found = client.get("/api/v1/resources", params={"q": "人口基础信息", "limit": 50}, headers=officer)
        code = next(
            r["code"]
            for r in found.json()["items"]
            if r["name"] == "人口基础信息" and r["status"] == "published"
        )
        rows = good_rows(ROWS, start=100)
        records = [dict(zip(("gmsfhm", "xm", "xb", "csrq", "hjdz"), r, strict=True)) for r in rows]
        loaded = client.post(
            f"/api/v1/resources/{code}/batches",
            json={"mode": "upsert", "policy": "strict", "records": records},
            headers=officer,
        )
        assert loaded.status_code == 201 and loaded.json()["status"] == "applied", loaded.text
        me = client.get("/api/v1/me", headers=user).json()
        rs_officer = token(client, "rs_officer")
        system = client.get(f"/api/v1/departments/{me['department_id']}/systems", headers=rs_officer).json()
        system_id = (system if isinstance(system, list) else system["items"])[0]["id"]
        today = clock.today()
        applied = client.post(
            "/api/v1/applications",
            json={
                "resource_code": code,
                "system_id": system_id,
                "items": ["gmsfhm", "xm", "xb", "csrq"],
                "purpose": "养老保险待遇资格认证",
                "scenario": "退休人员资格认证时核验身份",
                "period_start": today.isoformat(),
                "period_end": (today + dt.timedelta(days=365)).isoformat(),
                "modes": ["query"],
            },
            headers=user,
        )
        assert applied.status_code == 201 and applied.json()["grant_id"], applied.text
    return code, applied.json()["grant_id"], rows


def under_review(base_url: str, code: str, key: str) -> list[str]:
    """The ``under_review`` of the API's query answer, as 市人社局's data user gets it."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        answer = client.get(
            f"/api/v1/share/{code}/records", params={"key": key}, headers=token(client, "rs_user")
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["under_review"]


def query_on_grant(page, base_url: str, grant_id: int, key: str):
    page.goto(f"{base_url}/sharing/grants/{grant_id}")
    page.get_by_label("关键标识（如公民身份号码，每行一个）").fill(key)
    page.get_by_role("button", name="查询数据").click()
    return page.locator("#answer")


def test_file_extend_and_correct_with_the_flag_before_and_after(browser, page, base_url):
    from playwright.sync_api import expect

    code, grant_id, rows = prepared(base_url)
    person = rows[3]
    key = person[0]
    assert under_review(base_url, code, key) == []

    # 1. the data user queries the record, and files an objection from the answer
    log_in(page, base_url, "rs_user")
    answer = query_on_grant(page, base_url, grant_id, key)
    expect(answer.get_by_role("heading")).to_have_text("查询结果：共 1 条")
    expect(answer.locator("table.answer")).not_to_contain_text("疑义复核中")
    answer.get_by_role("link", name="提出疑义").click()
    expect(page).to_have_url(re.compile(r"/objections/new\?resource="))
    expect(page.get_by_role("heading", level=1)).to_contain_text("提出疑义：人口基础信息")
    page.get_by_label("姓名", exact=True).fill(NEW_NAME)
    page.get_by_label("疑义理由").fill("参保人持户口簿说明已于上月更名")
    screen(page, "objections-new", full_page=True)
    page.get_by_role("button", name="提交疑义").click()
    expect(page).to_have_url(re.compile(r"/objections/\d+\?done=filed"))
    objection_id = int(re.search(r"/objections/(\d+)", page.url).group(1))
    expect(page.get_by_role("status")).to_contain_text("疑义已提交")
    expect(page.locator("h1 .badge")).to_have_text("复核中")
    expect(page.locator(".countdown").first).to_have_text(re.compile(r"剩 \d+ 个工作日"))
    screen(page, "objections-filed")

    # 2. the next answer carries the flag, and still serves the record
    answer = query_on_grant(page, base_url, grant_id, key)
    expect(answer.locator("table.answer")).to_contain_text("疑义复核中")
    expect(answer.locator("table.answer")).to_contain_text(person[1])
    expect(answer.locator(".notice.warn")).to_contain_text(key)
    assert under_review(base_url, code, key) == [key]
    screen(page, "objections-flagged-answer", full_page=True)
    log_out(page)

    # 3. 市公安局's officer: the review queue with its countdown; asks the head for five more days
    log_in(page, base_url, "ga_officer")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="疑义复核").click()
    row = page.locator(f"#objection-{objection_id}")
    expect(row).to_contain_text("陈静")
    expect(row.locator(".countdown")).to_have_text(re.compile(r"剩 \d+ 个工作日"))
    screen(page, "objections-queue")
    row.get_by_role("link", name="办理").click()
    page.get_by_label("延长的工作日数（至多 10 个）").last.select_option("5")
    page.get_by_label("理由").last.fill("需调取户籍档案核实")
    page.get_by_role("button", name="申请延期").click()
    expect(page.get_by_role("status")).to_contain_text("等待部门负责人批准")
    log_out(page)

    # 4. the head approves the extension
    log_in(page, base_url, "ga_head")
    page.goto(f"{base_url}/objections?tab=approvals")
    page.locator(f"#objection-{objection_id}").get_by_role("link", name="办理").click()
    expect(page.get_by_label("延长的工作日数（至多 10 个）")).to_have_value("5")
    screen(page, "objections-approve-extension", full_page=True)
    page.get_by_role("button", name="批准延期").click()
    expect(page.get_by_role("status")).to_have_text("复核期限已延长。")
    expect(page.locator(".timeline")).to_contain_text("批准延长复核期限 5 个工作日")
    expect(page.locator(".facts-grid").first).to_contain_text("原定期限")
    log_out(page)

    # 5. the officer corrects the record with the claimed value
    log_in(page, base_url, "ga_officer")
    page.goto(f"{base_url}/objections/{objection_id}")
    page.get_by_label("更正数据").check()
    expect(page.get_by_label("姓名", exact=True)).to_have_value(NEW_NAME)
    page.get_by_label("复核意见（维持原数据时必填）").fill("经核对户籍档案，姓名已更正")
    page.get_by_role("button", name="提交复核结果").click()
    expect(page.get_by_role("status")).to_contain_text("数据已更正")
    expect(page.locator("h1 .badge")).to_have_text("已更正")
    screen(page, "objections-corrected", full_page=True)
    log_out(page)

    # 6. the data user's next answer: the corrected value, no flag; the outcome in their list
    log_in(page, base_url, "rs_user")
    answer = query_on_grant(page, base_url, grant_id, key)
    expect(answer.locator("table.answer")).to_contain_text(NEW_NAME)
    expect(answer.locator("table.answer")).not_to_contain_text("疑义复核中")
    assert under_review(base_url, code, key) == []
    page.goto(f"{base_url}/objections?tab=mine")
    expect(page.locator(f"#objection-{objection_id}")).to_contain_text("已更正")
    screen(page, "objections-mine")
    log_out(page)


def test_the_pages_fit_a_phone(browser, base_url):
    from playwright.sync_api import expect

    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, base_url, "ga_officer")
    phone.goto(f"{base_url}/objections?tab=provided")
    expect(phone.get_by_role("heading", level=1)).to_have_text("疑义复核")
    screen(phone, "objections-list-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.locator("table.list tbody a").first.click()  # the objection the journey above made
    expect(phone.get_by_role("heading", level=1)).to_contain_text("人口基础信息")
    screen(phone, "objections-detail-phone", full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.goto(f"{base_url}/objections/new")
    screen(phone, "objections-new-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.context.close()
