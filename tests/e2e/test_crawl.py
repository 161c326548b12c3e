"""Navigation never leads to a page the role cannot open (#13 item 26), and every page speaks Chinese
(items 22, 24, 25): for each demo role, a crawl from the home page follows every link of every page it
reaches and fails on any link answered 4xx or 5xx, on raw JSON where a page was expected, and on
English labels (enumeration values, identifiers, login names) in a page's visible text.

The crawl runs in process against the demo store the live server serves (one store, one app); Chromium
only takes the few screenshots at desktop and phone width and checks the phone layout: the menu
collapses, tables scroll sideways instead of wrapping one character a line, and the header's search
box is on every internal page.
"""

from __future__ import annotations

import html
import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient

import govdata.models  # noqa: F401  (every capability's modules, hence every enumeration)
from govdata.core.auth import Role
from govdata.demo import DEMO_PASSWORD, USERS
from tests.e2e.support import ADMIN_PASSWORD, log_in, shot

pytestmark = pytest.mark.e2e

# one demo user per role that has pages (an application system has none)
ROLES = {
    Role.admin: "admin",
    Role.authority: "dsj_officer",
    Role.auditor: "auditor",
    Role.dept_officer: "ga_officer",
    Role.dept_head: "ga_head",
    Role.dept_user: "rs_user",
    Role.public: "citizen",
}
MAX_PAGES = 400  # per role; the demo region has far fewer distinct pages
MAX_VARIANTS = 3  # query strings followed per path: a facet's links differ only in their filters
SECONDS_PER_ROLE = 50
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

_HREF = re.compile(r"""<a\b[^>]*?\bhref="([^"#]*)(?:#[^"]*)?"[^>]*>""", re.I)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# English a Chinese page must not show, besides the enumerations' values (collected below)
ENGLISH_WORDS = {
    "Submit",
    "Cancel",
    "Save",
    "Delete",
    "Edit",
    "Error",
    "Errors",
    "Internal",
    "Forbidden",
    "Unauthorized",
    "None",
    "True",
    "False",
    "null",
    "true",
    "false",
    "undefined",
    "NaN",
    "Not",
    "Found",
    "Method",
    "Allowed",
    "Unprocessable",
    "Entity",
    "Conflict",
    "Invalid",
    "input",
    "Login",
    "Logout",
    "Home",
    "Search",
    "Next",
    "Previous",
    "Page",
    "Yes",
    "No",
    "Status",
    "Details",
    "Loading",
    "Unknown",
    "default",
    "user",
    "system",
}


def _enumerations() -> set[str]:
    """Every value of every enumeration of the platform: shown on a page, it is an untranslated label."""
    found: set[str] = set()
    stack = list(StrEnum.__subclasses__())
    while stack:
        enum = stack.pop()
        stack.extend(enum.__subclasses__())
        if enum.__module__.startswith("govdata."):
            found |= {str(m.value) for m in enum if len(str(m.value)) > 2}
    return found


ENUM_VALUES = _enumerations()
LOGIN_NAMES = {username for username, *_ in USERS} | {"citizen", "admin", "govdata"}


def visible_text(page: str) -> str:
    """What a person reads on the page: no scripts, styles, codes (资源代码, 信息项代码 are data), nor
    what people typed into forms."""
    page = re.sub(r"<(script|style|code|pre|textarea)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(re.sub(r"\s+", " ", page))


def english_labels(text: str) -> list[str]:
    words = []
    for word in _WORD.findall(text):
        if word in ENUM_VALUES or word in ENGLISH_WORDS or word in LOGIN_NAMES or "_" in word:
            words.append(word)
    return words


@dataclass
class Crawl:
    role: str
    pages: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, problem: str) -> None:
        if len(self.problems) < 40:
            self.problems.append(problem)


def _same_site(base: str, href: str) -> str | None:
    full = urljoin(base, html.unescape(href))
    parts = urlsplit(full)
    if parts.scheme not in ("http", "https", "") or (parts.netloc and parts.netloc != "testserver"):
        return None
    if parts.path.startswith(("/static/", "/docs", "/redoc")):
        return None
    if parts.path.startswith("/api/v1/reports/"):
        return None  # the annual report: a printable document of its own, not a page of the workbench
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client: TestClient, username: str, *, search_box: bool) -> Crawl:
    """Log in as ``username`` and follow every link from the home page (GET only: no form is sent);
    with ``search_box``, every page must carry the header's search box (#13 item 25)."""
    client.cookies.clear()
    password = ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD
    login = client.post("/login", data={"username": username, "password": password}, follow_redirects=False)
    assert login.status_code == 303, login.text
    result = Crawl(username)
    started = time.monotonic()
    queue: deque[tuple[str, str]] = deque([("/home", "登录后")])
    variants: Counter[str] = Counter()
    while queue and len(result.pages) < MAX_PAGES:
        address, came_from = queue.popleft()
        if address in result.pages:
            continue
        path = urlsplit(address).path
        variants[path] += 1
        if variants[path] > MAX_VARIANTS:
            continue
        response = client.get(
            address, headers={"accept": "text/html,application/xhtml+xml"}, follow_redirects=False
        )
        result.pages[address] = response.status_code
        where = f"{address}（链接来自 {came_from}）"
        if response.status_code >= 400:
            result.add(f"{response.status_code} {where}")
            continue
        if response.status_code in (301, 302, 303, 307, 308):
            target = _same_site(address, response.headers.get("location", ""))
            if target and target not in result.pages:
                queue.append((target, address))
            continue
        kind = response.headers.get("content-type", "")
        if "attachment" in response.headers.get("content-disposition", ""):
            continue  # a download (an export, a template, an errors file)
        if "json" in kind:
            result.add(f"raw JSON instead of a page: {where}")
            continue
        if "text/html" not in kind:
            continue
        text = visible_text(response.text)
        if english := english_labels(text):
            result.add(f"English on {address}: {sorted(set(english))[:8]}")
        if re.search(r'\{\s*"[^"]+"\s*:', text):
            result.add(f"raw JSON in the text of {address}")
        if search_box != ('class="header-search"' in response.text):
            result.add(f"{'no' if search_box else 'a'} search box in the header of {address}")
        for href in _HREF.findall(response.text):
            target = _same_site(address, href)
            if target and target not in result.pages and not target.startswith("/logout"):
                queue.append((target, address))
    result.seconds = time.monotonic() - started
    return result


@pytest.fixture(scope="module")
def viewport() -> dict[str, int]:
    return DESKTOP


@pytest.fixture(scope="module")
def crawler(live_server):
    """An in-process client of the very app the live server serves (no second lifespan)."""
    client = TestClient(live_server.app, raise_server_exceptions=False)
    yield client
    client.close()


@pytest.mark.parametrize("role", list(ROLES), ids=[r.value for r in ROLES])
def test_every_link_a_role_is_shown_opens_in_chinese(crawler, role):
    """#13 item 26: no link on any page leads to a page the role cannot open (no 4xx, no 5xx), no
    page shows raw JSON or English labels (item 22: people by name, not login names); every page of
    a role that may search the catalog has the search box in its header (item 25)."""
    result = crawl(crawler, ROLES[role], search_box=role != Role.auditor)
    assert len(result.pages) > 5, f"{ROLES[role]} reached only {list(result.pages)}"
    assert not result.problems, "\n".join(result.problems)
    assert result.seconds < SECONDS_PER_ROLE, f"the crawl took {result.seconds:.0f} s"


def test_an_address_that_does_not_exist_is_shown_inside_the_layout(crawler):
    """#13 item 22: the 404 page keeps the header, the menu and the search box of the person."""
    crawl_login = crawler.post(
        "/login", data={"username": "ga_officer", "password": DEMO_PASSWORD}, follow_redirects=False
    )
    assert crawl_login.status_code == 303
    missing = crawler.get("/no/such/page", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert "页面不存在" in missing.text and 'class="sidenav"' in missing.text
    assert "张丽" in missing.text and 'class="header-search"' in missing.text
    favicon = crawler.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.headers["content-type"] == "image/x-icon"
    assert favicon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file


# --- in Chromium: the layout at desktop and phone width --------------------------------------------


def _cells_too_narrow(page) -> list[str]:
    """Table cells holding at least three characters that are narrower than two characters: text
    wrapped one character a line."""
    return page.evaluate(
        """() => {
          const narrow = [];
          for (const cell of document.querySelectorAll('main td, main th')) {
            const text = cell.innerText.trim();
            if (text.length < 3 || cell.offsetParent === null) continue;
            const size = parseFloat(getComputedStyle(cell).fontSize);
            if (cell.getBoundingClientRect().width < 2.2 * size) narrow.push(text.slice(0, 20));
          }
          return narrow;
        }"""
    )


PAGES = [  # grouped by person: one login each
    ("ga_officer", "/catalog", "catalog-search"),
    ("ga_officer", "/catalog/mine", "catalog-mine"),
    ("ga_officer", "/catalog/import", "catalog-import"),
    ("ga_officer", "/systems", "systems"),
    ("ga_officer", "/systems/2", "system"),
    ("dsj_officer", "/policy", "policy"),
    ("dsj_officer", "/policy?edit=1", "policy-edit"),
    ("admin", "/users", "admin-users"),
    ("admin", "/users/5", "admin-user"),
    ("admin", "/departments/register", "department-register"),
]


def test_the_layout_at_desktop_and_phone_width(browser, base_url):
    """#13 items 24 and 25: at phone width the menu collapses behind a button and opens on a tap;
    wide tables scroll inside the page instead of squeezing their text one character a line; the
    header's search box is there at both widths and finds the catalog."""
    from playwright.sync_api import expect

    for width in (DESKTOP, PHONE):
        context = browser.new_context(locale="zh-CN", viewport=width, is_mobile=width is PHONE)
        page = context.new_page()
        page.set_default_timeout(15_000)
        suffix = "phone" if width is PHONE else "desktop"
        logged_in = None
        for username, address, name in PAGES:
            if username != logged_in:
                if logged_in:
                    page.context.clear_cookies()
                log_in(page, base_url, username, ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD)
                logged_in = username
            page.goto(base_url + address)
            expect(page.locator("form.header-search input[name=q]")).to_be_visible()
            menu = page.get_by_role("navigation", name="主导航")
            if width is PHONE:
                expect(menu).to_be_hidden()
                page.locator("label.menu-toggle").click()
                expect(menu).to_be_visible()
                page.locator("label.menu-toggle").click()
                expect(menu).to_be_hidden()
            else:
                expect(menu).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width["width"] + 1, f"{address} is {overflow}px wide at {width['width']}px"
            assert not _cells_too_narrow(page), (address, suffix, _cells_too_narrow(page))
            shot(page, f"layout-{name}-{suffix}", full_page=False)
        page.locator("form.header-search input[name=q]").fill("身份证号")
        page.locator("form.header-search input[name=q]").press("Enter")
        expect(page).to_have_url(re.compile(r"/catalog\?q="))
        expect(page.locator("article.hit").first).to_be_visible()
        context.close()
