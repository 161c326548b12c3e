"""Pages of the workbench: the audit log as an auditor reads it (with export), the authority's
region-wide view, and department pages (#13 items 15 and 16).

Every page calls the workbench's services, which check the caller again and read the capabilities
through their services; bad filters are explained on the page in Chinese.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from govdata.catalog.enums import ResourceStatus, UpdateCycle
from govdata.core import files
from govdata.core.auth import ROLE_LABELS, DbSession, Role
from govdata.core.clock import today
from govdata.core.errors import InvalidInput, Problem
from govdata.core.labels import label, labels
from govdata.orgs import service as orgs
from govdata.orgs.models import OrgType
from govdata.platform import service as platform
from govdata.platform.auth import AUDIT_READ
from govdata.web import home_card, local_time, nav_item, offset_links, render, render_error
from govdata.workbench import audit_log, region
from govdata.workbench.auth import (
    DEPARTMENT_PAGE_READ,
    REGION_READ,
    AuditLogReader,
    DepartmentPageReader,
    RegionReader,
    reads_every_department,
)

router = APIRouter(include_in_schema=False)

nav_item("全域视图", "/region", REGION_READ, order=5)
nav_item("审计日志", "/audit", AUDIT_READ, order=100)

PAGE_SIZE = 50


BATCH_BADGES = {"queued": "info", "running": "info", "applied": "ok", "rejected": "warn", "failed": "error"}


def department_href(department_id: int) -> str:
    return f"/region/departments/{department_id}"


def data_href(code: str) -> str:
    return "/data/" + quote(code, safe="/")


def _helpers() -> dict[str, Any]:
    return {
        "local_time": local_time,
        "data_href": data_href,
        "quality_href": lambda code: "/quality/" + quote(code, safe="/"),
        "catalog_href": lambda code: "/catalog/r/" + quote(code, safe="/"),
        "department_href": department_href,
        "cycle_label": lambda value: label(UpdateCycle, value),
        "status_labels": labels(ResourceStatus),
        "batch_badges": BATCH_BADGES,
        "score": lambda value: "—" if value is None else f"{value:.1f}".rstrip("0").rstrip("."),
    }


# --- the audit log (SEC-3) ---------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(
    request: Request,
    session: DbSession,
    actor: AuditLogReader,
    action: Annotated[str, Query(max_length=100)] = "",
    person: Annotated[str, Query(max_length=128)] = "",
    department_id: Annotated[str, Query(max_length=12)] = "",
    since: Annotated[str, Query(max_length=20)] = "",
    until: Annotated[str, Query(max_length=20)] = "",
    object_type: Annotated[str, Query(max_length=64)] = "",
    object_id: Annotated[str, Query(max_length=128)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
    verify: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    raw = {
        "action": action,
        "person": person,
        "department_id": department_id,
        "since": since,
        "until": until,
        "object_type": object_type,
        "object_id": object_id,
    }
    error = None
    try:
        filters = audit_log.Filters.parse(**raw)
        rows, total = audit_log.read_log(session, actor, filters, limit=PAGE_SIZE, offset=offset)
    except InvalidInput as exc:
        error, filters, rows, total = exc.detail, audit_log.Filters(), [], 0
    query = filters.query()
    verification = platform.verify_audit(session, actor) if verify else None  # reads the whole chain

    def page_link(new_offset: int) -> str:
        return "/audit?" + urlencode({**query, "offset": new_offset})

    prev_link, next_link = offset_links(page_link, offset, PAGE_SIZE, total)
    object_filter = None
    if filters.object_type:
        shown = next((r.object for r in rows), None)
        name = shown.name if shown else filters.object_id
        kind = audit_log.OBJECT_TYPES.get(filters.object_type, "对象")
        rest = {k: v for k, v in query.items() if k not in ("object_type", "object_id")}
        object_filter = {
            "label": f"{kind} {name}",
            "clear": "/audit" + (f"?{urlencode(rest)}" if rest else ""),
        }
    return render(
        request,
        "workbench/audit.html",
        actor,
        rows=rows,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        filters=filters,
        query=query,
        error=error,
        object_filter=object_filter,
        action_choices=audit_log.action_choices(),
        people=audit_log.people_choices(session, actor),
        departments=sorted(orgs.department_names(session).items()),
        export_href=lambda fmt: "/audit/export?" + urlencode({**query, "format": fmt}),
        verification=verification,
        broken_at=local_time(verification.first_broken.get("at"), seconds=True)
        if verification and verification.first_broken and verification.first_broken.get("at")
        else "时间未知",
        prev_link=prev_link,
        next_link=next_link,
    )


@router.get("/audit/export")
def audit_export(
    request: Request,
    session: DbSession,
    actor: AuditLogReader,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "xlsx",
    action: Annotated[str, Query(max_length=100)] = "",
    person: Annotated[str, Query(max_length=128)] = "",
    department_id: Annotated[str, Query(max_length=12)] = "",
    since: Annotated[str, Query(max_length=20)] = "",
    until: Annotated[str, Query(max_length=20)] = "",
    object_type: Annotated[str, Query(max_length=64)] = "",
    object_id: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    """The events the filters select, as the page shows them, in a CSV or XLSX file."""
    try:
        filters = audit_log.Filters.parse(
            action=action,
            person=person,
            department_id=department_id,
            since=since,
            until=until,
            object_type=object_type,
            object_id=object_id,
        )
    except Problem as exc:
        return render_error(request, exc)
    content, count = audit_log.export(session, actor, filters, format=format)
    name = f"审计日志-{today().isoformat()}.{format}"
    return Response(
        content,
        media_type=files.XLSX_MEDIA_TYPE if format == "xlsx" else "text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f"attachment; filename=\"audit-log.{format}\"; filename*=UTF-8''{quote(name)}",
            "X-Event-Count": str(count),
        },
    )


# --- the region-wide view and department pages (SUP-5) -----------------------------------------------------


@router.get("/region")
def region_page(request: Request, session: DbSession, actor: RegionReader) -> Response:
    overview = region.region_overview(session, actor, request.app.state.store)
    return render(request, "workbench/region.html", actor, **overview, **_helpers())


@router.get("/region/departments/{department_id}")
def department_page(
    request: Request, session: DbSession, actor: DepartmentPageReader, department_id: int
) -> Response:
    try:
        page = region.department_page(session, actor, request.app.state.store, department_id)
    except Problem as exc:
        return render_error(request, exc)
    department = page["department"]
    role_names = {role.value: text for role, text in ROLE_LABELS.items()}
    return render(
        request,
        "workbench/department.html",
        actor,
        **page,
        org_type=label(OrgType, department.org_type),
        role_names=role_names,
        oversees=reads_every_department(actor),
        own=actor.department_id == department_id,
        can_compile=Role.dept_officer in actor.roles and actor.department_id == department_id,
        active_href="/region" if reads_every_department(actor) else "/home",
        **_helpers(),
    )


def _department_card(session, actor) -> dict | None:
    """On the home page of department staff: a link to their department's page."""
    if reads_every_department(actor) or actor.department_id is None or not actor.has(DEPARTMENT_PAGE_READ):
        return None
    name = orgs.department_names(session, [actor.department_id]).get(actor.department_id)
    return {"href": department_href(actor.department_id), "name": name}


home_card("workbench/_home_card.html", _department_card, order=5)
