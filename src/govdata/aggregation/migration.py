"""Stored data and catalog revisions (AGG-1): what a revision would change, and its migration.

A revision that narrows an item (a shorter length, a smaller precision), gives it another type or
removes it may change values already stored. ``measure`` is the check aggregation registers with the
catalog (``handlers.py``): at publish, and in the revision's dry run, it counts the current values
that would change (the store measures them, ``SqlStore.data_impact``). The catalog refuses such a
revision unless it names a migration; once it is published, ``queue`` adds the migration as a batch
of the resource (mode ``migrate``), run as a job in order with the batches (``run_migration``): the
changed rows' old versions go to the history, ended by that batch, so as-of reads before it still
show the old values, and the batch cannot be rolled back (nor can the batches before it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from govdata.aggregation.models import MIGRATION, Batch, BatchPolicy, BatchStatus
from govdata.aggregation.run import Progress, finish, rules_for
from govdata.catalog import service as catalog
from govdata.catalog.impacts import DataImpact, Revision, item_type
from govdata.core import audit, jobs
from govdata.core.auth import Actor
from govdata.core.db import unit_of_work, utcnow
from govdata.core.observability import log
from govdata.store.base import TableSpec
from govdata.store.sql import SqlStore

RUN_MIGRATION = "aggregation.run_migration"


def altered_items(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[str, dict, dict | None]]:
    """Item code → (change, published item, revised item) for the items whose stored values the
    revision may change: narrowed, retyped, shortened or removed."""
    old = {i["code"].lower(): i for i in before.get("items", [])}
    new = {i["code"].lower(): i for i in after.get("items", [])}
    altered: dict[str, tuple[str, dict, dict | None]] = {}
    for code, item in old.items():
        if code not in new:
            altered[code] = ("removed", item, None)
        elif change := _change(item, new[code]):
            altered[code] = (change, item, new[code])
    return altered


def _narrower(old: int | None, new: int | None) -> bool:
    """Whether a limit (a length, a number of digits) shrinks; None is no limit."""
    return new is not None and (old is None or new < old)


def _change(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    if old["data_type"] != new["data_type"]:
        return "retyped"
    if new["data_type"] == "N":
        if _narrower(old.get("length"), new.get("length")):
            return "narrowed"
        if new.get("length") and (new.get("precision") or 0) < (old.get("precision") or 0):
            return "narrowed"
    if new["data_type"] in ("C", "M") and _narrower(old.get("length"), new.get("length")):
        return "shortened"
    return None


def _spec(resource_id: int, body: dict[str, Any], kinds: dict[str, str | None]) -> TableSpec | None:
    rules = rules_for(body, kinds)
    if not rules:
        return None
    return TableSpec(resource_id, tuple(r.column for r in rules), tuple(r.code for r in rules if r.key))


def measure(session: Session, store: SqlStore | None, revision: Revision) -> list[DataImpact]:
    """The stored values the revision would change, per item (the catalog's publish check)."""
    altered = altered_items(revision.before, revision.after)
    spec = _spec(revision.resource_id, revision.after, catalog.element_key_kinds(session))
    if store is None or not altered or spec is None:
        return []
    codes = [code for code, (change, *_) in altered.items() if change != "removed"]
    removed = [code for code, (change, *_) in altered.items() if change == "removed"]
    counts = store.data_impact(spec, codes, removed)
    impacts = []
    for code, values in counts.items():
        change, old, new = altered[code]
        if values:
            name = (new or old)["name"]
            impacts.append(DataImpact(code, name, change, item_type(old), item_type(new), values))
    return impacts


def queue(session: Session, publisher: Actor, revision: Revision, impacts: list[DataImpact]) -> None:
    """Queue the migration of a just-published revision: a batch of the resource, whose job comes
    before those of any batch submitted after the publication. ``publisher`` (whom the catalog
    checked) is recorded as the batch's creator."""
    resource = catalog.resource_ref(session, id=revision.resource_id)
    batch = Batch(
        resource_id=resource.id,
        resource_code=resource.code,
        department_id=resource.provider_id,
        catalog_version=revision.version,
        mode=MIGRATION,
        policy=BatchPolicy.strict,
        source="migration",
        status=BatchStatus.queued,
        created_by=publisher.name,
    )
    session.add(batch)
    session.flush()
    jobs.enqueue(session, RUN_MIGRATION, {"batch_id": batch.id}, key=f"batch:{batch.id}")
    audit.record(
        session,
        publisher,
        "aggregation.batch.created",
        "batch",
        batch.id,
        details={
            "resource": resource.code,
            "mode": MIGRATION,
            "source": "migration",
            "version": revision.version,
            "items": {i.item: i.values for i in impacts},
        },
    )


def run_migration(factory: sessionmaker, store: SqlStore, batch_id: int) -> None:
    """Migrate the resource's stored data to the catalog version of a migration batch: the items the
    revision's migration covers. Safe to run again after a crash (one store transaction)."""
    with unit_of_work(factory) as session:
        batch = session.get(Batch, batch_id)
        if (
            batch is None
            or batch.mode != MIGRATION
            or batch.status not in (BatchStatus.queued, BatchStatus.running)
        ):
            return
        resource_id, version = batch.resource_id, batch.catalog_version
        after = catalog.version_body(session, resource_id, version) or {}
        before = catalog.version_body(session, resource_id, version - 1) or {}
        migration = catalog.version_migration(session, resource_id, version) or {}
        spec = _spec(resource_id, after, catalog.element_key_kinds(session))
    Progress(factory, batch_id)("迁移已存数据", 0.1, status=BatchStatus.running, started_at=utcnow())
    covered = migration.get("items")
    altered = {
        code: change
        for code, (change, *_) in altered_items(before, after).items()
        if migration.get("confirm") and (covered is None or code in covered)
    }
    try:
        if spec is None or not altered:
            finish(factory, batch_id, BatchStatus.applied, "没有需要迁移的已存数据。")
            return
        if keys := store.batch_keys(spec, batch_id):  # the process died after migrating
            finish(
                factory,
                batch_id,
                BatchStatus.applied,
                "服务重启后确认：数据此前已完成迁移。",
                rows_applied=keys,
            )
            return
        codes = [code for code, change in altered.items() if change != "removed"]
        removed = [code for code, change in altered.items() if change == "removed"]
        migrated = store.migrate(spec, batch_id, utcnow().replace(tzinfo=None), codes, removed)
        store.ensure_table(spec)  # the revision's other changes: new items, widened types
        changed = "；".join(f"{code} {n} 个值" for code, n in migrated.values.items() if n) or "无"
        message = f"已按目录第 {version} 版迁移已存数据（改变的值：{changed}），原值保留在历史中。"
        rows = migrated.rows
        finish(
            factory,
            batch_id,
            BatchStatus.applied,
            message,
            rows_total=rows,
            rows_applied=rows,
            rows_updated=rows,
        )
        log.info("migration applied", batch=batch_id, rows=rows, values=migrated.values)
    except Exception:
        log.exception("migration failed", batch=batch_id)
        finish(factory, batch_id, BatchStatus.failed, "迁移数据时发生内部错误，已记录日志；数据未改变。")
