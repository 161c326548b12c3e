"""Sharing (SHR): applications, their attachments, grants and the usage log.

Deadlines are core's tracked deadlines (``deadlines``), recounted when a year's schedule is imported;
an application keeps the id of the one that runs now (the compliance check's, then the provider's).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govdata.core.db import Base, UTCDateTime, utcnow


class Application(Base):
    """A consumer department's application for a resource's items (SHR-2 … SHR-4)."""

    __tablename__ = "share_applications"
    __table_args__ = (
        Index("ix_share_applications_provider", "provider_id", "status"),
        Index("ix_share_applications_consumer", "consumer_department_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64))
    resource_name: Mapped[str] = mapped_column(String(200))
    catalog_version: Mapped[int] = mapped_column(Integer)
    share_type: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    system_id: Mapped[int] = mapped_column(ForeignKey("application_systems.id"), index=True)
    applicant: Mapped[str] = mapped_column(String(64))
    applicant_name: Mapped[str | None] = mapped_column(String(100))
    items: Mapped[list] = mapped_column(JSON)  # requested item codes
    masked_items: Mapped[list] = mapped_column(JSON, default=list)  # asked to be served masked
    purpose: Mapped[str] = mapped_column(Text)
    scenario: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    modes: Mapped[list] = mapped_column(JSON)
    rate_limit: Mapped[int] = mapped_column(Integer, default=600)  # calls per minute asked for
    usage_requirements: Mapped[str | None] = mapped_column(Text)  # the resource's, as shown
    status: Mapped[str] = mapped_column(String(24), index=True)
    phase: Mapped[str] = mapped_column(String(24))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_by: Mapped[str | None] = mapped_column(String(64))
    check_note: Mapped[str | None] = mapped_column(Text)
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_by_name: Mapped[str | None] = mapped_column(String(100))
    decided_items: Mapped[list | None] = mapped_column(JSON)  # [{code, masked}]
    decided_period_end: Mapped[date | None] = mapped_column(Date)
    conditions: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    refusal_basis_kind: Mapped[str | None] = mapped_column(String(40))
    refusal_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    coordination: Mapped[list] = mapped_column(JSON, default=list)  # [{step, note, by, at, outcome?}]
    coordinated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    grant_id: Mapped[int | None] = mapped_column(Integer)
    # working days from submission to the answer (China dates), counted when answered (SUP-1)
    decided_working_days: Mapped[int | None] = mapped_column(Integer)


class Attachment(Base):
    """An attached material of an application, stored under the data directory."""

    __tablename__ = "share_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("share_applications.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_as: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Grant(Base):
    """What a consumer's system may do with a resource (SHR-5): items (each clear or masked), modes,
    purpose, period, rate limit. Only the named system uses it."""

    __tablename__ = "share_grants"
    __table_args__ = (Index("ix_share_grants_use", "system_id", "resource_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("share_applications.id"), index=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    resource_name: Mapped[str] = mapped_column(String(200))
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("application_systems.id"))
    items: Mapped[list] = mapped_column(JSON)  # [{code, masked}]
    modes: Mapped[list] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    conditions: Mapped[str | None] = mapped_column(Text)
    usage_requirements: Mapped[str | None] = mapped_column(Text)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    rate_limit: Mapped[int] = mapped_column(Integer)  # calls per minute
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_by: Mapped[str | None] = mapped_column(String(64))
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expiry_notified: Mapped[bool] = mapped_column(Boolean, default=False)


class ShareSetting(Base):
    """What the authority says of a resource's shared data: whether it may be relied upon directly as a
    basis for handling affairs (可直接采信, SHR-9)."""

    __tablename__ = "share_settings"

    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), primary_key=True)
    direct_evidence: Mapped[bool] = mapped_column(Boolean, default=False)
    set_by: Mapped[str | None] = mapped_column(String(64))
    set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UsageRecord(Base):
    """One call of a sharing service (SHR-7), written in batches off the request path."""

    __tablename__ = "share_usage"
    __table_args__ = (
        Index("ix_share_usage_provider", "provider_id", "at"),
        Index("ix_share_usage_consumer", "consumer_department_id", "at"),
        Index("ix_share_usage_resource", "resource_code", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    caller: Mapped[str] = mapped_column(String(64))  # system:<id> or a username
    system_id: Mapped[int | None] = mapped_column(Integer)
    end_user: Mapped[str | None] = mapped_column(String(100))
    consumer_department_id: Mapped[int | None] = mapped_column(Integer)
    provider_id: Mapped[int | None] = mapped_column(Integer)
    grant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    application_id: Mapped[int | None] = mapped_column(Integer)
    purpose: Mapped[str | None] = mapped_column(Text)
    resource_code: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    items: Mapped[list] = mapped_column(JSON, default=list)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(64))


class Demand(Base):
    """A share demand (共享需求): data a consumer needs that the catalog does not list. The authority
    assigns a provider with a deadline; the provider answers with a catalog entry or a reasoned refusal."""

    __tablename__ = "share_demands"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    requester: Mapped[str] = mapped_column(String(64))
    requester_name: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), index=True)  # submitted|assigned|fulfilled|refused
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    assigned_by: Mapped[str | None] = mapped_column(String(64))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assign_note: Mapped[str | None] = mapped_column(Text)
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resource_code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    late: Mapped[bool] = mapped_column(Boolean, default=False)


class UsageMonth(Base):
    """Calls of the sharing services per China month, department, side (provider or consumer) and
    outcome: the usage log rolled up as it is written (``sharing.usage_months``), so that counting a
    period's calls reads a few hundred rows instead of the log (SUP-1's services provided and
    consumed)."""

    __tablename__ = "share_usage_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM, China time
    department_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    side: Mapped[str] = mapped_column(String(8), primary_key=True)  # provider | consumer
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)


# the scorecards count a period's answers per provider from this index alone (SUP-1)
Index(
    "ix_share_applications_answers",
    Application.decided_at,
    Application.provider_id,
    Application.late,
    Application.decision,
    Application.refusal_flagged,
    Application.decided_working_days,
    Application.decided_by,
)
