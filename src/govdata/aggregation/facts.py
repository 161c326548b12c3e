"""Actor-free facts about batches for sibling capabilities (quality, libraries, later supervision):
plain frozen values, so that no other capability reads the batch table or opens a batch's files.
``aggregation.service`` re-exports them: siblings call them through the service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from govdata.aggregation import sources
from govdata.aggregation.models import MIGRATION, Batch, BatchMode, BatchStatus
from govdata.core.labels import label


def batch_dir(data_dir: Path, batch_id: int) -> Path:
    return data_dir / "batches" / str(batch_id)


@dataclass(frozen=True)
class BatchFacts:
    """What another capability may know of a batch."""

    id: int
    resource_id: int
    mode: str
    status: str
    catalog_version: int
    rows_total: int
    rows_applied: int
    errors_count: int
    reconciliation: str | None  # ok | mismatch | None (nothing declared)
    finished_at: datetime | None
    rolled_back_at: datetime | None

    @property
    def changed_data(self) -> bool:
        """Applied (and perhaps rolled back since): the resource's rows changed because of it."""
        return self.status in (BatchStatus.applied, BatchStatus.rolled_back)


def _batch_facts(batch: Batch) -> BatchFacts:
    return BatchFacts(
        id=batch.id,
        resource_id=batch.resource_id,
        mode=batch.mode,
        status=batch.status,
        catalog_version=batch.catalog_version,
        rows_total=batch.rows_total,
        rows_applied=batch.rows_applied,
        errors_count=batch.errors_count,
        reconciliation=batch.reconciliation,
        finished_at=batch.finished_at,
        rolled_back_at=batch.rolled_back_at,
    )


def batch_facts(session: Session, batch_id: int) -> BatchFacts | None:
    batch = session.get(Batch, batch_id)
    return None if batch is None else _batch_facts(batch)


def batch_window(session: Session, resource_id: int, size: int) -> list[BatchFacts]:
    """The applied data batches (``replace``, ``upsert``) behind the current rows, newest first: at
    most ``size``, back to (and including) the latest full replace, which renewed every row."""
    latest = session.scalars(
        select(Batch)
        .where(
            Batch.resource_id == resource_id,
            Batch.status == BatchStatus.applied,
            Batch.mode.in_([BatchMode.replace, BatchMode.upsert]),
        )
        .order_by(Batch.id.desc())
        .limit(size)
    ).all()
    window: list[BatchFacts] = []
    for batch in latest:
        window.append(_batch_facts(batch))
        if batch.mode == BatchMode.replace:
            break
    return window


@dataclass(frozen=True)
class BatchErrorCounts:
    """A batch's row-level errors counted: rule → item → cells, and the rows with an error of the
    rules the caller asked about."""

    by_rule: dict[str, dict[str, int]]
    rows: int


def batch_error_counts(
    session: Session, batch_id: int, *, data_dir: Path | None = None, row_rules: tuple[str, ...] = ()
) -> BatchErrorCounts | None:
    """Counts of a batch's error file (None when it has none: no error was found, or it is gone).

    ``rows`` counts the distinct rows with an error of one of ``row_rules``. Without ``data_dir`` the
    file is looked for beside the batch's stored source."""
    if data_dir is not None:
        path = batch_dir(Path(data_dir), batch_id) / "errors.parquet"
    else:
        upload = session.scalar(select(Batch.upload_path).where(Batch.id == batch_id))
        if not upload:
            return None
        path = Path(upload).parent / "errors.parquet"
    if not path.exists():
        return None
    source = f"read_parquet({sources.literal(str(path))})"
    rules = ", ".join(sources.literal(r) for r in row_rules) or "NULL"
    with duckdb.connect() as con:
        grouped = con.execute(f"SELECT rule, item, count(*) FROM {source} GROUP BY rule, item").fetchall()
        rows = con.execute(f"SELECT count(DISTINCT row) FROM {source} WHERE rule IN ({rules})").fetchall()
    by_rule: dict[str, dict[str, int]] = {}
    for rule, item, count in grouped:
        by_rule.setdefault(rule, {})[item] = int(count)
    return BatchErrorCounts(by_rule, int(rows[0][0] or 0))


def applied_times(session: Session, resource_id: int) -> list[datetime]:
    """When each applied batch of the resource finished, oldest first (migrations deliver no data)."""
    return list(
        session.scalars(
            select(Batch.finished_at)
            .where(
                Batch.resource_id == resource_id,
                Batch.status == BatchStatus.applied,
                Batch.mode != MIGRATION,
                Batch.finished_at.is_not(None),
            )
            .order_by(Batch.finished_at)
        )
    )


def resources_with_data(session: Session, resource_ids: list[int] | None = None) -> set[int]:
    """The resources (of ``resource_ids``, or all) with at least one applied batch."""
    stmt = select(Batch.resource_id).where(Batch.status == BatchStatus.applied).distinct()
    if resource_ids is not None:
        if not resource_ids:
            return set()
        stmt = stmt.where(Batch.resource_id.in_(sorted(set(resource_ids))))
    return set(session.scalars(stmt))


@dataclass(frozen=True)
class LatestBatch:
    """A resource's newest batch, as a department resource pool shows it (AGG-8)."""

    id: int
    status: str
    status_label: str
    mode: str
    rows_applied: int
    created_at: datetime
    finished_at: datetime | None


def latest_batches(session: Session, resource_ids: list[int]) -> dict[int, LatestBatch]:
    """Resource id → its newest batch (whatever its status), for the resources that have one."""
    if not resource_ids:
        return {}
    newest = (
        select(func.max(Batch.id))
        .where(Batch.resource_id.in_(sorted(set(resource_ids))))
        .group_by(Batch.resource_id)
    )
    return {
        b.resource_id: LatestBatch(
            id=b.id,
            status=b.status,
            status_label=label(BatchStatus, b.status),
            mode=b.mode,
            rows_applied=b.rows_applied,
            created_at=b.created_at,
            finished_at=b.finished_at,
        )
        for b in session.scalars(select(Batch).where(Batch.id.in_(newest)))
    }


def batch_resource_codes(session: Session, batch_ids: list[int]) -> dict[int, str]:
    """Batch id → the code of the resource it loaded, for the batches of ``batch_ids`` that exist."""
    wanted = sorted({i for i in batch_ids if i is not None})
    if not wanted:
        return {}
    return dict(session.execute(select(Batch.id, Batch.resource_code).where(Batch.id.in_(wanted))).all())


@dataclass(frozen=True)
class MismatchedBatch:
    """A batch whose declared source row count or checksum disagreed with what arrived (AGG-7)."""

    id: int
    resource_id: int
    resource_code: str
    department_id: int
    status: str
    source_rows: int | None
    rows_total: int
    source_checksum: str | None
    file_checksum: str | None
    created_at: datetime


def mismatched_batches(session: Session) -> list[MismatchedBatch]:
    """Every batch reconciled as ``mismatch``, oldest first (supervision's ``aggregation_inconsistent``)."""
    return [
        MismatchedBatch(
            b.id,
            b.resource_id,
            b.resource_code,
            b.department_id,
            b.status,
            b.source_rows,
            b.rows_total,
            b.source_checksum,
            b.file_checksum,
            b.created_at,
        )
        for b in session.scalars(select(Batch).where(Batch.reconciliation == "mismatch").order_by(Batch.id))
    ]


def last_applied(session: Session, resource_ids: list[int]) -> dict[int, datetime]:
    """Resource id → when its newest applied batch that delivered data finished (a migration delivers
    none), for the resources that have one; what AGG-7's freshness counts from."""
    if not resource_ids:
        return {}
    return dict(
        session.execute(
            select(Batch.resource_id, func.max(Batch.finished_at))
            .where(
                Batch.resource_id.in_(sorted(set(resource_ids))),
                Batch.status == BatchStatus.applied,
                Batch.mode != MIGRATION,
            )
            .group_by(Batch.resource_id)
        ).all()
    )


@dataclass(frozen=True)
class AppliedCounts:
    """A resource's applied batches that delivered data (a migration delivers none): those finished in
    a period, and those finished before its end."""

    in_period: int
    before_end: int


def applied_batch_counts(session: Session, start: datetime, end: datetime) -> dict[int, AppliedCounts]:
    """Resource id → its applied batches, counted in SQL (the scorecards' aggregation figures)."""
    in_period = and_(Batch.finished_at >= start, Batch.finished_at < end)
    stmt = (
        select(Batch.resource_id, func.sum(case((in_period, 1), else_=0)), func.count())
        .where(
            Batch.status == BatchStatus.applied,
            Batch.mode != MIGRATION,
            Batch.finished_at < end,
        )
        .group_by(Batch.resource_id)
    )
    return {r: AppliedCounts(int(k or 0), int(n)) for r, k, n in session.execute(stmt).all()}


@dataclass(frozen=True)
class AppliedBatch:
    """A batch applied in a span that delivered data (a migration delivers none): the dashboards'
    batches by month (SUP-5)."""

    id: int
    resource_code: str
    department_id: int
    finished_at: datetime
    rows_applied: int


def applied_batches(session: Session, start: datetime, end: datetime) -> list[AppliedBatch]:
    """The batches applied (finished) in ``[start, end)`` (UTC instants), oldest first."""
    rows = session.execute(
        select(Batch.id, Batch.resource_code, Batch.department_id, Batch.finished_at, Batch.rows_applied)
        .where(
            Batch.status == BatchStatus.applied,
            Batch.mode != MIGRATION,
            Batch.finished_at >= start,
            Batch.finished_at < end,
        )
        .order_by(Batch.finished_at, Batch.id)
    ).all()
    return [AppliedBatch(*row) for row in rows]
