"""Routes of aggregation (SPEC §15: batches, batch errors, the provider's query of its own data)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from govdata.aggregation import records, service, sources
from govdata.aggregation.auth import BatchLoader, BatchReader, BatchRollbacker, DataReader
from govdata.aggregation.models import BatchMode, BatchPolicy
from govdata.aggregation.schemas import BatchError, BatchOut, RecordHistoryOut, RecordVersionOut
from govdata.core import files, uploads
from govdata.core.auth import DbSession
from govdata.core.db import unit_of_work
from govdata.core.errors import InvalidInput, field_error, problem_responses
from govdata.core.schemas import ApiRoute, Page, PagingParams
from govdata.web import upload_limit

router = APIRouter(prefix="/api/v1", tags=["数据归集"], route_class=ApiRoute)

WAIT_SECONDS = 600


def _int(value: str | None, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise field_error(field, "应为整数") from exc


_BATCH_FIELDS = {
    "mode": {
        "type": "string",
        "enum": list(BatchMode.__members__),
        "default": "upsert",
        "description": "replace 全量替换 | upsert 增量更新 | delete 按关键标识删除",
    },
    "policy": {
        "type": "string",
        "enum": list(BatchPolicy.__members__),
        "default": "strict",
        "description": "strict 有错误行则整批拒绝 | accept_valid 接受有效行",
    },
    "source_rows": {"type": "integer", "minimum": 0, "description": "源系统的记录数，用于核对"},
    "source_checksum": {"type": "string", "maxLength": 128, "description": "源文件的校验值"},
    "wait": {"type": "boolean", "default": True, "description": "等待批次处理完成（否则立即返回 202）"},
}
BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV、XLSX、JSON 或 NDJSON 文件，表头为信息项代码或名称",
                        },
                        "encoding": {
                            "type": "string",
                            "enum": sorted(sources.ENCODINGS),
                            "description": "文件编码，不填则自动识别",
                        },
                        **_BATCH_FIELDS,
                    },
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["records"],
                    "properties": {
                        "records": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "object", "additionalProperties": True},
                            "description": "记录：信息项代码到值",
                        },
                        **_BATCH_FIELDS,
                    },
                }
            },
        },
    }
}


OPTIONS = ("mode", "policy", "encoding", "source_rows", "source_checksum", "wait")


@router.post(
    "/resources/{code:rcode}/batches",
    response_model=BatchOut,
    status_code=201,
    summary="提交批次：multipart 文件（file, mode, policy, encoding?）或 JSON {mode, policy, records}",
    responses={
        202: {"model": BatchOut, "description": "批次仍在处理（wait=false，或等待超时）"},
        **problem_responses(400, 413),
    },
    openapi_extra=BATCH_BODY,
)
async def create_batch(request: Request, actor: BatchLoader, code: str) -> Response:
    """The batch is queued in a unit of work of its own, so that its job can start on commit; with
    ``wait`` (the default) the answer waits for the job, off the event loop, and is 201 when the batch
    finished, 202 while it is still running."""
    settings = request.app.state.settings
    factory = request.app.state.sessionmaker
    limit = upload_limit(request)
    content_type = request.headers.get("content-type", "")
    spools: list[Path] = []  # removed whatever happens: a refused upload must not stay on disk
    try:
        params, upload, records = await _read_request(request, settings, limit, content_type, spools)

        def queue() -> int:
            with unit_of_work(factory) as session:
                return service.create_batch(
                    session,
                    actor,
                    settings.data_dir,
                    code,
                    mode=str(params.get("mode", "upsert")),
                    policy=str(params.get("policy", "strict")),
                    upload=upload,
                    records=records,
                    encoding=params.get("encoding") or None,
                    source_rows=_int(params.get("source_rows"), "source_rows"),
                    source_checksum=params.get("source_checksum") or None,
                ).id

        batch_id = await run_in_threadpool(queue)
    finally:
        await run_in_threadpool(_remove, spools)
    status = None
    if str(params.get("wait", "true")).lower() not in ("false", "0", "no"):
        status = await service.wait_finished(factory, batch_id, WAIT_SECONDS)

    def answer() -> dict:
        with unit_of_work(factory) as session:
            return BatchOut.model_validate(service.get_batch(session, actor, batch_id)).model_dump(
                mode="json"
            )

    return JSONResponse(
        await run_in_threadpool(answer), status_code=201 if status in service.FINISHED else 202
    )


def _remove(spools: list[Path]) -> None:
    for spool in spools:
        shutil.rmtree(spool, ignore_errors=True)


async def _read_request(request: Request, settings, limit: int, content_type: str, spools: list[Path]):
    upload = records = None
    if content_type.startswith("multipart/form-data"):
        spool = Path(await run_in_threadpool(tempfile.mkdtemp, dir=settings.data_dir)) / "upload"
        spools.append(spool.parent)
        form = await uploads.receive_form(request, spool, limit=limit)
        params = form.fields
        if form.path is None:
            raise field_error("file", "请上传文件")
        sheets = files.SheetLimits.from_settings(settings)
        await run_in_threadpool(sources.check_upload, spool, form.head, sheets)
        upload = service.Upload(spool, form.filename, form.checksum)
    elif content_type.startswith("application/json"):
        try:
            params = await run_in_threadpool(json.loads, await request.body())  # a large body: off the loop
        except (ValueError, RecursionError) as exc:
            raise InvalidInput("请求体不是有效的 JSON。") from exc
        if not isinstance(params, dict) or not isinstance(params.get("records"), list):
            raise field_error("records", "应为记录（JSON 对象）的列表")
        records = params["records"]
    else:
        raise InvalidInput(
            "请以 multipart/form-data 上传文件，或以 application/json 提交记录。", slug="unsupported-media"
        )
    # the batch's options may come in the query string too (?mode=delete&wait=false); the body wins
    given = {name: value for name, value in request.query_params.items() if name in OPTIONS}
    return {**given, **params}, upload, records


@router.get("/resources/{code:rcode}/batches", response_model=Page[BatchOut], summary="资源的批次历史")
def list_batches(session: DbSession, actor: BatchReader, code: str, paging: PagingParams) -> Page[BatchOut]:
    items, total = service.list_batches(session, actor, code, limit=paging.limit, offset=paging.offset)
    return Page(items=[BatchOut.model_validate(b) for b in items], total=total)


@router.get("/batches/{batch_id}", response_model=BatchOut, summary="批次状态与计数")
def read_batch(session: DbSession, actor: BatchReader, batch_id: int) -> BatchOut:
    return BatchOut.model_validate(service.get_batch(session, actor, batch_id))


@router.get(
    "/batches/{batch_id}/errors",
    summary="批次错误明细：format=json|csv|xlsx；lang=zh 为给源系统开发商的中文错误清单（附原始行）",
    responses={
        200: {
            "model": list[BatchError],
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                files.XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def batch_errors(
    request: Request,
    session: DbSession,
    actor: BatchReader,
    batch_id: int,
    format: Annotated[str, Query(pattern="^(json|csv|xlsx)$")] = "json",
    lang: Annotated[str | None, Query(pattern="^(zh|en)$")] = None,
) -> Response:
    """``format=csv`` keeps the columns ``row, item, value, rule, message``; ``xlsx``, and ``csv`` with
    ``lang=zh``, give the errors file for the department's vendor in Chinese: 行号, the item's and the
    rule's names, the message, and the row's values beside each error."""
    data_dir = request.app.state.settings.data_dir
    if format == "xlsx" or (format == "csv" and lang == "zh"):
        return Response(
            service.errors_for_vendor(session, actor, data_dir, batch_id, format=format),
            media_type=files.XLSX_MEDIA_TYPE if format == "xlsx" else "text/csv; charset=utf-8",
            headers={
                "Content-Disposition": _attachment(
                    f"批次{batch_id}错误清单.{format}", f"batch-{batch_id}-errors.{format}"
                )
            },
        )
    rows = service.batch_errors(session, actor, data_dir, batch_id)
    if format == "csv":
        return Response(
            service.errors_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="batch-{batch_id}-errors.csv"'},
        )
    return JSONResponse([BatchError(**r).model_dump() for r in rows])


def _attachment(name: str, fallback: str) -> str:
    """A download's file name: Chinese for browsers (RFC 6266 ``filename*``), ASCII for the rest."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


@router.get(
    "/resources/{code:rcode}/records/history",
    response_model=RecordHistoryOut,
    summary="一条记录的全部版本：每个版本的写入批次与结束批次（提供部门）",
)
def record_history(
    request: Request,
    session: DbSession,
    actor: DataReader,
    code: str,
    key: Annotated[str, Query(min_length=1, max_length=200, description="记录的关键标识")],
) -> RecordHistoryOut:
    found = records.history(session, actor, request.app.state.store, code, key)
    return RecordHistoryOut(
        key=found["key"],
        versions=[
            RecordVersionOut(
                values={c: service.json_value(v) for c, v in version.values.items()},
                batch_id=version.batch_id,
                written_at=version.written_at,
                ended_by=version.ended_by,
                ended_at=version.ended_at,
                state=version.state,
            )
            for version in found["versions"]
        ],
    )


@router.post("/batches/{batch_id}/rollback", response_model=BatchOut, summary="回滚已入库的批次")
def rollback_batch(request: Request, session: DbSession, actor: BatchRollbacker, batch_id: int) -> BatchOut:
    return BatchOut.model_validate(service.rollback_batch(session, actor, request.app.state.store, batch_id))
