"""SUP-5 dashboards, on both stores: the authority's figures, trends and worst overdue items match a
scenario built for them (a share application left unanswered past its deadline, one answered on time
and one granted at once, an objection never reviewed, violations in each state, a rectification notice
past its deadline, a catalog update task not done); each figure links to a list that shows the items it
counts; a department sees only its own to-do."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from govdata.core import clock
from govdata.supervision import service as supervision
from tests.support.objections import BASE_ITEMS, file
from tests.support.pages import HTML, browser, text
from tests.support.sharing import grant, people, shared_code, system  # noqa: F401  (fixtures)

DAY = dt.date(2026, 3, 2)  # a Monday: the scenario starts
LATER = dt.date(2026, 5, 11)  # a Monday: everything due in March is late


@pytest.fixture(autouse=True)
def logged_in(as_user) -> None:
    """Tokens issued at the real time stay valid under the earlier frozen dates."""
    for username in ("rs_user", "rs_officer", "ga_officer", "dsj_officer", "scjg_officer"):
        as_user(username)


def department_of(client, as_user, username: str) -> int:
    return client.get("/api/v1/me", headers=as_user(username)).json()["department_id"]


def apply(client, as_user, code: str, system_id: int) -> dict:
    body = {
        "resource_code": code,
        "system_id": system_id,
        "items": ["xm", "lxdh"],
        "purpose": "养老保险待遇资格认证",
        "scenario": "退休人员每年资格认证时核验身份",
        "legal_basis": "《社会保险法》第七十五条",
        "period_start": DAY.isoformat(),
        "period_end": (DAY + dt.timedelta(days=365)).isoformat(),
        "modes": ["query"],
    }
    response = client.post("/api/v1/applications", json=body, headers=as_user("rs_user"))
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def scenario(client, as_user, session, shared_code, system) -> dict:  # noqa: F811
    """What the dashboards must show at ``LATER`` (see the module)."""
    ga = department_of(client, as_user, "ga_officer")
    scjg = department_of(client, as_user, "scjg_officer")
    code = shared_code
    system_id = system["id"]
    authority = as_user("dsj_officer")
    with clock.frozen(DAY):
        granted = grant(client, as_user, code, system_id, BASE_ITEMS)  # at once: unconditional items
        key = people(20)[3]["gmsfhm"]
        objection = file(client, as_user("rs_user"), code, key, {"xm": "李改名"})  # never reviewed
        late = apply(client, as_user, code, system_id)  # never answered
        answered = apply(client, as_user, code, system_id)
        decided = client.post(
            f"/api/v1/applications/{answered['id']}/decision",
            json={"decision": "approve"},
            headers=as_user("ga_officer"),
        )
        assert decided.status_code == 200 and decided.json()["late"] is False
        event = client.post(
            "/api/v1/catalog/events",
            json={
                "kind": "functions_changed",
                "title": "市场监管职能调整",
                "department_ids": [scjg],
                "date": DAY.isoformat(),
            },
            headers=authority,
        )
        assert event.status_code in (200, 201), event.text
        # violations: one left detected (市公安局), one confirmed (市场监管局: a notice opens), one withdrawn
        detected = supervision.record_violation(
            session,
            kind="duplicate_collection",
            department_id=ga,
            object_type="resource",
            object_id="dash-1",
            evidence={},
        )
        confirmed = supervision.record_violation(
            session,
            kind="aggregation_late",
            department_id=scjg,
            object_type="resource",
            object_id="dash-2",
            evidence={},
        )
        withdrawn = supervision.record_violation(
            session,
            kind="aggregation_late",
            department_id=scjg,
            object_type="resource",
            object_id="dash-3",
            evidence={},
        )
        session.commit()
        assert client.post(f"/api/v1/violations/{confirmed}/confirm", headers=authority).status_code == 200
        assert (
            client.post(
                f"/api/v1/violations/{withdrawn}/withdraw",
                json={"reason": "数据已按期报送"},
                headers=authority,
            )
        ).status_code == 200
    notice = client.get(f"/api/v1/notices?department_id={scjg}", headers=authority).json()["items"][0]
    with clock.frozen(LATER):  # the application escalates and is recorded as a violation of 市公安局
        assert client.post("/api/v1/sharing/sweep", headers=authority).json()["escalated"] == 1
    overdue_violation = client.get("/api/v1/violations?kind=application_overdue", headers=authority).json()
    return {
        "ga": ga,
        "scjg": scjg,
        "late": late,
        "answered": answered,
        "granted": granted,
        "objection": objection,
        "detected": detected,
        "confirmed": confirmed,
        "withdrawn": withdrawn,
        "application_violation": overdue_violation["items"][0]["id"],
        "notice": notice,
        "task_title": "市场监管职能调整",
    }


def figure(page: str, key: str) -> tuple[str, str]:
    """The value shown by a figure of the dashboard and the address it links to."""
    found = re.search(rf'id="figure-{key}" href="([^"]*)"><span class="value">([^<]*)</span>', page)
    assert found, f"no figure {key}"
    return html.unescape(found.group(1)), found.group(2)


def number(shown: str) -> int:
    return int(shown.replace(",", "")) if shown.replace(",", "").isdigit() else 0


def test_the_authority_dashboard_counts_the_scenario_and_links_to_the_lists_behind(
    app, client, as_user, scenario
):
    web = browser(app, "dsj_officer")
    with clock.frozen(LATER):
        page = web.get("/evaluation/dashboard", headers=HTML)
    assert page.status_code == 200
    body = page.text
    assert "全域监督看板" in body
    # violations by state, each linking to the register filtered by that state
    assert figure(body, "violations_detected")[0] == "/supervision/violations?status=detected"
    assert figure(body, "violations_confirmed")[0] == "/supervision/violations?status=confirmed"
    assert figure(body, "notices_overdue")[0] == "/supervision/notices?overdue=1"
    with clock.frozen(LATER):
        listed = {
            key: web.get(figure(body, key)[0], headers=HTML).text
            for key in ("violations_detected", "violations_confirmed", "notices_open", "notices_overdue")
        }
        violations = client.get("/api/v1/violations?limit=200", headers=as_user("dsj_officer")).json()
        notices = client.get("/api/v1/notices?limit=200", headers=as_user("dsj_officer")).json()
    by_status: dict[str, int] = {}
    for v in violations["items"]:
        by_status[v["status"]] = by_status.get(v["status"], 0) + 1
    # the figures are the register's own counts (demo history included), and the scenario's are in them
    assert number(figure(body, "violations_detected")[1]) == by_status.get("detected", 0) >= 2
    assert number(figure(body, "violations_confirmed")[1]) == by_status.get("confirmed", 0) >= 1
    overdue = [n for n in notices["items"] if n["overdue"]]
    assert number(figure(body, "notices_overdue")[1]) == len(overdue) >= 1
    assert f'id="violation-{scenario["detected"]}"' in listed["violations_detected"]
    assert f'id="violation-{scenario["confirmed"]}"' not in listed["violations_detected"]
    assert f'id="violation-{scenario["confirmed"]}"' in listed["violations_confirmed"]
    # the departments with most violations awaiting rectification: a bar each, linking to its list
    waiting = {}
    for v in violations["items"]:
        if v["status"] == "confirmed":
            waiting[v["department_id"]] = waiting.get(v["department_id"], 0) + 1
    bars = body[body.index("已确认待整改违规最多的部门") :]
    for department_id in sorted(waiting, key=lambda d: -waiting[d])[:10]:
        link = html.escape(f"/supervision/violations?status=confirmed&department_id={department_id}")
        assert link in bars, department_id
    assert scenario["scjg"] in waiting
    assert f"/supervision/notices/{scenario['notice']['id']}" in listed["notices_open"]
    assert f"/supervision/notices/{scenario['notice']['id']}" in listed["notices_overdue"]
    assert f"共 {len(overdue)} 件" in text(listed["notices_overdue"])

    # applications this year: the scenario's three (the grant's, granted at once, among them)
    assert figure(body, "applications") == ("/sharing?tab=all", "3")
    assert figure(body, "on_time") == ("/sharing?tab=escalated", "66.7%")  # the late one missed
    assert "2/3 件按期答复" in body
    href = figure(body, "on_time")[0]
    with clock.frozen(LATER):
        escalated = web.get(href, headers=HTML).text
    assert f"/sharing/applications/{scenario['late']['id']}" in escalated

    # the worst overdue items: the application, the notice and the task, with the lists behind them
    worst = body.split('id="overdue"')[1].split("</section>")[0]
    assert f"/sharing/applications/{scenario['late']['id']}" in worst
    assert f"/supervision/notices/{scenario['notice']['id']}" in worst
    assert scenario["task_title"] in worst
    assert f"/objections/{scenario['objection']['id']}" in worst
    with clock.frozen(LATER):
        overdue_objections = web.get("/objections?tab=overdue", headers=HTML).text
    assert f"/objections/{scenario['objection']['id']}" in overdue_objections
    assert 'id="overdue-objection" href="/objections?tab=overdue"' in body
    lateness = [int(x) for x in re.findall(r'<td class="num"><span class="error">(\d+)</span>', worst)]
    assert lateness == sorted(lateness, reverse=True) and lateness[0] > 0
    # the application's deadline was in March: late by the working days since
    assert 'id="overdue-application" href="/sharing?tab=escalated"' in body

    # trends: the two applications were submitted in March 2026
    trends = body.split('id="trends"')[1]
    row = re.search(r"共享申请</a></th>((?:<td[^>]*>\d+</td>)+)", trends)
    assert row, "no applications row"
    months = [int(x) for x in re.findall(r">(\d+)</td>", row.group(1))]
    assert len(months) == 12 and months[-3] >= 2  # March of Jun–May: the 10th of twelve
    # the annual report download
    assert "/api/v1/reports/annual/2026?format=pdf" in body


def test_the_figures_follow_the_scenario_exactly(app, client, as_user, scenario):
    """The violation figures are the register's counts by state, the scenario's objects among them."""
    with clock.frozen(LATER):
        page = browser(app, "dsj_officer").get("/evaluation/dashboard", headers=HTML).text
    shown = {key: number(figure(page, key)[1]) for key in re.findall(r'id="figure-([a-z_]+)"', page)}
    authority = as_user("dsj_officer")
    with clock.frozen(LATER):
        states = client.get("/api/v1/violations?limit=500", headers=authority).json()["items"]
    mine = {v["id"]: v["status"] for v in states}
    assert mine[scenario["detected"]] == "detected"
    assert mine[scenario["application_violation"]] == "detected"
    assert mine[scenario["confirmed"]] == "confirmed"
    assert mine[scenario["withdrawn"]] == "withdrawn"
    assert shown["violations_detected"] == sum(1 for s in mine.values() if s == "detected")
    assert shown["violations_confirmed"] == sum(1 for s in mine.values() if s == "confirmed")
    assert shown["notices_open"] >= 1 and shown["notices_overdue"] >= 1


def test_a_department_sees_only_its_own_to_do(app, client, as_user, scenario):
    with clock.frozen(LATER):
        ga = browser(app, "ga_officer").get("/evaluation/dashboard", headers=HTML)
        scjg = browser(app, "scjg_officer").get("/evaluation/dashboard", headers=HTML)
    assert ga.status_code == 200 and scjg.status_code == 200
    assert "待办看板" in ga.text and "全域监督看板" not in ga.text
    # 市公安局: the application it never answered is its to-do; 市场监管局's notice and task are not
    assert f"/sharing/applications/{scenario['late']['id']}" in ga.text
    assert f"/supervision/notices/{scenario['notice']['id']}" not in ga.text
    assert scenario["task_title"] not in ga.text
    assert figure(ga.text, "applications_pending") == ("/sharing?tab=queue", "1")
    assert figure(ga.text, "notices_open")[1] == "0"
    assert figure(ga.text, "objections_pending") == ("/objections?tab=queue", "1")
    assert f"/objections/{scenario['objection']['id']}" in ga.text.split('id="objections"')[1]
    assert f"/objections/{scenario['objection']['id']}" not in scjg.text
    assert figure(ga.text, "violations_detected")[1] == "2"  # duplicate collection, the late answer
    # 市场监管局: its overdue notice and its late catalog task, not 市公安局's application
    assert f"/supervision/notices/{scenario['notice']['id']}" in scjg.text
    assert scenario["task_title"] in scjg.text
    assert f"/sharing/applications/{scenario['late']['id']}" not in scjg.text
    assert figure(scjg.text, "notices_overdue") == ("/supervision/notices?overdue=1", "1")
    assert figure(scjg.text, "tasks_overdue") == ("#tasks", "1")
    with clock.frozen(LATER):
        listed = browser(app, "scjg_officer").get("/supervision/notices?overdue=1", headers=HTML).text
    assert f"/supervision/notices/{scenario['notice']['id']}" in listed and "共 1 件" in text(listed)


def test_the_home_page_leads_to_the_dashboard_and_others_are_refused(app):
    for username in ("dsj_officer", "ga_officer"):
        home = browser(app, username).get("/home", headers=HTML).text
        assert 'href="/evaluation/dashboard"' in home
    refused = browser(app, "auditor").get("/evaluation/dashboard", headers=HTML)
    assert refused.status_code == 403 and "工作看板" not in text(refused.text).split("首页")[0]
