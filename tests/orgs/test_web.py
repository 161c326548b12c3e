"""NF-5, SEC-6 in the browser: login, the home page, navigation by role, logout, redirect and
cross-site guards of the server-rendered pages."""

from __future__ import annotations

import pytest

from govdata.core.auth import SESSION_COOKIE
from govdata.demo import DEMO_PASSWORD
from tests.support.pages import HTML, nav_labels, web_login


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/home", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert "next=%2Fhome" in response.headers["location"]
    assert client.get("/", headers=HTML, follow_redirects=False).status_code == 200  # the public portal
    page = client.get("/login", headers=HTML)
    assert page.status_code == 200 and "<title>登录" in page.text
    assert nav_labels(page.text) == []  # nothing to navigate before logging in


def test_a_wrong_password_is_shown_on_the_login_page(client):
    response = web_login(client, "ga_officer", "not-the-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert 'value="ga_officer"' in response.text  # the name stays filled in
    assert "not-the-password" not in response.text
    assert SESSION_COOKIE not in response.cookies


def test_logging_in_shows_the_department_and_role(client):
    response = web_login(client, "ga_officer")
    assert response.status_code == 303 and response.headers["location"] == "/home"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = client.get("/home", headers=HTML)
    assert home.status_code == 200
    assert "焦作市公安局" in home.text and "部门目录管理员" in home.text and "张丽" in home.text


def test_login_returns_to_the_page_asked_for(client):
    response = web_login(client, "rs_user", next="/calendar")
    assert response.headers["location"] == "/calendar"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example/home",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
def test_login_never_redirects_to_another_site(client, target):
    page = client.get("/login", params={"next": target}, headers=HTML)
    assert "evil.example" not in page.text and "javascript:" not in page.text
    response = web_login(client, "rs_user", next=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/home"


def test_a_login_posted_from_another_site_is_refused(client):
    response = client.post(
        "/login",
        data={"username": "ga_officer", "password": DEMO_PASSWORD},
        headers={**HTML, "origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "请求来源不是本站页面" in response.text
    assert SESSION_COOKIE not in response.cookies
    same_site = client.post(
        "/login",
        data={"username": "ga_officer", "password": DEMO_PASSWORD},
        headers={**HTML, "origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same_site.status_code == 303


@pytest.mark.parametrize(
    ("username", "visible", "hidden"),
    [
        ("ga_officer", {"首页", "部门", "工作日历", "政策配置"}, {"审计日志"}),
        ("rs_user", {"首页", "工作日历", "政策配置"}, {"审计日志"}),
        ("auditor", {"首页", "审计日志", "工作日历", "政策配置"}, set()),
        ("admin", {"首页", "审计日志", "工作日历", "政策配置"}, set()),
        ("citizen", {"首页", "工作日历"}, {"审计日志", "政策配置"}),
    ],
)
def test_navigation_shows_only_what_the_role_may_open(client, username, visible, hidden):
    web_login(client, username)
    labels = set(nav_labels(client.get("/home", headers=HTML).text))
    assert visible <= labels, labels
    assert not hidden & labels, labels
    for label, href in (("审计日志", "/audit"), ("政策配置", "/policy")):
        status = client.get(href, headers=HTML).status_code
        assert status == (200 if label in labels else 403), (label, status)


def test_policy_admin_forms_are_shown_only_to_the_administrator(client):
    web_login(client, "auditor")
    page = client.get("/policy", headers=HTML).text
    assert "当前生效" in page
    assert "上传政策配置" not in page and "/activate" not in page
    web_login(client, "admin")
    page = client.get("/policy", headers=HTML).text
    assert "上传政策配置" in page


def test_a_forbidden_page_says_so_in_chinese(client):
    web_login(client, "rs_user")
    response = client.get("/audit", headers=HTML)
    assert response.status_code == 403
    assert "无权访问" in response.text and "查阅审计日志" in response.text


def test_logging_out_ends_the_session(client):
    web_login(client, "ga_officer")
    token = client.cookies.get(SESSION_COOKIE)
    assert token
    response = client.post("/logout", headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert client.cookies.get(SESSION_COOKIE) is None
    assert client.get("/home", headers=HTML, follow_redirects=False).status_code == 303
    # the old cookie, replayed, is no longer accepted: the token was revoked on the server
    client.cookies.set(SESSION_COOKIE, token)
    replay = client.get("/home", headers=HTML, follow_redirects=False)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/login")
    assert client.get("/api/v1/me", headers={"authorization": f"Bearer {token}"}).status_code == 401


def test_departments_page_lists_the_demo_region(client):
    web_login(client, "rs_user")
    page = client.get("/departments", headers=HTML)
    assert page.status_code == 200
    assert "焦作市大数据管理局" in page.text and "数据资源主管部门" in page.text
    assert "部门（共 14 个）" in page.text


def test_home_shows_real_catalog_figures_for_the_department(client, as_user):
    from tests.support.catalog import population

    officer = as_user("ga_officer")
    code = client.post("/api/v1/resources", json=population(), headers=officer).json()["code"]
    client.post(f"/api/v1/resources/{code}/submit", headers=officer)
    client.post("/api/v1/resources", json=population(name="暂住人口信息"), headers=officer)
    client.cookies.set("govdata_session", officer["Authorization"].split()[1])
    page = client.get("/home", headers={"Accept": "text/html"}).text
    assert "本部门目录概况" in page and "待审核 1" in page and "草稿 1" in page
    client.cookies.set("govdata_session", as_user("dsj_officer")["Authorization"].split()[1])
    page = client.get("/home", headers={"Accept": "text/html"}).text
    assert "全市目录概况" in page and "待审核 1" in page
