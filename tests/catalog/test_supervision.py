"""CAT-7 (update events and tasks), CAT-8 (responsibility lists); CAT-9 (duplicate collection) is in
tests/libraries/test_sources.py."""

from __future__ import annotations

from datetime import date, timedelta

from govdata.core import clock
from tests.support.catalog import create, enterprises, population
from tests.support.http import assert_problem


def dept_id(client, headers, name: str) -> int:
    return next(
        d["id"]
        for d in client.get("/api/v1/departments?limit=100", headers=headers).json()["items"]
        if d["name"] == name
    )


def publish_as(client, as_user, officer: str, body: dict) -> str:
    code = create(client, as_user(officer), body)["code"]
    client.post(f"/api/v1/resources/{code}/submit", headers=as_user(officer))
    assert client.post(f"/api/v1/resources/{code}/publish", headers=as_user("dsj_officer")).status_code == 200
    return code


def test_an_event_opens_update_tasks_due_in_fifteen_working_days(client, as_user):
    authority = as_user("dsj_officer")
    scjg = dept_id(client, authority, "焦作市市场监督管理局")
    event = client.post(
        "/api/v1/catalog/events",
        json={
            "kind": "law_revised",
            "title": "《河南省市场主体登记条例》修订",
            "department_ids": [scjg],
            "date": "2026-09-25",
        },
        headers=authority,
    )
    assert event.status_code == 201, event.text
    task = event.json()["tasks"][0]
    # 15 working days after 2026-09-25, across the National Day holiday (10-10 is a working Saturday)
    assert task["deadline"] == "2026-10-22" and task["deadline_provisional"] is False
    assert task["department_name"] == "焦作市市场监督管理局"
    # recorded late: the task is already overdue
    assert task["overdue"] is True and task["status"] == "open"

    tasks = client.get("/api/v1/catalog/tasks", headers=as_user("scjg_officer")).json()
    assert tasks["total"] == 1
    assert_problem(
        client.get(f"/api/v1/catalog/tasks?department_id={scjg}", headers=as_user("ga_officer")), 403
    )
    assert client.get("/api/v1/catalog/tasks", headers=as_user("ga_officer")).json()["total"] == 0

    assert_problem(
        client.post(
            f"/api/v1/catalog/tasks/{task['id']}/complete", json={"note": "x"}, headers=as_user("ga_officer")
        ),
        404,
    )
    done = client.post(
        f"/api/v1/catalog/tasks/{task['id']}/complete",
        json={"note": "已修订企业登记信息"},
        headers=as_user("scjg_officer"),
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert_problem(
        client.post(
            f"/api/v1/catalog/tasks/{task['id']}/complete",
            json={"note": "again"},
            headers=as_user("scjg_officer"),
        ),
        409,
    )


def test_events_are_for_the_authority_and_checked(client, as_user):
    body = {"kind": "functions_changed", "title": "机构改革", "department_ids": [1], "date": "2026-11-02"}
    assert_problem(client.post("/api/v1/catalog/events", json=body, headers=as_user("ga_officer")), 403)
    assert_problem(
        client.post(
            "/api/v1/catalog/events", json={**body, "department_ids": [9999]}, headers=as_user("dsj_officer")
        ),
        422,
    )
    assert_problem(
        client.post(
            "/api/v1/catalog/events", json={**body, "kind": "weather"}, headers=as_user("dsj_officer")
        ),
        422,
    )
    future = (clock.today() + timedelta(days=3)).isoformat()
    assert_problem(
        client.post("/api/v1/catalog/events", json={**body, "date": future}, headers=as_user("dsj_officer")),
        422,
    )


def test_provisional_task_deadlines_follow_an_imported_schedule(client, as_user, session):
    with clock.frozen(date(2027, 1, 5)):
        authority = as_user("dsj_officer")
        gongan = dept_id(client, authority, "焦作市公安局")
        body = {
            "kind": "resource_changed",
            "title": "户籍系统升级",
            "department_ids": [gongan],
            "date": "2026-12-28",
        }
        task = client.post("/api/v1/catalog/events", json=body, headers=authority).json()["tasks"][0]
        assert task["deadline_provisional"] is True  # 2027 has no published schedule yet
        before = task["deadline"]
        schedule = {
            "year": 2027,
            "holidays": ["2027-01-01"] + [f"2027-02-{d:02d}" for d in range(5, 12)],
            "workdays": ["2027-02-20"],
        }
        assert (
            client.post("/api/v1/calendar/years", json=schedule, headers=as_user("admin")).status_code == 201
        )
        after = client.get("/api/v1/catalog/tasks", headers=as_user("ga_officer")).json()["items"][0]
        assert after["deadline_provisional"] is False
        assert after["deadline"] > before  # New Year's Day is no longer counted as a working day


def test_responsibility_lists_follow_the_published_catalog(client, as_user):
    population_code = publish_as(client, as_user, "ga_officer", population())
    create(client, as_user("ga_officer"), population(name="暂住人口信息"))  # a draft: not a duty yet
    lists = client.get("/api/v1/catalog/responsibilities", headers=as_user("dsj_officer")).json()
    gongan = next(entry for entry in lists if entry["department_name"] == "焦作市公安局")
    assert [r["code"] for r in gongan["resources"]] == [population_code]
    assert gongan["resources"][0]["update_cycle"] == "daily"
    own = client.get("/api/v1/catalog/responsibilities", headers=as_user("ga_head")).json()
    assert [e["department_name"] for e in own] == ["焦作市公安局"]
    other = dept_id(client, as_user("ga_head"), "焦作市民政局")
    assert_problem(
        client.get(f"/api/v1/catalog/responsibilities?department_id={other}", headers=as_user("ga_head")), 403
    )


def test_enterprise_register_items_reference_the_dictionary(client, as_user):
    elements = {
        e["name"]: e for e in client.get("/api/v1/catalog/elements", headers=as_user("rs_user")).json()
    }
    for name in (
        "公民身份号码",
        "姓名",
        "性别",
        "出生日期",
        "统一社会信用代码",
        "单位名称",
        "法定代表人",
        "行政区划代码",
        "联系电话",
        "地址",
    ):
        assert name in elements
    assert elements["公民身份号码"]["key_kind"] == "ric" and elements["公民身份号码"]["length"] == 18
    body = enterprises()
    body["items"][0]["element"] = "不存在的数据元"
    problem = assert_problem(
        client.post("/api/v1/resources", json=body, headers=as_user("scjg_officer")), 422
    )
    assert "数据元" in problem["detail"]
    classes = {
        c["code"]: c["name"]
        for c in client.get("/api/v1/catalog/classifications", headers=as_user("rs_user")).json()
    }
    assert classes["101"] == "人口" and classes["212"] == "应急维稳"
    added = client.post(
        "/api/v1/catalog/classifications",
        json={"code": "30201", "name": "公安业务"},
        headers=as_user("dsj_officer"),
    )
    assert added.status_code == 201 and added.json()["parent_code"] == "3"
