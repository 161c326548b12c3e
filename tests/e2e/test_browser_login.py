"""A person in a browser (NF-1, NF-5): log in, see one's department and role, compute a deadline on
the working-day calendar, log out; an auditor checks the audit chain. Drives Debian's chromium
through Playwright against the real server (uvicorn) on a fresh demo store."""

from __future__ import annotations

import re

import pytest

from govdata.demo import DEMO_PASSWORD
from tests.e2e.support import log_in, shot

pytestmark = pytest.mark.e2e


def test_officer_logs_in_computes_a_deadline_and_logs_out(page, base_url):
    from playwright.sync_api import expect

    page.goto(base_url + "/home")
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
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fhome"))  # the target is URL-encoded


def test_auditor_sees_the_audit_chain_intact(page, base_url):
    from playwright.sync_api import expect

    log_in(page, base_url, "auditor")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="审计日志").click()
    expect(page).to_have_url(base_url + "/audit")
    expect(page.locator("table.audit")).to_contain_text("登录")
    page.get_by_role("button", name="校验审计链").click()
    expect(page.get_by_role("status")).to_contain_text("审计链完整")
    shot(page, "audit-verified", full_page=False)  # the chain check and the newest events

    page.get_by_label("操作人").select_option(label="孙燕")  # the auditor, by name
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows.first).to_contain_text("孙燕")
    assert all("孙燕" in text for text in rows.all_inner_texts())
