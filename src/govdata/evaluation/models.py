"""Tables of the scorecards (SUP-1, SUP-3): the authority's weights per period, the evaluator's manual
scores with their evidence, and the closed (frozen) periods with the scorecard stored as it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govdata.core.db import Base, UTCDateTime, utcnow


class PeriodWeight(Base):
    """One indicator the authority picked for a period, with its weight (SUP-3). A period without rows
    uses the default weights (``evaluation.measures.DEFAULT_WEIGHTS``)."""

    __tablename__ = "eval_weights"
    __table_args__ = (UniqueConstraint("period", "measure"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    measure: Mapped[str] = mapped_column(String(40))
    weight: Mapped[float] = mapped_column(Float)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ManualScore(Base):
    """A score 0–100 a third-party evaluator gave a department on a manual indicator, with evidence."""

    __tablename__ = "eval_manual_scores"
    __table_args__ = (UniqueConstraint("period", "department_id", "indicator"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    indicator: Mapped[str] = mapped_column(String(40))
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClosedPeriod(Base):
    """A closed period: its facts, weights, manual scores and resulting scorecard as stored at closing;
    later reads return these numbers."""

    __tablename__ = "eval_closed_periods"

    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
