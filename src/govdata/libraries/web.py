"""Pages of base libraries, data conflicts and department resource pools (AGG-8, CAT-13, QUA-3, NF-5).

Like the API, every page calls the services (``service``, ``conflicts``), which check the caller's
right and scope again; a refused or invalid action is shown on the page in Chinese. Which forms a page
offers is asked of the same rules in ``auth`` (``can_*``), never decided here.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.catalog.enums import Subject, UpdateCycle
from govdata.catalog.service import data_elements
from govdata.core.auth import Actor, DbSession
from govdata.core.errors import NotFound, Problem
from govdata.core.labels import labels
from govdata.libraries import conflicts, pools, service, sources
from govdata.libraries.auth import (
    CONFLICT_READ,
    LIBRARY_READ,
    POOL_READ,
    SOURCE_MANAGE,
    ConflictCommenter,
    ConflictDecider,
    ConflictEscalator,
    ConflictReader,
    ConflictResolver,
    LibraryManager,
    LibraryReader,
    PoolReader,
    SourceManager,
    can_comment,
    can_decide_conflict,
    can_define_libraries,
    can_edit_library,
    can_escalate,
    can_read_records,
    can_resolve,
    reads_every_pool,
    sees_every_conflict,
)
from govdata.libraries.models import CONFLICT_STATUS_LABELS, ConflictStatus, LibraryConflict
from govdata.libraries.schemas import CommentIn, DecideIn, EscalateIn, LibraryPatch, ResolveIn
from govdata.orgs import service as orgs
from govdata.web import (
    check_same_origin,
    error_messages,
    form_action,
    local_time,
    nav_item,
    offset_links,
    parse_input,
    render,
)

router = APIRouter(include_in_schema=False)

nav_item("一数一源", "/sources", SOURCE_MANAGE, order=58)
nav_item("基础库", "/libraries", LIBRARY_READ, order=60)
nav_item("数据冲突", "/conflicts", CONFLICT_READ, order=62)
nav_item("部门资源池", "/pool", POOL_READ, order=64)

PAGE_SIZE = 50
CYCLES = labels(UpdateCycle)
DONE = {
    "built": "已构建融合表。",
    "source": "已更新权威来源。",
    "lead": "已更新牵头部门。",
    "commented": "已发表协商意见。",
    "resolved": "各相关部门已确认同一值，冲突已协商一致办结。",
    "agreed": "已确认本部门同意采用的值；待其他相关部门确认同一值后办结。",
    "escalated": "已提交主管部门裁决。",
    "decided": "已记录裁决。",
    "designated": "已更新权威来源。",
    "stop": "已要求该部门停止重复采集、改为共享获取，并记入违规记录（部门可提出异议）。",
}


def _page(request: Request, template: str, actor: Actor, status_code: int = 200, **context: Any) -> Response:
    helpers = {"local_time": local_time, "status_labels": CONFLICT_STATUS_LABELS, "cycles": CYCLES}
    return render(request, template, actor, status_code=status_code, **helpers, **context)


def _departments(session: Session) -> list[dict[str, Any]]:
    """Every department (id, name), for a choice of department; never capped."""
    return [{"id": i, "name": name} for i, name in sorted(orgs.department_names(session).items())]


# --- base libraries ---------------------------------------------------------------------------------


@router.get("/libraries")
def libraries_page(request: Request, session: DbSession, actor: LibraryReader) -> Response:
    views = [service.library_view(session, lib) for lib in service.list_libraries(session, actor)]
    return _page(
        request, "libraries/list.html", actor, libraries=views, can_manage=can_define_libraries(actor)
    )


def _detail(
    request: Request,
    session: Session,
    actor: Actor,
    library_id: int,
    *,
    status_code: int = 200,
    error: str | None = None,
    key: str = "",
) -> Response:
    library = service.get_library(session, actor, library_id)
    view = service.library_view(session, library)
    can_read_data = can_read_records(actor, library)
    records = None
    record_error = None
    if key and can_read_data:
        try:
            records = service.library_records(
                session, actor, request.app.state.store, library_id, keys=[key], limit=1
            )
        except Problem as exc:
            record_error = exc.detail
    can_manage = can_edit_library(actor, library)
    departments = _departments(session) if can_manage else []
    done = request.query_params.get("done")
    return _page(
        request,
        "libraries/detail.html",
        actor,
        status_code=status_code,
        library=view,
        can_manage=can_manage,
        can_read_data=can_read_data,
        departments=departments,
        done=DONE.get(done or ""),
        build=dict(request.query_params) if done == "built" else None,
        error=error,
        key=key,
        records=records,
        record_error=record_error,
    )


@router.get("/libraries/{library_id}")
def library_page(
    request: Request,
    session: DbSession,
    actor: LibraryReader,
    library_id: int,
    key: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    return _detail(request, session, actor, library_id, key=key.strip())


def _library_action(request: Request, session: Session, actor: Actor, library_id: int, run) -> Response:
    def show_error(exc: Problem) -> Response:
        error = "；".join(error_messages(exc))
        return _detail(request, session, actor, library_id, status_code=exc.status, error=error)

    return form_action(
        request,
        session,
        lambda: f"/libraries/{library_id}?{run()}",
        show_error,
        gone=lambda exc: isinstance(exc, NotFound) and exc.detail.startswith("基础库"),
    )


@router.post("/libraries/{library_id}/build")
def build_library(request: Request, session: DbSession, actor: LibraryManager, library_id: int) -> Response:
    check_same_origin(request)

    def run() -> str:
        report = service.build_library(session, actor, request.app.state.store, library_id)
        return urlencode(
            {
                "done": "built",
                "rows": report["rows"],
                "new": report["conflicts_new"],
                "open": report["conflicts_still_open"],
                "closed": report["conflicts_closed"],
                "skipped": len(report["skipped"]),
            }
        )

    return _library_action(request, session, actor, library_id, run)


@router.post("/libraries/{library_id}/fields")
def set_field_source(
    request: Request,
    session: DbSession,
    actor: LibraryManager,
    library_id: int,
    element: Annotated[str, Form(max_length=100)] = "",
    source_resource_code: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> str:
        service.set_field_source(
            session, actor, library_id, element.strip(), source_resource_code.strip() or None
        )
        return "done=source"

    return _library_action(request, session, actor, library_id, run)


@router.post("/libraries/{library_id}/lead")
def set_lead(
    request: Request,
    session: DbSession,
    actor: LibraryManager,
    library_id: int,
    lead_department_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> str:
        lead = int(lead_department_id) if lead_department_id.strip().isdigit() else None
        service.update_library(session, actor, library_id, LibraryPatch(lead_department_id=lead))
        return "done=lead"

    return _library_action(request, session, actor, library_id, run)


# --- conflicts -----------------------------------------------------------------------------------


def _actions(actor: Actor, conflict: LibraryConflict) -> dict[str, bool]:
    """Which forms the caller is offered: the rules the services enforce."""
    return {
        "comment": can_comment(actor, conflict),
        "resolve": can_resolve(actor, conflict),
        "escalate": can_escalate(actor, conflict),
        "decide": can_decide_conflict(actor, conflict),
    }


@router.get("/conflicts")
def conflicts_page(
    request: Request,
    session: DbSession,
    actor: ConflictReader,
    status: Annotated[str, Query(max_length=20)] = "",
    library_id: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    status = status if status in ConflictStatus.__members__ else ""
    library = int(library_id) if library_id.isdigit() else None
    items, total = conflicts.list_conflicts(
        session, actor, status=status or None, library_id=library, limit=PAGE_SIZE, offset=offset
    )
    libraries = service.list_libraries(session, actor) if actor.has(LIBRARY_READ) else []

    def link(new_offset: int) -> str:
        query = {k: v for k, v in {"status": status, "library_id": library_id}.items() if v}
        if new_offset:
            query["offset"] = str(new_offset)
        return "/conflicts" + (f"?{urlencode(query)}" if query else "")

    previous, following = offset_links(link, offset, PAGE_SIZE, total)
    return _page(
        request,
        "libraries/conflicts.html",
        actor,
        conflicts=[{**conflicts.conflict_view(c), "actions": _actions(actor, c)} for c in items],
        total=total,
        status=status,
        library_id=library,
        libraries=libraries,
        is_authority=sees_every_conflict(actor),
        previous=previous,
        next=following,
    )


def _conflict_page(
    request: Request,
    session: Session,
    actor: Actor,
    conflict_id: int,
    *,
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    conflict = conflicts.get_conflict(session, actor, conflict_id)
    view = conflicts.conflict_view(conflict)
    actions = _actions(actor, conflict)
    return _page(
        request,
        "libraries/conflict.html",
        actor,
        status_code=status_code,
        conflict=view,
        actions=actions,
        done=DONE.get(request.query_params.get("done") or ""),
        error=error,
        form=form or {},
    )


@router.get("/conflicts/{conflict_id}")
def conflict_page(request: Request, session: DbSession, actor: ConflictReader, conflict_id: int) -> Response:
    return _conflict_page(request, session, actor, conflict_id)


def _conflict_action(
    request: Request, session: Session, actor: Actor, conflict_id: int, run, done: str, form: dict[str, str]
) -> Response:
    """``run()`` may return the ``done`` message key itself (an agreement awaiting the other party)."""

    def action() -> str:
        return f"/conflicts/{conflict_id}?done={run() or done}"

    def show_error(exc: Problem) -> Response:
        error = "；".join(error_messages(exc))
        return _conflict_page(
            request, session, actor, conflict_id, status_code=exc.status, error=error, form=form
        )

    return form_action(request, session, action, show_error)


@router.post("/conflicts/{conflict_id}/comment")
def comment_conflict(
    request: Request,
    session: DbSession,
    actor: ConflictCommenter,
    conflict_id: int,
    comment: Annotated[str, Form(max_length=4000)] = "",
    proposed_value: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> None:
        data = parse_input(CommentIn, {"comment": comment, "proposed_value": proposed_value.strip() or None})
        conflicts.comment(session, actor, conflict_id, data)

    form = {"comment": comment, "proposed_value": proposed_value}
    return _conflict_action(request, session, actor, conflict_id, run, "commented", form)


@router.post("/conflicts/{conflict_id}/resolve")
def resolve_conflict(
    request: Request,
    session: DbSession,
    actor: ConflictResolver,
    conflict_id: int,
    value: Annotated[str, Form(max_length=1000)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> str:
        data = parse_input(ResolveIn, {"value": value, "note": note})
        conflict = conflicts.resolve(session, actor, conflict_id, data)
        return "resolved" if conflict.status == ConflictStatus.resolved else "agreed"

    return _conflict_action(
        request, session, actor, conflict_id, run, "resolved", {"resolve_value": value, "note": note}
    )


@router.post("/conflicts/{conflict_id}/escalate")
def escalate_conflict(
    request: Request,
    session: DbSession,
    actor: ConflictEscalator,
    conflict_id: int,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> None:
        conflicts.escalate(session, actor, conflict_id, parse_input(EscalateIn, {"reason": reason}))

    return _conflict_action(request, session, actor, conflict_id, run, "escalated", {"reason": reason})


@router.post("/conflicts/{conflict_id}/decide")
def decide_conflict(
    request: Request,
    session: DbSession,
    actor: ConflictDecider,
    conflict_id: int,
    value: Annotated[str, Form(max_length=1000)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> None:
        conflicts.decide(
            session, actor, conflict_id, parse_input(DecideIn, {"value": value, "reason": reason})
        )

    return _conflict_action(
        request, session, actor, conflict_id, run, "decided", {"decide_value": value, "decide_reason": reason}
    )


# --- department resource pools --------------------------------------------------------------------


@router.get("/pool")
def pool_page(
    request: Request,
    session: DbSession,
    actor: PoolReader,
    department_id: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    if reads_every_pool(actor):
        departments = _departments(session)
    else:  # the caller's department and its subordinate units, when it has any
        units = pools.units_of(session, actor.department_id)
        names = orgs.department_names(session, units)
        departments = [{"id": u, "name": names.get(u, str(u))} for u in units] if len(units) > 1 else []
    chosen = int(department_id) if department_id.isdigit() else actor.department_id
    pool = None
    error = None
    status_code = 200
    if chosen is not None:
        try:
            pool = pools.department_pool(session, actor, request.app.state.store, chosen)
        except Problem as exc:
            if exc.status not in (403, 404):
                raise
            error, status_code = exc.detail, exc.status
    return _page(
        request,
        "libraries/pool.html",
        actor,
        status_code=status_code,
        pool=pool,
        error=error,
        departments=departments,
        chosen=chosen,
    )


# --- one number, one source (CAT-9) ---------------------------------------------------------------


def _sources_page(
    request: Request, session: Session, actor: Actor, *, status_code: int = 200, error: str | None = None
) -> Response:
    groups = sources.duplicate_collections(session, actor)
    designated = sources.list_sources(session, actor)
    elements = [e for e in data_elements(session).values() if not e.key_kind]
    return _page(
        request,
        "libraries/sources.html",
        actor,
        status_code=status_code,
        groups=groups,
        designated=designated,
        elements=elements,
        subjects=Subject.choices(),
        done=DONE.get(request.query_params.get("done") or ""),
        error=error,
    )


@router.get("/sources")
def sources_page(request: Request, session: DbSession, actor: SourceManager) -> Response:
    return _sources_page(request, session, actor)


def _sources_action(request: Request, session: Session, actor: Actor, run, done: str) -> Response:
    def action() -> str:
        run()
        return f"/sources?done={done}"

    def show_error(exc: Problem) -> Response:
        error = "；".join(error_messages(exc))
        return _sources_page(request, session, actor, status_code=exc.status, error=error)

    return form_action(request, session, action, show_error, gone=lambda exc: False)


@router.post("/sources/designate")
def designate_source(
    request: Request,
    session: DbSession,
    actor: SourceManager,
    element: Annotated[str, Form(max_length=100)] = "",
    subject: Annotated[str, Form(max_length=32)] = "",
    resource_code: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> None:
        sources.designate(session, actor, element.strip(), subject, resource_code.strip() or None, note)

    return _sources_action(request, session, actor, run, "designated")


@router.post("/sources/stop")
def request_stop(
    request: Request,
    session: DbSession,
    actor: SourceManager,
    resource_code: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_same_origin(request)
    return _sources_action(
        request, session, actor, lambda: sources.request_stop(session, actor, resource_code), "stop"
    )
