"""The 信息化项目 pages (PRJ-1, PRJ-2, NF-5): the list (a department its own, the authority all), the
filing form (choosing the department's unpublished resources as the pre-compiled catalog), and a
project's page with the review findings, the review form and the acceptance report. Which forms show
is asked of ``auth``; the services enforce it again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.core.auth import Actor, DbSession
from govdata.core.errors import NotFound, Problem
from govdata.core.labels import labels
from govdata.projects import service
from govdata.projects.auth import (
    PROJECT_READ,
    ProjectAcceptorActor,
    ProjectFiler,
    ProjectReader,
    ProjectReviewer,
    can_accept,
    can_file,
    can_review,
    sees_every_project,
)
from govdata.projects.enums import ProjectStatus
from govdata.projects.schemas import ProjectIn, ReviewIn
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

nav_item("信息化项目", "/projects", PROJECT_READ, order=75)

PAGE = "/projects"
PAGE_SIZE = 50
DONE = {
    "filed": "项目已申报，等待主管部门初审。",
    "approved": "项目已通过初审。",
    "refused": "项目未通过初审，已通知申报部门。",
    "accepted": "项目验收通过。",
    "not_accepted": "项目验收未通过，已标记为不予安排运维经费。",
}


def _digits(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 10 else None


@router.get("/projects")
def projects_page(
    request: Request,
    session: DbSession,
    actor: ProjectReader,
    status: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    status = status if status in ProjectStatus.__members__ else ""
    start = _digits(offset) or 0
    items, total = service.list_projects(session, actor, status=status or None, limit=PAGE_SIZE, offset=start)

    def link(new_offset: int) -> str:
        query = "&".join(p for p in (f"status={status}" if status else "", f"offset={new_offset}") if p)
        return f"{PAGE}?{query}"

    previous, following = offset_links(link, start, PAGE_SIZE, total)
    return render(
        request,
        "projects/index.html",
        actor,
        projects=service.project_views(session, actor, items),
        total=total,
        status=status,
        statuses=labels(ProjectStatus),
        sees_all=sees_every_project(actor),
        can_file=can_file(actor),
        previous=previous,
        next=following,
        local_time=local_time,
    )


def _new_page(
    request: Request,
    session: Session,
    actor: Actor,
    values: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
) -> Response:
    return render(
        request,
        "projects/new.html",
        actor,
        status_code=status_code,
        choices=service.pre_compiled_choices(session, actor),
        values=values or {"resource_codes": []},
        errors=errors or [],
    )


@router.get("/projects/new")
def new_project_page(request: Request, session: DbSession, actor: ProjectFiler) -> Response:
    return _new_page(request, session, actor)


@router.post("/projects/new")
def file_project(
    request: Request,
    session: DbSession,
    actor: ProjectFiler,
    name: Annotated[str, Form(max_length=200)] = "",
    summary: Annotated[str, Form(max_length=4000)] = "",
    budget: Annotated[str, Form(max_length=20)] = "",
    resource_codes: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006  (one per resource)
    builds_own_platform: Annotated[str, Form(max_length=1)] = "",
    period_start: Annotated[str, Form(max_length=10)] = "",
    period_end: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_same_origin(request)
    values = {
        "name": name,
        "summary": summary,
        "budget": budget.strip() or None,
        "resource_codes": resource_codes,
        "builds_own_platform": builds_own_platform == "1",
        "period_start": period_start or None,
        "period_end": period_end or None,
    }

    def action() -> str:
        data = parse_input(ProjectIn, {**values, "department_id": actor.department_id or 0})
        project = service.file_project(session, actor, data)
        return f"{PAGE}/{project.id}?done=filed"

    def show_error(exc: Problem) -> Response:
        return _new_page(request, session, actor, values, status_code=exc.status, errors=error_messages(exc))

    return form_action(request, session, action, show_error, gone=lambda exc: False)


def _project_page(
    request: Request,
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    status_code: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    project = service.get_project(session, actor, project_id)
    view = service.project_views(session, actor, [project], full=True)[0]
    acceptor = service.project_acceptor(session)
    return render(
        request,
        "projects/project.html",
        actor,
        status_code=status_code,
        project=view,
        findings=view["findings"] or {},
        acceptance=view["acceptance"],
        can_review=can_review(actor, project),
        can_accept=can_accept(actor, project, acceptor),
        acceptor=acceptor,
        done=DONE.get(done or ""),
        error=error,
        local_time=local_time,
    )


@router.get("/projects/{project_id}")
def project_page(
    request: Request,
    session: DbSession,
    actor: ProjectReader,
    project_id: int,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return _project_page(request, session, actor, project_id, done=done)


def _action(request: Request, session: Session, actor: Actor, project_id: int, run) -> Response:
    def action() -> str:
        status = run()
        return f"{PAGE}/{project_id}?done={status}"

    def show_error(exc: Problem) -> Response:
        error = "；".join(error_messages(exc))
        return _project_page(request, session, actor, project_id, status_code=exc.status, error=error)

    return form_action(
        request,
        session,
        action,
        show_error,
        gone=lambda exc: isinstance(exc, NotFound) and exc.detail.startswith("项目"),
    )


@router.post("/projects/{project_id}/review")
def review_project(
    request: Request,
    session: DbSession,
    actor: ProjectReviewer,
    project_id: int,
    decision: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> str:
        data = parse_input(ReviewIn, {"decision": decision, "reason": reason})
        return service.review(session, actor, project_id, data.decision, data.reason).status

    return _action(request, session, actor, project_id, run)


@router.post("/projects/{project_id}/acceptance")
def accept_project(
    request: Request,
    session: DbSession,
    actor: ProjectAcceptorActor,
    project_id: int,
    comment: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> str:
        service.accept(session, actor, project_id, comment)
        return service.get_project(session, actor, project_id).status

    return _action(request, session, actor, project_id, run)
