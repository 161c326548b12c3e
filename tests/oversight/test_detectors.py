"""SUP-2 the violation detectors above the capabilities, on both stores: each kind is recorded from a
scenario that causes it and not from one that does not, through the capabilities' facts, and finding
the same fact again records nothing new."""

from __future__ import annotations

import datetime as dt

from govdata.core import clock
from govdata.oversight import detectors
from govdata.sharing import usage
from govdata.supervision import service as supervision
from tests.support.sharing import grant, people

DEMAND = {
    "title": "低保家庭成员信息",
    "description": "需要低保家庭成员的身份号码与保障类别",
    "purpose": "办理教育救助时核对家庭经济状况",
    "legal_basis": "《社会救助暂行办法》",
}


def kinds_about(session, object_type: str, object_id: object) -> list[str]:
    return [v.kind for v in supervision.violations_about(session, object_type, object_id)]


def department_of(client, headers) -> int:
    return client.get("/api/v1/me", headers=headers).json()["department_id"]


def test_catalog_not_compiled_and_catalog_update_late(client, as_user, session):
    authority, consumer = as_user("dsj_officer"), as_user("rs_user")
    ga = department_of(client, as_user("ga_officer"))
    # an event recorded late opens a task already overdue; one of today does not
    tasks = []
    for day in ("2026-01-05", clock.today().isoformat()):
        body = {"kind": "law_revised", "title": f"条例修订 {day}", "department_ids": [ga], "date": day}
        created = client.post("/api/v1/catalog/events", json=body, headers=authority)
        assert created.status_code == 201, created.text
        tasks.append(created.json()["tasks"][0]["id"])
    # two demands assigned to 市公安局: one answered in time, one never
    demands = []
    for title in ("低保家庭成员信息", "残疾人家庭成员信息"):
        demand = client.post(
            "/api/v1/share-demands", json={**DEMAND, "title": title}, headers=consumer
        ).json()
        assigned = client.post(
            f"/api/v1/share-demands/{demand['id']}/assign", json={"provider_id": ga}, headers=authority
        )
        demands.append(assigned.json())
    answered = client.post(
        f"/api/v1/share-demands/{demands[0]['id']}/answer",
        json={"reason": "本部门不掌握该数据"},
        headers=as_user("ga_officer"),
    )
    assert answered.status_code == 200, answered.text

    assert detectors.catalog_update_late(session) == 1
    assert detectors.catalog_not_compiled(session) == 0  # not due yet
    session.commit()
    assert kinds_about(session, "catalog_task", tasks[0]) == ["catalog_update_late"]
    assert kinds_about(session, "catalog_task", tasks[1]) == []

    after = dt.date.fromisoformat(demands[1]["deadline"]) + dt.timedelta(days=1)
    with clock.frozen(after):
        assert detectors.catalog_not_compiled(session) == 1
        assert detectors.catalog_not_compiled(session) == 0  # the same fact records once
    session.commit()
    (violation,) = supervision.violations_about(session, "demand", demands[1]["id"])
    assert violation.kind == "catalog_not_compiled" and violation.department_id == ga
    assert kinds_about(session, "demand", demands[0]["id"]) == []


def test_aggregation_late_inconsistent_and_use_outside_grant(client, as_user, session, shared_code, system):
    officer = as_user("ga_officer")
    ga = department_of(client, officer)
    # a batch declaring 3 source rows that delivers 2 disagrees; one declaring 2 agrees
    bad = client.post(
        f"/api/v1/resources/{shared_code}/batches",
        json={"mode": "upsert", "policy": "strict", "records": people(2, start=30), "source_rows": 3},
        headers=officer,
    ).json()
    good = client.post(
        f"/api/v1/resources/{shared_code}/batches",
        json={"mode": "upsert", "policy": "strict", "records": people(2, start=40), "source_rows": 2},
        headers=officer,
    ).json()
    assert bad["reconciliation"] == "mismatch" and good["reconciliation"] == "ok"
    # a call outside the grant (an item not granted) is refused and logged; one inside is answered
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"])
    url = f"/api/v1/share/{shared_code}/records"
    key = people(1, start=3)[0]["gmsfhm"]
    assert client.get(url, params={"key": key}, headers=system["headers"]).status_code == 200
    outside = client.get(url, params={"key": key, "hjdz": "x"}, headers=system["headers"])
    assert outside.status_code == 403
    assert client.get(url, params={"key": key}, headers=officer).status_code == 200  # the provider's own
    usage.flush()

    assert detectors.aggregation_inconsistent(session) == 1
    assert detectors.aggregation_late(session) == 0  # a daily resource loaded just now
    assert detectors.use_outside_grant(session) == 1
    assert detectors.use_outside_grant(session) == 0
    session.commit()
    assert kinds_about(session, "batch", bad["id"]) == ["aggregation_inconsistent"]
    assert kinds_about(session, "batch", good["id"]) == []
    usage_id = f"{system['department_id']}/{shared_code}/{clock.today().isoformat()}"
    (misuse,) = supervision.violations_about(session, "usage", usage_id)
    assert misuse.kind == "use_outside_grant" and misuse.department_id == system["department_id"]

    with clock.frozen(clock.now() + dt.timedelta(days=3)):
        assert detectors.aggregation_late(session) == 1  # daily: due a day after the last batch
        assert detectors.aggregation_late(session) == 0
    session.commit()
    due = (clock.today() + dt.timedelta(days=1)).isoformat()
    late = supervision.violations_about(session, "resource", f"{shared_code}@{due}")
    assert [v.kind for v in late] == ["aggregation_late"] and late[0].department_id == ga
