"""Routes of information projects (SPEC §15 information projects, PRJ-1, PRJ-2)."""

from __future__ import annotations

from fastapi import APIRouter

from govdata.core.auth import DbSession
from govdata.core.schemas import ApiRoute, Page, PagingParams
from govdata.projects import service
from govdata.projects.auth import ProjectAcceptorActor, ProjectFiler, ProjectReader, ProjectReviewer
from govdata.projects.enums import ProjectStatus
from govdata.projects.schemas import AcceptanceIn, AcceptanceOut, ProjectIn, ProjectOut, ReviewIn

router = APIRouter(prefix="/api/v1", tags=["政务信息化项目"], route_class=ApiRoute)


def _one(session, actor, project) -> ProjectOut:
    return ProjectOut(**service.project_views(session, actor, [project], full=True)[0])


@router.get("/projects", response_model=Page[ProjectOut], summary="政务信息化项目（部门只看本部门的）")
def list_projects(
    session: DbSession,
    actor: ProjectReader,
    paging: PagingParams,
    status: ProjectStatus | None = None,
    department_id: int | None = None,
) -> Page[ProjectOut]:
    items, total = service.list_projects(
        session, actor, status=status, department_id=department_id, limit=paging.limit, offset=paging.offset
    )
    return Page(items=[ProjectOut(**v) for v in service.project_views(session, actor, items)], total=total)


@router.post(
    "/projects", response_model=ProjectOut, status_code=201, summary="申报项目（附预编目录，部门目录管理员）"
)
def file_project(session: DbSession, actor: ProjectFiler, body: ProjectIn) -> ProjectOut:
    return _one(session, actor, service.file_project(session, actor, body))


@router.get("/projects/{project_id}", response_model=ProjectOut, summary="项目详情（含初审发现与验收报告）")
def read_project(session: DbSession, actor: ProjectReader, project_id: int) -> ProjectOut:
    return _one(session, actor, service.get_project(session, actor, project_id))


@router.post("/projects/{project_id}/review", response_model=ProjectOut, summary="初审（主管部门）")
def review_project(session: DbSession, actor: ProjectReviewer, project_id: int, body: ReviewIn) -> ProjectOut:
    return _one(session, actor, service.review(session, actor, project_id, body.decision, body.reason))


@router.post(
    "/projects/{project_id}/acceptance",
    response_model=AcceptanceOut,
    summary="验收（按策略：建设单位报主管部门备案，或审批部门）",
)
def accept_project(
    session: DbSession, actor: ProjectAcceptorActor, project_id: int, body: AcceptanceIn | None = None
) -> AcceptanceOut:
    row = service.accept(session, actor, project_id, body.comment if body else None)
    project = service.get_project(session, actor, project_id)
    return AcceptanceOut(**service.acceptance_view(project, row))
