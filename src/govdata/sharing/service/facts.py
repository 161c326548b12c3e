"""Actor-free facts of sharing for supervision (SUP-2): plain frozen values, so that no other capability
reads sharing's tables. ``sharing.service`` re-exports them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.core.calendar import TrackedDeadline
from govdata.core.clock import china_date
from govdata.sharing.enums import ApplicationStatus, DemandStatus, Phase, UsageOutcome
from govdata.sharing.models import Application, Demand, UsageRecord


@dataclass(frozen=True)
class OverdueDemand:
    """A share demand whose assigned provider has neither catalogued the data nor said why it cannot,
    past the deadline (``share_demand_answer``)."""

    id: int
    title: str
    provider_id: int
    consumer_department_id: int
    assigned_at: datetime | None
    deadline: str
    deadline_provisional: bool


def overdue_demands(session: Session, today: date) -> list[OverdueDemand]:
    """Assigned demands still unanswered after their deadline (a China date before ``today``)."""
    rows = session.execute(
        select(Demand, TrackedDeadline)
        .join(TrackedDeadline, TrackedDeadline.id == Demand.deadline_id)
        .where(
            Demand.status == DemandStatus.assigned,
            Demand.provider_id.is_not(None),
            TrackedDeadline.due_date < today,
        )
        .order_by(Demand.id)
    ).all()
    return [
        OverdueDemand(
            d.id,
            d.title,
            d.provider_id,
            d.consumer_department_id,
            d.assigned_at,
            t.due_date.isoformat(),
            t.provisional,
        )
        for d, t in rows
    ]


@dataclass(frozen=True)
class RefusedUse:
    """A consumer department's calls of one resource on one China date that the sharing services
    refused as outside its grant (403: items, modes or period not granted), from the usage log."""

    consumer_department_id: int
    provider_id: int
    resource_code: str
    day: date
    calls: int
    first_id: int
    first_at: datetime
    modes: tuple[str, ...]
    grant_ids: tuple[int, ...]


def uses_outside_grant(session: Session, since: datetime) -> list[RefusedUse]:
    """Calls since ``since`` that a consumer department (not the provider itself) made outside its
    grant, grouped by department, resource and China date."""
    rows = session.execute(
        select(
            UsageRecord.id,
            UsageRecord.at,
            UsageRecord.consumer_department_id,
            UsageRecord.provider_id,
            UsageRecord.resource_code,
            UsageRecord.mode,
            UsageRecord.grant_id,
        )
        .where(
            UsageRecord.at >= since,
            UsageRecord.outcome == UsageOutcome.denied,
            UsageRecord.status_code == 403,
            UsageRecord.consumer_department_id.is_not(None),
            UsageRecord.provider_id.is_not(None),
            UsageRecord.consumer_department_id != UsageRecord.provider_id,
        )
        .order_by(UsageRecord.id)
    ).all()
    groups: dict[tuple[int, int, str, date], list] = {}
    for row in rows:
        key = (row.consumer_department_id, row.provider_id, row.resource_code, china_date(row.at))
        groups.setdefault(key, []).append(row)
    return [
        RefusedUse(
            consumer,
            provider,
            code,
            day,
            len(calls),
            calls[0].id,
            calls[0].at,
            tuple(sorted({c.mode for c in calls})),
            tuple(sorted({c.grant_id for c in calls if c.grant_id is not None})),
        )
        for (consumer, provider, code, day), calls in groups.items()
    ]


@dataclass(frozen=True)
class ApplicationFact:
    """A share application as the dashboards weigh it (SUP-5): who provides and who asked, where it
    stands, when it was submitted and answered, whether the answer came after the deadline (``late``),
    and the deadline that runs now (``None`` when none does)."""

    id: int
    resource_code: str
    resource_name: str
    provider_id: int
    consumer_department_id: int
    status: str
    phase: str
    submitted_at: datetime
    decided_at: datetime | None
    late: bool
    deadline: date | None
    deadline_provisional: bool

    @property
    def awaits_provider(self) -> bool:
        """Undecided and waiting for the provider's receipt or answer."""
        return self.decided_at is None and self.phase in (Phase.awaiting_receipt, Phase.awaiting_decision)


def _application_facts(stmt) -> list[ApplicationFact]:
    return [
        ApplicationFact(
            a.id,
            a.resource_code,
            a.resource_name,
            a.provider_id,
            a.consumer_department_id,
            a.status,
            a.phase,
            a.submitted_at,
            a.decided_at,
            bool(a.late),
            t.due_date if t is not None else None,
            bool(t.provisional) if t is not None else False,
        )
        for a, t in stmt
    ]


def applications_submitted(session: Session, start: datetime, end: datetime) -> list[ApplicationFact]:
    """The applications submitted in ``[start, end)`` (UTC instants), oldest first."""
    rows = session.execute(
        select(Application, TrackedDeadline)
        .outerjoin(TrackedDeadline, TrackedDeadline.id == Application.deadline_id)
        .where(Application.submitted_at >= start, Application.submitted_at < end)
        .order_by(Application.submitted_at, Application.id)
    ).all()
    return _application_facts(rows)


def overdue_applications(session: Session, today: date) -> list[ApplicationFact]:
    """Applications still waiting for the provider's receipt or answer after their deadline (a China
    date before ``today``), escalated or not, the longest overdue first."""
    rows = session.execute(
        select(Application, TrackedDeadline)
        .join(TrackedDeadline, TrackedDeadline.id == Application.deadline_id)
        .where(
            Application.status.in_([ApplicationStatus.pending, ApplicationStatus.escalated]),
            Application.phase.in_([Phase.awaiting_receipt, Phase.awaiting_decision]),
            TrackedDeadline.due_date < today,
        )
        .order_by(TrackedDeadline.due_date, Application.id)
    ).all()
    return _application_facts(rows)


__all__ = [
    "ApplicationFact",
    "OverdueDemand",
    "RefusedUse",
    "applications_submitted",
    "overdue_applications",
    "overdue_demands",
    "uses_outside_grant",
]
