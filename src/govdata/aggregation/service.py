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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
from govdata.aggregation.run import rules_for, run_batch, table_of  # noqa: F401  (re-exported)
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
from govdata.core import audit, events, jobs
from govdata.core.auth import Actor, require
from govdata.core.db import paginate, utcnow
from govdata.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, field_error
from govdata.core.values import json_value  # noqa: F401  (re-exported for the routes)
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
    if resource.status == "retired":
        raise Conflict("资源已停用，不再归集数据。", slug="resource-retired")
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
    items = [{c: json_value(row[c]) for c in spec.codes} for row in result.rows]
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
