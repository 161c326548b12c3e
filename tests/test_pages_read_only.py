"""A GET of a page never writes (issue 11): every page of the app, opened with a browser session by the
authority (市大数据局) and by a department officer (市公安局), leaves every table of the metadata
database as it was — on a fresh store and on one holding published resources, batches, a base
library with a conflict and a quality problem; on both stores."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select

from govdata.core import clock
from govdata.models import metadata
from govdata.supervision import service as supervision
from tests.support.batches import csv_bytes, good_rows, upload
from tests.support.catalog import enterprises, population, publish
from tests.support.jobs import settle
from tests.support.pages import HTML, browser

USERS = ("dsj_officer", "ga_officer")

# What a page may write, each for a reason: the audit trail records every data access and every refused
# request (SEC-3), and its head (the chain's last link) moves with it. Nothing else: sessions record no
# last use (access_tokens has no such column); an application system's credential does
# (system_credentials.last_used_at), but pages are opened by people, never with a system's credential.
AUDITED_ON_READ: dict[str, str] = {
    "access.denied": "a refused request is evidence: a page the user may not open (403)",
    "aggregation.data.read": "a data access: the provider's records shown on a resource's data page",
    "library.records.read": "a data access: a record looked up on a base library's page",
}


def page_routes(app) -> list[str]:
    """The path templates of every page: the GET routes outside the API."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if (
            isinstance(route, APIRoute)
            and "GET" in (context.methods or ())
            and not context.path.startswith("/api/")
        ):
            found.append(context.path)
    return found


def fill(template: str, params: dict[str, str]) -> str | None:
    """The template with its parameters filled in, or None when one is not known."""
    names = re.findall(r"\{([^}:]+)(?::[^}]+)?\}", template)
    if any(name not in params for name in names):
        return None
    return re.sub(r"\{([^}:]+)(?::[^}]+)?\}", lambda m: params[m.group(1)], template)


def snapshot(engine) -> dict[str, dict[str, dict]]:
    """Every row of every table of the metadata database, keyed by its text."""
    with engine.connect() as conn:
        return {
            table.name: {repr(tuple(row)): dict(row._mapping) for row in conn.execute(select(table))}
            for table in metadata.sorted_tables
        }


def changes(before: dict[str, dict[str, dict]], after: dict[str, dict[str, dict]]) -> dict[str, str]:
    """The tables whose rows changed beyond what ``AUDITED_ON_READ`` allows, and how."""
    changed = {}
    for name in before:
        added = [after[name][k] for k in after[name].keys() - before[name].keys()]
        gone = before[name].keys() - after[name].keys()
        if name == "audit_events" and not gone:
            added = [row for row in added if row["action"] not in AUDITED_ON_READ]
        if name == "audit_head" and len(after["audit_events"]) > len(before["audit_events"]):
            continue  # the chain's head names its last event: checked through audit_events
        if added or gone:
            actions = [row["action"] for row in added] if name == "audit_events" else ""
            changed[name] = f"{len(gone)} rows gone, {len(added)} new or changed {actions}".strip()
    return changed


def walk(app, params: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Open every page whose parameters are known as each user; (what changed, the pages opened)."""
    clients = [browser(app, username) for username in USERS]  # logging in writes a session: before
    settle(app)
    paths = [p for p in (fill(t, params) for t in page_routes(app)) if p is not None]
    paths += [f"/libraries/{params['library_id']}?key={params['key']}"] if "key" in params else []
    before = snapshot(app.state.engine)
    shown = []
    for client in clients:
        for path in paths:
            response = client.get(path, headers=HTML, follow_redirects=False)
            assert response.status_code < 500, f"{path}: {response.status_code}"
            if response.status_code == 200:
                shown.append(path)
    settle(app)  # whatever a page may have queued has run, and shows
    return changes(before, snapshot(app.state.engine)), shown


def rs_department(client, headers) -> int:
    return client.get("/api/v1/me", headers=headers).json()["department_id"]


def share_application(client, headers, code: str, system_id: int) -> dict:
    """An application for base items of ``code``, granted on submission; the application."""
    today = clock.today()
    response = client.post(
        "/api/v1/applications",
        json={
            "resource_code": code,
            "system_id": system_id,
            "items": ["gmsfhm", "xm"],
            "purpose": "养老保险待遇资格认证",
            "scenario": "退休人员资格认证时核验身份",
            "period_start": today.isoformat(),
            "period_end": (today + timedelta(days=365)).isoformat(),
            "modes": ["query"],
        },
        headers=headers,
    )
    assert response.status_code == 201 and response.json()["grant_id"], response.text
    return response.json()


def test_pages_of_a_fresh_store_never_write(app, client):
    changed, shown = walk(app, {})
    assert not changed, f"opening pages changed tables: {changed}"
    assert {"/home", "/catalog", "/data", "/libraries"} <= set(shown)


def test_pages_showing_data_never_write(app, client, as_user, session):
    ga, rs, authority = as_user("ga_officer"), as_user("rs_officer"), as_user("dsj_officer")
    # 市公安局's 人口基础信息 with ten rows, and 市人社局's 参保人员信息 disagreeing on one birth date
    code = publish(client, as_user, "ga_officer", population())
    rows = good_rows(10)
    batch = upload(client, ga, code, csv_bytes(rows), policy="strict").json()
    insured = population(name="参保人员信息", summary="全市基本养老保险参保人员名册。", classification="201")
    insured["items"] = [insured["items"][i] for i in (0, 1, 3)]  # 公民身份号码, 姓名, 出生日期
    insured_code = publish(client, as_user, "rs_officer", insured)
    insured_rows = [[r[0], r[1], r[3]] for r in rows[5:]]
    insured_rows[0][2] = "1986-01-01"
    header = ["公民身份号码", "姓名", "出生日期"]
    assert upload(client, rs, insured_code, csv_bytes(insured_rows, header=header)).status_code == 201
    settle(app)
    # the 人口 library sourced from 市公安局, built: one conflict with 市人社局
    library = next(
        lib
        for lib in client.get("/api/v1/libraries", headers=authority).json()
        if lib["code"] == "population"
    )
    for element in ("姓名", "出生日期"):
        response = client.put(
            f"/api/v1/libraries/{library['id']}/fields/{quote(element)}",
            json={"source_resource_code": code},
            headers=authority,
        )
        assert response.status_code == 200, response.text
    assert client.post(f"/api/v1/libraries/{library['id']}/build", headers=authority).status_code == 200
    conflicts = client.get("/api/v1/conflicts", headers=authority).json()["items"]
    assert conflicts
    # a problem reported on the data, and a draft waiting for review
    problem = client.post(
        f"/api/v1/resources/{code}/quality-problems",
        json={"description": "姓名有误", "record_key": rows[0][0]},
        headers=as_user("rs_user"),
    )
    assert problem.status_code == 201, problem.text
    draft = client.post("/api/v1/resources", json=enterprises(), headers=as_user("scjg_officer")).json()
    assert client.post(
        f"/api/v1/resources/{draft['code']}/submit", headers=as_user("scjg_officer")
    ).is_success
    # 市人社局's system granted the base items at once (unconditional sharing)
    system = client.get(f"/api/v1/departments/{rs_department(client, rs)}/systems", headers=rs).json()[0]
    application = share_application(client, as_user("rs_user"), code, system["id"])
    # 市人社局 objects to a name the grant shows it (COR-1)
    objection = client.post(
        "/api/v1/objections",
        json={"resource_code": code, "key": rows[5][0], "items": {"xm": "陈新名"}, "reason": "户籍已更名"},
        headers=as_user("rs_user"),
    )
    assert objection.status_code == 201, objection.text
    # a rectification notice (SUP-2): a violation of 市人社局's, confirmed by the authority
    violation = supervision.record_violation(
        session,
        kind="application_overdue",
        department_id=rs_department(client, rs),
        object_type="application",
        object_id=application["id"],
        evidence={},
    )
    session.commit()
    assert client.post(f"/api/v1/violations/{violation}/confirm", headers=authority).status_code == 200
    notice = client.get("/api/v1/notices", headers=authority).json()["items"][0]
    # an information project filed by 市人社局 (PRJ-1), its pre-compiled catalog still to come
    project = client.post(
        "/api/v1/projects",
        json={"name": "社保经办系统升级", "department_id": rs_department(client, rs), "summary": "升级改造"},
        headers=rs,
    )
    assert project.status_code == 201, project.text

    params = {
        "code": code,
        "batch_id": str(batch["id"]),
        "library_id": str(library["id"]),
        "conflict_id": str(conflicts[0]["id"]),
        "application_id": str(application["id"]),
        "grant_id": str(application["grant_id"]),
        "objection_id": str(objection.json()["id"]),
        "notice_id": str(notice["id"]),
        "project_id": str(project.json()["id"]),
        "provider_id": str(rs_department(client, rs)),
        "fmt": "csv",  # downloads of a resource that is not open: 404, nothing counted
        "key": rows[5][0],
        "department_id": str(rs_department(client, rs)),
        "user_id": str(client.get("/api/v1/me", headers=rs).json()["id"]),
        "system_id": str(system["id"]),
        "filename": "default.toml",  # the policy's example and stored profile files
        "period": "2026",  # a scorecard period (SUP-3)
    }
    unfilled = [t for t in page_routes(app) if fill(t, params) is None]
    assert not unfilled, f"pages this test cannot open (name their parameters above): {unfilled}"
    changed, shown = walk(app, params)
    assert not changed, f"opening pages changed tables: {changed}"
    for path in (
        f"/catalog/r/{code}",
        f"/data/{code}",
        f"/quality/{code}",
        f"/conflicts/{conflicts[0]['id']}",
        f"/sharing/applications/{application['id']}",
        f"/sharing/grants/{application['grant_id']}",
        "/sharing/usage",
        f"/objections/{objection.json()['id']}",
    ):
        assert path in shown, path
