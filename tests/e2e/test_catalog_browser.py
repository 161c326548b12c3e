"""JOURNEYS 1 (steps 1–2) and 2 (step 1) in a browser: 市公安局's officer compiles 人口基础信息 with the
items editor and submits it, 市大数据局 publishes it from the review queue, 市人社局's data user finds it
by searching 人口 (CAT-1, CAT-3, CAT-5, CAT-11, NF-5). Drives Debian's chromium through Playwright
against uvicorn on a fresh demo store; screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import re

import pytest

from tests.e2e.support import ARTIFACTS, log_in, log_out, shot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def viewport() -> dict[str, int]:
    return {"width": 1366, "height": 900}


def test_population_resource_is_compiled_published_and_found(page, base_url):
    from playwright.sync_api import expect

    # 1. 市公安局's catalog officer opens 目录编制 and compiles 人口基础信息.
    log_in(page, base_url, "ga_officer")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="审核队列")).to_have_count(0)
    nav.get_by_role("link", name="目录编制").click()
    expect(page).to_have_url(base_url + "/catalog/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("目录编制 · 新建资源")

    page.get_by_label("资源名称").fill("人口基础信息")
    page.get_by_label("资源分类").select_option("101")
    page.get_by_label("资源格式").select_option(label="数据库")
    page.get_by_label("更新周期").select_option(label="每日")
    page.get_by_label("数据分级").select_option(label="重要")
    page.get_by_label("资源摘要").fill("全市户籍人口的基础身份信息，每日更新。")
    page.locator("#f-share_type").select_option(label="有条件共享")
    page.get_by_label("共享依据").fill("《中华人民共和国居民身份证法》")
    page.get_by_label("依据类别").select_option(label="法律")
    page.get_by_label("比对验证").check()
    page.get_by_label("检索查询").check()
    page.locator("#f-open_type").select_option(label="非开放")
    page.locator("#f-materials").fill("共享申请函（加盖公章）\n数据安全承诺书")
    # registered complete for sharing (SHR-1): a share method and the usage requirements
    page.locator("input[name='share_methods'][value='interface']").check()
    page.get_by_label("使用要求").fill("仅用于申请时载明的履职用途，不得向第三方提供")

    # items: choosing a data element pre-fills the row
    page.locator("select[name='items-0-element']").select_option("公民身份号码")
    expect(page.locator("input[name='items-0-name']")).to_have_value("公民身份号码")
    expect(page.locator("input[name='items-0-code']")).to_have_value("gmsfhm")
    expect(page.locator("input[name='items-0-length']")).to_have_value("18")
    expect(page.locator("select[name='items-0-level']")).to_have_value("3")
    expect(page.locator("input[name='items-0-key']")).to_be_checked()
    expect(page.locator("input[name='items-0-required']")).to_be_checked()

    add = page.get_by_role("button", name="添加信息项")
    add.click()
    page.locator("select[name='items-1-element']").select_option("姓名")
    expect(page.locator("input[name='items-1-name']")).to_have_value("姓名")
    add.click()
    page.locator("select[name='items-2-element']").select_option("性别")
    expect(page.locator("input[name='items-2-code_list']")).to_have_value("0、1、2、9")
    for row in range(3):  # base items of a class-1 resource are shared unconditionally (CAT-13)
        page.locator(f"select[name='items-{row}-share_type']").select_option("unconditional")
    add.click()
    page.locator("input[name='items-3-name']").fill("临时字段")
    rows = page.locator("#items-editor tbody tr")
    expect(rows).to_have_count(4)
    rows.nth(3).get_by_role("button", name="删除此信息项").click()
    expect(rows).to_have_count(3)
    shot(page, "catalog-01-compile-form")

    # conditional sharing without its conditions: the form comes back with the error at the field
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("有条件共享的资源必须写明共享条件")
    conditions = page.get_by_label("共享条件")
    expect(conditions).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-share_conditions + .field-error")).to_contain_text("必须写明共享条件")
    expect(page.get_by_label("资源名称")).to_have_value("人口基础信息")
    expect(rows).to_have_count(4)  # the three items, kept, and a blank row
    expect(page.locator("input[name='items-2-code_list']")).to_have_value("0、1、2、9")
    shot(page, "catalog-01b-compile-error")
    page.locator("section.card", has=page.locator("#items-editor")).screenshot(
        path=str(ARTIFACTS / "catalog-01c-items-editor.png")
    )
    conditions.fill("仅限办理社会保障、民政救助等法定职责使用")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page).to_have_url(re.compile(r"/catalog/r/101/002\d{6}\?done=created$"))
    code = re.search(r"/catalog/r/(.+)\?", page.url).group(1)
    main = page.locator("main")
    expect(page.get_by_role("status")).to_contain_text("已保存为草稿")
    expect(main.get_by_role("heading", level=1)).to_contain_text("人口基础信息")
    expect(main.get_by_role("heading", level=1)).to_contain_text("草稿")
    for words in ("有条件共享", "数据库", "每日", "重要", "比对验证、检索查询", "共享申请函（加盖公章）"):
        expect(main).to_contain_text(words)
    items = page.locator("table.items tbody tr")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text("公民身份号码")
    expect(items.nth(0)).to_contain_text("3 级")
    expect(items.nth(2)).to_contain_text("0 未知的性别、1 男、2 女、9 未说明的性别")  # labelled codes
    expect(main).not_to_contain_text("提示")  # no warnings for this resource
    shot(page, "catalog-02-draft")

    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_role("status")).to_contain_text("已提交审核")
    expect(main.get_by_role("heading", level=1)).to_contain_text("待审核")

    # 本部门目录 lists the department's resources in every state, ours among those under review
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="本部门目录").click()
    expect(page.get_by_role("link", name="新建资源")).to_be_visible()
    tabs = page.get_by_role("navigation", name="按状态筛选")
    tabs.get_by_role("link", name=re.compile("待审核")).click()
    expect(page.locator("table.list tbody")).to_contain_text(code)
    expect(page.locator("table.list tbody")).not_to_contain_text("已发布")
    page.get_by_role("navigation", name="按状态筛选").get_by_role("link", name=re.compile("全部")).click()
    shot(page, "catalog-02b-department-catalog")
    log_out(page)

    # 2. 市大数据局 opens the review queue and publishes it.
    log_in(page, base_url, "dsj_officer")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="审核队列").click()
    expect(page).to_have_url(base_url + "/catalog/review")
    # the demo catalog has other submissions waiting; ours is the newest, so it comes last
    queue = page.locator("table.list tbody tr")
    expect(queue.last).to_contain_text(code)
    row = queue.filter(has_text=code)
    expect(row).to_contain_text("人口基础信息")
    expect(row).to_contain_text("焦作市公安局")
    expect(row).to_contain_text("新资源")
    shot(page, "catalog-03-review-queue")
    row.get_by_role("link", name="人口基础信息").click()
    expect(page).to_have_url(f"{base_url}/catalog/r/{code}")
    expect(page.get_by_role("heading", name="审核", exact=True)).to_be_visible()
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("已发布")
    expect(page.locator("main h1")).to_contain_text("已发布")
    expect(page.locator("main")).to_contain_text("首次发布")
    shot(page, "catalog-04-published")
    log_out(page)

    # 3. 市人社局's data user searches 人口 and finds it.
    log_in(page, base_url, "rs_user")
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav.get_by_role("link", name="目录编制")).to_have_count(0)
    nav.get_by_role("link", name="目录检索").click()
    page.get_by_label("关键词").fill("人口")
    page.get_by_role("button", name="检索").click()
    expect(page).to_have_url(re.compile(r"/catalog\?q=%E4%BA%BA%E5%8F%A3"))
    hit = page.locator("article.hit").filter(has=page.locator(f"a[href='/catalog/r/{code}']"))
    expect(hit).to_have_count(1)
    expect(hit.get_by_role("link", name="人口基础信息")).to_be_visible()
    expect(hit).to_contain_text("有条件共享")
    expect(hit).to_contain_text("焦作市公安局")
    expect(hit).to_contain_text("每日")
    facets = page.get_by_role("complementary", name="筛选")
    expect(facets).to_contain_text("焦作市公安局")
    shot(page, "catalog-05-search")

    # a facet narrows the results, its chip removes the filter again
    total = page.locator("article.hit").count()
    facets.get_by_role("link", name=re.compile("有条件共享")).click()
    expect(page.locator(".chips")).to_contain_text("共享类型：有条件共享")
    expect(hit).to_have_count(1)
    assert page.locator("article.hit").count() <= total
    for badge in page.locator("article.hit .badge.share-conditional").all():
        expect(badge).to_have_text("有条件共享")
    expect(page.locator("article.hit .badge.share-unconditional")).to_have_count(0)
    page.locator(".chips").get_by_role("link", name=re.compile("共享类型")).click()
    expect(page.locator(".chips")).not_to_contain_text("共享类型")

    hit.get_by_role("link", name="人口基础信息").click()
    expect(page).to_have_url(f"{base_url}/catalog/r/{code}")
    expect(page.locator("main")).to_contain_text("共享申请函（加盖公章）")
    expect(page.get_by_role("button", name="发布")).to_have_count(0)
