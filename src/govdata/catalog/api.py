"""Routes of the catalog (SPEC §15: resources, lifecycle, search, versions, events)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from govdata.catalog import events, service
from govdata.catalog.auth import (
    CatalogCompiler,
    CatalogManager,
    CatalogPublisher,
    CatalogReader,
    CatalogReviewer,
    TaskCompleter,
)
from govdata.catalog.schemas import (
    CatalogEventIn,
    CatalogEventOut,
    ClassificationIn,
    ClassificationOut,
    DataElementOut,
    LogEntryOut,
    ResourceIn,
    ResourceOut,
    ResourcePatch,
    ResourceSummary,
    ResponsibilityOut,
    RetireIn,
    ReturnIn,
    RevisionImpactOut,
    SearchFilters,
    SearchOut,
    TaskDoneIn,
    UpdateTaskOut,
    VersionOut,
)
from govdata.core.auth import DbSession
from govdata.core.schemas import ApiRoute, Page, PagingParams

router = APIRouter(prefix="/api/v1", tags=["目录"], route_class=ApiRoute)


def summary(resource) -> ResourceSummary:
    return ResourceSummary(
        code=resource.code,
        status=resource.status,
        version=resource.version,
        name=resource.name,
        summary=resource.summary,
        provider=resource.provider.name,
        provider_id=resource.provider_id,
        classification=resource.classification,
        format=resource.format,
        share_type=resource.share_type,
        open_type=resource.open_type,
        update_cycle=resource.update_cycle,
        grade=resource.grade,
        updated_at=resource.updated_at,
        published_at=resource.published_at,
    )


@router.get("/resources", response_model=SearchOut, summary="检索目录：关键词、筛选、分面、排序")
def search_resources(
    session: DbSession,
    actor: CatalogReader,
    paging: PagingParams,
    filters: SearchFilters,
) -> SearchOut:
    query = filters.to_query(limit=paging.limit, offset=paging.offset)
    result = service.search_resources(session, actor, query)
    return SearchOut(items=[summary(r) for r in result.items], total=result.total, facets=result.facets)


@router.post("/resources", response_model=ResourceOut, status_code=201, summary="新建资源（草稿）")
def create_resource(session: DbSession, actor: CatalogCompiler, body: ResourceIn) -> dict:
    resource, warnings = service.create_resource(session, actor, body)
    return service.resource_view(session, actor, resource, warnings)


@router.get(
    "/resources/{code:rcode}/versions", response_model=list[VersionOut], summary="资源的版本（含差异）"
)
def list_versions(session: DbSession, actor: CatalogReader, code: str) -> list[VersionOut]:
    return [
        VersionOut.model_validate(v, from_attributes=True)
        for v in service.list_versions(session, actor, code)
    ]


@router.get("/resources/{code:rcode}/versions/{number}", response_model=VersionOut, summary="资源的某一版本")
def read_version(session: DbSession, actor: CatalogReader, code: str, number: int) -> VersionOut:
    return VersionOut.model_validate(service.get_version(session, actor, code, number), from_attributes=True)


@router.get("/resources/{code:rcode}/log", response_model=list[LogEntryOut], summary="资源的处理记录")
def resource_log(session: DbSession, actor: CatalogReader, code: str) -> list[LogEntryOut]:
    return [LogEntryOut.model_validate(e) for e in service.resource_log(session, actor, code)]


@router.post("/resources/{code:rcode}/submit", response_model=ResourceOut, summary="提交审核")
def submit_resource(session: DbSession, actor: CatalogCompiler, code: str) -> dict:
    return service.resource_view(session, actor, service.submit_resource(session, actor, code))


@router.post("/resources/{code:rcode}/return", response_model=ResourceOut, summary="退回（附意见）")
def return_resource(session: DbSession, actor: CatalogReviewer, code: str, body: ReturnIn) -> dict:
    return service.resource_view(session, actor, service.return_resource(session, actor, code, body.comment))


@router.post("/resources/{code:rcode}/publish", response_model=ResourceOut, summary="发布")
def publish_resource(request: Request, session: DbSession, actor: CatalogPublisher, code: str) -> dict:
    store = request.app.state.store  # a revision that would change stored data needs a migration
    return service.resource_view(session, actor, service.publish_resource(session, actor, code, store=store))


@router.get(
    "/resources/{code:rcode}/revision/impact",
    response_model=RevisionImpactOut,
    summary="修订对已存数据的影响（发布前的试算）",
)
def revision_impact(request: Request, session: DbSession, actor: CatalogReader, code: str) -> dict:
    return service.revision_impact(session, actor, code, store=request.app.state.store)


@router.post("/resources/{code:rcode}/retire", response_model=ResourceOut, summary="停用")
def retire_resource(
    session: DbSession, actor: CatalogReviewer, code: str, body: RetireIn | None = None
) -> dict:
    reason = body.reason if body else None
    return service.resource_view(session, actor, service.retire_resource(session, actor, code, reason))


@router.get("/resources/{code:rcode}", response_model=ResourceOut, summary="资源详情")
def read_resource(session: DbSession, actor: CatalogReader, code: str) -> dict:
    return service.resource_view(session, actor, service.get_resource(session, actor, code))


@router.patch("/resources/{code:rcode}", response_model=ResourceOut, summary="修改资源；已发布的资源开启修订")
def update_resource(session: DbSession, actor: CatalogCompiler, code: str, body: ResourcePatch) -> dict:
    resource, warnings = service.update_resource(session, actor, code, body)
    return service.resource_view(session, actor, resource, warnings)


@router.get("/catalog/review-queue", response_model=list[ResourceSummary], summary="待审核的资源")
def review_queue(session: DbSession, actor: CatalogReviewer) -> list[ResourceSummary]:
    return [summary(r) for r, _ in service.review_queue(session, actor)]


@router.get("/catalog/elements", response_model=list[DataElementOut], summary="数据元")
def list_elements(session: DbSession, actor: CatalogReader) -> list[DataElementOut]:
    return [DataElementOut.model_validate(e) for e in service.list_elements(session, actor)]


@router.get("/catalog/classifications", response_model=list[ClassificationOut], summary="资源分类")
def list_classifications(session: DbSession, actor: CatalogReader) -> list[ClassificationOut]:
    return [ClassificationOut.model_validate(c) for c in service.list_classifications(session, actor)]


@router.post(
    "/catalog/classifications", response_model=ClassificationOut, status_code=201, summary="登记下级分类"
)
def create_classification(
    session: DbSession, actor: CatalogManager, body: ClassificationIn
) -> ClassificationOut:
    return ClassificationOut.model_validate(service.create_classification(session, actor, body))


@router.get("/catalog/responsibilities", response_model=list[ResponsibilityOut], summary="采集责任清单")
def responsibilities(
    session: DbSession, actor: CatalogReader, department_id: int | None = None
) -> list[dict]:
    return service.responsibility_lists(session, actor, department_id)


@router.post("/catalog/events", response_model=CatalogEventOut, status_code=201, summary="登记目录更新事件")
def record_event(session: DbSession, actor: CatalogManager, body: CatalogEventIn) -> dict:
    return events.event_view(session, events.record_event(session, actor, body))


@router.get("/catalog/tasks", response_model=Page[UpdateTaskOut], summary="目录更新任务")
def list_tasks(
    session: DbSession,
    actor: CatalogReader,
    paging: PagingParams,
    department_id: int | None = None,
    status: Annotated[str | None, Query(pattern="^(open|done)$")] = None,
) -> Page[UpdateTaskOut]:
    items, total = events.list_tasks(
        session, actor, department_id=department_id, status=status, limit=paging.limit, offset=paging.offset
    )
    return Page(items=[events.task_view(session, t) for t in items], total=total)


@router.post("/catalog/tasks/{task_id}/complete", response_model=UpdateTaskOut, summary="完成目录更新任务")
def complete_task(session: DbSession, actor: TaskCompleter, task_id: int, body: TaskDoneIn) -> UpdateTaskOut:
    return events.task_view(session, events.complete_task(session, actor, task_id, body.note))
