"""Tables of opening's core (OPN-1, OPN-5, OPN-6): a resource's place in the open catalog with its
de-identification plan, confidentiality reviews, the yearly priority list and the use log.

The plan is kept as JSON on the dataset (item code → ``{method, generalise?}``): it is read whole on
every read and changed whole by the officer's editor."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govdata.core.db import Base, UTCDateTime, utcnow


class OpenEntry(Base):
    """A catalog resource considered for opening: one a resource."""

    __tablename__ = "open_entries"
    __table_args__ = (Index("ix_open_entries_status", "status", "emergency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), unique=True)
    resource_code: Mapped[str] = mapped_column(String(64), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="preparing")
    open_type: Mapped[str | None] = mapped_column(String(16))  # the type it is (to be) opened with
    basis: Mapped[str | None] = mapped_column(String(16))
    plan: Mapped[dict] = mapped_column(JSON, default=dict)  # item code → {method, generalise?}
    quasi_identifiers: Mapped[list] = mapped_column(JSON, default=list)
    non_open_reason: Mapped[str | None] = mapped_column(String(32))
    non_open_note: Mapped[str | None] = mapped_column(Text)
    consent_holder: Mapped[str | None] = mapped_column(String(200))
    consent_date: Mapped[date | None] = mapped_column(Date)
    consent_document: Mapped[str | None] = mapped_column(String(500))
    consent_recorded_by: Mapped[str | None] = mapped_column(String(64))
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    incident_category: Mapped[str | None] = mapped_column(String(32))
    incident_title: Mapped[str | None] = mapped_column(String(200))
    k_checked: Mapped[int | None] = mapped_column(Integer)  # the smallest group when published
    prepared_by: Mapped[str | None] = mapped_column(String(64))
    prepared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[str | None] = mapped_column(String(64))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64))
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OpenReview(Base):
    """A confidentiality review (保密审查) of an opening: who, when, the conclusion."""

    __tablename__ = "open_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("open_entries.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    reviewer_name: Mapped[str] = mapped_column(String(100))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    conclusion: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[dict] = mapped_column(JSON, default=dict)  # the plan it reviewed


class OpenPriority(Base):
    """A dataset the authority means to open in a year (开放重点)."""

    __tablename__ = "open_priorities"
    __table_args__ = (Index("ix_open_priorities_year", "year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_resources.id"))
    title: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OpenUse(Base):
    """One download or API call of an open dataset (OPN-3, OPN-9)."""

    __tablename__ = "open_uses"
    __table_args__ = (Index("ix_open_uses_entry", "entry_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("open_entries.id"))
    kind: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(Integer, index=True)
    application_id: Mapped[int | None] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
