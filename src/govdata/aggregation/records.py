"""Reading a resource's stored data the way its provider department works with it (AGG-6, #13 item 17):
a page of records with search by key and filters on items, as of a batch or a time, and one record's
history — every version the store keeps, each with the batch that wrote it and the batch that ended it.

The store answers all of it (``SqlStore.query``, ``SqlStore.key_versions``); this module checks the
caller (the provider's own staff read their data before any grant, ``auth.can_read_own_data``) and
audits each read as ``aggregation.data.read``, like the API's query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.aggregation import service
from govdata.aggregation.auth import DATA_READ, can_read_own_data
from govdata.aggregation.models import MIGRATION, Batch, BatchStatus
from govdata.aggregation.validation import ItemRule
from govdata.catalog import service as catalog
from govdata.core import audit
from govdata.core.auth import Actor, require
from govdata.core.errors import PermissionDenied, field_error
from govdata.store.base import BATCH, ENDED_AT, ENDED_BY, KEY, WRITTEN
from govdata.store.sql import SqlStore

MAX_KEYS = 50


@dataclass(frozen=True)
class StoredTable:
    """A resource whose data the caller reads: its reference, its items and whether its key is one
    identifier (公民身份号码 or 统一社会信用代码, which the store keeps upper-cased)."""

    resource: catalog.ResourceRef
    rules: list[ItemRule]

    @property
    def key_items(self) -> list[ItemRule]:
        return [r for r in self.rules if r.key]

    def normalise_key(self, key: str) -> str:
        key = key.strip()
        keys = self.key_items
        if len(keys) == 1 and keys[0].key_kind in ("ric", "uscc"):
            return key.upper()
        return key


def stored_table(session: Session, actor: Actor, code: str) -> tuple[StoredTable, Any]:
    """The resource (404 when unseen) whose data the caller may read (403 otherwise), and its table."""
    require(actor, DATA_READ)
    resource = catalog.find_resource(session, actor, code)
    if not can_read_own_data(actor, resource.provider_id):
        raise PermissionDenied("尚无该资源的共享授权；提供部门的用户可查询本部门数据。", slug="no-grant")
    spec, rules = service.table_of(session, resource)
    return StoredTable(resource, rules), spec


def applied_batches(session: Session, actor: Actor, code: str, limit: int = 200) -> list[Batch]:
    """The resource's batches that changed its data (applied or rolled back), newest first: the
    points "as of a batch" can name."""
    table, _ = stored_table(session, actor, code)
    return list(
        session.scalars(
            select(Batch)
            .where(
                Batch.resource_id == table.resource.id,
                Batch.status.in_([BatchStatus.applied, BatchStatus.rolled_back]),
            )
            .order_by(Batch.id.desc())
            .limit(limit)
        )
    )


def browse(
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
    """A page of the resource's records (now, or as of a batch or a time), each with its key and the
    batch that wrote it; ``keys`` and ``filters`` (item code → value, exact) narrow it."""
    table, spec = stored_table(session, actor, code)
    if keys and len(keys) > MAX_KEYS:
        raise field_error("key", f"一次最多查询 {MAX_KEYS} 个关键标识")
    unknown = [f for f in (filters or {}) if f not in spec.codes]
    if unknown:
        raise field_error(unknown[0], "不是该资源的信息项")
    store.ensure_table(spec)
    result = store.query(
        spec,
        keys=[table.normalise_key(k) for k in keys] if keys else None,
        filters=filters,
        as_of_batch=as_of_batch,
        as_of_time=as_of.astimezone(UTC).replace(tzinfo=None) if as_of else None,
        limit=limit,
        offset=offset,
    )
    audit.record(
        session,
        actor,
        "aggregation.data.read",
        "resource",
        code,
        details={
            "records": len(result.rows),
            "keys": len(keys or []),
            "filters": sorted(filters or {}),
            **({"as_of_batch": as_of_batch} if as_of_batch is not None else {}),
            **({"as_of": as_of.isoformat()} if as_of is not None else {}),
        },
    )
    rows = [
        {"key": row[KEY], "batch": row[BATCH], "values": {c: row[c] for c in spec.codes}}
        for row in result.rows
    ]
    return {
        "table": table,
        "rows": rows,
        "total": result.total,
        "freshness": service.freshness(session, table.resource),
    }


@dataclass(frozen=True)
class Version:
    """One stored version of a record: its values, the batch that wrote it and how it ended."""

    values: dict[str, Any]
    batch: Batch | None
    batch_id: int
    written_at: datetime
    ended_by: int | None
    ended_at: datetime | None
    state: str  # current | superseded | deleted

    @property
    def state_label(self) -> str:
        return {"current": "当前版本", "superseded": "已被更新", "deleted": "已删除"}[self.state]


def history(session: Session, actor: Actor, store: SqlStore, code: str, key: str) -> dict[str, Any]:
    """Every version of the record ``key`` the store keeps, newest first, each with its batch (which
    file or push wrote it, when, by whom) and the batch that ended it: a later version (superseded)
    or a deletion (a delete batch, or a full replacement without the key)."""
    table, spec = stored_table(session, actor, code)
    key = table.normalise_key(key)
    if not key:
        raise field_error("key", "请输入关键标识")
    store.ensure_table(spec)
    found = store.key_versions(spec, key)
    ids = {row[BATCH] for row in found} | {row[ENDED_BY] for row in found if row[ENDED_BY] is not None}
    batches = (
        {b.id: b for b in session.scalars(select(Batch).where(Batch.id.in_(sorted(ids))))} if ids else {}
    )
    written = {row[BATCH] for row in found}
    versions = []
    for row in found:
        ended = row[ENDED_BY]
        state = "current" if ended is None else ("superseded" if ended in written else "deleted")
        versions.append(
            Version(
                values={c: row[c] for c in spec.codes},
                batch=batches.get(row[BATCH]),
                batch_id=row[BATCH],
                written_at=_utc(row[WRITTEN]),
                ended_by=ended,
                ended_at=_utc(row[ENDED_AT]),
                state=state,
            )
        )
    audit.record(
        session,
        actor,
        "aggregation.data.read",
        "resource",
        code,
        details={"records": 1 if versions else 0, "keys": 1, "history": True, "versions": len(versions)},
    )
    return {"table": table, "key": key, "versions": versions, "batches": batches}


def _utc(moment: datetime | None) -> datetime | None:
    """The store keeps instants as naive UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def changed_items(newer: dict[str, Any], older: dict[str, Any]) -> set[str]:
    """The items whose values differ between two versions (for the page to mark)."""
    return {code for code in newer if newer.get(code) != older.get(code)}


def is_migration(batch: Batch | None) -> bool:
    return batch is not None and batch.mode == MIGRATION
