"""ORG-4: public accounts register themselves, their identity verified against the platform's own
population and legal-person base libraries (never revealing what the library holds); bad numbers are
422, a taken number or login name 409, registrations are rate-limited, and a public account logs in
like anyone and lands on its own page — on both stores."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from govdata.app import create_app
from govdata.core.ids import uscc_make
from tests.support.batches import ric
from tests.support.catalog import enterprises, population, publish
from tests.support.http import assert_problem
from tests.support.sharing import load

PASSWORD = "Citizen@2026!"
WANG = {"id": ric("41080219900101123"), "name": "王小明"}
LI = {"id": ric("41080219920202456"), "name": "李芳"}
FIRM = {"id": uscc_make("9", "1", "410800", "MA000301"), "name": "焦作云台数据科技有限公司"}


def source(client, as_user, library_code: str, element: str, resource_code: str) -> None:
    """Name ``resource_code`` the authoritative source of ``element`` in the library (CAT-9)."""
    authority = as_user("dsj_officer")
    library = next(
        lib
        for lib in client.get("/api/v1/libraries", headers=authority).json()
        if lib["code"] == library_code
    )
    response = client.put(
        f"/api/v1/libraries/{library['id']}/fields/{quote(element)}",
        json={"source_resource_code": resource_code},
        headers=authority,
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def people(client, as_user) -> str:
    """市公安局's 人口基础信息 with two persons, the source of the 人口基础库's 姓名."""
    code = publish(client, as_user, "ga_officer", population())
    load(
        client,
        as_user("ga_officer"),
        code,
        [
            {"gmsfhm": p["id"], "xm": p["name"], "xb": "1", "csrq": "1990-01-01", "hjdz": "焦作市解放区"}
            for p in (WANG, LI)
        ],
    )
    source(client, as_user, "population", "姓名", code)
    return code


def account(kind="natural_person", person=WANG, username="wangxm", **extra) -> dict:
    return {
        "kind": kind,
        "identity_number": person["id"],
        "name": person["name"],
        "username": username,
        "password": PASSWORD,
        **extra,
    }


def test_a_citizen_registers_verified_by_the_population_library_and_logs_in(client, as_user, people):
    # a name that does not go with the number: refused, without telling what the library holds
    wrong = client.post("/api/v1/public/accounts", json=account(person={"id": WANG["id"], "name": "王大明"}))
    body = assert_problem(wrong, 422)
    assert "王小明" not in wrong.text and "人口基础库" in body["detail"] + str(body.get("errors"))
    # a valid number the library does not know: the same refusal
    unknown = client.post(
        "/api/v1/public/accounts", json=account(person={"id": ric("41080219800101999"), "name": "王小明"})
    )
    assert_problem(unknown, 422)
    assert unknown.json()["errors"] == wrong.json()["errors"]

    created = client.post("/api/v1/public/accounts", json=account(phone="13903910000", email="w@example.cn"))
    assert created.status_code == 201, created.text
    shown = created.json()
    assert shown["username"] == "wangxm" and shown["display_name"] == "王小明" and shown["verified"] is True
    assert shown["kind"] == "natural_person" and shown["kind_label"] == "自然人"
    assert shown["identity_number"] != WANG["id"] and shown["identity_number"].startswith(WANG["id"][:6])

    # the number and the login name hold one account each
    assert_problem(
        client.post("/api/v1/public/accounts", json=account(username="other")), 409, "duplicate-identity"
    )
    assert_problem(client.post("/api/v1/public/accounts", json=account(person=LI)), 409, "duplicate-username")

    token = client.post("/api/v1/auth/token", data={"username": "wangxm", "password": PASSWORD})
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    me = client.get("/api/v1/me", headers=headers).json()
    assert me["roles"] == ["public"] and me["department_id"] is None
    assert client.get("/api/v1/public/accounts/me", headers=headers).json()["phone"] == "13903910000"
    # the workbench's data stays closed to a public account
    assert_problem(client.get("/api/v1/applications", headers=headers), 403)

    page = client.post("/login", data={"username": "wangxm", "password": PASSWORD}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/account"
    mine = client.get("/account")
    assert mine.status_code == 200 and "王小明" in mine.text and WANG["id"] not in mine.text
    internal = client.post(
        "/login", data={"username": "rs_user", "password": "Jiaozuo@2026"}, follow_redirects=False
    )
    assert internal.headers["location"] == "/home"


def test_a_developer_enterprise_is_verified_against_the_legal_person_library(client, as_user):
    code = publish(client, as_user, "scjg_officer", enterprises())
    load(
        client,
        as_user("scjg_officer"),
        code,
        [{"tyshxydm": FIRM["id"], "dwmc": FIRM["name"], "fddbr": "赵一"}],
    )
    source(client, as_user, "legal_person", "单位名称", code)
    wrong = client.post(
        "/api/v1/public/accounts", json=account("developer", {"id": FIRM["id"], "name": "别的公司"}, "yuntai")
    )
    assert_problem(wrong, 422)
    assert FIRM["name"] not in wrong.text
    created = client.post("/api/v1/public/accounts", json=account("developer", FIRM, "yuntai"))
    assert created.status_code == 201, created.text
    assert created.json()["kind_label"] == "开发者企业"


def test_bad_numbers_and_weak_passwords_are_422(client):
    bad_check = WANG["id"][:-1] + ("0" if WANG["id"][-1] != "0" else "1")
    problem = assert_problem(
        client.post("/api/v1/public/accounts", json=account(person={**WANG, "id": bad_check})), 422
    )
    assert "公民身份号码" in str(problem)
    bad_date = ric("41080219901301123")  # month 13
    assert_problem(client.post("/api/v1/public/accounts", json=account(person={**WANG, "id": bad_date})), 422)
    firm = {**FIRM, "id": FIRM["id"][:-1] + ("0" if FIRM["id"][-1] != "0" else "1")}
    problem = assert_problem(
        client.post("/api/v1/public/accounts", json=account("legal_person", firm, "firm")), 422
    )
    assert "统一社会信用代码" in str(problem)
    # a citizen number is no credit code
    assert_problem(client.post("/api/v1/public/accounts", json=account("legal_person", WANG, "firm")), 422)
    assert_problem(client.post("/api/v1/public/accounts", json={**account(), "password": "short"}), 422)
    assert_problem(client.post("/api/v1/public/accounts", json={**account(), "kind": "robot"}), 422)


def test_an_empty_library_refuses_registration_with_a_clear_message(client):
    problem = assert_problem(
        client.post("/api/v1/public/accounts", json=account()), 409, "identity-unverifiable"
    )
    assert "人口基础库" in problem["detail"]
    page = client.get("/register?kind=legal_person")
    assert page.status_code == 200 and "统一社会信用代码" in page.text and "单位名称" in page.text
    posted = client.post("/register", data={**account(), "kind": "natural_person"})
    assert posted.status_code == 409 and "人口基础库" in posted.text


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # counted in the process, not the store
def test_registration_is_rate_limited_per_address(settings):
    app = create_app(settings.model_copy(update={"login_rate_limit_per_minute": 2}))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            answers = [
                client.post("/api/v1/public/accounts", json=account(username=f"user{i}")).status_code
                for i in range(3)
            ]
    finally:
        app.state.engine.dispose()
    assert answers[:2] == [409, 409]  # heard (the library is empty) …
    assert answers[2] == 429  # … until the address's limit
