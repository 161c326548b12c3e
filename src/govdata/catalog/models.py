"""Tables of the catalog (CAT-1…11).

A ``Resource`` is the stable identity (its code never changes, CAT-2); each ``ResourceVersion`` is a
full snapshot of the metadata, items included, so old versions stay readable and diffs are exact
(CAT-5). The resource row mirrors the fields of the version the catalog shows — the published one
once there is one, the working draft before that — for filtering, facets and sorting; its items are
mirrored in ``resource_items`` for cross-resource questions (duplicate collection, CAT-9).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govdata.core.calendar import TrackedDeadline
from govdata.core.db import Base, UTCDateTime, utcnow


class Classification(Base):
    """类/项/目/细目 (CAT-1a). The guide's classes are seeded; deeper levels are the authority's."""

    __tablename__ = "catalog_classifications"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("catalog_classifications.code"))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)


class DataElement(Base):
    """数据元 (CAT-4): a standard item definition shared across departments."""

    __tablename__ = "catalog_data_elements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
    data_type: Mapped[str] = mapped_column(String(1))
    length: Mapped[int | None] = mapped_column(Integer)
    subject: Mapped[str | None] = mapped_column(String(20))  # person | legal_person
    key_kind: Mapped[str | None] = mapped_column(String(10))  # ric | uscc
    level: Mapped[int] = mapped_column(Integer, default=1)
    code_list: Mapped[list[str] | None] = mapped_column(JSON)
    pattern: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)


class Resource(Base):
    __tablename__ = "catalog_resources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)  # the version the catalog shows
    published_version: Mapped[int | None] = mapped_column(Integer)
    # mirrored fields of the shown version
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    classification: Mapped[str] = mapped_column(String(32), index=True)
    format: Mapped[str] = mapped_column(String(20), index=True)
    share_type: Mapped[str] = mapped_column(String(16), index=True)
    open_type: Mapped[str] = mapped_column(String(16), index=True)
    update_cycle: Mapped[str] = mapped_column(String(16), index=True)
    grade: Mapped[str] = mapped_column(String(16), index=True)
    # an entry of the region's own 个性化目录, not in the provincial catalog (CAT-6)
    local_catalog: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    provider = relationship("Department", lazy="joined")


class ResourceVersion(Base):
    __tablename__ = "catalog_resource_versions"
    __table_args__ = (UniqueConstraint("resource_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    diff: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # the data migration a revision names: {"confirm": true, "items": [codes] | null} (docs/decisions.md)
    migration: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(String(64))


class ResourceItem(Base):
    """The items of the version a resource shows, one row each (CAT-3, CAT-9)."""

    __tablename__ = "catalog_resource_items"
    __table_args__ = (UniqueConstraint("resource_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resources.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    data_type: Mapped[str] = mapped_column(String(1))
    key: Mapped[bool] = mapped_column(Boolean, default=False)
    level: Mapped[int] = mapped_column(Integer, default=1)
    element: Mapped[str | None] = mapped_column(String(100), index=True)
    share_type: Mapped[str] = mapped_column(String(16))


class ResourceLogEntry(Base):
    """What happened to a resource, for its page: submissions, returns with comments, publications."""

    __tablename__ = "catalog_resource_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CodeSequence(Base):
    """The last sequence number used per classification and provider: codes are never reused."""

    __tablename__ = "catalog_code_sequences"

    prefix: Mapped[str] = mapped_column(String(64), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CatalogEvent(Base):
    """A triggering event for catalog updates (CAT-7)."""

    __tablename__ = "catalog_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    date: Mapped[date] = mapped_column(Date)
    resource_code: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tasks: Mapped[list[UpdateTask]] = relationship(
        back_populates="event", lazy="selectin", order_by="UpdateTask.id"
    )


class UpdateTask(Base):
    """A department's duty to update its catalog after an event, due in N working days (CAT-7)."""

    __tablename__ = "catalog_update_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("catalog_events.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    tracked_deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_note: Mapped[str | None] = mapped_column(Text)

    event: Mapped[CatalogEvent] = relationship(back_populates="tasks")
    department = relationship("Department", lazy="joined")
    tracked: Mapped[TrackedDeadline | None] = relationship(lazy="joined")

    @property
    def deadline(self) -> date:
        """Read from the tracked deadline, which the calendar recomputes when a year is imported."""
        return self.tracked.due_date

    @property
    def deadline_provisional(self) -> bool:
        return self.tracked.provisional


Index("ix_catalog_resources_provider_status", Resource.provider_id, Resource.status)
# the scorecards read the published resources' cycles from this index alone (SUP-1)
Index(
    "ix_catalog_resources_cycles",
    Resource.status,
    Resource.format,
    Resource.published_at,
    Resource.provider_id,
    Resource.update_cycle,
    Resource.id,
)
