"""Snapshots of a resource's scores (QUA-1): computed, stored, and read back as they were.

A snapshot (``quality_snapshots``) is stored only by writers: after each applied or rolled-back batch
and when a resource is published (event handlers, :mod:`govdata.quality.handlers`), when a user asks
for a recomputation (``POST …/quality/compute``), and once a day when only the clock moved the
timeliness score (a ``clock`` snapshot carrying the other dimensions over, :func:`record_clock`). So
the history is the scores as they were.

Reading never writes: :func:`current_view` is the latest stored snapshot with the timeliness score
recomputed in memory for "now" (the one dimension that changes with time alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from govdata.aggregation import service as aggregation
from govdata.aggregation.service import BatchFacts
from govdata.catalog import service as catalog
from govdata.catalog.service import ResourceRef
from govdata.core import clock
from govdata.core.db import unit_of_work
from govdata.core.observability import log
from govdata.quality.models import QualitySnapshot, SnapshotTrigger
from govdata.quality.service import facts, scoring
from govdata.quality.service.scoring import DIMENSIONS, HISTORY_POINTS, PROBE_WINDOW, Computed
from govdata.store.sql import SqlStore


def _earlier_probes(session: Session, resource_id: int) -> list[dict[str, Any]]:
    """The probes of the latest snapshots that ran one, newest first."""
    rows = session.scalars(
        select(QualitySnapshot.details)
        .where(QualitySnapshot.resource_id == resource_id, QualitySnapshot.trigger != SnapshotTrigger.clock)
        .order_by(QualitySnapshot.computed_at.desc(), QualitySnapshot.id.desc())
        .limit(PROBE_WINDOW * 2)
    ).all()
    return [((d or {}).get("accessibility") or {}).get("probe") for d in rows]


def compute(
    session: Session,
    store: SqlStore,
    resource: ResourceRef,
    *,
    now: datetime | None = None,
    data_dir: Path | None = None,
) -> Computed:
    """All six dimensions of one resource, from its batches, its rows and a probe (nothing stored)."""
    now = now or clock.now()
    spec = facts.table_spec(session, resource)
    fill = facts.fill(store, spec)
    if not scoring.has_data(fill):  # no data yet: nothing to score but a late first batch
        timely = scoring.timeliness(facts.timeliness_facts(session, resource, now), now)
        measures = scoring.no_data(timely)
        return Computed({d: m.score for d, m in measures.items()}, {d: m.body() for d, m in measures.items()})
    window = facts.window_facts(session, resource, data_dir) if spec is not None else scoring.NO_WINDOW
    measures = {
        "conformance": scoring.conformance(window),
        "completeness": scoring.completeness(fill, window),
        "accuracy": scoring.accuracy(window),
        "consistency": scoring.consistency(
            facts.consistency_facts(session, store, resource, spec, fill.rows if fill else 0)
        ),
        "timeliness": scoring.timeliness(facts.timeliness_facts(session, resource, now), now),
        "accessibility": scoring.accessibility(
            facts.probe(store, spec), _earlier_probes(session, resource.id)
        ),
    }
    return Computed({d: m.score for d, m in measures.items()}, {d: m.body() for d, m in measures.items()})


def save(
    session: Session,
    resource: ResourceRef,
    computed: Computed,
    trigger: SnapshotTrigger,
    *,
    batch: BatchFacts | None = None,
    now: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> QualitySnapshot:
    details = {**computed.details, **(extra or {})}
    if batch is not None:
        details["batch"] = {"id": batch.id, "status": batch.status}
    snapshot = QualitySnapshot(
        resource_id=resource.id,
        department_id=resource.provider_id,
        batch_id=batch.id if batch is not None else None,
        trigger=trigger,
        computed_at=now or clock.now(),
        scores=computed.scores,
        overall=computed.overall,
        details=details,
    )
    session.add(snapshot)
    session.flush()
    return snapshot


def latest_snapshot(session: Session, resource_id: int) -> QualitySnapshot | None:
    return session.scalars(
        select(QualitySnapshot)
        .where(QualitySnapshot.resource_id == resource_id)
        .order_by(QualitySnapshot.computed_at.desc(), QualitySnapshot.id.desc())
        .limit(1)
    ).first()


# --- reading (never writes) ------------------------------------------------------------------------


def without_data(snapshot: QualitySnapshot | None) -> bool:
    """Whether a snapshot was taken while the resource held no data (nothing scored: ``NO_DATA``)."""
    details = (snapshot.details or {}) if snapshot is not None else {}
    return (details.get("conformance") or {}).get("records_present") is False


def _timeliness_now(
    session: Session, resource: ResourceRef, latest: QualitySnapshot, now: datetime
) -> scoring.Measure:
    """The timeliness measure for ``now``; for a resource without data, only a late first batch."""
    fresh = scoring.timeliness(facts.timeliness_facts(session, resource, now), now)
    return scoring.no_data(fresh)["timeliness"] if without_data(latest) else fresh


@dataclass(frozen=True)
class ScoreView:
    """A resource's scores as a reader sees them: the latest snapshot, timeliness as of now."""

    computed_at: datetime
    scores: dict[str, float | None]
    details: dict[str, Any]

    @property
    def overall(self) -> float | None:
        return scoring.overall_of(self.scores)

    @property
    def no_data(self) -> bool:
        """Scored while the resource held no data: "暂无数据", not a score."""
        return (self.details.get("conformance") or {}).get("records_present") is False


def current_view(session: Session, resource: ResourceRef, *, now: datetime | None = None) -> ScoreView | None:
    """The latest stored scores with the timeliness score recomputed for ``now`` (not stored); None
    when nothing was computed yet (a draft, or a resource published without data)."""
    latest = latest_snapshot(session, resource.id)
    if latest is None:
        return None
    now = now or clock.now()
    fresh = _timeliness_now(session, resource, latest, now)
    scores = {**(latest.scores or {}), "timeliness": fresh.score}
    details = {**(latest.details or {}), "timeliness": fresh.body()}
    return ScoreView(latest.computed_at, scores, details)


def history(session: Session, resource_id: int, limit: int = HISTORY_POINTS) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(QualitySnapshot)
        .where(QualitySnapshot.resource_id == resource_id)
        .order_by(QualitySnapshot.computed_at.desc(), QualitySnapshot.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "computed_at": s.computed_at,
            "overall": s.overall,
            "dimensions": {d: (s.scores or {}).get(d) for d in DIMENSIONS},
            "trigger": s.trigger,
            "batch_id": s.batch_id,
        }
        for s in reversed(rows)
    ]


def department_history(session: Session, resource_ids: list[int]) -> list[dict[str, Any]]:
    """One point per day: the mean over the resources of each one's latest snapshot by that day."""
    if not resource_ids:
        return []
    rows = session.execute(
        select(
            QualitySnapshot.resource_id,
            QualitySnapshot.computed_at,
            QualitySnapshot.overall,
            QualitySnapshot.scores,
        )
        .where(QualitySnapshot.resource_id.in_(resource_ids))
        .order_by(QualitySnapshot.computed_at, QualitySnapshot.id)
    ).all()
    latest: dict[int, tuple[float | None, dict]] = {}
    by_day: dict[Any, dict[str, Any]] = {}
    for resource_id, computed_at, overall, scores in rows:
        latest[resource_id] = (overall, scores or {})
        by_day[clock.china_date(computed_at)] = {
            "computed_at": computed_at,
            "overall": scoring.mean(o for o, _ in latest.values()),
            "dimensions": {d: scoring.mean(s.get(d) for _, s in latest.values()) for d in DIMENSIONS},
        }
    return list(by_day.values())[-HISTORY_POINTS:]


# --- writers: event handlers and the daily clock job -----------------------------------------------


def record_after_batch(
    session_factory: sessionmaker, store: SqlStore, batch_id: int, *, data_dir: Path | None = None
) -> int | None:
    """Store the resource's scores after a batch was applied (or rolled back); returns the snapshot id.

    Run by the event handler after the batch committed, in its own transaction. Idempotent: a batch
    that already has its snapshot (for its current status) is not computed again. Resources that share
    the key data element get a fresh consistency score too (their other dimensions are carried over).
    """
    with unit_of_work(session_factory) as session:
        batch = aggregation.batch_facts(session, batch_id)
        if batch is None or not batch.changed_data:
            return None
        for existing in session.scalars(
            select(QualitySnapshot).where(
                QualitySnapshot.batch_id == batch_id, QualitySnapshot.trigger == SnapshotTrigger.batch
            )
        ):
            if ((existing.details or {}).get("batch") or {}).get("status") == batch.status:
                return existing.id
        resource = catalog.resource_ref(session, id=batch.resource_id)
        if resource is None:
            return None
        computed = compute(session, store, resource, data_dir=data_dir)
        snapshot = save(session, resource, computed, SnapshotTrigger.batch, batch=batch)
        _refresh_related(session, store, computed)
        return snapshot.id


def record_after_publish(
    session_factory: sessionmaker,
    store: SqlStore,
    resource_id: int,
    version: int | None = None,
    *,
    data_dir: Path | None = None,
) -> int | None:
    """Store the scores of a resource just published (idempotent per published version). A resource
    without data yet has nothing to score: its first batch scores it."""
    with unit_of_work(session_factory) as session:
        resource = catalog.resource_ref(session, id=resource_id)
        if resource is None or resource.published_version is None:
            return None
        if not aggregation.resources_with_data(session, [resource_id]):
            return None
        version = version or resource.published_version
        for existing in session.scalars(
            select(QualitySnapshot).where(
                QualitySnapshot.resource_id == resource_id,
                QualitySnapshot.trigger == SnapshotTrigger.published,
            )
        ):
            if ((existing.details or {}).get("published") or {}).get("version") == version:
                return existing.id
        computed = compute(session, store, resource, data_dir=data_dir)
        extra = {"published": {"version": version}}
        return save(session, resource, computed, SnapshotTrigger.published, extra=extra).id


def _refresh_related(session: Session, store: SqlStore, computed: Computed) -> None:
    """Recompute consistency of the resources just compared with (their side of the same pairs)."""
    related = (computed.details.get("consistency") or {}).get("resources") or []
    for entry in related:
        other = catalog.resource_ref(session, code=entry["code"])
        latest = latest_snapshot(session, other.id) if other is not None else None
        if other is None or latest is None:
            continue  # scored in full after its own first batch
        spec = facts.table_spec(session, other)
        fill = facts.fill(store, spec)
        measure = scoring.consistency(
            facts.consistency_facts(session, store, other, spec, fill.rows if fill else 0)
        )
        if measure.score != (latest.scores or {}).get("consistency"):
            carried = scoring.carry(latest.scores, latest.details, "consistency", measure)
            save(session, other, carried, SnapshotTrigger.on_demand)


def record_clock(session_factory: sessionmaker, *, now: datetime | None = None) -> int:
    """Store a ``clock`` snapshot for every resource whose timeliness score moved with time alone since
    its latest snapshot (the daily job); returns how many were stored. Idempotent for a given moment."""
    now = now or clock.now()
    stored = 0
    with unit_of_work(session_factory) as session:
        resource_ids = session.scalars(select(QualitySnapshot.resource_id).distinct()).all()
        for resource_id in sorted(resource_ids):
            resource = catalog.resource_ref(session, id=resource_id)
            latest = latest_snapshot(session, resource_id)
            if resource is None or latest is None:
                continue
            fresh = _timeliness_now(session, resource, latest, now)
            if fresh.score != (latest.scores or {}).get("timeliness"):
                carried = scoring.carry(latest.scores, latest.details, "timeliness", fresh)
                save(session, resource, carried, SnapshotTrigger.clock, now=now)
                stored += 1
    if stored:
        log.info("quality clock snapshots stored", count=stored)
    return stored


def record_scheduled(
    session_factory: sessionmaker,
    store: SqlStore,
    period: str,
    *,
    data_dir: Path | None = None,
    now: datetime | None = None,
) -> int:
    """The periodic quality check (seed 002: 定期组织开展对本部门政务数据资源质量进行检查): every
    published resource with a data table is scored again in full, whether or not a batch came (a
    ``scheduled`` snapshot; one without data says so). One transaction per resource; a resource
    already checked in ``period`` is skipped, so a retried job does not check it twice. Returns how
    many were stored."""
    now = now or clock.now()
    with unit_of_work(session_factory) as session:
        resource_ids = [r.id for r in catalog.published_resources(session)]
    stored = 0
    for resource_id in resource_ids:
        with unit_of_work(session_factory) as session:
            resource = catalog.resource_ref(session, id=resource_id)
            if resource is None or facts.table_spec(session, resource) is None:
                continue
            done = session.scalars(
                select(QualitySnapshot.details).where(
                    QualitySnapshot.resource_id == resource_id,
                    QualitySnapshot.trigger == SnapshotTrigger.scheduled,
                )
            ).all()
            if any(((d or {}).get("scheduled") or {}).get("period") == period for d in done):
                continue
            computed = compute(session, store, resource, now=now, data_dir=data_dir)
            save(
                session,
                resource,
                computed,
                SnapshotTrigger.scheduled,
                now=now,
                extra={"scheduled": {"period": period}},
            )
            stored += 1
    if stored:
        log.info("quality periodic check stored", count=stored, period=period)
    return stored


def last_check(session: Session, resource_id: int) -> datetime | None:
    """When the periodic check last scored the resource."""
    return session.scalar(
        select(QualitySnapshot.computed_at)
        .where(
            QualitySnapshot.resource_id == resource_id, QualitySnapshot.trigger == SnapshotTrigger.scheduled
        )
        .order_by(QualitySnapshot.computed_at.desc())
        .limit(1)
    )


# --- figures for the scorecards (SUP-1) ------------------------------------------------------------


@dataclass(frozen=True)
class QualityFigures:
    """A department's quality in a period: the resources scored in it and the mean of each one's
    latest overall score of the period."""

    resources: int
    mean: float


def quality_figures(session: Session, start: datetime, end: datetime) -> dict[int, QualityFigures]:
    """Department id → the mean overall score of its resources, each counted by its latest snapshot
    computed in [start, end); computed in SQL."""
    latest = (
        select(func.max(QualitySnapshot.id))
        .where(
            QualitySnapshot.computed_at >= start,
            QualitySnapshot.computed_at < end,
            QualitySnapshot.overall.is_not(None),
        )
        .group_by(QualitySnapshot.resource_id)
    )
    stmt = (
        select(QualitySnapshot.department_id, func.count(), func.avg(QualitySnapshot.overall))
        .where(QualitySnapshot.id.in_(latest))
        .group_by(QualitySnapshot.department_id)
    )
    return {d: QualityFigures(int(n), float(m)) for d, n, m in session.execute(stmt).all()}
