"""Tables of base libraries (AGG-8, CAT-9, CAT-13) and their fusion conflicts (QUA-3).

A ``Library`` is a definition: its key element (公民身份号码, 统一社会信用代码), its lead department
(牵头部门) and its fields (``LibraryField``, one per data element), each naming its one authoritative
source resource (一数一源). The fused rows live in the data store (``lib_<id>``); the definition of
the last build is kept in ``build_snapshot`` so that the lineage of the stored rows stays readable
after a source is changed. A ``LibraryConflict`` is one disagreement found while fusing: one key, one
element, the values of every resource that holds it; ``LibraryConflictParty`` lists the departments
involved (what a department may see) and what each agreed to, ``LibraryConflictComment`` the
negotiation. ``AuthoritativeSource`` is the one source of an element about a subject beyond the
libraries' fields (CAT-9, ``sources``).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govdata.core.calendar import TrackedDeadline
from govdata.core.db import Base, UTCDateTime, utcnow


class ConflictStatus(StrEnum):
    open = "open"
    negotiating = "negotiating"
    resolved = "resolved"
    escalated = "escalated"
    decided = "decided"


CONFLICT_STATUS_LABELS = {
    "open": "待协商",
    "negotiating": "协商中",
    "resolved": "已协商一致",
    "escalated": "已提交裁决",
    "decided": "已裁决",
}
UNSETTLED = (ConflictStatus.open, ConflictStatus.negotiating, ConflictStatus.escalated)
NEGOTIABLE = (ConflictStatus.open, ConflictStatus.negotiating)


class Library(Base):
    __tablename__ = "libraries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    key_element: Mapped[str] = mapped_column(String(100))
    # the catalog class the library stands for (101 人口 …): its class-1 resources are compiled by the
    # lead department (AGG-8; seed 002: 基础信息资源目录由基础信息资源库的牵头建设部门负责编制并维护)
    classification: Mapped[str | None] = mapped_column(String(32))
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    built_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    built_by: Mapped[str | None] = mapped_column(String(64))
    built_rows: Mapped[int | None] = mapped_column(Integer)
    build_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    lead_department = relationship("Department", lazy="joined")
    fields: Mapped[list[LibraryField]] = relationship(
        back_populates="library", lazy="selectin", order_by="LibraryField.position"
    )

    @property
    def table(self) -> str:
        """The fused table in the data store."""
        return f"lib_{self.id}"


class LibraryField(Base):
    """A base item (基础信息项) of a library and its authoritative source (CAT-9, CAT-13)."""

    __tablename__ = "library_fields"
    __table_args__ = (UniqueConstraint("library_id", "element"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id", ondelete="CASCADE"), index=True)
    element: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # the catalog resource; read through the catalog's facts, never joined here
    source_resource_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_resources.id"))
    chosen_by: Mapped[str | None] = mapped_column(String(64))
    chosen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    library: Mapped[Library] = relationship(back_populates="fields")


class LibraryConflict(Base):
    """Two or more resources disagree on one element of one key (QUA-3)."""

    __tablename__ = "library_conflicts"
    __table_args__ = (UniqueConstraint("library_id", "key", "element", "values_digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("libraries.id"), index=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    element: Mapped[str] = mapped_column(String(100))
    # [{resource_id, resource_code, resource_name, department_id, department_name, value, batch_id,
    #   authoritative}], ordered by resource code
    values: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    values_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True, default=ConflictStatus.open)
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    tracked_deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    escalated_by: Mapped[str | None] = mapped_column(String(64))
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    escalation_reason: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    decided_value: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_by_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    library: Mapped[Library] = relationship(lazy="joined")
    tracked: Mapped[TrackedDeadline | None] = relationship(lazy="joined")
    parties: Mapped[list[LibraryConflictParty]] = relationship(lazy="selectin")
    comments: Mapped[list[LibraryConflictComment]] = relationship(
        lazy="selectin", order_by="LibraryConflictComment.id"
    )

    @property
    def department_ids(self) -> set[int]:
        return {p.department_id for p in self.parties}

    def overdue_on(self, day: dt.date) -> bool:
        """Still being negotiated after its coordination deadline."""
        return self.status in NEGOTIABLE and self.tracked is not None and day > self.tracked.due_date


class LibraryConflictParty(Base):
    """A department whose resource takes part in a conflict: it may see it and negotiate."""

    __tablename__ = "library_conflict_parties"

    conflict_id: Mapped[int] = mapped_column(
        ForeignKey("library_conflicts.id", ondelete="CASCADE"), primary_key=True
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True, index=True)
    # the value this department agreed to (QUA-3: agreement needs every department involved)
    agreed_value: Mapped[str | None] = mapped_column(Text)
    agreed_by: Mapped[str | None] = mapped_column(String(64))
    agreed_by_name: Mapped[str | None] = mapped_column(String(100))
    agreed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    department = relationship("Department", lazy="joined")


class AuthoritativeSource(Base):
    """The one authoritative source of a data element about a subject (CAT-9, 一数一源), designated by
    the authority for elements that are no field of a base library (those keep it in
    ``LibraryField``). ``subject`` is the catalog's (自然人, 法人, 非法人组织, 其他)."""

    __tablename__ = "library_sources"
    __table_args__ = (UniqueConstraint("element", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    element: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(32))
    # the catalog resource; read through the catalog's facts, never joined here
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    designated_by: Mapped[str] = mapped_column(String(64))
    designated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LibraryConflictComment(Base):
    __tablename__ = "library_conflict_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conflict_id: Mapped[int] = mapped_column(
        ForeignKey("library_conflicts.id", ondelete="CASCADE"), index=True
    )
    author: Mapped[str] = mapped_column(String(64))
    author_name: Mapped[str | None] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    comment: Mapped[str] = mapped_column(Text)
    proposed_value: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    department = relationship("Department", lazy="joined")
