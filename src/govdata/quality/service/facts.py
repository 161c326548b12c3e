"""The facts quality scores from, gathered through the other capabilities' services and the store.

Quality reads no other capability's tables or files: batches and their error counts come from
``aggregation.service``, resources and their items from ``catalog.service``, and the statistics of
the current rows from the store's own methods (``column_fill``, ``compare_columns``), so that table
names and system columns stay inside ``store``.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.catalog.service import ResourceRef
from govdata.core import clock
from govdata.core.errors import Conflict
from govdata.quality.service.scoring import (
    ACCURACY_RULES,
    CONSISTENCY_MAX_RESOURCES,
    NO_WINDOW,
    WINDOW_BATCHES,
    Comparison,
    ConsistencyFacts,
    Fill,
    TimelinessFacts,
    WindowFacts,
    probe_score,
)
from govdata.store.base import TableSpec
from govdata.store.sql import SqlStore


def table_spec(session: Session, resource: ResourceRef) -> TableSpec | None:
    """The resource's typed table, or None when it has none (not published, no items)."""
    if resource.published_version is None:
        return None
    try:
        spec, _ = aggregation.table_of(session, resource)
    except Conflict:
        return None
    return spec


def _items(session: Session, resource_id: int, version: int | None = None) -> list[dict[str, Any]]:
    body = catalog.version_body(session, resource_id, version)
    if body is None and version is not None:
        body = catalog.version_body(session, resource_id)
    return list((body or {}).get("items", []))


def window_facts(session: Session, resource: ResourceRef, data_dir: Path | None) -> WindowFacts:
    """The batches behind the current rows, their error counts and the items they were checked against."""
    batches = aggregation.batch_window(session, resource.id, WINDOW_BATCHES)
    if not batches:
        return NO_WINDOW
    versions: dict[int, list[dict[str, Any]]] = {}
    items: dict[int, int] = {}
    required: dict[int, int] = {}
    for batch in batches:
        if batch.catalog_version not in versions:
            versions[batch.catalog_version] = _items(session, resource.id, batch.catalog_version)
        checked = versions[batch.catalog_version]
        items[batch.id] = len(checked)
        required[batch.id] = sum(1 for i in checked if i.get("required"))
    errors = {
        b.id: aggregation.batch_error_counts(session, b.id, data_dir=data_dir, row_rules=ACCURACY_RULES)
        for b in batches
    }
    return WindowFacts(batches, errors, items, required)


def fill(store: SqlStore, spec: TableSpec | None) -> Fill | None:
    if spec is None:
        return None
    rows, non_null = store.column_fill(spec)
    return Fill(spec.codes, rows, non_null)


def consistency_facts(
    session: Session, store: SqlStore, resource: ResourceRef, spec: TableSpec | None, rows: int
) -> ConsistencyFacts:
    """The same data elements of the same objects (by the key's data element) in other resources.

    ``rows``: the resource's current rows (nothing to compare without them)."""
    if spec is None:
        return ConsistencyFacts(False, "资源尚未发布，没有数据。")
    items = _items(session, resource.id)
    keys = [i for i in items if i.get("key")]
    if len(keys) != 1 or not keys[0].get("element"):
        return ConsistencyFacts(False, "资源没有引用数据元的单一关键标识，无法与其他资源按同一对象比对。")
    key_element = keys[0]["element"]
    mine = {i["element"]: i["code"].lower() for i in items if i.get("element") and not i.get("key")}
    if not mine or rows == 0:
        return ConsistencyFacts(False, "没有可比对的数据元或数据。", key_element)
    holders = catalog.element_holders(
        session, [key_element], key_only=True, exclude_id=resource.id, limit=CONSISTENCY_MAX_RESOURCES
    )
    comparisons = []
    for other, _ in holders:
        other_items = _items(session, other.id)
        if sum(1 for i in other_items if i.get("key")) != 1:
            continue
        other_spec = table_spec(session, other)
        if other_spec is None:
            continue
        pairs = [
            (element, mine[element], i["code"].lower())
            for i in other_items
            if not i.get("key") and (element := i.get("element")) in mine
        ]
        if not pairs:
            continue
        counts = store.compare_columns(spec, other_spec, [(a, b) for _, a, b in pairs])
        elements = [
            {"element": element, "item": a, "other_item": b, "compared": c[0], "agreed": c[1]}
            for (element, a, b), c in zip(pairs, counts, strict=True)
            if c is not None
        ]
        if elements:
            comparisons.append(Comparison(other.code, other.name, other.provider_name, elements))
    return ConsistencyFacts(True, None, key_element, comparisons)


def timeliness_facts(session: Session, resource: ResourceRef, now: datetime) -> TimelinessFacts:
    fresh = aggregation.freshness(session, resource, now)
    return TimelinessFacts(
        published=resource.published_version is not None,
        cycle=resource.update_cycle,
        cycle_days=aggregation.CYCLE_DAYS.get(resource.update_cycle),
        published_at=resource.published_at,
        applied_at=aggregation.applied_times(session, resource.id),
        last_batch_at=fresh["last_batch_at"],
        next_due=fresh["next_due"],
        overdue=bool(fresh["overdue"]),
    )


def probe(store: SqlStore, spec: TableSpec | None) -> dict[str, Any] | None:
    """Ask the store for one row as the records service does; never raises (None: nothing to probe)."""
    if spec is None:
        return None
    started = time.perf_counter()
    error = None
    try:
        store.ensure_table(spec)
        store.query(spec, limit=1)
        ok = True
    except Exception as exc:  # any failure is what this dimension measures
        ok, error = False, f"{type(exc).__name__}: {str(exc)[:200]}"
    latency = round((time.perf_counter() - started) * 1000, 1)
    return {
        "ok": ok,
        "latency_ms": latency,
        "score": probe_score(ok, latency),
        "error": error,
        "at": clock.now().isoformat(),
    }
