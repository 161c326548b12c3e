"""A citizen in a browser (OPN-2, OPN-3, ORG-4): registers with a 公民身份号码 the population library
knows, finds a dataset on the public portal by a two-character word (体检), downloads it as CSV, XLSX
and JSON, applies for a conditional dataset; the provider approves through the API; the citizen makes
an API key on the account page and reads the conditional data with it. Also: the portal's home,
search and dataset pages at desktop and phone width (screenshots in ``test-artifacts/``), none wider
than the phone. Debian's chromium through Playwright against the real server on a fresh demo store."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.support import shot
from tests.support.batches import ric
from tests.support.catalog import population, publish
from tests.support.http import login
from tests.support.opening import OFFICER, open_conditional, open_resource
from tests.support.sharing import load

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
CITIZEN = {
    "id": ric("41080219900101123"),
    "name": "王小明",
    "username": "wangxm",
    "password": "Citizen@2026!",
}


@pytest.fixture(scope="module")
def opened(base_url) -> dict[str, str]:
    """An unconditional and a conditional open dataset of 市卫健委, and the citizen in the population
    library (市公安局's 人口基础信息 as the source of its 姓名)."""
    with httpx.Client(base_url=base_url, timeout=120) as client:
        cache: dict[str, dict[str, str]] = {}

        def as_user(username: str) -> dict[str, str]:
            if username not in cache:
                cache[username] = login(client, username)
            return cache[username]

        people = publish(client, as_user, "ga_officer", population(name="人口基础信息（户籍）"))
        record = {
            "gmsfhm": CITIZEN["id"],
            "xm": CITIZEN["name"],
            "xb": "1",
            "csrq": "1990-01-01",
            "hjdz": "焦作市解放区",
        }
        load(client, as_user("ga_officer"), people, [record])
        library = next(
            lib
            for lib in client.get("/api/v1/libraries", headers=as_user("dsj_officer")).json()
            if lib["code"] == "population"
        )
        response = client.put(
            f"/api/v1/libraries/{library['id']}/fields/{quote('姓名')}",
            json={"source_resource_code": people},
            headers=as_user("dsj_officer"),
        )
        assert response.status_code == 200, response.text
        free = open_resource(client, as_user)
        conditional = open_conditional(client, as_user)
    return {"free": free, "conditional": conditional}


def test_citizen_registers_finds_downloads_applies_and_calls_with_a_key(page, base_url, opened, tmp_path):
    from playwright.sync_api import expect

    # registers, verified against the population library, and logs in
    page.goto(base_url + "/")
    page.get_by_role("link", name="注册", exact=True).click()
    page.locator("input[name=identity_number]").fill(CITIZEN["id"])
    page.locator("input[name=name]").fill(CITIZEN["name"])
    page.locator("input[name=username]").fill(CITIZEN["username"])
    page.locator("input[name=password]").fill(CITIZEN["password"])
    page.get_by_role("button", name="注册").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("用户名").fill(CITIZEN["username"])
    page.get_by_label("密码").fill(CITIZEN["password"])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/account"))

    # finds the dataset by a two-character word from the home page's search box
    page.goto(base_url + "/")
    page.get_by_label("搜索开放数据").fill("体检")
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(re.compile(r"/datasets\?q="))
    expect(page.locator(".results")).to_contain_text("共 2 个数据集")
    page.locator(".hit").filter(has_text="无条件开放").get_by_role("link").first.click()
    expect(page).to_have_url(base_url + f"/datasets/{opened['free']}")
    expect(page.locator("table.preview")).to_contain_text("TJ000000")

    # downloads it in three formats
    for fmt, first in (("CSV", b"bh,xzqh,jg"), ("XLSX", b"PK"), ("JSON", None)):
        with page.expect_download() as info:
            page.get_by_role("link", name=f"下载 {fmt}").click()
        saved = tmp_path / f"data.{fmt.lower()}"
        info.value.save_as(saved)
        body = saved.read_bytes()
        if first is not None:
            assert body.lstrip(b"\xef\xbb\xbf").startswith(first), body[:40]
        else:
            records = json.loads(body)
            records = records["items"] if isinstance(records, dict) else records
            assert len(records) == 30 and set(records[0]) == {"bh", "xzqh", "jg"}
        assert "诊断".encode() not in body

    # applies for the conditional dataset
    page.goto(base_url + f"/datasets/{opened['conditional']}")
    expect(page.get_by_role("link", name="下载 CSV")).to_have_count(0)
    page.get_by_role("link", name="申请使用").click()
    page.locator("textarea[name=purpose]").fill("研究居民健康状况的地区分布")
    page.locator("textarea[name=scenario]").fill("学术研究")
    page.locator("textarea[name=commitments]").fill("仅用于研究，不向第三方提供，不尝试重新识别个人")
    page.locator("input[name=period_end]").fill((dt.date.today() + dt.timedelta(days=60)).isoformat())
    page.locator("input[name=agree]").check()
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator("main")).to_contain_text("申请")

    # the provider approves through the API
    with httpx.Client(base_url=base_url, timeout=60) as client:
        mine = client.get(
            "/api/v1/open-applications", headers=login(client, CITIZEN["username"], CITIZEN["password"])
        )
        assert mine.status_code == 200, mine.text
        application = next(a for a in mine.json()["items"] if a["dataset_code"] == opened["conditional"])
        decided = client.post(
            f"/api/v1/open-applications/{application['id']}/decision",
            json={"decision": "approve"},
            headers=login(client, OFFICER),
        )
        assert decided.status_code == 200, decided.text

    # makes an API key on the account page and calls the conditional dataset with it
    page.goto(base_url + "/account")
    page.get_by_role("button", name="创建接口密钥").first.click()
    key = page.locator("code.key").inner_text().strip()
    assert key.startswith("gdk_")
    url = f"{base_url}/api/v1/open/datasets/{opened['conditional']}/records"
    assert httpx.get(url, timeout=30).status_code == 401
    answer = httpx.get(url, params={"limit": 5}, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    rows = answer.json()["items"]
    assert len(rows) == 5 and all("zd" not in r for r in rows)
    assert all(re.fullmatch(r"\d{4}", str(r["csrq"])) for r in rows)  # birth dates generalised to the year


@pytest.mark.parametrize("viewport_name", ["desktop", "phone"])
def test_portal_pages_at_desktop_and_phone_width(browser, base_url, opened, viewport_name):
    size = PHONE if viewport_name == "phone" else {"width": 1366, "height": 900}
    context = browser.new_context(locale="zh-CN", viewport=size)
    page = context.new_page()
    try:
        for name, path in (
            ("home", "/"),
            ("search", "/datasets?q=" + quote("体检")),
            ("dataset", f"/datasets/{opened['free']}"),
        ):
            page.goto(base_url + path)
            assert page.locator("h1").first.is_visible()
            shot(page, f"portal-{name}-{viewport_name}")
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > "
                "document.documentElement.clientWidth + 1 && !e.closest('.table-scroll, pre'))"
                ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
            )
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= size["width"], f"{path} is {width}px wide at {size['width']}px: {wide}"
    finally:
        context.close()
