"""Routes of base libraries, fusion conflicts and department resource pools (AGG-8, CAT-13, QUA-3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from govdata.catalog.enums import Subject
from govdata.core.auth import DbSession
from govdata.core.errors import problem_responses
from govdata.core.schemas import ApiRoute, Page, PagingParams
from govdata.libraries import conflicts, pools, service, sources
from govdata.libraries.auth import (
    ConflictCommenter,
    ConflictDecider,
    ConflictEscalator,
    ConflictReader,
    ConflictResolver,
    LibraryDataReader,
    LibraryManager,
    LibraryReader,
    PoolReader,
    SourceManager,
    SourceReader,
)
from govdata.libraries.models import ConflictStatus
from govdata.libraries.schemas import (
    BuildOut,
    CommentIn,
    ConflictOut,
    DecideIn,
    DesignationIn,
    DesignationOut,
    DuplicateOut,
    EscalateIn,
    FieldSourceIn,
    LibraryIn,
    LibraryOut,
    LibraryPatch,
    LibraryRecordsOut,
    PoolOut,
    ResolveIn,
    StopRequestIn,
    StopRequestOut,
)

router = APIRouter(prefix="/api/v1", tags=["基础库与数据冲突"], route_class=ApiRoute)


@router.get(
    "/libraries", response_model=list[LibraryOut], summary="基础库列表（首次使用时建立人口、法人库定义）"
)
def list_libraries(session: DbSession, actor: LibraryReader) -> list[dict]:
    return [service.library_view(session, lib) for lib in service.list_libraries(session, actor)]


@router.post("/libraries", response_model=LibraryOut, status_code=201, summary="定义基础库（主管部门）")
def create_library(session: DbSession, actor: LibraryManager, body: LibraryIn) -> dict:
    return service.library_view(session, service.create_library(session, actor, body))


@router.get(
    "/libraries/{library_id}", response_model=LibraryOut, summary="基础库定义：字段、权威来源、候选来源"
)
def read_library(session: DbSession, actor: LibraryReader, library_id: int) -> dict:
    return service.library_view(session, service.get_library(session, actor, library_id))


@router.patch("/libraries/{library_id}", response_model=LibraryOut, summary="修改基础库名称、牵头部门、说明")
def update_library(session: DbSession, actor: LibraryManager, library_id: int, body: LibraryPatch) -> dict:
    return service.library_view(session, service.update_library(session, actor, library_id, body))


@router.put(
    "/libraries/{library_id}/fields/{element}",
    response_model=LibraryOut,
    summary="指定基础信息项的权威来源（一数一源）；数据元尚非字段时增设为基础信息项",
)
def set_field_source(
    session: DbSession, actor: LibraryManager, library_id: int, element: str, body: FieldSourceIn
) -> dict:
    library = service.set_field_source(session, actor, library_id, element, body.source_resource_code)
    return service.library_view(session, library)


@router.post("/libraries/{library_id}/build", response_model=BuildOut, summary="构建融合表并比对冲突")
def build_library(request: Request, session: DbSession, actor: LibraryManager, library_id: int) -> dict:
    return service.build_library(session, actor, request.app.state.store, library_id)


@router.get(
    "/libraries/{library_id}/records",
    response_model=LibraryRecordsOut,
    summary="查询融合数据（主管部门与牵头部门），每个字段附来源资源与批次",
    responses=problem_responses(409),  # not built yet
)
def library_records(
    request: Request,
    session: DbSession,
    actor: LibraryDataReader,
    library_id: int,
    paging: PagingParams,
    key: Annotated[list[str] | None, Query(description="关键标识，可多次给出")] = None,
) -> dict:
    return service.library_records(
        session,
        actor,
        request.app.state.store,
        library_id,
        keys=key,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get("/conflicts", response_model=Page[ConflictOut], summary="数据冲突（部门只看涉及本部门的）")
def list_conflicts(
    session: DbSession,
    actor: ConflictReader,
    paging: PagingParams,
    status: ConflictStatus | None = None,
    library_id: int | None = None,
) -> Page[ConflictOut]:
    items, total = conflicts.list_conflicts(
        session, actor, status=status, library_id=library_id, limit=paging.limit, offset=paging.offset
    )
    return Page(items=[ConflictOut(**conflicts.conflict_view(c)) for c in items], total=total)


@router.get("/conflicts/{conflict_id}", response_model=ConflictOut, summary="数据冲突详情与协商记录")
def read_conflict(session: DbSession, actor: ConflictReader, conflict_id: int) -> dict:
    return conflicts.conflict_view(conflicts.get_conflict(session, actor, conflict_id))


@router.post(
    "/conflicts/{conflict_id}/comments", response_model=ConflictOut, summary="发表协商意见（可建议采用的值）"
)
def comment_conflict(session: DbSession, actor: ConflictCommenter, conflict_id: int, body: CommentIn) -> dict:
    return conflicts.conflict_view(conflicts.comment(session, actor, conflict_id, body))


@router.post(
    "/conflicts/{conflict_id}/resolve",
    response_model=ConflictOut,
    summary="本部门确认协商一致的值（各相关部门都确认同一值后办结）",
)
def resolve_conflict(session: DbSession, actor: ConflictResolver, conflict_id: int, body: ResolveIn) -> dict:
    return conflicts.conflict_view(conflicts.resolve(session, actor, conflict_id, body))


@router.post(
    "/conflicts/{conflict_id}/escalate", response_model=ConflictOut, summary="相关部门提交主管部门裁决"
)
def escalate_conflict(
    session: DbSession, actor: ConflictEscalator, conflict_id: int, body: EscalateIn | None = None
) -> dict:
    return conflicts.conflict_view(conflicts.escalate(session, actor, conflict_id, body or EscalateIn()))


@router.post("/conflicts/{conflict_id}/decide", response_model=ConflictOut, summary="主管部门裁决")
def decide_conflict(session: DbSession, actor: ConflictDecider, conflict_id: int, body: DecideIn) -> dict:
    return conflicts.conflict_view(conflicts.decide(session, actor, conflict_id, body))


@router.get(
    "/departments/{department_id}/pool", response_model=PoolOut, summary="部门数据资源池（含所属单位）"
)
def department_pool(request: Request, session: DbSession, actor: PoolReader, department_id: int) -> dict:
    return pools.department_pool(session, actor, request.app.state.store, department_id)


# --- one number, one source (CAT-9) ---------------------------------------------------------------


@router.get(
    "/sources",
    response_model=list[DesignationOut],
    summary="权威来源（一数一源）：每个数据元、每类主体的权威来源资源，含基础库字段",
)
def list_sources(session: DbSession, actor: SourceReader) -> list[dict]:
    return sources.list_sources(session, actor)


@router.put(
    "/sources/{subject}/{element}",
    response_model=DesignationOut,
    summary="指定（或取消）某数据元关于某类主体的权威来源（主管部门）",
)
def designate_source(
    session: DbSession, actor: SourceManager, subject: Subject, element: str, body: DesignationIn
) -> dict:
    return sources.designate(session, actor, element, subject, body.resource_code, body.note)


@router.get(
    "/sources/duplicates",
    response_model=list[DuplicateOut],
    summary="重复采集：同一主体的同一数据元由多个部门采集，对照权威来源（关键标识不计）",
)
def duplicate_collections(session: DbSession, actor: SourceManager) -> list[dict]:
    return sources.duplicate_collections(session, actor)


@router.post(
    "/sources/stop-requests",
    response_model=StopRequestOut,
    status_code=201,
    summary="要求部门停止重复采集、改为共享获取（记为重复采集违规，部门可提出异议）",
    responses=problem_responses(404),
)
def request_stop(session: DbSession, actor: SourceManager, body: StopRequestIn) -> dict:
    return sources.request_stop(session, actor, body.resource_code)
