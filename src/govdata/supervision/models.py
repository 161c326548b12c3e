"""The violations register (SUP-2).

One row per violation, found by a detector (another capability's use case, a sweep) and named by
what it is about: ``(kind, object_type, object_id)`` is unique, so finding the same fact again records
nothing new. ``evidence`` holds the objects and dates that prove it, as the detector saw them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govdata.core.db import Base, UTCDateTime, utcnow
from govdata.supervision.enums import NoticeStatus, ViolationStatus


class Violation(Base):
    __tablename__ = "sup_violations"
    __table_args__ = (UniqueConstraint("kind", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(128))
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), index=True, default=ViolationStatus.detected)
    contest_reason: Mapped[str | None] = mapped_column(Text)
    contested_by: Mapped[str | None] = mapped_column(String(64))
    contested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)


class Notice(Base):
    """A rectification notice (通知整改): one per confirmed violation, to its department, with a
    deadline tracked by the core calendar (``deadline_id``) and the escalation step reached (0: none)."""

    __tablename__ = "sup_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    violation_id: Mapped[int] = mapped_column(ForeignKey("sup_violations.id"), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default=NoticeStatus.open)
    step: Mapped[int] = mapped_column(Integer, default=0)
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class NoticeEvent(Base):
    """One entry of a notice's timeline: who did what when, with the answer or the reason, the
    escalation step and the deadline it set."""

    __tablename__ = "sup_notice_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("sup_notices.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    step: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    text: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
