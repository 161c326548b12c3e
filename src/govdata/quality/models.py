"""Tables of data quality (QUA-1, QUA-2).

``QualitySnapshot`` keeps every stored computation of a resource's scores (after a batch, on
publication, on demand, or daily when the clock alone changed the timeliness score), so the history of
a resource and of a department can be drawn. ``QualityProblem`` is a consumer's report on a resource or one record, answered by the
provider within a policy number of working days (tracked by ``core.calendar``).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govdata.core.calendar import TrackedDeadline
from govdata.core.db import Base, UTCDateTime, utcnow


class SnapshotTrigger(StrEnum):
    batch = "batch"  # after an applied (or rolled back) batch
    on_demand = "on_demand"  # asked for, or a related resource's data changed its consistency
    clock = "clock"  # only the time-dependent timeliness score changed (the daily job)
    published = "published"  # the resource was published
    scheduled = "scheduled"  # the periodic quality check (定期检查, seed 002), whatever happened


TRIGGER_LABELS = {
    "batch": "批次入库后",
    "on_demand": "按需重算",
    "clock": "每日时效更新",
    "published": "发布时",
    "scheduled": "定期检查",
}


class ProblemStatus(StrEnum):
    open = "open"  # reported, not answered yet
    confirmed = "confirmed"  # the provider agrees and is fixing it
    fixed = "fixed"  # the provider says it is fixed
    rejected = "rejected"  # the provider disagrees, with a reason

    @property
    def label(self) -> str:
        return PROBLEM_STATUS_LABELS[self.value]


PROBLEM_STATUS_LABELS = {
    "open": "待答复",
    "confirmed": "已确认，整改中",
    "fixed": "已整改",
    "rejected": "已驳回",
}
UNRESOLVED = (ProblemStatus.open.value, ProblemStatus.confirmed.value)


class QualitySnapshot(Base):
    __tablename__ = "quality_snapshots"
    __table_args__ = (Index("ix_quality_snapshots_resource_time", "resource_id", "computed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    trigger: Mapped[str] = mapped_column(String(16))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Dimension name → score 0–100, or null when the dimension could not be measured."""
    overall: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Dimension name → the inputs of its formula (counts, per-item figures, probe result)."""


class QualityProblem(Base):
    __tablename__ = "quality_problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    reporter_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reporter: Mapped[str] = mapped_column(String(64))
    reporter_name: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    record_key: Mapped[str | None] = mapped_column(String(200))
    item: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ProblemStatus.open, index=True)
    tracked_deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    answer_reason: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fixed_note: Mapped[str | None] = mapped_column(Text)
    fixed_by: Mapped[str | None] = mapped_column(String(64))
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tracked: Mapped[TrackedDeadline | None] = relationship(lazy="joined")

    @property
    def deadline(self) -> date | None:
        """The reply deadline, read from the tracked row (recomputed when a year's schedule is imported)."""
        return self.tracked.due_date if self.tracked else None

    @property
    def deadline_provisional(self) -> bool:
        return bool(self.tracked and self.tracked.provisional)
