"""OPN-4: the public proposes datasets to open (or fresher data of an open one); the authority answers
within the profile's deadline (not statutory); demands and answers are public, their proposer is not;
overdue demands are shown — on both stores."""

from __future__ import annotations

from datetime import timedelta

from govdata.core import clock
from tests.support.http import assert_problem

DEMAND = {
    "title": "公交线路与站点数据",
    "description": "希望开放全市公交线路、站点坐标及首末班时间，用于出行服务应用。",
    "kind": "new_dataset",
}


def test_a_demand_is_public_without_its_proposer_and_the_authority_answers(client, as_user):
    citizen = as_user("citizen")
    assert_problem(client.post("/api/v1/demands", json=DEMAND), 401)
    assert_problem(client.post("/api/v1/demands", json=DEMAND, headers=as_user("rs_user")), 403)
    created = client.post("/api/v1/demands", json={**DEMAND, "department_id": 13}, headers=citizen)
    assert created.status_code == 201, created.text
    demand = created.json()
    assert demand["status"] == "pending" and demand["deadline"] and demand["deadline_statutory"] is False
    assert demand["mine"] is True

    listed = client.get("/api/v1/demands")  # anyone
    assert listed.status_code == 200 and listed.json()["total"] == 1
    shown = listed.json()["items"][0]
    assert shown["title"] == DEMAND["title"] and shown["mine"] is False
    assert not {"proposer", "proposer_id", "username"} & set(shown)
    assert "郑华" not in listed.text and "citizen" not in listed.text
    page = client.get("/demands")
    assert page.status_code == 200 and DEMAND["title"] in page.text and "郑华" not in page.text
    assert "非法定" in page.text

    # overdue once the deadline has passed, and shown so
    with clock.frozen(clock.today() + timedelta(days=40)):
        overdue = client.get("/api/v1/demands", params={"overdue": "true"}).json()
        assert overdue["total"] == 1 and overdue["items"][0]["overdue"] is True
    assert client.get("/api/v1/demands", params={"overdue": "true"}).json()["total"] == 0

    url = f"/api/v1/demands/{demand['id']}/answer"
    answer = {"answer": "已列入明年开放重点，交通运输局正在整理数据。", "outcome": "accepted"}
    assert_problem(client.post(url, json=answer, headers=citizen), 403)
    assert_problem(client.post(url, json=answer, headers=as_user("jt_officer")), 403)
    assert_problem(
        client.post("/api/v1/demands/999/answer", json=answer, headers=as_user("dsj_officer")), 404
    )
    assert_problem(
        client.post(url, json={**answer, "outcome": "opened"}, headers=as_user("dsj_officer")), 422
    )
    answered = client.post(url, json=answer, headers=as_user("dsj_officer"))
    assert answered.status_code == 200, answered.text
    assert answered.json()["outcome_label"] == "已采纳"
    assert_problem(client.post(url, json=answer, headers=as_user("dsj_officer")), 409, "already-answered")
    public = client.get("/api/v1/demands").json()["items"][0]
    assert public["answer"] == answer["answer"] and public["status"] == "answered"
    told = client.get("/api/v1/notifications", headers=citizen).json()["items"]
    assert any("开放需求已答复" in n["title"] for n in told)


def test_an_update_demand_names_an_open_dataset(client, as_user):
    citizen = as_user("citizen")
    missing = client.post("/api/v1/demands", json={**DEMAND, "kind": "update"}, headers=citizen)
    assert_problem(missing, 422)
    not_open = client.post(
        "/api/v1/demands", json={**DEMAND, "kind": "update", "dataset_code": "101/002000001"}, headers=citizen
    )
    assert_problem(not_open, 422)
    assert_problem(
        client.post("/api/v1/demands", json={**DEMAND, "department_id": 9999}, headers=citizen), 422
    )
