"""Objections (COR-1 … COR-4): a record's claimed values under the provider's review, its evidence.

An objection keeps the id of the deadline that runs now (core's tracked deadlines, recounted when a
year's schedule is imported) and of the original one, from which an extension is counted.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govdata.core.db import Base, UTCDateTime, utcnow


class Objection(Base):
    """A filer's objection to one record of a resource: the items and the values believed right."""

    __tablename__ = "objections"
    __table_args__ = (
        Index("ix_objections_open", "status", "resource_id"),
        Index("ix_objections_provider", "provider_id", "status"),
        Index("ix_objections_filer", "filer_department_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"))
    resource_code: Mapped[str] = mapped_column(String(64))
    resource_name: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    record_key: Mapped[str] = mapped_column(String(500))  # as the store keeps it
    items: Mapped[dict] = mapped_column(JSON)  # item code → the value the filer believes right
    original: Mapped[dict] = mapped_column(JSON)  # item code → the stored value when filed
    reason: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    filer_kind: Mapped[str] = mapped_column(String(20))
    filer_username: Mapped[str | None] = mapped_column(String(64))
    filer_user_id: Mapped[int | None] = mapped_column(Integer)
    filer_name: Mapped[str] = mapped_column(String(200))
    filer_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    filer_identity_kind: Mapped[str | None] = mapped_column(String(40))  # a public account's kind
    filer_contact: Mapped[str | None] = mapped_column(String(200))
    entered_by: Mapped[str | None] = mapped_column(String(64))  # the officer who entered it off-platform
    received_on: Mapped[date] = mapped_column(Date)  # the deadline runs from the day after
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    original_deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    extension_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extension_requested_by: Mapped[str | None] = mapped_column(String(64))
    extension_requested_by_name: Mapped[str | None] = mapped_column(String(100))
    extension_request_reason: Mapped[str | None] = mapped_column(Text)
    extension_request_days: Mapped[int | None] = mapped_column(Integer)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extended_by: Mapped[str | None] = mapped_column(String(64))
    extended_by_name: Mapped[str | None] = mapped_column(String(100))
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extension_days: Mapped[int | None] = mapped_column(Integer)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    correction_batch_id: Mapped[int | None] = mapped_column(Integer)  # a correction being applied
    correction_values: Mapped[dict | None] = mapped_column(JSON)
    correction_error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_by_name: Mapped[str | None] = mapped_column(String(100))
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class ObjectionAttachment(Base):
    """Evidence of an objection, stored under the data directory, checked by its content."""

    __tablename__ = "objection_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("objections.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_as: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
