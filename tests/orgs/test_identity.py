"""ORG-1…4, SEC-6: logins, lockout, tokens, departments, users, systems and credentials, on both stores."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import select, text, update

from govdata.core.db import utcnow
from govdata.core.ids import uscc_make
from govdata.demo import DEMO_PASSWORD
from govdata.orgs.models import AccessToken, SystemCredential, User
from tests.support.http import assert_problem, login
from tests.support.orgs import new_department


def test_login_and_me_shows_department_and_roles(client):
    headers = login(client, "ga_officer")
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["username"] == "ga_officer"
    assert me["department_name"] == "焦作市公安局"
    assert me["roles"] == ["dept_officer"]
    assert me["display_name"] == "张丽"


def test_bad_password_anonymous_and_garbage_token_get_401_problems(client):
    assert_problem(
        client.post("/api/v1/auth/token", data={"username": "ga_officer", "password": "wrong"}),
        401,
        "invalid-credentials",
    )
    assert_problem(
        client.post("/api/v1/auth/token", data={"username": "nobody", "password": "x"}),
        401,
        "invalid-credentials",
    )
    assert_problem(client.get("/api/v1/me"), 401, "not-authenticated")
    assert_problem(
        client.get("/api/v1/me", headers={"Authorization": "Bearer gdu_forged"}), 401, "invalid-token"
    )


def test_five_failures_lock_the_account_for_fifteen_minutes(client, session):
    for _ in range(4):
        assert_problem(
            client.post("/api/v1/auth/token", data={"username": "rs_user", "password": "bad"}),
            401,
            "invalid-credentials",
        )
    body = assert_problem(
        client.post("/api/v1/auth/token", data={"username": "rs_user", "password": "bad"}),
        401,
        "account-locked",
    )
    assert "锁定" in body["detail"]
    # Even the right password is refused while locked, and the caller learns when to retry.
    locked = client.post("/api/v1/auth/token", data={"username": "rs_user", "password": DEMO_PASSWORD})
    assert_problem(locked, 401, "account-locked")
    assert 14 * 60 < int(locked.headers["retry-after"]) <= 15 * 60 + 1
    user = session.scalar(select(User).where(User.username == "rs_user"))
    assert user.locked_until is not None
    # Fifteen minutes later the lock is gone.
    session.execute(
        update(User).where(User.id == user.id).values(locked_until=utcnow() - timedelta(seconds=1))
    )
    session.commit()
    assert (
        client.post("/api/v1/auth/token", data={"username": "rs_user", "password": DEMO_PASSWORD}).status_code
        == 200
    )


def test_expired_and_revoked_tokens_are_refused(client, session):
    headers = login(client, "rs_user")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    session.execute(update(AccessToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    assert_problem(client.get("/api/v1/me", headers=headers), 401, "invalid-token")

    headers = login(client, "rs_user")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert_problem(client.get("/api/v1/me", headers=headers), 401, "invalid-token")


def test_tokens_are_stored_only_as_digests(client, session):
    token = login(client, "rs_user")["Authorization"].split()[1]
    digests = session.scalars(select(AccessToken.digest)).all()
    assert token not in digests and all(len(d) == 64 for d in digests)


def test_authority_registers_departments_with_validated_codes(client, as_user):
    authority = as_user("dsj_officer")
    created = client.post("/api/v1/departments", json=new_department(), headers=authority)
    assert created.status_code == 201, created.text
    dept = created.json()
    assert dept["region_name"] == "焦作市" and dept["is_authority"] is False
    assert (
        client.get(f"/api/v1/departments/{dept['id']}", headers=as_user("rs_user")).json()["name"]
        == "焦作市统计局"
    )

    # the same code again, a wrong check character, an unknown region, a second authority
    assert_problem(
        client.post("/api/v1/departments", json=new_department(), headers=authority), 409, "duplicate-uscc"
    )
    bad = new_department(uscc=dept["uscc"][:-1] + ("0" if dept["uscc"][-1] != "0" else "1"))
    body = assert_problem(client.post("/api/v1/departments", json=bad, headers=authority), 422)
    assert body["errors"][0]["field"] == "uscc" and "校验" in body["detail"]
    body = assert_problem(
        client.post(
            "/api/v1/departments",
            json=new_department(uscc=uscc_make("1", "1", "410800", "MB765432"), region_code="419999"),
            headers=authority,
        ),
        422,
    )
    assert body["errors"][0]["field"] == "region_code"
    assert_problem(
        client.post(
            "/api/v1/departments",
            json=new_department(uscc=uscc_make("1", "1", "410800", "MB765433"), is_authority=True),
            headers=authority,
        ),
        409,
        "authority-exists",
    )


def test_departments_list_is_paged_and_writes_need_the_right_role(client, as_user):
    page = client.get("/api/v1/departments?limit=5&offset=0", headers=as_user("rs_user")).json()
    assert page["total"] == 14 and len(page["items"]) == 5
    assert_problem(
        client.post("/api/v1/departments", json=new_department(), headers=as_user("ga_officer")),
        403,
        "forbidden",
    )
    assert_problem(client.post("/api/v1/departments", json=new_department(), headers=as_user("auditor")), 403)
    assert_problem(client.post("/api/v1/departments", json=new_department()), 401)
    assert_problem(client.get("/api/v1/departments/99999", headers=as_user("rs_user")), 404, "not-found")
    assert_problem(client.get("/api/v1/departments/abc", headers=as_user("rs_user")), 422)


def test_admin_creates_users_who_can_log_in(client, as_user):
    admin = as_user("admin")
    departments = client.get("/api/v1/departments?limit=100", headers=admin).json()["items"]
    minzheng = next(d for d in departments if d["name"] == "焦作市民政局")
    body = {
        "username": "mz_clerk",
        "password": "Minzheng#2026",
        "display_name": "何芳",
        "department_id": minzheng["id"],
        "roles": ["dept_officer"],
    }
    created = client.post("/api/v1/users", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["roles"] == ["dept_officer"]
    me = client.get("/api/v1/me", headers=login(client, "mz_clerk", "Minzheng#2026")).json()
    assert me["department_name"] == "焦作市民政局"

    assert_problem(client.post("/api/v1/users", json=body, headers=admin), 409, "duplicate-username")
    weak = {**body, "username": "weak", "password": "12345678"}
    assert (
        assert_problem(client.post("/api/v1/users", json=weak, headers=admin), 422)["errors"][0]["field"]
        == "password"
    )
    system_role = {**body, "username": "robot", "roles": ["app"]}
    assert_problem(client.post("/api/v1/users", json=system_role, headers=admin), 422)
    no_dept = {**body, "username": "floating", "department_id": None}
    assert_problem(client.post("/api/v1/users", json=no_dept, headers=admin), 422)
    bad_role = {**body, "username": "x1", "roles": ["superuser"]}
    assert_problem(client.post("/api/v1/users", json=bad_role, headers=admin), 422)
    assert_problem(
        client.post("/api/v1/users", json={**body, "username": "x2"}, headers=as_user("dsj_officer")), 403
    )
    assert_problem(
        client.post("/api/v1/users", json={**body, "username": "x3"}, headers=as_user("auditor")), 403
    )


def test_public_accounts_need_a_valid_identity_number(client, as_user):
    admin = as_user("admin")
    body = {
        "username": "resident",
        "password": "Resident#2026",
        "display_name": "居民",
        "roles": ["public"],
        "identity_kind": "natural_person",
        "identity_number": "410802198503122471",
    }
    response = client.post("/api/v1/users", json=body, headers=admin)
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "identity_number" and "公民身份号码" in problem["detail"]
    legal = {
        **body,
        "username": "company",
        "identity_kind": "legal_person",
        "identity_number": uscc_make("9", "1", "410800", "MA456789"),
    }
    assert client.post("/api/v1/users", json=legal, headers=admin).status_code == 201


def test_admin_resets_a_password_which_unlocks_the_account(client, as_user, session):
    user = session.scalar(select(User).where(User.username == "wj_user"))
    session.execute(
        update(User).where(User.id == user.id).values(locked_until=utcnow() + timedelta(minutes=10))
    )
    session.commit()
    patched = client.patch(
        f"/api/v1/users/{user.id}", json={"password": "Weijian#2026x"}, headers=as_user("admin")
    )
    assert patched.status_code == 200 and patched.json()["locked_until"] is None
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "wj_user", "password": "Weijian#2026x"}
        ).status_code
        == 200
    )


def _department_id(client, headers, name: str) -> int:
    items = client.get("/api/v1/departments?limit=100", headers=headers).json()["items"]
    return next(d["id"] for d in items if d["name"] == name)


def test_department_officer_registers_a_system_and_its_credential_works_once_shown(client, as_user, session):
    officer = as_user("ga_officer")
    gongan = _department_id(client, officer, "焦作市公安局")
    system = client.post(
        f"/api/v1/departments/{gongan}/systems", json={"name": "人口信息比对系统"}, headers=officer
    )
    assert system.status_code == 201, system.text
    system_id = system.json()["id"]
    issued = client.post(
        f"/api/v1/systems/{system_id}/credentials", json={"expires_in_days": 30}, headers=officer
    )
    assert issued.status_code == 201
    token = issued.json()["token"]
    # the token is never shown again and never stored
    listed = client.get(f"/api/v1/systems/{system_id}/credentials", headers=officer).json()
    assert len(listed) == 1 and "token" not in listed[0]
    assert token not in session.scalars(select(SystemCredential.digest)).all()
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token}", "X-End-User": quote("窗口人员 王五")}
    ).json()
    assert me["kind"] == "system" and me["roles"] == ["app"] and me["department_name"] == "焦作市公安局"

    revoked = client.post(
        f"/api/v1/systems/{system_id}/credentials/{issued.json()['id']}/revoke", headers=officer
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_problem(
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401, "invalid-token"
    )
    assert_problem(
        client.post(f"/api/v1/systems/{system_id}/credentials/{issued.json()['id']}/revoke", headers=officer),
        409,
    )


def test_systems_are_managed_only_by_their_own_department(client, as_user):
    renshe = _department_id(client, as_user("ga_officer"), "焦作市人力资源和社会保障局")
    assert_problem(
        client.post(
            f"/api/v1/departments/{renshe}/systems", json={"name": "越权系统"}, headers=as_user("ga_officer")
        ),
        403,
    )
    assert_problem(
        client.post(
            f"/api/v1/departments/{renshe}/systems", json={"name": "用户系统"}, headers=as_user("rs_user")
        ),
        403,
    )
    systems = client.get(f"/api/v1/departments/{renshe}/systems", headers=as_user("rs_officer")).json()
    assert [s["name"] for s in systems] == ["养老保险待遇资格认证系统"]
    assert_problem(
        client.post(f"/api/v1/systems/{systems[0]['id']}/credentials", headers=as_user("ga_officer")), 403
    )
    assert_problem(client.post("/api/v1/systems/424242/credentials", headers=as_user("rs_officer")), 404)


def test_demo_system_credential_and_expiry(client, demo_token, session):
    headers = {"Authorization": f"Bearer {demo_token}"}
    assert client.get("/api/v1/me", headers=headers).json()["department_name"] == "焦作市人力资源和社会保障局"
    session.execute(update(SystemCredential).values(expires_at=utcnow() - timedelta(days=1)))
    session.commit()
    assert_problem(client.get("/api/v1/me", headers=headers), 401, "invalid-token")


def test_every_county_level_code_is_known(session):
    count = session.scalar(text("SELECT count(*) FROM regions WHERE level = 'county' AND active"))
    assert count > 2800
    names = dict(
        session.execute(
            text("SELECT code, name FROM regions WHERE code IN ('410821', '410800', '410000')")
        ).all()
    )
    assert names == {"410821": "修武县", "410800": "焦作市", "410000": "河南省"}
