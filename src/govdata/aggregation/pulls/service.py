"""Defining database pulls (AGG-2): the use cases that create, change, disable, list and show them.

Only the providing department's officers define and run a pull on its resource; the authority reads
them (``aggregation.auth.can_manage_pulls`` / ``can_read_pulls``). A definition is checked whole, at
once, against the source itself: a LIMIT 0 probe shows that the table or query can be read and has
the columns the resource needs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.aggregation import service as batches
from govdata.aggregation.auth import PULL_MANAGE, PULL_READ, can_manage_pulls, can_read_pulls
from govdata.aggregation.models import Batch
from govdata.aggregation.pull_models import Pull, PullMode, PullRun
from govdata.aggregation.pulls.schedule import cron_trigger
from govdata.aggregation.pulls.schemas import PullIn, PullOut, PullPatch, PullRunOut
from govdata.aggregation.pulls.source import (
    Plan,
    PullEnv,
    check_select,
    check_url,
    decrypt_url,
    encrypt_url,
    mask_url,
    probe_columns,
    quote_name,
)
from govdata.aggregation.pulls.watermark import shown_watermark
from govdata.catalog import service as catalog
from govdata.catalog.service import ResourceRef
from govdata.core import audit
from govdata.core.auth import Actor, require
from govdata.core.db import paginate, utcnow
from govdata.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, field_error


def _check_definition(
    session: Session, resource: ResourceRef, values: dict[str, Any], env: PullEnv
) -> dict[str, Any]:
    """Check a whole definition (create, or the result of a patch); returns the columns to store."""
    url, dialect = check_url(values["url"], env)
    table, query = (values.get("table") or "").strip() or None, (values.get("query") or "").strip() or None
    if (table is None) == (query is None):
        raise InvalidInput("请给出表名（table）或一条 SELECT 查询（query），二者选一。", slug="pull-source")
    if table:
        quote_name(table, "table", dotted=True)
    else:
        query = check_select(query)
    mode = values["mode"]
    watermark_column = (values.get("watermark_column") or "").strip() or None
    if mode == PullMode.incremental:
        if not watermark_column:
            raise field_error("watermark_column", "增量拉取需要水位列（如 updated_at）")
        quote_name(watermark_column, "watermark_column")
    batch_mode = values.get("batch_mode") or ("upsert" if mode == PullMode.incremental else "replace")
    if mode == PullMode.incremental and batch_mode == "replace":
        raise field_error(
            "batch_mode", "增量拉取只读取新增或变更的行，入库方式应为 upsert（整体替换会删去其余数据）"
        )
    start, end = values.get("window_start"), values.get("window_end")
    if bool(start) != bool(end):
        raise field_error("window_end" if start else "window_start", "时间窗口的开始和结束应同时给出")
    if start and start == end:
        raise field_error("window_end", "时间窗口的开始和结束不能相同")
    cron_trigger(values["schedule"])
    spec, rules = batches.table_of(session, resource)
    if batch_mode == "upsert" and not spec.key_columns:
        raise field_error("batch_mode", "该资源没有关键标识信息项，只能整体替换（replace）")
    plan = Plan(
        id=0,
        resource_code=resource.code,
        department_id=resource.provider_id,
        url=url,
        dialect=dialect,
        table_name=table,
        query=query,
        mode=mode,
        watermark_column=watermark_column,
        watermark=None,
        window_start=start,
        window_end=end,
        max_rows_per_second=values.get("max_rows_per_second"),
        timeout_seconds=values["timeout_seconds"],
        batch_mode=batch_mode,
        policy=values["policy"],
    )
    columns = probe_columns(plan)
    if len(set(columns)) != len(columns):
        raise field_error("query", "查询结果有重名的列，请为列起不同的别名")
    if watermark_column:
        actual = next((c for c in columns if c == watermark_column), None) or next(
            (c for c in columns if c.lower() == watermark_column.lower()), None
        )
        if actual is None:
            raise field_error("watermark_column", f"查询结果中没有列 {watermark_column}")
        watermark_column = actual
    by_name = {c.strip().lower() for c in columns}
    needed = [r for r in rules if r.required or (r.key and batch_mode == "upsert")]
    missing = [r for r in needed if r.code.lower() not in by_name and r.name.strip().lower() not in by_name]
    if missing:
        names = "、".join(f"{r.name}（{r.code}）" for r in missing)
        raise InvalidInput(
            f"查询结果缺少必需的列：{names}。列名应为信息项代码或名称（可在查询中用 AS 起别名）。",
            slug="missing-columns",
        )
    return {
        "url_encrypted": encrypt_url(env.secret, url.render_as_string(hide_password=False)),
        "url_masked": mask_url(url),
        "dialect": dialect,
        "table_name": table,
        "query": query,
        "mode": mode,
        "watermark_column": watermark_column,
        "schedule": " ".join(values["schedule"].split()),
        "window_start": start,
        "window_end": end,
        "max_rows_per_second": values.get("max_rows_per_second"),
        "timeout_seconds": values["timeout_seconds"],
        "batch_mode": batch_mode,
        "policy": values["policy"],
    }


def create_pull(session: Session, actor: Actor, env: PullEnv, code: str, data: PullIn) -> Pull:
    require(actor, PULL_MANAGE)
    resource = catalog.find_resource(session, actor, code)
    if not can_manage_pulls(actor, resource.provider_id):
        raise PermissionDenied("只能为本部门提供的资源设置数据库拉取。")
    columns = _check_definition(session, resource, data.model_dump(), env)
    pull = Pull(
        resource_id=resource.id,
        resource_code=resource.code,
        department_id=resource.provider_id,
        enabled=True,
        created_by=actor.name,
        **columns,
    )
    session.add(pull)
    session.flush()
    audit.record(session, actor, "aggregation.pull.created", "pull", pull.id, details=_audit_details(pull))
    return pull


def _audit_details(pull: Pull) -> dict[str, Any]:
    return {
        "resource": pull.resource_code,
        "url": pull.url_masked,
        "table": pull.table_name,
        "query": pull.query,
        "mode": pull.mode,
        "schedule": pull.schedule,
        "window": f"{pull.window_start}-{pull.window_end}" if pull.window_start else None,
        "max_rows_per_second": pull.max_rows_per_second,
        "timeout_seconds": pull.timeout_seconds,
        "enabled": pull.enabled,
    }


def _visible_pull(session: Session, actor: Actor, pull_id: int) -> Pull:
    pull = session.get(Pull, pull_id)
    if pull is None:
        raise NotFound(f"数据库拉取 {pull_id} 不存在。")
    if not can_read_pulls(actor, pull.department_id):
        raise PermissionDenied("只能查看本部门的数据库拉取。")
    return pull


def _own_pull(session: Session, actor: Actor, pull_id: int) -> Pull:
    pull = _visible_pull(session, actor, pull_id)
    if not can_manage_pulls(actor, pull.department_id):
        raise PermissionDenied("只能管理本部门的数据库拉取。")
    return pull


def get_pull(session: Session, actor: Actor, pull_id: int) -> Pull:
    require(actor, PULL_READ)
    return _visible_pull(session, actor, pull_id)


def list_pulls(session: Session, actor: Actor, code: str) -> list[Pull]:
    require(actor, PULL_READ)
    resource = catalog.find_resource(session, actor, code)
    if not can_read_pulls(actor, resource.provider_id):
        raise PermissionDenied("只能查看本部门资源的数据库拉取。")
    return list(session.scalars(select(Pull).where(Pull.resource_id == resource.id).order_by(Pull.id)))


def update_pull(session: Session, actor: Actor, env: PullEnv, pull_id: int, patch: PullPatch) -> Pull:
    require(actor, PULL_MANAGE)
    pull = _own_pull(session, actor, pull_id)
    changes = patch.model_dump(exclude_unset=True)
    enabled = changes.pop("enabled", None)
    if changes:
        current = {
            "url": decrypt_url(env.secret, pull.url_encrypted),
            "table": pull.table_name,
            "query": pull.query,
            "mode": pull.mode,
            "watermark_column": pull.watermark_column,
            "schedule": pull.schedule,
            "window_start": pull.window_start,
            "window_end": pull.window_end,
            "max_rows_per_second": pull.max_rows_per_second,
            "timeout_seconds": pull.timeout_seconds,
            "batch_mode": pull.batch_mode,
            "policy": pull.policy,
        }
        if "table" in changes and changes["table"]:
            current["query"] = None
        if "query" in changes and changes["query"]:
            current["table"] = None
        if changes.get("mode") and "batch_mode" not in changes:
            current["batch_mode"] = None  # derived again from the new mode
        current.update({k: v for k, v in changes.items() if v is not None or k in _NULLABLE})
        resource = catalog.find_resource(session, actor, pull.resource_code)
        columns = _check_definition(session, resource, current, env)
        source_changed = any(
            getattr(pull, k) != columns[k] for k in ("table_name", "query", "mode", "watermark_column")
        ) or decrypt_url(env.secret, pull.url_encrypted) != decrypt_url(env.secret, columns["url_encrypted"])
        for name, value in columns.items():
            setattr(pull, name, value)
        if source_changed:
            pull.watermark = None  # another source: the next incremental run starts from the beginning
    if enabled is not None:
        pull.enabled = enabled
    pull.updated_at = utcnow()
    audit.record(
        session,
        actor,
        "aggregation.pull.updated",
        "pull",
        pull.id,
        details={**_audit_details(pull), "changed": sorted(patch.model_dump(exclude_unset=True))},
    )
    return pull


_NULLABLE = {"window_start", "window_end", "max_rows_per_second", "watermark_column"}


def disable_pull(session: Session, actor: Actor, pull_id: int) -> Pull:
    """Stop scheduling the pull; its definition and run history are kept (evidence)."""
    require(actor, PULL_MANAGE)
    pull = _own_pull(session, actor, pull_id)
    pull.enabled = False
    pull.updated_at = utcnow()
    audit.record(session, actor, "aggregation.pull.disabled", "pull", pull.id, details=_audit_details(pull))
    return pull


def list_runs(
    session: Session, actor: Actor, pull_id: int, *, limit: int = 50, offset: int = 0
) -> tuple[list[PullRun], int]:
    require(actor, PULL_READ)
    _visible_pull(session, actor, pull_id)
    stmt = select(PullRun).where(PullRun.pull_id == pull_id)
    return paginate(session, stmt, PullRun.id.desc(), limit=limit, offset=offset)


def run_out(session: Session, run: PullRun) -> PullRunOut:
    out = PullRunOut.model_validate(run)
    out.watermark_from, out.watermark_to = (
        shown_watermark(run.watermark_from),
        shown_watermark(run.watermark_to),
    )
    if run.batch_id:
        out.batch_status = session.scalar(select(Batch.status).where(Batch.id == run.batch_id))
    return out


def pull_out(session: Session, pull: Pull) -> PullOut:
    last = session.scalar(
        select(PullRun).where(PullRun.pull_id == pull.id).order_by(PullRun.id.desc()).limit(1)
    )
    return PullOut(
        id=pull.id,
        resource_code=pull.resource_code,
        url=pull.url_masked,
        dialect=pull.dialect,
        table=pull.table_name,
        query=pull.query,
        mode=pull.mode,
        watermark_column=pull.watermark_column,
        watermark=shown_watermark(pull.watermark),
        schedule=pull.schedule,
        window_start=pull.window_start,
        window_end=pull.window_end,
        max_rows_per_second=pull.max_rows_per_second,
        timeout_seconds=pull.timeout_seconds,
        batch_mode=pull.batch_mode,
        policy=pull.policy,
        enabled=pull.enabled,
        created_by=pull.created_by,
        created_at=pull.created_at,
        updated_at=pull.updated_at,
        last_run=run_out(session, last) if last else None,
    )


def run_out_by_id(session: Session, run_id: int) -> PullRunOut:
    """A run as the API shows it (the caller was checked when the run was started)."""
    run = session.get(PullRun, run_id)
    if run is None:
        raise NotFound(f"拉取运行记录 {run_id} 不存在。")
    return run_out(session, run)


def check_can_run(session: Session, actor: Actor, pull_id: int) -> Pull:
    """The caller may run this pull now (own department, enabled)."""
    require(actor, PULL_MANAGE)
    pull = _own_pull(session, actor, pull_id)
    if not pull.enabled:
        raise Conflict("该数据库拉取已停用，请先启用。", slug="pull-disabled")
    return pull
