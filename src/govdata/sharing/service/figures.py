"""Figures of sharing for the scorecards (SUP-1): actor-free, grouped by department in SQL, plain
frozen values (``sharing.service`` re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from govdata.core.sqltime import china_day
from govdata.sharing.enums import Decision, UsageOutcome
from govdata.sharing.models import Application, UsageMonth, UsageRecord

PLATFORM = "govdata"
"""Who decides the applications granted at once (unconditional items): not the provider's answers."""


@dataclass(frozen=True)
class ApplicationFigures:
    """A provider's answers to share applications in a period (SHR-3): how many, how many on time,
    the working days they took in all (submission to answer, China dates, counted when answered), and
    the refusals with and without a valid legal basis. Grants the platform made at once are not
    answers of the provider and are left out."""

    decided: int
    on_time: int
    working_days: int
    refused: int
    refused_without_basis: int

    @property
    def refused_with_basis(self) -> int:
        return self.refused - self.refused_without_basis


def application_figures(session: Session, start: datetime, end: datetime) -> dict[int, ApplicationFigures]:
    """Provider department id → its answers given in [start, end) (UTC instants): one query."""
    refused = Application.decision == Decision.refuse
    stmt = (
        select(
            Application.provider_id,
            func.count(),
            func.sum(case((Application.late.is_(True), 0), else_=1)),
            func.coalesce(func.sum(Application.decided_working_days), 0),
            func.sum(case((refused, 1), else_=0)),
            func.sum(case((and_(refused, Application.refusal_flagged.is_(True)), 1), else_=0)),
        )
        .where(
            Application.decided_at >= start,
            Application.decided_at < end,
            or_(Application.decided_by.is_(None), Application.decided_by != PLATFORM),
        )
        .group_by(Application.provider_id)
    )
    return {
        provider: ApplicationFigures(int(n), int(on_time or 0), int(days or 0), int(r or 0), int(f or 0))
        for provider, n, on_time, days, r, f in session.execute(stmt).all()
    }


@dataclass(frozen=True)
class UsageFigures:
    """Successful calls of sharing services in a period (SHR-7's usage log): as provider and as
    consumer."""

    provided: int
    consumed: int


def usage_figures(session: Session, start: date, end: date) -> dict[int, UsageFigures]:
    """Department id → its successful service calls in [start, end) (China dates), as provider and
    as consumer. Whole months are read from the monthly roll-up; other spans count the log."""
    if start.day == 1 and end.day == 1:
        rows = session.execute(
            select(UsageMonth.department_id, UsageMonth.side, func.sum(UsageMonth.calls))
            .where(
                UsageMonth.month >= start.strftime("%Y-%m"),
                UsageMonth.month < end.strftime("%Y-%m"),
                UsageMonth.outcome == UsageOutcome.ok,
            )
            .group_by(UsageMonth.department_id, UsageMonth.side)
        ).all()
    else:
        day = china_day(UsageRecord.at)
        window = (day >= start, day < end, UsageRecord.outcome == UsageOutcome.ok)
        rows = [
            (d, side, n)
            for side, column in (
                ("provider", UsageRecord.provider_id),
                ("consumer", UsageRecord.consumer_department_id),
            )
            for d, n in session.execute(
                select(column, func.count()).where(*window, column.is_not(None)).group_by(column)
            ).all()
        ]
    totals: dict[int, list[int]] = {}
    for department, side, calls in rows:
        totals.setdefault(department, [0, 0])[0 if side == "provider" else 1] += int(calls or 0)
    return {d: UsageFigures(p, c) for d, (p, c) in totals.items()}
