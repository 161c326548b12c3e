"""Share demands (共享需求, issue 14): data the catalog does not list, assigned by the authority to a
provider with the profile's (non-statutory) deadline, answered with a catalog entry or a reason."""

from __future__ import annotations

import datetime as dt

from govdata.core import clock
from tests.support.catalog import population, publish
from tests.support.http import assert_problem, login

DEMAND = {
    "title": "低保家庭成员信息",
    "description": "需要低保家庭成员的身份号码与保障类别",
    "purpose": "办理教育救助时核对家庭经济状况",
    "legal_basis": "《社会救助暂行办法》",
}


def department_id(client, headers) -> int:
    return client.get("/api/v1/me", headers=headers).json()["department_id"]


def test_demand_assigned_with_a_deadline_and_answered_with_a_catalog_entry(client, as_user):
    consumer, authority, provider = as_user("rs_user"), as_user("dsj_officer"), as_user("ga_officer")
    created = client.post("/api/v1/share-demands", json=DEMAND, headers=consumer)
    assert created.status_code == 201 and created.json()["status"] == "submitted"
    demand = created.json()["id"]
    inbox = client.get("/api/v1/notifications", headers=authority).json()["items"]
    assert any(n["kind"] == "demand.submitted" and n["object_id"] == str(demand) for n in inbox)
    # only the authority assigns; the deadline is the profile's own, not statutory
    assign = {"provider_id": department_id(client, provider), "note": "公安局掌握户籍成员信息"}
    assert_problem(client.post(f"/api/v1/share-demands/{demand}/assign", json=assign, headers=consumer), 403)
    assigned = client.post(f"/api/v1/share-demands/{demand}/assign", json=assign, headers=authority).json()
    assert (
        assigned["status"] == "assigned" and assigned["deadline"] and assigned["deadline_statutory"] is False
    )
    assert_problem(client.post(f"/api/v1/share-demands/{demand}/assign", json=assign, headers=authority), 409)
    # a third department does not see it; another department cannot answer
    assert client.get(f"/api/v1/share-demands/{demand}", headers=as_user("wj_user")).status_code == 404
    assert_problem(
        client.post(
            f"/api/v1/share-demands/{demand}/answer", json={"reason": "x"}, headers=as_user("rs_officer")
        ),
        403,
    )
    assert_problem(client.post(f"/api/v1/share-demands/{demand}/answer", json={}, headers=provider), 422)
    code = publish(client, as_user, "ga_officer", population(name="低保家庭户籍成员信息"))
    answered = client.post(
        f"/api/v1/share-demands/{demand}/answer", json={"resource_code": code}, headers=provider
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "fulfilled" and answered.json()["resource_code"] == code
    assert answered.json()["late"] is False
    consumer_inbox = client.get("/api/v1/notifications", headers=consumer).json()["items"]
    assert any(n["kind"] == "demand.answered" for n in consumer_inbox)


def test_a_late_refusal_is_marked_late(client, as_user):
    consumer, authority, provider = as_user("rs_user"), as_user("dsj_officer"), as_user("ga_officer")
    demand = client.post("/api/v1/share-demands", json=DEMAND, headers=consumer).json()["id"]
    assign = {"provider_id": department_id(client, provider)}
    deadline = client.post(f"/api/v1/share-demands/{demand}/assign", json=assign, headers=authority).json()[
        "deadline"
    ]
    with clock.frozen(dt.date.fromisoformat(deadline) + dt.timedelta(days=1)):
        later = login(client, "ga_officer")  # a token of that day
        refused = client.post(
            f"/api/v1/share-demands/{demand}/answer", json={"reason": "本部门不掌握该数据"}, headers=later
        )
    assert (
        refused.status_code == 200
        and refused.json()["status"] == "refused"
        and refused.json()["late"] is True
    )
    listed = client.get("/api/v1/share-demands?status=refused", headers=consumer).json()
    assert [d["id"] for d in listed["items"]] == [demand]
