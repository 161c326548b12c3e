"""Counts of the catalog across departments, for views that oversee them (the authority's region-wide
view). Actor-free facts: the caller checked its own caller."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from govdata.catalog.enums import ResourceStatus, TaskStatus, VersionStatus
from govdata.catalog.models import Resource, ResourceVersion, UpdateTask
from govdata.core.calendar import TrackedDeadline
from govdata.core.sqltime import china_day


def status_counts_by_provider(session: Session) -> dict[int, dict[str, int]]:
    """Provider department id → resources per status (draft, submitted, returned, published, retired)."""
    counts: dict[int, dict[str, int]] = {}
    stmt = select(Resource.provider_id, Resource.status, func.count()).group_by(
        Resource.provider_id, Resource.status
    )
    for provider, status, n in session.execute(stmt).all():
        counts.setdefault(provider, {})[status] = n
    return counts


def revisions_by_provider(session: Session) -> dict[int, dict[str, int]]:
    """Provider department id → revisions of published resources being prepared, per version status
    (submitted ones wait for the authority; returned ones wait for the department)."""
    counts: dict[int, dict[str, int]] = {}
    stmt = (
        select(Resource.provider_id, ResourceVersion.status, func.count())
        .join(ResourceVersion, ResourceVersion.resource_id == Resource.id)
        .where(
            Resource.published_version.is_not(None),
            ResourceVersion.status.in_([VersionStatus.submitted, VersionStatus.returned]),
        )
        .group_by(Resource.provider_id, ResourceVersion.status)
    )
    for provider, status, n in session.execute(stmt).all():
        counts.setdefault(provider, {})[status] = n
    return counts


# --- figures for the scorecards (SUP-1): grouped in SQL, one row per department -----------------------


@dataclass(frozen=True)
class CatalogFigures:
    """A department's catalog at the end of a period: resources registered (any status but retired,
    created before the end) and those of them published before the end."""

    registered: int
    published: int


def catalog_figures(session: Session, end: datetime) -> dict[int, CatalogFigures]:
    """Provider department id → its catalog as it stood at ``end`` (a UTC instant, exclusive)."""
    published = and_(Resource.status == ResourceStatus.published, Resource.published_at < end)
    stmt = (
        select(Resource.provider_id, func.count(), func.sum(case((published, 1), else_=0)))
        .where(Resource.created_at < end, Resource.status != ResourceStatus.retired)
        .group_by(Resource.provider_id)
    )
    return {p: CatalogFigures(int(n), int(k or 0)) for p, n, k in session.execute(stmt).all()}


@dataclass(frozen=True)
class UpdateTaskFigures:
    """A department's catalog update tasks (CAT-7) due in a period, and those done by their deadline."""

    due: int
    on_time: int


def update_task_figures(session: Session, start: date, end: date) -> dict[int, UpdateTaskFigures]:
    """Department id → its update tasks whose deadline (a China date) falls in [start, end)."""
    on_time = and_(
        UpdateTask.status == TaskStatus.done,
        UpdateTask.done_at.is_not(None),
        china_day(UpdateTask.done_at) <= TrackedDeadline.due_date,
    )
    stmt = (
        select(UpdateTask.department_id, func.count(), func.sum(case((on_time, 1), else_=0)))
        .join(TrackedDeadline, TrackedDeadline.id == UpdateTask.tracked_deadline_id)
        .where(TrackedDeadline.due_date >= start, TrackedDeadline.due_date < end)
        .group_by(UpdateTask.department_id)
    )
    return {d: UpdateTaskFigures(int(n), int(k or 0)) for d, n, k in session.execute(stmt).all()}


@dataclass(frozen=True)
class CycleRef:
    """A published resource as the aggregation scorecard needs it: who provides it, how often its data
    must arrive, and since when."""

    id: int
    provider_id: int
    update_cycle: str
    published_at: datetime | None


def published_cycles(session: Session, end: datetime, formats: Iterable[str]) -> list[CycleRef]:
    """Resources published before ``end`` (and still published) in ``formats``, in id order."""
    stmt = (
        select(Resource.id, Resource.provider_id, Resource.update_cycle, Resource.published_at)
        .where(
            Resource.status == ResourceStatus.published,
            Resource.published_at < end,
            Resource.format.in_(sorted(formats)),
        )
        .order_by(Resource.id)
    )
    return [CycleRef(*row) for row in session.execute(stmt).all()]
