"""Figures of objections for the scorecards (SUP-1): actor-free, grouped by provider in SQL
(``objections.service`` re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from govdata.objections.models import Objection


@dataclass(frozen=True)
class ReviewFigures:
    """A provider's objections resolved in a period (COR): how many, and how many by their deadline."""

    resolved: int
    on_time: int


def review_figures(session: Session, start: datetime, end: datetime) -> dict[int, ReviewFigures]:
    """Provider department id → its objections resolved in [start, end) (``late`` is set when the
    outcome came after the deadline)."""
    stmt = (
        select(Objection.provider_id, func.count(), func.sum(case((Objection.late.is_(True), 0), else_=1)))
        .where(Objection.resolved_at >= start, Objection.resolved_at < end)
        .group_by(Objection.provider_id)
    )
    return {p: ReviewFigures(int(n), int(k or 0)) for p, n, k in session.execute(stmt).all()}
