"""Pages of aggregation (AGG-2…8, NF-5): the department's resource pool (数据归集), one resource's
upload form, batch history and data preview, and a batch's live progress and report.

Like the API, every page calls :mod:`govdata.aggregation.service`, which checks the caller's right and
the resource's or batch's visibility again. An upload is saved the way the API saves it
(``core.uploads.receive_form``) and runs as a job (``core.jobs``); the batch page follows it by
polling ``GET /api/v1/batches/{id}`` with the session cookie (``static/aggregation.js``) and then shows
the report. Errors are shown on the page in Chinese, next to the form they belong to.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from govdata.aggregation import service, sources
from govdata.aggregation.auth import (
    BATCH_LOAD,
    BATCH_READ,
    BatchLoader,
    BatchReader,
    BatchRollbacker,
    can_load,
    can_read_own_data,
    can_rollback,
)
from govdata.aggregation.errors_file import RULE_NAMES
from govdata.aggregation.models import MODE_LABELS, Batch, BatchMode, BatchPolicy, BatchStatus
from govdata.aggregation.validation import TYPE_LABELS
from govdata.catalog import service as catalog
from govdata.catalog.enums import UpdateCycle
from govdata.core import files, uploads
from govdata.core.auth import Actor, DbSession
from govdata.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    Problem,
    field_error,
)
from govdata.core.labels import labels
from govdata.orgs import service as orgs
from govdata.web import (
    check_same_origin,
    enum_label,
    form_action,
    local_time,
    nav_item,
    render,
    render_error,
    upload_limit,
)

router = APIRouter(include_in_schema=False)

nav_item("数据归集", "/data", BATCH_READ, order=60)

HISTORY_PAGE = 20
PREVIEW_ROWS = 20
ERROR_ROWS = 100
BATCH_ID = Annotated[int, PathParam(ge=1, le=2**31 - 1)]

STATUS_BADGES = {
    "queued": "info",
    "running": "info",
    "applied": "ok",
    "rejected": "warn",
    "failed": "error",
    "rolled_back": "off",
}
POLICY_HINTS = {
    "strict": "任何一行有错误，整批不入库。",
    "accept_valid": "有效行入库，错误行隔离并列出原因。",
}
MODE_HINTS = {
    "replace": "以文件内容替换全部现有数据，文件中没有的记录将被删除。",
    "upsert": "按关键标识新增或更新记录，文件中没有的记录保持不变。",
    "delete": "删除文件中列出的关键标识对应的记录，文件只需包含关键标识列。",
}
ENCODINGS = {"": "自动识别", "utf-8": "UTF-8", "gbk": "GBK", "gb18030": "GB18030"}
ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM）", "gbk": "GBK", "gb18030": "GB18030/GBK"}
FORMAT_LABELS = {"csv": "CSV", "xlsx": "XLSX", "json": "JSON", "ndjson": "NDJSON", "parquet": "Parquet"}
SOURCE_LABELS = {"upload": "文件上传", "records": "接口推送", "pull": "定时抽取"}
RULE_LABELS = RULE_NAMES
DONE_MESSAGES = {"rolled_back": "批次已回滚，该批次写入的数据已撤销，受影响的记录恢复为此前的状态。"}
ACCEPT = ".csv,.txt,.tsv,.xlsx,.json,.ndjson,.jsonl,.parquet"


# --- helpers -----------------------------------------------------------------------------------------


def data_href(code: str, suffix: str = "") -> str:
    return "/data/" + quote(code, safe="/") + suffix


def percent(part: int, whole: int) -> str:
    """A share as people read it in a report: one decimal, never rounded up to 100 (99.96 → 99.9)."""
    if not whole:
        return "0"
    value = math.floor(part * 1000 / whole) / 10
    return str(int(value)) if value.is_integer() else f"{value:.1f}"


def freshness_view(fresh: dict[str, Any] | None, cycle: str | None) -> dict[str, str]:
    """AGG-7 as a badge: overdue, next due, or no due date (不定期)."""
    if not fresh or fresh.get("next_due") is None:
        return {"badge": "off", "label": "不定期" if cycle == "irregular" else "无应归集期限", "title": ""}
    due = local_time(fresh["next_due"])
    if fresh.get("overdue"):
        return {"badge": "error", "label": "已逾期", "title": f"应于 {due} 前归集"}
    return {"badge": "ok", "label": f"下次应归集 {due}", "title": ""}


def _helpers() -> dict[str, Any]:
    return {
        "local_time": local_time,
        "data_href": data_href,
        "status_labels": labels(BatchStatus),
        "status_badges": STATUS_BADGES,
        "mode_labels": MODE_LABELS,
        "policy_labels": labels(BatchPolicy),
        "cycle_label": lambda value: enum_label(UpdateCycle, value),
        "percent": percent,
    }


def _people(session: Session, usernames) -> Any:
    """``person(username)`` for the templates: the display name of a user (batches keep usernames)."""
    found = orgs.display_names(session, usernames)

    def person(username: str | None) -> str:
        if not username:
            return "—"
        if username == "govdata":
            return "平台（定时任务）"
        if username.startswith("system:"):
            return "应用系统 " + username.removeprefix("system:")
        return found.get(username) or username

    return person


def _page(request: Request, template: str, actor: Actor, status_code: int = 200, **context: Any) -> Response:
    return render(request, template, actor, status_code=status_code, **_helpers(), **context)


def _store(request: Request):
    return request.app.state.store


# --- the department resource pool (AGG-7, AGG-8) ----------------------------------------------------------


@router.get("/data")
def pool_page(request: Request, session: DbSession, actor: BatchReader) -> Response:
    if actor.department_id is None:
        return render_error(request, PermissionDenied("数据归集只对部门用户开放。"))
    pool = service.department_pool(session, actor, _store(request))
    entries = [
        {
            **entry,
            "fresh": freshness_view(entry["freshness"], entry["resource"].update_cycle),
        }
        for entry in pool
    ]
    department = {"name": orgs.department_names(session, [actor.department_id]).get(actor.department_id, "")}
    return _page(
        request,
        "aggregation/pool.html",
        actor,
        department=department,
        entries=entries,
        total_rows=sum(e["rows"] or 0 for e in entries),
        overdue=sum(1 for e in entries if e["freshness"]["overdue"]),
        never=sum(1 for e in entries if e["last_batch"] is None),
        can_load=actor.has(BATCH_LOAD),
    )


# --- one batch: progress and report (AGG-5) ----------------------------------------------------------------


def _batch_page(
    request: Request,
    session: Session,
    actor: Actor,
    batch_id: int,
    *,
    done: str = "",
    action_error: str | None = None,
    status_code: int = 200,
) -> Response:
    batch = service.get_batch(session, actor, batch_id)
    resource = catalog.resource_ref(session, id=batch.resource_id)
    names = service.batch_item_names(session, actor, batch_id)
    finished = batch.status not in (BatchStatus.queued, BatchStatus.running)
    errors = []
    if finished and batch.errors_count:
        for row in service.batch_errors(
            session, actor, request.app.state.settings.data_dir, batch_id, limit=ERROR_ROWS
        ):
            errors.append(
                {
                    **row,
                    "item_name": names.get(row["item"], row["item"]),
                    "rule_label": RULE_LABELS.get(row["rule"], row["rule"]),
                }
            )
    return _page(
        request,
        "aggregation/batch.html",
        actor,
        status_code=status_code,
        batch=batch,
        resource=resource,
        finished=finished,
        progress=round((batch.progress or 0) * 100),
        stage=_stage_text(batch),
        errors=errors,
        warnings=[w for w in (batch.warnings or "").splitlines() if w.strip()],
        file_label=_file_label(batch),
        can_rollback=can_rollback(actor, batch.department_id) and batch.status == BatchStatus.applied,
        person=_people(session, [batch.created_by, batch.rolled_back_by]),
        done=DONE_MESSAGES.get(done),
        action_error=action_error,
        error_rows=ERROR_ROWS,
        source_labels=SOURCE_LABELS,
    )


def _stage_text(batch: Batch) -> str:
    if batch.status == BatchStatus.queued:
        return "排队等待处理…"
    if batch.status == BatchStatus.running:
        text = (batch.stage or "处理中") + "…"
        if batch.rows_total:
            text += f"（共 {batch.rows_total} 行）"
        return text
    return enum_label(BatchStatus, batch.status)


def _file_label(batch: Batch) -> str:
    parts = []
    if batch.file_format:
        parts.append(FORMAT_LABELS.get(batch.file_format, batch.file_format))
    if batch.encoding:
        parts.append(ENCODING_LABELS.get(batch.encoding, batch.encoding.upper()))
    return "，".join(parts)


@router.get("/data/batches/{batch_id}")
def batch_page(
    request: Request,
    session: DbSession,
    actor: BatchReader,
    batch_id: BATCH_ID,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    try:
        return _batch_page(request, session, actor, batch_id, done=done)
    except Problem as exc:
        return render_error(request, exc)


@router.post("/data/batches/{batch_id}/rollback")
def rollback_batch(
    request: Request,
    session: DbSession,
    actor: BatchRollbacker,
    batch_id: BATCH_ID,
    back: Annotated[str, Form(max_length=20)] = "batch",
) -> Response:
    check_same_origin(request)

    def run() -> str:
        batch = service.rollback_batch(session, actor, _store(request), batch_id)
        if back == "resource":
            return data_href(batch.resource_code, "?done=rolled_back#batches")
        return f"/data/batches/{batch.id}?done=rolled_back"

    def show_error(exc: Problem) -> Response:
        return _batch_page(request, session, actor, batch_id, action_error=exc.detail, status_code=exc.status)

    return form_action(request, session, run, show_error)


# --- one resource: upload, history, preview (AGG-2, AGG-3, AGG-6) -----------------------------------------


def _default_values(session: Session, resource: catalog.ResourceRef, has_key: bool) -> dict[str, str]:
    """The form's defaults: the policy of the resource's last batch (the policy is the resource's,
    AGG-5), upsert when the resource has a key, else replace."""
    return {
        "mode": "upsert" if has_key else "replace",
        "policy": service.last_policy(session, resource.id) or "strict",
        "encoding": "",
        "source_rows": "",
    }


def _resource_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    offset: int = 0,
    done: str = "",
    values: dict[str, str] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
) -> Response:
    resource = catalog.find_resource(session, actor, code)
    batches, total = service.list_batches(session, actor, code, limit=HISTORY_PAGE, offset=offset)
    rules, table_problem = [], None
    try:
        _, rules = service.table_of(session, resource)
    except Conflict as exc:
        table_problem = exc.detail
    has_key = any(r.key for r in rules)
    records, record_error = None, None
    fresh = service.freshness(session, resource)
    if rules and can_read_own_data(actor, resource.provider_id):
        try:
            records = service.read_records(
                session, actor, _store(request), code, limit=PREVIEW_ROWS, offset=0
            )
            fresh = records["freshness"]
        except Problem as exc:
            record_error = exc.detail
    loadable = can_load(actor, resource.provider_id) and bool(rules) and resource.is_published
    form = {**_default_values(session, resource, has_key), **(values or {})}
    settings = request.app.state.settings
    return _page(
        request,
        "aggregation/resource.html",
        actor,
        status_code=status_code,
        resource=resource,
        batches=batches,
        total=total,
        offset=offset,
        page_size=HISTORY_PAGE,
        rules=rules,
        type_labels=TYPE_LABELS,
        has_key=has_key,
        table_problem=table_problem,
        records=records,
        record_error=record_error,
        fresh=freshness_view(fresh, resource.update_cycle),
        last_batch_at=fresh.get("last_batch_at"),
        can_load=loadable,
        can_rollback=can_rollback(actor, resource.provider_id),
        person=_people(session, [b.created_by for b in batches]),
        form=form,
        form_error=form_error,
        modes=[(m.value, m.label, MODE_HINTS[m.value]) for m in BatchMode],
        policies=[(p.value, p.label, POLICY_HINTS[p.value]) for p in BatchPolicy],
        encodings=ENCODINGS,
        accept=ACCEPT,
        max_upload_mb=settings.max_upload_mb,
        done=DONE_MESSAGES.get(done),
    )


@router.get("/data/{code:rcode}")
def resource_page(
    request: Request,
    session: DbSession,
    actor: BatchReader,
    code: str,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    try:
        return _resource_page(request, session, actor, code, offset=offset, done=done)
    except Problem as exc:
        return render_error(request, exc)


def _form_values(form) -> dict[str, str]:
    return {
        name: str(form.get(name) or "").strip()[:40] for name in ("mode", "policy", "encoding", "source_rows")
    }


def _source_rows(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise field_error("source_rows", "应为不小于 0 的整数")
    return int(value)


def _filename(name: str) -> str:
    """The file's own name (some browsers send a path), at most 255 characters, keeping the suffix."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "upload"
    if len(name) > 255:
        suffix = Path(name).suffix[:10]
        name = name[: 255 - len(suffix)] + suffix
    return name


def _submit(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    form: uploads.Received,
    values: dict[str, str],
) -> int:
    """Queue the batch of the saved upload as the API does (its job starts when the request commits)."""
    if values["encoding"] not in ENCODINGS:
        raise field_error("encoding", "应为自动识别、UTF-8、GBK 或 GB18030")
    source_rows = _source_rows(values["source_rows"])
    settings = request.app.state.settings
    sources.check_upload(form.path, form.head, files.SheetLimits.from_settings(settings))
    batch = service.create_batch(
        session,
        actor,
        settings.data_dir,
        code,
        mode=values["mode"],
        policy=values["policy"],
        upload=service.Upload(form.path, _filename(form.filename or ""), form.checksum),
        encoding=values["encoding"] or None,
        source_rows=source_rows,
    )
    return batch.id


def _check_loader(session: Session, actor: Actor, code: str) -> None:
    """Refuse another department before reading its upload (the service checks again)."""
    service.own_resource(session, actor, code)


@router.post("/data/{code:rcode}/batches")
async def upload_batch(request: Request, session: DbSession, actor: BatchLoader, code: str) -> Response:
    check_same_origin(request)
    settings = request.app.state.settings
    values: dict[str, str] = {}
    spool_dir: Path | None = None
    try:
        await run_in_threadpool(_check_loader, session, actor, code)
        limit = upload_limit(request)
        spool_dir = Path(await run_in_threadpool(tempfile.mkdtemp, prefix="upload-", dir=settings.data_dir))
        form = await uploads.receive_form(request, spool_dir / "upload", limit=limit)
        values = _form_values(form.fields)
        if form.path is None or not form.filename:
            raise field_error("file", "请选择要上传的数据文件")
        batch_id = await run_in_threadpool(_submit, request, session, actor, code, form, values)
    except Problem as exc:
        await run_in_threadpool(session.rollback)
        return await run_in_threadpool(_upload_error, request, session, actor, code, exc, values)
    finally:
        if spool_dir is not None:
            await run_in_threadpool(shutil.rmtree, spool_dir, ignore_errors=True)
    return RedirectResponse(f"/data/batches/{batch_id}", status_code=303)


def _upload_error(
    request: Request, session: Session, actor: Actor, code: str, problem: Problem, values: dict[str, str]
) -> Response:
    """The resource page with the error above the form and the entered choices kept."""
    if isinstance(problem, (NotFound, PermissionDenied)):
        return render_error(request, problem)
    try:
        return _resource_page(
            request,
            session,
            actor,
            code,
            values={k: v for k, v in values.items() if v},
            form_error=problem.detail,
            status_code=problem.status,
        )
    except Problem:
        return render_error(request, problem)
