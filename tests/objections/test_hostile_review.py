"""What a hostile caller tries on objections (COR-1, COR-2, COR-4): values that are no values of any
item, item codes and values of absurd length, and two heads (or two officers) acting on the same
objection at once — on both stores."""

# ruff: noqa: F811  (the fixtures of tests.support, named as parameters)
from __future__ import annotations

import pytest

from govdata.core import clock
from govdata.core.auth import Actor, Role
from govdata.core.db import make_sessionmaker
from govdata.core.errors import Conflict
from govdata.objections import service
from govdata.objections.schemas import MAX_VALUE_CHARS, ExtendIn, ResolveIn
from tests.support.http import assert_problem
from tests.support.objections import BASE_ITEMS, TODAY, file, granted, objection_body, records  # noqa: F401
from tests.support.sharing import grant, shared_code, system  # noqa: F401


@pytest.fixture(autouse=True)
def logged_in(as_user) -> None:
    """Log everyone in at the real time: a token issued under a frozen clock would be expired after it."""
    for username in ("rs_user", "ga_officer", "ga_head"):
        as_user(username)


def post_raw(client, headers, code: str, key: str, items: str):
    body = f'{{"resource_code": "{code}", "key": "{key}", "items": {items}, "reason": "姓名有误"}}'
    return client.post(
        "/api/v1/objections", content=body, headers={**headers, "content-type": "application/json"}
    )


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_claimed_value_that_is_not_a_finite_number_is_refused_on_both_stores_COR1(
    client, as_user, shared_code, granted, records, number
):
    # JSON's NaN was stored as null on SQLite (the claim silently became "erase the name") and failed
    # in the database on PostgreSQL: it is no value of any item, and both stores now say so alike
    response = post_raw(client, as_user("rs_user"), shared_code, records[1]["gmsfhm"], f'{{"xm": {number}}}')
    assert_problem(response, 422)
    assert client.get("/api/v1/objections", headers=as_user("rs_user")).json()["total"] == 0


def test_item_codes_and_values_of_absurd_length_are_refused_before_anything_is_stored_COR1(
    client, as_user, shared_code, granted, records
):
    key = records[1]["gmsfhm"]
    long_code = post_raw(client, as_user("rs_user"), shared_code, key, f'{{"{"x" * 5000}": "a"}}')
    assert_problem(long_code, 422)
    huge = client.post(
        "/api/v1/objections",
        json=objection_body(shared_code, key, {"xm": "名" * (MAX_VALUE_CHARS + 1)}),
        headers=as_user("rs_user"),
    )
    assert_problem(huge, 422)
    assert client.get("/api/v1/objections", headers=as_user("rs_user")).json()["total"] == 0


@pytest.fixture
def filed(client, as_user, shared_code, system, records) -> dict:
    with clock.frozen(TODAY):
        grant(client, as_user, shared_code, system["id"], BASE_ITEMS)
        return file(client, as_user("rs_user"), shared_code, records[3]["gmsfhm"], {"xm": "陈新名"})


def provider_actor(filed: dict, role: Role, username: str) -> Actor:
    return Actor(kind="user", roles=frozenset({role}), username=username, department_id=filed["provider_id"])


def test_two_heads_extending_at_once_extend_only_once_COR2(client, as_user, filed, engine):
    # the second head read the objection before the first one's extension was committed
    stale = make_sessionmaker(engine)()
    try:
        with clock.frozen(TODAY):
            head = provider_actor(filed, Role.dept_head, "ga_head2")
            seen = service.get_objection(stale, head, filed["id"])  # held: the session keeps this copy
            assert seen.extended is False
            first = client.post(
                f"/api/v1/objections/{filed['id']}/extend",
                json={"reason": "需调取户籍档案", "working_days": 3},
                headers=as_user("ga_head"),
            )
            assert first.status_code == 200, first.text
            with pytest.raises(Conflict) as refused:
                service.extend(stale, head, filed["id"], ExtendIn(reason="还需更久", working_days=10))
        assert refused.value.slug == "already-extended"
    finally:
        stale.rollback()
        stale.close()
    body = client.get(f"/api/v1/objections/{filed['id']}", headers=as_user("ga_officer")).json()
    assert body["extension_days"] == 3 and body["extended_by"] == "ga_head"


def test_two_officers_answering_at_once_answer_only_once_COR4(client, as_user, filed, engine, settings):
    stale = make_sessionmaker(engine)()
    try:
        with clock.frozen(TODAY):
            officer = provider_actor(filed, Role.dept_officer, "ga_officer2")
            seen = service.get_objection(stale, officer, filed["id"])  # held: the session keeps this copy
            assert seen.status == "under_review"
            first = client.post(
                f"/api/v1/objections/{filed['id']}/resolve",
                json={"outcome": "rejected", "reason": "经核实户籍档案，原数据无误"},
                headers=as_user("ga_officer"),
            )
            assert first.status_code == 200, first.text
            with pytest.raises(Conflict):
                service.resolve(
                    stale,
                    officer,
                    None,
                    settings.data_dir,
                    filed["id"],
                    ResolveIn(outcome="rejected", reason="另一意见"),
                )
    finally:
        stale.rollback()
        stale.close()
    body = client.get(f"/api/v1/objections/{filed['id']}", headers=as_user("rs_user")).json()
    assert body["status"] == "rejected" and body["resolution_reason"] == "经核实户籍档案，原数据无误"
    inbox = client.get("/api/v1/notifications", headers=as_user("rs_user")).json()["items"]
    assert sum(n["kind"] == "objection.resolved" for n in inbox) == 1
