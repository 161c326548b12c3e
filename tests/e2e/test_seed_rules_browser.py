"""#13 items 5–11 in a browser, on the demo region: the authority's 一数一源 page asks 市医保局 to stop
collecting 社会保障卡号 (CAT-9); the four base libraries with their lead departments (AGG-8); 市公安局's
resource pool holds 修武县公安局's resources (AGG-8); a resource without data shows 暂无数据 (QUA-1); the
departments list the organisation authorised by law (ORG-2). At desktop (1366) and phone (390) width, the pages do not scroll sideways; screenshots
go to ``test-artifacts/``."""

from __future__ import annotations

import pytest

from tests.e2e.support import log_in, shot

pytestmark = pytest.mark.e2e

WIDTHS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def viewport() -> dict[str, int]:
    return WIDTHS["desktop"]


def fits(page) -> bool:
    """The page does not scroll sideways (wide tables scroll inside their own box)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def visit(browser, base_url: str, username: str, path: str, name: str) -> None:
    """Open ``path`` as ``username`` at both widths, check it fits, keep a screenshot of each."""
    from playwright.sync_api import expect

    for width, size in WIDTHS.items():
        context = browser.new_context(locale="zh-CN", viewport=size)
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            log_in(page, base_url, username)
            response = page.goto(base_url + path)
            assert response is not None and response.status == 200, path
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            assert fits(page), f"{path} scrolls sideways at {width} width"
            shot(page, f"{name}-{width}")
        finally:
            context.close()


def test_the_authority_asks_a_department_to_stop_duplicate_collection_CAT9(page, browser, base_url):
    from playwright.sync_api import expect

    log_in(page, base_url, "dsj_officer")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="一数一源").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("一数一源")
    card = page.locator("section.card", has=page.get_by_role("heading", name="社会保障卡号"))
    expect(card).to_contain_text("权威来源：焦作市人力资源和社会保障局")
    row = card.locator("tr", has_text="医保参保信息")
    row.get_by_role("button", name="要求停止采集、改为共享").click()
    expect(page.get_by_role("status")).to_contain_text("已要求该部门停止重复采集")
    card = page.locator("section.card", has=page.get_by_role("heading", name="社会保障卡号"))
    expect(card.locator("tr", has_text="医保参保信息")).to_contain_text("已要求停止 · 待确认")
    # keys are never listed as duplicates
    expect(page.locator("#duplicates ~ section.card h3", has_text="公民身份号码")).to_have_count(0)
    visit(browser, base_url, "dsj_officer", "/sources", "sources")


def test_base_libraries_pools_and_departments_AGG8_ORG2(browser, base_url):
    visit(browser, base_url, "dsj_officer", "/libraries", "libraries")
    visit(browser, base_url, "ga_officer", "/pool", "pool")
    visit(browser, base_url, "rs_user", "/departments", "departments")


def test_the_pages_say_what_they_show(page, base_url):
    from playwright.sync_api import expect

    log_in(page, base_url, "dsj_officer")
    page.goto(base_url + "/libraries")
    for name in ("人口基础库", "法人基础库", "自然资源和空间地理基础库", "电子证照基础库"):
        expect(page.get_by_role("heading", name=name)).to_be_visible()
    page.goto(base_url + "/departments")
    expect(page.locator("tr", has_text="焦作市住房公积金管理中心")).to_contain_text("法律法规授权组织")
    page.get_by_role("button", name="退出").click()
    log_in(page, base_url, "ga_officer")
    page.goto(base_url + "/pool")
    expect(page.locator("tr", has_text="修武县重点场所治安检查信息")).to_contain_text("修武县公安局")


def test_a_resource_without_data_shows_no_data_yet_QUA1(page, browser, base_url):
    from playwright.sync_api import expect

    log_in(page, base_url, "zrzy_officer")
    page.goto(base_url + "/catalog/mine")
    page.get_by_role("link", name="不动产登记信息").first.click()
    code = page.url.split("/catalog/r/")[1]
    page.goto(base_url + f"/quality/{code}")
    expect(page.locator(".quality-panel .overall")).to_contain_text("暂无数据")
    visit(browser, base_url, "zrzy_officer", f"/quality/{code}", "quality-no-data")
