"""Tables of opening's public side (ORG-4, OPN-3, OPN-4, OPN-9): public account profiles, conditional
open applications and their API keys, the log of their downloads and calls, open demands and reuses.

The account itself is an ``orgs`` user (role ``public``); the profile keeps what registration adds
(the kind as the person chose it, developer enterprises included, and contact details)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govdata.core.db import Base, UTCDateTime, utcnow


class PublicProfile(Base):
    """What a public account registered besides its login (one a user)."""

    __tablename__ = "open_public_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(200))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OpenApplication(Base):
    """A public account's application for a conditional open dataset (OPN-3)."""

    __tablename__ = "open_applications"
    __table_args__ = (Index("ix_open_applications_provider", "provider_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    applicant_name: Mapped[str] = mapped_column(String(100))
    dataset_code: Mapped[str] = mapped_column(String(64), index=True)
    dataset_name: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    items: Mapped[list] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(Text)
    scenario: Mapped[str] = mapped_column(Text)
    commitments: Mapped[str] = mapped_column(Text)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(24), default="pending")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_id: Mapped[int | None] = mapped_column(Integer)
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_items: Mapped[list | None] = mapped_column(JSON)
    decided_period_end: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_by_name: Mapped[str | None] = mapped_column(String(100))
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class OpenApiKey(Base):
    """An API key of an approved application: shown once, stored as a digest, limited to the
    application's dataset, granted items and period."""

    __tablename__ = "open_api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("open_applications.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OpenAccessLog(Base):
    """One download or API call by a public account or a key (who, dataset, application, rows, time)."""

    __tablename__ = "open_access_log"
    __table_args__ = (Index("ix_open_access_log_dataset", "dataset_code", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    account_id: Mapped[int | None] = mapped_column(Integer, index=True)
    application_id: Mapped[int | None] = mapped_column(Integer, index=True)
    key_id: Mapped[int | None] = mapped_column(Integer)
    dataset_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # download | api_call
    rows: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(String(100))  # the format, or the call's name


class OpenDemand(Base):
    """A dataset the public asks to open, or an open dataset it asks to update (OPN-4, OPN-6)."""

    __tablename__ = "open_demands"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    dataset_code: Mapped[str | None] = mapped_column(String(64))
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    answer: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))
    answer_dataset_code: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(64))
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class OpenReuse(Base):
    """An application built on open data, registered by a public account (OPN-9)."""

    __tablename__ = "open_reuses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    account_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OpenReuseDataset(Base):
    """A dataset a reuse is built on."""

    __tablename__ = "open_reuse_datasets"
    __table_args__ = (UniqueConstraint("reuse_id", "dataset_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reuse_id: Mapped[int] = mapped_column(ForeignKey("open_reuses.id", ondelete="CASCADE"), index=True)
    dataset_code: Mapped[str] = mapped_column(String(64), index=True)
