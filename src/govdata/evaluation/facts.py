"""The figures behind every scorecard measure (SUP-1), gathered for one period through the owning
capabilities' actor-free facts (each one query grouped by department, never a loop over rows) and
turned into a value, its numerator and denominator, per department and measure.

A measure without any fact for a department (no application decided, no task due…) is None, never 0,
so that it does not count against the department.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.core import clock
from govdata.objections import service as objections
from govdata.opening import service as opening
from govdata.quality import service as quality
from govdata.sharing import service as sharing
from govdata.supervision import service as supervision


@dataclass(frozen=True)
class Figure:
    """One measure of one department: the value and what it was computed from."""

    value: float | int | None
    numerator: float | int | None = None
    denominator: float | int | None = None


NONE = Figure(None)


def instant(day: date) -> datetime:
    """The UTC instant at which a China date begins."""
    return datetime.combine(day, time(0), tzinfo=clock.CHINA).astimezone(UTC)


def _rate(numerator: int, denominator: int) -> Figure:
    return Figure(round(numerator / denominator, 4), numerator, denominator) if denominator else NONE


def gather(session: Session, start: date, end: date) -> dict[int, dict[str, Figure]]:
    """Department id → measure name → figure, for the period [start, end) of China dates. Manual
    scores are not facts: the service adds them."""
    since, until = instant(start), instant(end)
    figures: dict[int, dict[str, Figure]] = {}

    def put(department: int | None, name: str, figure: Figure) -> None:
        if department is not None and figure.value is not None:
            figures.setdefault(department, {})[name] = figure

    for d, c in catalog.catalog_figures(session, until).items():
        put(d, "catalog_completeness", _rate(c.published, c.registered))
    for d, t in catalog.update_task_figures(session, start, end).items():
        put(d, "catalog_update_timeliness", _rate(t.on_time, t.due))
    for d, (timely, expected, with_data, published) in _aggregation(session, since, until).items():
        put(d, "aggregation_timeliness", _rate(timely, expected))
        put(d, "aggregation_completeness", _rate(with_data, published))
    for d, q in quality.quality_figures(session, since, until).items():
        put(d, "quality_score", Figure(round(q.mean, 2), None, q.resources))
    for d, a in sharing.application_figures(session, since, until).items():
        if a.decided:
            put(d, "response_days", Figure(round(a.working_days / a.decided, 2), a.working_days, a.decided))
        put(d, "response_on_time_rate", _rate(a.on_time, a.decided))
        if a.refused:
            put(d, "refusals_with_basis", Figure(a.refused_with_basis, a.refused_with_basis, a.refused))
            put(
                d,
                "refusals_without_basis",
                Figure(a.refused_without_basis, a.refused_without_basis, a.refused),
            )
    for d, r in objections.review_figures(session, since, until).items():
        put(d, "objection_review_timeliness", _rate(r.on_time, r.resolved))
    for d, u in sharing.usage_figures(session, start, end).items():
        if u.provided:
            put(d, "services_provided", Figure(u.provided, u.provided))
        if u.consumed:
            put(d, "services_consumed", Figure(u.consumed, u.consumed))
    for d, o in opening.open_figures(session, since, until).items():
        put(d, "open_datasets", Figure(o.datasets, o.datasets))
        if o.datasets or o.uses:
            put(d, "open_uses", Figure(o.uses, o.uses, o.datasets))
    for d, s in supervision.supervision_figures(session, since, until).items():
        if s.violations_confirmed:
            put(d, "violations_confirmed", Figure(s.violations_confirmed, s.violations_confirmed))
        put(d, "notices_rectified_rate", _rate(s.notices_rectified, s.notices))
    return figures


def _aggregation(session: Session, since: datetime, until: datetime) -> dict[int, tuple[int, int, int, int]]:
    """Provider → (resources on time, resources expected to deliver in the period, published resources
    with data, published table resources).

    A resource is expected to deliver ``days // cycle`` batches over the part of the period it was
    published in (up to now); it is on time when it delivered at least that many. A resource whose
    cycle is longer than that span (or that has no cycle) is not expected to deliver in the period."""
    resources = catalog.published_cycles(session, until, aggregation.TABLE_FORMATS)
    counts = aggregation.applied_batch_counts(session, since, until)
    now = clock.now()
    totals: dict[int, list[int]] = {}
    for resource in resources:
        row = totals.setdefault(resource.provider_id, [0, 0, 0, 0])
        applied = counts.get(resource.id)
        row[3] += 1
        row[2] += bool(applied and applied.before_end)
        cycle = aggregation.CYCLE_DAYS.get(resource.update_cycle)
        begin = max(since, resource.published_at or since)
        days = (min(until, now) - begin).days
        if cycle and days >= cycle:
            row[1] += 1
            row[0] += bool(applied and applied.in_period >= days // cycle)
    return {d: (t[0], t[1], t[2], t[3]) for d, t in totals.items()}
