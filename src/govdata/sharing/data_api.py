"""Routes of the sharing services (SPEC §15: verification, query, exchange) and of the usage log.

Thin: parse, call ``sharing.service.data`` or ``sharing.usage``, answer. The JSON answers are sent
exactly as the service built and signed them (a response model would re-spell their values and break
the receipt's digest); their shapes are documented as models all the same. See the service module
for what each answer holds, and how an export carries its digest and receipt in headers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from govdata.core.auth import Actor, DbSession, DeferredAuthenticator
from govdata.core.db import unit_of_work
from govdata.core.errors import problem_responses, register_field_labels
from govdata.core.schemas import ApiRoute, Instant, OrmModel, Page, PagingParams
from govdata.sharing import usage
from govdata.sharing.auth import USE, UsageReader, User
from govdata.sharing.enums import UsageOutcome
from govdata.sharing.service import data
from govdata.sharing.service import export as exporting

router = APIRouter(prefix="/api/v1", tags=["共享服务"], route_class=ApiRoute)

RESERVED = {"key", "limit", "offset", "as_of_batch", "as_of"}

register_field_labels(
    {
        "key": "关键标识",
        "values": "比对的信息项",
        "cursor": "游标",
        "format": "格式",
        "as_of_batch": "回溯批次",
        "as_of": "回溯时间",
    }
)


class Freshness(BaseModel):
    last_batch_at: str | None = Field(description="最近一次入库批次的完成时间（UTC，ISO 8601）")
    next_due: str | None = Field(description="按更新周期下次应更新的时间")
    overdue: bool


class Signed(BaseModel):
    under_review: list[str] = Field(description="返回的记录中处于疑义复核中的关键标识")
    freshness: Freshness
    receipt: dict[str, Any] = Field(description="本节点签名的回执（POST /api/v1/receipts/verify 可核验）")


class VerifyIn(BaseModel):
    key: str = Field(min_length=1, max_length=200, description="关键标识，如公民身份号码")
    values: dict[str, Any] = Field(min_length=1, max_length=200, description="信息项代码 → 声称的值")


class VerifyOut(Signed):
    match: bool = Field(description="所有给出的信息项都一致")
    items: dict[str, bool] = Field(description="逐项是否一致；关键标识不存在时全部为 false")


class RecordsOut(Signed):
    items: list[dict[str, Any]] = Field(description="记录：已授权的信息项（按授权脱敏）")
    total: int


class ChangeOut(BaseModel):
    op: str = Field(description="upsert 新增或更新 | delete 删除")
    key: str
    record: dict[str, Any] | None = None


class ChangesOut(Signed):
    changes: list[ChangeOut]
    cursor: str = Field(description="下次调用时原样带上的游标")
    more: bool = Field(description="还有更多变更，应立即以新游标继续调用")


class UsageOut(OrmModel):
    id: int
    at: datetime
    caller: str
    system_id: int | None
    end_user: str | None
    consumer_department_id: int | None
    provider_id: int | None
    grant_id: int | None
    application_id: int | None
    purpose: str | None
    resource_code: str
    mode: str
    items: list[str]
    rows: int
    outcome: str
    status_code: int
    latency_ms: float


class ExportResponse(FileResponse):
    """The export's spool file, sent in blocks of 1 MiB (Starlette's 64 KiB blocks take a thread
    hop each: a large export spends more time on them than on sending)."""

    chunk_size = 1 << 20


def _answer(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body)


# A query by key is what application systems call most. Its route takes one thread of the pool for
# the whole call — the caller's credential, the service and the commit in one unit of work — instead
# of one each for the request's session, its credential and its paging. A caller without a
# credential is refused (401) before its parameters are read; one without the right to use sharing
# services (403) after them.
CALLER = DeferredAuthenticator(USE)
Caller = Annotated[None, Depends(CALLER)]


def _serve(request: Request, work) -> JSONResponse:
    """``work(session, actor)`` in one unit of work of its own, the caller authenticated in it first;
    its answer encoded here too (off the event loop)."""
    with unit_of_work(request.app.state.sessionmaker) as session:
        actor = CALLER.resolve(request, session)
        body = work(session, actor)
    return _answer(body)


@router.post(
    "/share/{code:rcode}/verify",
    summary="比对验证：逐项回答是否一致，从不返回存储的值",
    responses={200: {"model": VerifyOut}, **problem_responses(409)},
    response_class=JSONResponse,
)
def verify(request: Request, session: DbSession, actor: User, code: str, body: VerifyIn) -> JSONResponse:
    # not on the one-thread path of the query below: its body is validated before the route runs,
    # and a caller without the right must get its 403 before any 422 about the body
    state = request.app.state
    return _answer(data.verify(session, actor, state.store, state.settings, code, body.key, body.values))


@router.get(
    "/share/{code:rcode}/records",
    summary="检索查询：按关键标识（key，可多次给出）或已授权信息项筛选（信息项代码=值），分页，可回溯",
    responses={200: {"model": RecordsOut}, **problem_responses(409)},
    response_class=JSONResponse,
)
async def read_records(
    request: Request,
    _: Caller,
    code: str,
    key: Annotated[list[str] | None, Query(description="关键标识，可多次给出")] = None,
    as_of_batch: Annotated[int | None, Query(ge=0, description="回溯到该批次之后的状态")] = None,
    as_of: Annotated[Instant | None, Query(description="回溯到该时刻的状态")] = None,
    # the paging parameters as ``PagingParams`` declares them, here as plain parameters: a
    # dependency written as a function takes a thread of the pool of its own
    limit: Annotated[int, Query(ge=1, le=500, description="每页条数")] = 50,
    offset: Annotated[int, Query(ge=0, le=2_000_000_000, description="起始位置")] = 0,
) -> JSONResponse:
    filters = {k: v for k, v in request.query_params.items() if k not in RESERVED}
    state = request.app.state

    def work(session: Session, actor: Actor) -> dict[str, Any]:
        return data.query(
            session,
            actor,
            state.store,
            state.settings,
            code,
            keys=key,
            filters=filters,
            limit=limit,
            offset=offset,
            as_of_batch=as_of_batch,
            as_of=as_of,
        )

    return await run_in_threadpool(_serve, request, work)


EXPORT_HEADERS = {
    "X-GovData-Rows": {"description": "记录数", "schema": {"type": "integer"}},
    "X-GovData-Digest": {"description": "文件内容的 SM3 摘要：sm3=<十六进制>", "schema": {"type": "string"}},
    "X-GovData-Manifest": {
        "description": "导出清单（JSON 的 Base64）：资源、格式、信息项、脱敏项、记录数、摘要、游标、时效、疑义复核",
        "schema": {"type": "string"},
    },
    "X-GovData-Receipt": {
        "description": "对导出清单签名的回执（JSON 的 Base64）",
        "schema": {"type": "string"},
    },
    "X-GovData-Cursor": {
        "description": "导出之前的增量游标：由此调用 changes 不会遗漏",
        "schema": {"type": "string"},
    },
}


@router.get(
    "/share/{code:rcode}/export",
    summary="数据交换：导出已授权信息项的全部记录（CSV 或 Parquet），摘要与回执在响应头中",
    response_class=ExportResponse,
    responses={
        200: {
            "content": {
                exporting.CSV_MEDIA_TYPE.split(";")[0]: {"schema": {"type": "string"}},
                exporting.PARQUET_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
            "headers": EXPORT_HEADERS,
        },
        **problem_responses(409),
    },
)
def export(
    request: Request,
    session: DbSession,
    actor: User,
    code: str,
    format: Annotated[str, Query(pattern="^(csv|parquet)$", description="csv 或 parquet")] = "csv",
) -> ExportResponse:
    state = request.app.state
    file = exporting.export(session, actor, state.store, state.settings, code, format)
    return ExportResponse(
        file.path,
        media_type=file.media_type,
        filename=file.filename,
        headers=file.headers,
        background=BackgroundTask(file.path.unlink, missing_ok=True),
    )


@router.get(
    "/share/{code:rcode}/changes",
    summary="数据交换：游标之后的增量变更（新增、更新、删除）；不带游标时先返回全部现有记录",
    responses={200: {"model": ChangesOut}, **problem_responses(409)},
    response_class=JSONResponse,
)
def read_changes(
    request: Request,
    session: DbSession,
    actor: User,
    code: str,
    cursor: Annotated[str | None, Query(max_length=2000, description="上一次答复中的 cursor")] = None,
    limit: Annotated[
        int, Query(ge=1, le=data.CHANGES_MAX, description="最多返回的变更数")
    ] = data.CHANGES_LIMIT,
) -> JSONResponse:
    state = request.app.state
    return _answer(
        data.changes(session, actor, state.store, state.settings, code, cursor=cursor, limit=limit)
    )


@router.get(
    "/usage",
    response_model=Page[UsageOut],
    summary="共享调用记录：提供方看本部门数据被调用，使用方看本部门的调用",
)
def list_usage(
    session: DbSession,
    actor: UsageReader,
    paging: PagingParams,
    resource_code: str | None = None,
    system_id: int | None = None,
    outcome: Annotated[
        str | None, Query(pattern="^(" + "|".join(UsageOutcome.__members__) + ")$", description="调用结果")
    ] = None,
    mode: Annotated[str | None, Query(pattern="^(verify|query|interface|exchange)$")] = None,
    since: Instant | None = None,
    until: Instant | None = None,
) -> Page[UsageOut]:
    items, total = usage.list_usage(
        session,
        actor,
        resource_code=resource_code,
        system_id=system_id,
        outcome=outcome,
        mode=mode,
        since=since,
        until=until,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page(items=[UsageOut.model_validate(r) for r in items], total=total)
