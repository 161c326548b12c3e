"""The violations register (SUP-2).

One row per violation, found by a detector (another capability's use case, a sweep) and named by
what it is about: ``(kind, object_type, object_id)`` is unique, so finding the same fact again records
nothing new. ``evidence`` holds the objects and dates that prove it, as the detector saw them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govdata.core.db import Base, UTCDateTime, utcnow
from govdata.supervision.enums import ViolationStatus


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
