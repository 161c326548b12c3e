"""Running a batch (AGG-1, AGG-4, AGG-5): the typed table of a resource, and ``run_batch``, the job
that reads a queued batch's source, validates it over whole columns and applies it to the store.

A batch's scratch (its work directory, its staging table) is gone before its end is committed, so
whoever sees it finished sees no trace of the run; a failed or rejected batch's source goes just
after, once its end is safely recorded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy.orm import Session, sessionmaker

from govdata.aggregation import errors_file, sources
from govdata.aggregation.facts import batch_dir
from govdata.aggregation.models import Batch, BatchMode, BatchPolicy, BatchStatus
from govdata.aggregation.validation import REJECTED_ROWIDS, VALID, ItemRule, Target, staging_columns, validate
from govdata.aggregation.waiting import notify
from govdata.catalog import service as catalog
from govdata.catalog.service import ResourceRef
from govdata.core import audit, events, files
from govdata.core.auth import SYSTEM_ACTOR
from govdata.core.db import unit_of_work, utcnow
from govdata.core.errors import Conflict, InvalidInput
from govdata.core.observability import log
from govdata.store.base import KEY, Staged, TableSpec
from govdata.store.sql import SqlStore


def rules_for(body: dict[str, Any], elements: dict[str, str | None]) -> list[ItemRule]:
    """Validation rules from a catalog version's items; identifier checks come from the data element."""
    rules = []
    for item in body.get("items", []):
        key_kind = elements.get(item.get("element") or "") or item.get("key_kind")
        rules.append(
            ItemRule(
                code=item["code"].lower(),
                name=item["name"],
                data_type=item["data_type"],
                length=item.get("length"),
                precision=item.get("precision"),
                required=bool(item.get("required")),
                key=bool(item.get("key")),
                key_kind=key_kind,
                code_list=tuple(item["code_list"]) if item.get("code_list") else None,
                pattern=item.get("pattern"),
                minimum=item.get("minimum"),
                maximum=item.get("maximum"),
            )
        )
    return rules


def table_of(session: Session, resource: ResourceRef) -> tuple[TableSpec, list[ItemRule]]:
    """The typed table of a published resource and the validation rules of its items."""
    if resource.published_version is None:
        raise Conflict("资源尚未发布，不能归集数据。", slug="not-published")
    body = catalog.version_body(session, resource.id) or {}
    rules = rules_for(body, catalog.element_key_kinds(session))
    if not rules:
        raise Conflict("资源没有信息项，不能归集为数据表。", slug="no-items")
    spec = TableSpec(resource.id, tuple(r.column for r in rules), tuple(r.code for r in rules if r.key))
    return spec, rules


def _match_columns(columns: list[str], rules: list[ItemRule]) -> tuple[dict[str, str], list[str]]:
    """Item code → source column, matched by item code or by the item's Chinese name."""
    by_name: dict[str, str] = {}
    for rule in rules:
        by_name[rule.code.lower()] = rule.code
        by_name[rule.name.strip().lower()] = rule.code
    present: dict[str, str] = {}
    unknown: list[str] = []
    for column in columns:
        code = by_name.get(column.strip().lstrip("\ufeff").lower())
        if code and code not in present:
            present[code] = column
        else:
            unknown.append(column)
    return present, unknown


class Progress:
    """Writes a batch's stage and progress in short transactions of their own, so pages can follow."""

    def __init__(self, factory: sessionmaker, batch_id: int) -> None:
        self.factory, self.batch_id = factory, batch_id

    def __call__(self, stage: str, progress: float, **fields: Any) -> None:
        with unit_of_work(self.factory) as session:
            batch = session.get(Batch, self.batch_id)
            batch.stage, batch.progress = stage, progress
            for name, value in fields.items():
                setattr(batch, name, value)


@dataclass(frozen=True)
class _Order:
    """What a queued batch asks for, read once as it starts."""

    spec: TableSpec
    rules: list[ItemRule]
    mode: str
    policy: str
    path: Path
    filename: str | None
    encoding: str | None
    declared_rows: int | None
    declared_checksum: str | None
    file_checksum: str | None


@dataclass
class _End:
    """How a run ended: the batch's status, message and the counts to record."""

    status: str
    message: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def run_batch(
    factory: sessionmaker,
    store: SqlStore,
    data_dir: Path,
    batch_id: int,
    *,
    sheets: files.SheetLimits | None = None,
) -> None:
    """Read, validate and apply one queued batch. Safe to call again after a crash. ``sheets``: the
    spreadsheet limits (default: as configured). Whoever waits in this process is told when it ends."""
    try:
        _run_batch(factory, store, data_dir, batch_id, sheets)
    finally:
        notify(batch_id)


def _run_batch(
    factory: sessionmaker, store: SqlStore, data_dir: Path, batch_id: int, sheets: files.SheetLimits | None
) -> None:
    progress = Progress(factory, batch_id)
    with unit_of_work(factory) as session:
        batch = session.get(Batch, batch_id)
        if batch is None or batch.status not in (BatchStatus.queued, BatchStatus.running):
            return
        spec, rules = table_of(session, catalog.resource_ref(session, id=batch.resource_id))
        order = _Order(
            spec,
            rules,
            batch.mode,
            batch.policy,
            Path(batch.upload_path),
            batch.filename,
            batch.encoding,
            batch.source_rows,
            batch.source_checksum,
            batch.file_checksum,
        )
    progress("准备数据表", 0.02, status=BatchStatus.running, started_at=utcnow())
    work = batch_dir(data_dir, batch_id) / "work"
    work.mkdir(parents=True, exist_ok=True)
    try:
        end = _load(store, data_dir, batch_id, order, work, progress, sheets)
    except InvalidInput as exc:
        end = _End(BatchStatus.failed, exc.detail)
    except ValueError as exc:  # a destructive table migration the catalog version asked for
        end = _End(BatchStatus.failed, str(exc))
    except Exception:
        log.exception("batch failed", batch=batch_id)
        end = _End(BatchStatus.failed, "处理批次时发生内部错误，已记录日志；数据未改变。")
    finally:
        _discard_staging(store, spec, batch_id)
        sources.remove_work(work)
    finish(factory, batch_id, end.status, end.message, **end.fields)


def _load(
    store: SqlStore,
    data_dir: Path,
    batch_id: int,
    order: _Order,
    work: Path,
    progress: Progress,
    sheets: files.SheetLimits | None,
) -> _End:
    spec, rules, mode = order.spec, order.rules, order.mode
    timings = _Timings()
    # the store's DuckDB (or, for PostgreSQL, a DuckDB of the batch's own) reads and validates
    with store.workspace(work) as con:
        store.ensure_table(spec, strict=True)  # a type change that alters data waits for its migration
        if keys := store.batch_keys(spec, batch_id):  # the process died after applying: finish the record
            return _End(BatchStatus.applied, "服务重启后确认：该批次此前已完整入库。", {"rows_applied": keys})
        progress("读取文件", 0.1)
        info = sources.load_file(con, order.path, order.filename, order.encoding, work, limits=sheets)
        present, unknown = _match_columns(info.columns, rules)
        needed = [r for r in rules if (r.key if mode == "delete" else r.required)]
        missing = [r for r in needed if r.code not in present]
        if missing:
            names = "、".join(f"{r.name}（{r.code}）" for r in missing)
            raise InvalidInput(
                f"文件缺少必需的列：{names}。列名应为信息项代码或名称。", slug="missing-columns"
            )
        warnings = [f"未识别的列已忽略：{'、'.join(unknown[:20])}"] if unknown else []
        absent = [r for r in rules if r.code not in present] if mode != "delete" else []
        if absent:
            warnings.append(_absent_warning(absent, mode))
        progress("校验数据", 0.2, encoding=info.encoding, file_format=info.format)
        timings.lap("open")
        written_at = utcnow().replace(tzinfo=None)
        staging = store.first_load(spec, batch_id, staging_columns(rules)) if mode != "delete" else None
        try:
            checked = validate(
                con,
                rules,
                present,
                delete=mode == "delete",
                into=Target(staging, batch_id, written_at) if staging else None,
                shapes={code: info.shapes[c] for code, c in present.items() if c in info.shapes},
            )
        except duckdb.Error as exc:  # the source could not be read to the end
            raise sources.read_error(exc, info.format) from exc
        timings.lap("validate")
        if checked.rows == 0:
            raise InvalidInput(sources.NO_ROWS, slug="no-rows")
        rows_total, rejected = checked.rows, checked.rejected
        errors_path = batch_dir(data_dir, batch_id) / "errors.parquet"
        checked_codes = [r.code for r in rules if (r.key if mode == "delete" else True)]
        con.execute(
            f"COPY ({errors_file.errors_sql(staging, checked_codes)}) TO {sources.literal(str(errors_path))} (FORMAT parquet)"
        )
        valid = rows_total - rejected
        reconciliation = _reconcile(order, rows_total, warnings)
        common = {
            "rows_total": rows_total,
            "rows_rejected": rejected,
            "errors_count": checked.errors,
            "warnings": "\n".join(warnings) or None,
            "absent_items": [r.code for r in absent] or None,
            "reconciliation": reconciliation,
        }
        if rejected and order.policy == BatchPolicy.strict:
            return _End(BatchStatus.rejected, f"严格模式：{rejected} 行有错误，整批未入库。", common)
        if valid == 0:
            return _End(BatchStatus.rejected, "没有可入库的有效行。", common)
        progress("写入数据存储", 0.6, **common)
        timings.lap("errors")
        columns = [KEY, *(spec.key_columns if mode == "delete" else spec.codes)]
        select = "SELECT " + ", ".join(f'"{c}"' for c in columns) + f" FROM {VALID}"
        rows = Staged(con, select, work, table=staging, rejected=REJECTED_ROWIDS)
        keep = [r.code for r in absent] if mode == BatchMode.upsert else []
        result = store.apply(spec, batch_id, mode, rows, written_at, keep=keep)
        timings.lap("apply")
    log.info("batch applied", batch=batch_id, rows=rows_total, seconds_cpu=timings.laps)
    return _End(
        BatchStatus.applied,
        fields={
            "rows_applied": valid,
            "rows_inserted": result.inserted,
            "rows_updated": result.updated,
            "rows_deleted": result.deleted,
            **common,
        },
    )


def _reconcile(order: _Order, rows_total: int, warnings: list[str]) -> str | None:
    """AGG-7: ``ok`` or ``mismatch`` against what the provider declared (a warning says how), or
    None when nothing was declared."""
    declared_rows, declared_checksum, received = (
        order.declared_rows,
        order.declared_checksum,
        order.file_checksum,
    )
    if declared_rows is None and not declared_checksum:
        return None
    checksum_differs = bool(declared_checksum) and declared_checksum != received
    if (declared_rows is None or declared_rows == rows_total) and not checksum_differs:
        return "ok"
    warnings.append(
        f"与提供方申报不一致：申报 {declared_rows if declared_rows is not None else '—'} 行，实收 {rows_total} 行"
        + (
            f"；校验值不符（申报 SHA-256 {declared_checksum}，实收 {received or '—'}）"
            if checksum_differs
            else ""
        )
    )
    return "mismatch"


def _absent_warning(absent: list[ItemRule], mode: str) -> str:
    names = "、".join(f"{r.name}（{r.code}）" for r in absent)
    if mode == BatchMode.upsert:
        return f"文件中没有这些信息项的列：{names}；已有记录保留其原值，新增记录中为空。"
    return f"文件中没有这些信息项的列：{names}；全量替换后这些信息项均为空。"


def _discard_staging(store: SqlStore, spec: TableSpec, batch_id: int) -> None:
    try:
        store.discard_staging(spec, batch_id)
    except Exception:  # the store is unreachable: the table is dropped when the batch runs again
        log.exception("staging table not discarded", batch=batch_id)


class _Timings:
    """Seconds and CPU seconds (all threads) spent in each stage of a batch, for the log."""

    def __init__(self) -> None:
        self.laps: dict[str, tuple[float, float]] = {}
        self._last = (time.perf_counter(), time.process_time())

    def lap(self, stage: str) -> None:
        now = (time.perf_counter(), time.process_time())
        self.laps[stage] = (round(now[0] - self._last[0], 3), round(now[1] - self._last[1], 2))
        self._last = now


def finish(factory: sessionmaker, batch_id: int, status: str, message: str | None, **fields: Any) -> None:
    """Commit the batch's end (its status, counts and message), with its event and audit record."""
    with unit_of_work(factory) as session:
        batch = session.get(Batch, batch_id)
        batch.status = status
        batch.message = message
        batch.progress = 1.0
        batch.stage = None
        batch.finished_at = utcnow()
        for name, value in fields.items():
            setattr(batch, name, value)
        if status == BatchStatus.applied:
            events.emit(session, events.BATCH_APPLIED, batch_id=batch_id, resource_id=batch.resource_id)
        audit.record(
            session,
            SYSTEM_ACTOR,
            f"aggregation.batch.{status}",
            "batch",
            batch_id,
            details={
                "resource": batch.resource_code,
                "by": batch.created_by,
                "total": batch.rows_total,
                "applied": batch.rows_applied,
                "rejected": batch.rows_rejected,
                "message": message,
            },
        )
        discard = batch.upload_path if status in (BatchStatus.failed, BatchStatus.rejected) else None
    # a failed or rejected batch's upload is not kept, once its end is committed (its errors file
    # stays for the report); an applied one's goes after the retention (``retention.py``)
    if discard:
        try:
            Path(discard).unlink(missing_ok=True)
        except OSError:  # the daily sweep removes it
            log.warning("batch source not removed", batch=batch_id, exc_info=True)
