"""Issue 12 item 11 in a browser: every page a role's menu leads to renders under the Content Security
Policy without one violation (no blocked script, style or request), and the platform cannot be framed."""

from __future__ import annotations

import re

import pytest

from tests.e2e.support import log_in, log_out

pytestmark = pytest.mark.e2e


def watch_violations(page) -> list[str]:
    """Console messages and page errors that tell of a blocked resource or a script that failed."""
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text)
            if message.type == "error" and re.search(r"Content Security Policy|Refused to", message.text)
            else None
        ),
    )
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    return seen


@pytest.mark.parametrize("username", ["ga_officer", "dsj_officer", "auditor"])
def test_every_menu_page_keeps_to_the_policy(page, base_url, username):
    from playwright.sync_api import expect

    violations = watch_violations(page)
    log_in(page, base_url, username)
    menu = page.get_by_role("navigation", name="主导航").get_by_role("link")
    hrefs = [menu.nth(i).get_attribute("href") for i in range(menu.count())]
    assert len(hrefs) >= 3, hrefs
    for href in hrefs:
        response = page.goto(base_url + href)
        assert response is not None and response.status == 200, href
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        # follow the first link into an object of the list, if the page lists any
        links = page.locator("main table a[href^='/']:not([download]):not([href^='/api/'])")
        if links.count():
            target = links.first.get_attribute("href")
            answer = page.goto(base_url + target)
            assert answer is not None and answer.status == 200, target
    log_out(page)
    assert violations == []


def test_a_page_of_another_site_cannot_frame_the_platform(page, base_url):
    page.route(
        "http://framing.test/",
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<iframe id="own" src="/inner"></iframe><iframe id="f" src="{base_url}/login"></iframe>',
        ),
    )
    page.route(
        "http://framing.test/inner",
        lambda route: route.fulfill(content_type="text/html", body="<p>inner</p>"),
    )
    page.goto("http://framing.test/")
    page.wait_for_timeout(1500)
    assert page.frame_locator("#own").locator("p").inner_text() == "inner"  # framing as such works
    # the browser refuses to show the platform inside the other site's page: an error page instead
    assert page.frame_locator("#f").locator("input[name=username]").count() == 0
    assert [frame.url for frame in page.frames][2].startswith("chrome-error://")
