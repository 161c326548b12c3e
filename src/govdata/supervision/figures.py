"""Figures of supervision for the scorecards (SUP-1): actor-free, grouped by department in SQL
(``supervision.service`` re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from govdata.supervision.enums import NoticeStatus, ViolationStatus
from govdata.supervision.models import Notice, Violation

CONFIRMED = (ViolationStatus.confirmed.value, ViolationStatus.rectified.value)


@dataclass(frozen=True)
class SupervisionFigures:
    """A department's violations detected in a period and confirmed (or since rectified), and the
    rectification notices opened in it with those closed (rectified and accepted)."""

    violations_confirmed: int
    notices: int
    notices_rectified: int


def supervision_figures(session: Session, start: datetime, end: datetime) -> dict[int, SupervisionFigures]:
    """Department id → its confirmed violations detected and its notices opened in [start, end)."""
    confirmed = dict(
        session.execute(
            select(Violation.department_id, func.count())
            .where(
                Violation.detected_at >= start, Violation.detected_at < end, Violation.status.in_(CONFIRMED)
            )
            .group_by(Violation.department_id)
        ).all()
    )
    notices = {
        d: (int(n), int(k or 0))
        for d, n, k in session.execute(
            select(
                Notice.department_id,
                func.count(),
                func.sum(case((Notice.status == NoticeStatus.closed, 1), else_=0)),
            )
            .where(Notice.opened_at >= start, Notice.opened_at < end)
            .group_by(Notice.department_id)
        ).all()
    }
    return {
        d: SupervisionFigures(int(confirmed.get(d, 0)), *notices.get(d, (0, 0)))
        for d in confirmed.keys() | notices.keys()
    }


def awaiting_rectification(session: Session) -> dict[int, int]:
    """Department id → its violations confirmed and not yet rectified, whenever detected."""
    return dict(
        session.execute(
            select(Violation.department_id, func.count())
            .where(Violation.status == ViolationStatus.confirmed.value)
            .group_by(Violation.department_id)
        ).all()
    )
