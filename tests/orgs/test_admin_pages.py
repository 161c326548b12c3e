"""Admin pages for users, departments and application systems (#13 item 23; ORG-2, ORG-3): what the
API offers, as forms, with the same rules — on both stores."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from govdata.core.audit import AuditEvent
from govdata.demo import DEMO_PASSWORD
from tests.support.http import ADMIN_PASSWORD
from tests.support.pages import HTML, nav_labels, text, web_login

SAME_SITE = {**HTML, "origin": "http://testserver"}
GOOD_PASSWORD = "Qinghua@2026x"


def shown(page: str) -> str:
    return html.unescape(text(re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)))


def post(client, address: str, data: dict, **kwargs):
    return client.post(address, data=data, headers=SAME_SITE, follow_redirects=False, **kwargs)


def department_id(client, as_user, name: str) -> int:
    departments = client.get("/api/v1/departments", params={"limit": 100}, headers=as_user("admin")).json()
    return next(d["id"] for d in departments["items"] if d["name"] == name)


def test_the_administrator_creates_a_user_with_the_form(client, as_user):
    """#13 item 23: a user created on the page logs in with the roles chosen; mistakes are named at
    their fields in Chinese and keep what was typed (but the password)."""
    web_login(client, "admin")
    form = client.get("/users/new", headers=HTML)
    assert form.status_code == 200 and "焦作市公安局" in form.text and "部门目录管理员" in form.text
    police = department_id(client, as_user, "焦作市公安局")
    wrong = post(
        client,
        "/users/new",
        {
            "username": "wang.qiang",
            "display_name": "王强",
            "password": "short",
            "department_id": str(police),
            "roles": ["authority"],
        },
    )
    assert wrong.status_code == 422
    assert "不是数据资源主管部门，不能授予主管部门角色" in shown(wrong.text)
    assert 'value="王强"' in wrong.text and "short" not in wrong.text
    weak = post(
        client,
        "/users/new",
        {
            "username": "wang.qiang",
            "display_name": "王强",
            "password": "short",
            "department_id": str(police),
            "roles": ["dept_user"],
        },
    )
    assert weak.status_code == 422 and "密码至少 10 位" in shown(weak.text)
    created = post(
        client,
        "/users/new",
        {
            "username": "wang.qiang",
            "display_name": "王强",
            "password": GOOD_PASSWORD,
            "department_id": str(police),
            "roles": ["dept_user"],
        },
    )
    assert created.status_code == 303, shown(created.text)[-800:]
    page = client.get(created.headers["location"], headers=HTML)
    assert "已创建用户" in page.text and "王强" in page.text and "部门数据用户" in page.text
    listed = client.get("/users", params={"name": "王强"}, headers=HTML).text
    assert "共 1 个账号" in shown(listed) and "焦作市公安局" in listed
    me = client.get("/api/v1/me", headers=_login(client, "wang.qiang", GOOD_PASSWORD)).json()
    assert me["display_name"] == "王强" and me["roles"] == ["dept_user"]


def _login(client, username: str, password: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_deactivating_a_user_asks_for_a_reason(client, as_user, session):
    """#13 items 22 and 23: 停用 needs a reason, kept in the audit trail; the account cannot log in
    until it is activated again; a password reset unlocks it."""
    web_login(client, "admin")
    user = client.get("/api/v1/users", params={"limit": 100}, headers=as_user("admin")).json()["items"]
    rs_user = next(u for u in user if u["username"] == "rs_user")
    page = client.get(f"/users/{rs_user['id']}", headers=HTML).text
    assert "停用原因" in page and "陈静" in page

    no_reason = post(client, f"/users/{rs_user['id']}/deactivate", {"reason": "  "})
    assert no_reason.status_code == 422 and "停用账号须说明原因" in shown(no_reason.text)
    assert (
        client.post("/api/v1/auth/token", data={"username": "rs_user", "password": DEMO_PASSWORD}).status_code
        == 200
    )

    done = post(client, f"/users/{rs_user['id']}/deactivate", {"reason": "调离本部门"})
    assert done.status_code == 303
    assert "已停用账号" in client.get(done.headers["location"], headers=HTML).text
    refused = client.post("/api/v1/auth/token", data={"username": "rs_user", "password": DEMO_PASSWORD})
    assert refused.status_code == 401 and "停用" in refused.json()["detail"]
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "orgs.user.updated").order_by(AuditEvent.seq.desc())
    ).first()
    assert "调离本部门" in str(event.details)

    assert post(client, f"/users/{rs_user['id']}/activate", {"reason": "返岗"}).status_code == 303
    weak = post(client, f"/users/{rs_user['id']}/password", {"password": "abc"})
    assert weak.status_code == 422 and "密码至少 10 位" in shown(weak.text)
    assert post(client, f"/users/{rs_user['id']}/password", {"password": GOOD_PASSWORD}).status_code == 303
    assert _login(client, "rs_user", GOOD_PASSWORD)

    renamed = post(
        client, f"/users/{rs_user['id']}", {"display_name": "陈静怡", "roles": ["dept_user", "dept_officer"]}
    )
    assert renamed.status_code == 303
    me = client.get("/api/v1/me", headers=_login(client, "rs_user", GOOD_PASSWORD)).json()
    assert me["display_name"] == "陈静怡" and me["roles"] == ["dept_officer", "dept_user"]


def test_only_the_administrator_manages_users(client):
    """#13 item 23: the authority reads the list without the forms; a department officer has neither
    the menu entry nor the page."""
    web_login(client, "dsj_officer")
    listing = client.get("/users", headers=HTML)
    assert (
        listing.status_code == 200
        and "新建用户" not in listing.text
        and "用户管理" in nav_labels(listing.text)
    )
    assert client.get("/users/new", headers=HTML).status_code == 403
    refused = post(
        client,
        "/users/new",
        {"username": "x.y", "display_name": "某", "password": GOOD_PASSWORD, "roles": ["dept_user"]},
    )
    assert refused.status_code == 403
    one = client.get("/users/1", headers=HTML).text
    assert "停用原因" not in one and "重置密码" not in one
    web_login(client, "ga_officer")
    home = client.get("/home", headers=HTML).text
    assert "用户管理" not in nav_labels(home)
    assert client.get("/users", headers=HTML).status_code == 403


def test_the_authority_registers_a_department(client, as_user):
    """#13 item 23 (ORG-2): pickers for the region, the parent and the organisation type; an invalid
    统一社会信用代码 is named at its field."""
    web_login(client, "dsj_officer")
    listing = client.get("/departments", headers=HTML).text
    assert 'href="/departments/register"' in listing
    form = client.get("/departments/register", headers=HTML).text
    assert "修武县" in form and "法律法规授权组织" in form and "焦作市公安局" in form
    police = department_id(client, as_user, "焦作市公安局")
    bad = post(
        client,
        "/departments/register",
        {
            "name": "焦作市公安局交通警察支队",
            "uscc": "12345",
            "region_code": "410800",
            "parent_id": str(police),
        },
    )
    assert bad.status_code == 422 and "统一社会信用代码无效" in shown(bad.text)
    assert 'value="焦作市公安局交通警察支队"' in bad.text
    good = post(
        client,
        "/departments/register",
        {
            "name": "焦作市公安局交通警察支队",
            "short_name": "市交警支队",
            "uscc": "11410800MB17C0061P",
            "region_code": "410800",
            "parent_id": str(police),
            "org_type": "government",
            "principal_head": "马骏",
        },
    )
    assert good.status_code == 303, shown(good.text)[-600:]
    listing = client.get(good.headers["location"], headers=HTML).text
    assert "已登记部门“焦作市公安局交通警察支队”" in listing
    added = client.get("/api/v1/departments", params={"limit": 100}, headers=as_user("dsj_officer")).json()
    assert any(d["name"] == "焦作市公安局交通警察支队" and d["parent_id"] == police for d in added["items"])

    web_login(client, "ga_officer")
    assert 'href="/departments/register"' not in client.get("/departments", headers=HTML).text
    assert client.get("/departments/register", headers=HTML).status_code == 403


def test_an_officer_registers_a_system_and_manages_its_credentials(client, as_user):
    """#13 item 23 (ORG-3): the token is shown once (never cached), works at once, and stops working
    when revoked; another department's officer cannot open the system; the authority reads it."""
    web_login(client, "ga_officer")
    systems = client.get("/systems", headers=HTML).text
    assert "焦作市公安局" in systems and "登记应用系统" in systems
    created = post(client, "/systems", {"name": "户籍业务核验系统", "description": "办理户籍业务时核验身份"})
    assert created.status_code == 303
    address = created.headers["location"].split("?")[0]
    assert "已登记应用系统" in client.get(created.headers["location"], headers=HTML).text
    duplicate = post(client, "/systems", {"name": "户籍业务核验系统"})
    assert duplicate.status_code == 409 and "已有名为“户籍业务核验系统”的应用系统" in shown(duplicate.text)

    issued = post(client, f"{address}/credentials", {"expires_in_days": "90"})
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    token = re.search(r'<code class="token">(gds_[^<]+)</code>', issued.text).group(1)
    system_me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert system_me.status_code == 200 and system_me.json()["kind"] == "system"
    again = client.get(address, headers=HTML).text
    assert token not in again and token[:10] in again and "张丽" in again  # issued by, by name

    credential = re.search(r'action="(/systems/\d+/credentials/\d+/revoke)"', again).group(1)
    assert post(client, credential, {}).status_code == 303
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401

    web_login(client, "rs_officer")
    assert client.get(address, headers=HTML).status_code == 403
    assert "户籍业务核验系统" not in client.get("/systems", headers=HTML).text
    web_login(client, "dsj_officer")
    read = client.get(address, headers=HTML)
    assert read.status_code == 200 and "签发新的访问凭证" not in read.text and "/revoke" not in read.text
    assert "户籍业务核验系统" in client.get("/systems", headers=HTML).text

    web_login(client, "admin", ADMIN_PASSWORD)
    police = department_id(client, as_user, "焦作市公安局")
    by_admin = post(client, "/systems", {"name": "警务数据分析平台", "department_id": str(police)})
    assert by_admin.status_code == 303
    listed = client.get(f"/api/v1/departments/{police}/systems", headers=as_user("ga_officer")).json()
    assert {s["name"] for s in listed} == {"户籍业务核验系统", "警务数据分析平台"}
