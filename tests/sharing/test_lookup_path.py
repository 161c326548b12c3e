"""The lookup routes (query by key, verification) do their work in one unit of work of their own
(SHR-6, NF-3): the caller is still authenticated and authorised on every call, and a credential
revoked between two calls is refused on the second."""

# ruff: noqa: F811  (the fixtures of tests.support.sharing, named as parameters)
from __future__ import annotations

from tests.support.http import assert_problem
from tests.support.sharing import (  # noqa: F401
    grant,
    people,
    shared_code,
    system,
    usage_of,
)

RECORDS = "/api/v1/share/{code}/records"
VERIFY = "/api/v1/share/{code}/verify"


def _lookups(client, code: str, headers: dict, key: str):
    query = client.get(RECORDS.format(code=code), params={"key": key}, headers=headers)
    check = client.post(
        VERIFY.format(code=code), json={"key": key, "values": {"xm": "某某"}}, headers=headers
    )
    return query, check


def test_a_revoked_credential_is_refused_from_the_next_lookup(client, as_user, shared_code, system):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"], modes=["query", "verify"])
    key = people(1)[0]["gmsfhm"]
    officer = as_user("rs_officer")
    issued = client.post(
        f"/api/v1/systems/{system['id']}/credentials", json={"expires_in_days": 30}, headers=officer
    )
    assert issued.status_code == 201, issued.text
    headers = {"Authorization": f"Bearer {issued.json()['token']}"}
    query, check = _lookups(client, shared_code, headers, key)
    assert query.status_code == 200 and query.json()["items"][0]["gmsfhm"] == key
    assert check.status_code == 200 and set(check.json()["items"]) == {"xm"}

    revoked = client.post(
        f"/api/v1/systems/{system['id']}/credentials/{issued.json()['id']}/revoke", headers=officer
    )
    assert revoked.status_code == 200, revoked.text
    for answer in _lookups(client, shared_code, headers, key):
        assert_problem(answer, 401, "invalid-token")


def test_lookups_without_a_credential_or_without_the_right_are_refused(client, as_user, shared_code, system):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"], modes=["query", "verify"])
    key = people(1)[0]["gmsfhm"]
    for headers in ({}, {"Authorization": "Bearer gds_forged"}):
        for answer in _lookups(client, shared_code, headers, key):
            assert answer.status_code == 401, answer.text
    # an auditor holds no right to use sharing services: 403 before anything is read, nothing logged
    for answer in _lookups(client, shared_code, as_user("auditor"), key):
        assert_problem(answer, 403)
    assert [c["caller"] for c in usage_of(client, as_user("dsj_officer"))] == []


def test_a_lookup_with_a_bad_paging_parameter_is_422(client, as_user, shared_code, system):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"])
    key = people(1)[0]["gmsfhm"]
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "many"}):
        answer = client.get(
            RECORDS.format(code=shared_code), params={"key": key, **params}, headers=system["headers"]
        )
        assert_problem(answer, 422)
    answer = client.get(
        RECORDS.format(code=shared_code), params={"key": key, "limit": 1}, headers=system["headers"]
    )
    assert answer.status_code == 200 and answer.json()["total"] == 1
