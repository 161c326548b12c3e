"""Use cases of aggregation (AGG-1…7): batches from files and records, validated over whole columns,
applied atomically, with history, rollback and freshness.

A batch runs in three steps: ``create_batch`` checks the caller and the request and stores the
source under the data directory (queued); ``run_batch`` (a job, see ``jobs.py``) reads, validates
and applies it; its state and progress live in the metadata database, so a page can follow it and a
restart re-runs what was interrupted (the store's history tells whether a batch was already applied,
so it is never applied twice).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from govdata.aggregation import errors_file, sources
from govdata.aggregation.auth import (
    BATCH_FEED,
    BATCH_LOAD,
    BATCH_READ,
    BATCH_ROLLBACK,
    DATA_READ,
    can_read_batches,
    can_read_own_data,
    can_rollback,
    is_provider,
)
from govdata.aggregation.facts import (  # noqa: F401  (facts for siblings, re-exported)
    AppliedBatch,
    AppliedCounts,
    BatchErrorCounts,
    BatchFacts,
    LatestBatch,
    MismatchedBatch,
    applied_batch_counts,
    applied_batches,
    applied_times,
    batch_dir,
    batch_error_counts,
    batch_facts,
    batch_resource_codes,
    batch_window,
    last_applied,
    latest_batches,
    mismatched_batches,
    resources_with_data,
)
from govdata.aggregation.models import MIGRATION, Batch, BatchMode, BatchPolicy, BatchStatus
from govdata.aggregation.validation import (  # noqa: F401  (check_values re-exported for siblings)
    REJECTED_ROWIDS,
    VALID,
    ItemRule,
    Target,
    check_values,
    staging_columns,
    validate,
)
from govdata.aggregation.waiting import (  # noqa: F401  (re-exported for the routes and siblings)
    FINISHED,
    batch_status,
    notify,
    wait_finished,
    wait_for,
)
from govdata.catalog import service as catalog
from govdata.catalog.service import ResourceRef
from govdata.core import audit, events, files, jobs
from govdata.core.auth import SYSTEM_ACTOR, Actor, require
from govdata.core.db import paginate, unit_of_work, utcnow
from govdata.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, field_error
from govdata.core.observability import log
from govdata.store.base import KEY, Staged, TableSpec
from govdata.store.sql import SqlStore

RUN_BATCH = "aggregation.run_batch"
TABLE_FORMATS = {"database", "spreadsheet", "self_describing", "service", "file"}  # not image, streaming
CYCLE_DAYS = {
    "daily": 1,
    "weekly": 7,
    "monthly": 31,
    "quarterly": 92,
    "half_yearly": 183,
    "yearly": 366,
    "realtime": 1,
}


# --- the typed table of a resource (AGG-1) ------------------------------------------------------


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


def own_resource(session: Session, actor: Actor, code: str) -> ResourceRef:
    """The caller's department's resource (403 for another department's, 404 for an unseen one)."""
    resource = catalog.find_resource(session, actor, code)
    if not is_provider(actor, resource.provider_id):
        raise PermissionDenied("只能归集或查看本部门提供的资源的数据。")
    return resource


# --- creating a batch (AGG-2, AGG-3) ------------------------------------------------------------


@dataclass
class Upload:
    path: Path
    filename: str | None
    checksum: str


def create_batch(
    session: Session,
    actor: Actor,
    data_dir: Path,
    code: str,
    *,
    mode: str,
    policy: str,
    upload: Upload | None = None,
    records: list[dict[str, Any]] | None = None,
    encoding: str | None = None,
    source_rows: int | None = None,
    source_checksum: str | None = None,
    source: str | None = None,
) -> Batch:
    """Check the request and keep the source; the batch is queued for ``run_batch``.

    ``source`` names where the rows came from (``upload``, ``records``, ``pull``)."""
    require(actor, BATCH_LOAD)
    resource = own_resource(session, actor, code)
    return _queue_batch(
        session,
        actor,
        data_dir,
        resource,
        mode=mode,
        policy=policy,
        upload=upload,
        records=records,
        encoding=encoding,
        source_rows=source_rows,
        source_checksum=source_checksum,
        source=source,
    )


def create_feed_batch(session: Session, actor: Actor, data_dir: Path, code: str, upload: Upload) -> Batch:
    """A strict batch replacing the whole table of ``code`` with ``upload``, loaded by the platform in
    its own name (``BATCH_FEED``): an internet-facing portal instance applying the open rows that the
    government node's signed open-data feed carries (``opening.feed``). Queued for ``run_batch``."""
    require(actor, BATCH_FEED)
    resource = catalog.resource_ref(session, code=code)
    if resource is None:
        raise NotFound(f"资源 {code} 不存在。")
    return _queue_batch(
        session, actor, data_dir, resource, mode="replace", policy="strict", upload=upload, source="feed"
    )


def _queue_batch(
    session: Session,
    actor: Actor,
    data_dir: Path,
    resource: ResourceRef,
    *,
    mode: str,
    policy: str,
    upload: Upload | None = None,
    records: list[dict[str, Any]] | None = None,
    encoding: str | None = None,
    source_rows: int | None = None,
    source_checksum: str | None = None,
    source: str | None = None,
) -> Batch:
    code = resource.code
    spec, rules = table_of(session, resource)
    if resource.format not in TABLE_FORMATS:
        raise Conflict("该资源的格式（图形图像、流媒体）不以数据表归集。", slug="not-tabular")
    if mode not in BatchMode.__members__:
        raise field_error("mode", "应为 replace、upsert 或 delete")
    if policy not in BatchPolicy.__members__:
        raise field_error("policy", "应为 strict 或 accept_valid")
    if mode in ("upsert", "delete") and not spec.key_columns:
        raise field_error("mode", "该资源没有关键标识信息项，只能整体替换（replace）")
    if (upload is None) == (records is None):
        raise InvalidInput("请上传一个文件，或提交 JSON 记录。")
    if records is not None and len(records) == 0:
        raise field_error("records", "没有记录")
    batch = Batch(
        resource_id=resource.id,
        resource_code=resource.code,
        department_id=resource.provider_id,
        catalog_version=resource.published_version,
        mode=mode,
        policy=policy,
        source=source or ("upload" if upload else "records"),
        filename=(upload.filename or "")[:255] or None if upload else None,
        encoding=encoding,
        status=BatchStatus.queued,
        source_rows=source_rows,
        source_checksum=sources.declared_checksum(source_checksum),
        # AGG-7: what arrived, to compare with what the provider declared (records: canonical JSON)
        file_checksum=upload.checksum if upload else sources.records_checksum(records),
        created_by=actor.name,
    )
    session.add(batch)
    session.flush()
    target = batch_dir(data_dir, batch.id)
    target.mkdir(parents=True, exist_ok=True)
    if upload is not None:
        stored = target / ("source" + Path(upload.filename or "upload").suffix.lower()[:10])
        upload.path.replace(stored)
    else:
        stored = target / "records.json"
        stored.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    batch.upload_path = str(stored)
    jobs.enqueue(session, RUN_BATCH, {"batch_id": batch.id}, key=f"batch:{batch.id}")
    audit.record(
        session,
        actor,
        "aggregation.batch.created",
        "batch",
        batch.id,
        details={
            "resource": code,
            "mode": mode,
            "policy": policy,
            "source": batch.source,
            "file": batch.filename,
        },
    )
    return batch


# --- running a batch (AGG-4, AGG-5) --------------------------------------------------------------


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


class _Progress:
    """Writes a batch's stage and progress in short transactions of their own, so pages can follow."""

    def __init__(self, factory: sessionmaker, batch_id: int) -> None:
        self.factory, self.batch_id = factory, batch_id

    def __call__(self, stage: str, progress: float, **fields: Any) -> None:
        with unit_of_work(self.factory) as session:
            batch = session.get(Batch, self.batch_id)
            batch.stage, batch.progress = stage, progress
            for name, value in fields.items():
                setattr(batch, name, value)


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
    progress = _Progress(factory, batch_id)
    with unit_of_work(factory) as session:
        batch = session.get(Batch, batch_id)
        if batch is None or batch.status not in (BatchStatus.queued, BatchStatus.running):
            return
        spec, rules = table_of(session, catalog.resource_ref(session, id=batch.resource_id))
        mode, policy, path, filename, encoding = (
            batch.mode,
            batch.policy,
            Path(batch.upload_path),
            batch.filename,
            batch.encoding,
        )
        declared_rows, declared_checksum, file_checksum = (
            batch.source_rows,
            batch.source_checksum,
            batch.file_checksum,
        )
    progress("准备数据表", 0.02, status=BatchStatus.running, started_at=utcnow())
    work = batch_dir(data_dir, batch_id) / "work"
    work.mkdir(parents=True, exist_ok=True)
    timings = _Timings()
    try:
        # the store's DuckDB (or, for PostgreSQL, a DuckDB of the batch's own) reads and validates
        with store.workspace(work) as con:
            store.ensure_table(spec, strict=True)  # a type change that alters data waits for its migration
            if keys := store.batch_keys(spec, batch_id):  # the process died after applying: finish the record
                _finish_applied_again(factory, keys, batch_id)
                return
            progress("读取文件", 0.1)
            info = sources.load_file(con, path, filename, encoding, work, limits=sheets)
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
            reconciliation = None
            if declared_rows is not None or declared_checksum:
                matches = (declared_rows is None or declared_rows == rows_total) and (
                    not declared_checksum or declared_checksum == file_checksum
                )
                reconciliation = "ok" if matches else "mismatch"
                if not matches:
                    warnings.append(
                        f"与提供方申报不一致：申报 {declared_rows if declared_rows is not None else '—'} 行，实收 {rows_total} 行"
                        + (
                            f"；校验值不符（申报 SHA-256 {declared_checksum}，实收 {file_checksum or '—'}）"
                            if declared_checksum and declared_checksum != file_checksum
                            else ""
                        )
                    )
            common = {
                "rows_total": rows_total,
                "rows_rejected": rejected,
                "errors_count": checked.errors,
                "warnings": "\n".join(warnings) or None,
                "absent_items": [r.code for r in absent] or None,
                "reconciliation": reconciliation,
            }
            if rejected and policy == BatchPolicy.strict:
                _finish(
                    factory,
                    batch_id,
                    BatchStatus.rejected,
                    f"严格模式：{rejected} 行有错误，整批未入库。",
                    **common,
                )
                return
            if valid == 0:
                _finish(factory, batch_id, BatchStatus.rejected, "没有可入库的有效行。", **common)
                return
            progress("写入数据存储", 0.6, **common)
            timings.lap("errors")
            columns = [KEY, *(spec.key_columns if mode == "delete" else spec.codes)]
            select = "SELECT " + ", ".join(f'"{c}"' for c in columns) + f" FROM {VALID}"
            rows = Staged(con, select, work, table=staging, rejected=REJECTED_ROWIDS)
            keep = [r.code for r in absent] if mode == BatchMode.upsert else []
            result = store.apply(spec, batch_id, mode, rows, written_at, keep=keep)
            timings.lap("apply")
        _finish(
            factory,
            batch_id,
            BatchStatus.applied,
            None,
            rows_applied=valid,
            rows_inserted=result.inserted,
            rows_updated=result.updated,
            rows_deleted=result.deleted,
            **common,
        )
        log.info("batch applied", batch=batch_id, rows=rows_total, seconds_cpu=timings.laps)
    except InvalidInput as exc:
        _finish(factory, batch_id, BatchStatus.failed, exc.detail)
    except ValueError as exc:  # a destructive table migration the catalog version asked for
        _finish(factory, batch_id, BatchStatus.failed, str(exc))
    except Exception:
        log.exception("batch failed", batch=batch_id)
        _finish(factory, batch_id, BatchStatus.failed, "处理批次时发生内部错误，已记录日志；数据未改变。")
    finally:
        _discard_staging(store, spec, batch_id)
        sources.remove_work(work)


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


def _finish_applied_again(factory: sessionmaker, keys: int, batch_id: int) -> None:
    _finish(
        factory, batch_id, BatchStatus.applied, "服务重启后确认：该批次此前已完整入库。", rows_applied=keys
    )


def _finish(factory: sessionmaker, batch_id: int, status: str, message: str | None, **fields: Any) -> None:
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


# --- reading batches, reports, rollback (AGG-5, AGG-6) -------------------------------------------


def _visible_batch(session: Session, actor: Actor, batch_id: int) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None or not can_read_batches(actor, batch.department_id):
        raise NotFound(f"批次 {batch_id} 不存在。")
    return batch


def get_batch(session: Session, actor: Actor, batch_id: int) -> Batch:
    require(actor, BATCH_READ)
    return _visible_batch(session, actor, batch_id)


def list_batches(
    session: Session, actor: Actor, code: str, *, limit: int, offset: int
) -> tuple[list[Batch], int]:
    require(actor, BATCH_READ)
    resource = catalog.find_resource(session, actor, code)
    if not can_read_batches(actor, resource.provider_id):
        raise PermissionDenied("只能查看本部门资源的归集批次。")
    stmt = select(Batch).where(Batch.resource_id == resource.id)
    return paginate(session, stmt, Batch.id.desc(), limit=limit, offset=offset)


ERROR_COLUMNS = errors_file.ERROR_COLUMNS


def batch_errors(
    session: Session, actor: Actor, data_dir: Path, batch_id: int, *, limit: int | None = None
) -> list[dict]:
    """The batch's row-level errors, with the Chinese message of each rule and ``line``, the row's
    values by item code (None for a batch validated before they were kept)."""
    batch = get_batch(session, actor, batch_id)
    found = errors_file.read_errors(batch_dir(data_dir, batch.id) / "errors.parquet", limit)
    if not found:
        return []
    body = catalog.version_body(session, batch.resource_id, batch.catalog_version) or {}
    rules = {r.code: r for r in rules_for(body, catalog.element_key_kinds(session))}
    return [
        {
            "row": e.row,
            "item": e.item,
            "value": e.value,
            "rule": e.rule,
            "message": rules[e.item].message(e.rule) if e.item in rules else e.rule,
            "line": e.line,
        }
        for e in found
    ]


def batch_item_columns(session: Session, actor: Actor, batch_id: int) -> list[errors_file.ItemColumn]:
    """The items of the catalog version the batch was loaded against, in the catalog's order."""
    batch = get_batch(session, actor, batch_id)
    body = catalog.version_body(session, batch.resource_id, batch.catalog_version)
    body = body if body is not None else catalog.version_body(session, batch.resource_id) or {}
    return [
        errors_file.ItemColumn(item["code"].lower(), item["name"], item.get("data_type") or "C")
        for item in body.get("items", [])
    ]


def errors_csv(rows: list[dict]) -> bytes:
    """The row-level errors as the API's CSV (SPEC §15; ``core.files``: safe cells, UTF-8 with BOM, CRLF)."""
    return errors_file.contract_csv(rows)


def errors_for_vendor(session: Session, actor: Actor, data_dir: Path, batch_id: int, *, format: str) -> bytes:
    """The errors file for the vendor of the department's source system, in Chinese, as CSV or XLSX:
    each error with the item's and the rule's names, and the row's values beside it."""
    rows = batch_errors(session, actor, data_dir, batch_id)
    items = batch_item_columns(session, actor, batch_id)
    if format == "xlsx":
        return errors_file.vendor_xlsx(rows, items)
    return errors_file.vendor_csv(rows, items)


def rollback_batch(session: Session, actor: Actor, store: SqlStore, batch_id: int) -> Batch:
    require(actor, BATCH_ROLLBACK)
    batch = _visible_batch(session, actor, batch_id)
    if not can_rollback(actor, batch.department_id):
        raise PermissionDenied("只能回滚本部门的批次。")
    if batch.status != BatchStatus.applied:
        raise Conflict("只有已入库的批次可以回滚。", slug="invalid-state", status_now=batch.status)
    _refuse_rollback_across_migration(session, batch)
    spec, _ = table_of(session, catalog.resource_ref(session, id=batch.resource_id))
    store.ensure_table(spec)
    touched = store.rollback(spec, batch.id)
    batch.status = BatchStatus.rolled_back
    batch.rolled_back_at = utcnow()
    batch.rolled_back_by = actor.name
    events.emit(session, events.BATCH_ROLLED_BACK, batch_id=batch.id, resource_id=batch.resource_id)
    audit.record(
        session, actor, "aggregation.batch.rolled_back", "batch", batch.id, details={"keys": touched}
    )
    return batch


def _refuse_rollback_across_migration(session: Session, batch: Batch) -> None:
    """A migration is not undone, and a batch before one cannot be: its rollback would bring back
    values of the item definitions the migration replaced."""
    if batch.mode == MIGRATION:
        raise Conflict("目录修订的数据迁移不能回滚；如需恢复原定义，请再次修订目录。", slug="migration-final")
    later = session.scalar(
        select(func.max(Batch.catalog_version)).where(
            Batch.resource_id == batch.resource_id,
            Batch.mode == MIGRATION,
            Batch.status == BatchStatus.applied,
            Batch.id > batch.id,
        )
    )
    if later is not None:
        raise Conflict(
            f"该批次之后已按目录第 {later} 版迁移了已存数据，迁移之前的批次不能回滚。", slug="migration-final"
        )


# --- reading data and freshness (AGG-6, AGG-7) ----------------------------------------------------------


def overdue_resources(
    session: Session, resources: list[ResourceRef], now: datetime | None = None
) -> list[tuple[ResourceRef, datetime | None, datetime]]:
    """Of ``resources``, those whose next batch is overdue against their update cycle (AGG-7), each
    with its last batch time and when the next was due; one query for all (supervision's
    ``aggregation_late``)."""
    now = now or utcnow()
    last = last_applied(session, [r.id for r in resources])
    overdue = []
    for resource in resources:
        days = CYCLE_DAYS.get(resource.update_cycle)
        base = last.get(resource.id) or resource.published_at
        if days and base and now > base + timedelta(days=days):
            overdue.append((resource, last.get(resource.id), base + timedelta(days=days)))
    return overdue


def freshness(session: Session, resource: ResourceRef, now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    last = session.scalar(  # a migration delivers no data
        select(func.max(Batch.finished_at)).where(
            Batch.resource_id == resource.id, Batch.status == BatchStatus.applied, Batch.mode != MIGRATION
        )
    )
    days = CYCLE_DAYS.get(resource.update_cycle)
    base = last or resource.published_at
    next_due = base + timedelta(days=days) if (days and base) else None
    return {"last_batch_at": last, "next_due": next_due, "overdue": bool(next_due and now > next_due)}


def read_records(
    session: Session,
    actor: Actor,
    store: SqlStore,
    code: str,
    *,
    keys: list[str] | None = None,
    filters: dict[str, str] | None = None,
    as_of_batch: int | None = None,
    as_of: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """The provider department reads its own data (before any grant; the sharing capability extends
    this to consumers with grants)."""
    require(actor, DATA_READ)
    resource = catalog.find_resource(session, actor, code)
    if not can_read_own_data(actor, resource.provider_id):
        raise PermissionDenied("尚无该资源的共享授权；提供部门的用户可查询本部门数据。", slug="no-grant")
    spec, rules = table_of(session, resource)
    unknown = [f for f in (filters or {}) if f not in spec.codes]
    if unknown:
        raise field_error(unknown[0], "不是该资源的信息项")
    store.ensure_table(spec)
    result = store.query(
        spec,
        keys=[k.strip().upper() if _identifier_key(rules) else k.strip() for k in keys] if keys else None,
        filters=filters,
        as_of_batch=as_of_batch,
        as_of_time=as_of.astimezone(UTC).replace(tzinfo=None) if as_of else None,
        limit=limit,
        offset=offset,
    )
    items = [{c: _json_value(row[c]) for c in spec.codes} for row in result.rows]
    audit.record(
        session,
        actor,
        "aggregation.data.read",
        "resource",
        code,
        details={"records": len(items), "keys": len(keys or []), "filters": sorted(filters or {})},
    )
    return {
        "items": items,
        "total": result.total,
        "under_review": [],
        "freshness": freshness(session, resource),
        "receipt": None,
    }


def _identifier_key(rules: list[ItemRule]) -> bool:
    keys = [r for r in rules if r.key]
    return len(keys) == 1 and keys[0].key_kind in ("ric", "uscc")


def json_value(value: Any) -> Any:
    """A stored value as JSON carries it (dates as ISO text, decimals as text)."""
    return _json_value(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value.__class__.__name__ == "Decimal":
        return str(value)
    return value


# --- read-only helpers of the pages (aggregation/web.py) ------------------------------------------


def department_pool(session: Session, actor: Actor, store: SqlStore) -> list[dict[str, Any]]:
    """The caller's department resource pool (AGG-8): its published table-like resources, each with
    its current row count (None when it has no items), its latest batch and its freshness (AGG-7)."""
    require(actor, BATCH_READ)
    if actor.department_id is None:
        return []
    resources = catalog.published_resources(session, provider_id=actor.department_id, formats=TABLE_FORMATS)
    latest = select(func.max(Batch.id)).where(Batch.resource_id.in_([r.id for r in resources]))
    last = {
        b.resource_id: b
        for b in session.scalars(select(Batch).where(Batch.id.in_(latest.group_by(Batch.resource_id))))
    }
    pool = []
    for resource in resources:
        try:
            spec, _ = table_of(session, resource)
            rows: int | None = store.row_count(spec)
        except Conflict:
            rows = None
        pool.append(
            {
                "resource": resource,
                "rows": rows,
                "last_batch": last.get(resource.id),
                "freshness": freshness(session, resource),
            }
        )
    return pool


def batch_item_names(session: Session, actor: Actor, batch_id: int) -> dict[str, str]:
    """Item code → item name in the catalog version the batch was loaded against."""
    return {item.code: item.name for item in batch_item_columns(session, actor, batch_id)}


def last_policy(session: Session, resource_id: int) -> str | None:
    """The policy of the resource's latest batch (the policy is the resource's, AGG-5)."""
    return session.scalar(
        select(Batch.policy)
        .where(Batch.resource_id == resource_id, Batch.mode != MIGRATION)
        .order_by(Batch.id.desc())
        .limit(1)
    )
