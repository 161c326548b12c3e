"""Tables of sharing's subscriptions (``sharing.subscriptions``): a consumer's subscription to the
changes of a resource it holds a grant for, and one delivery per subscription and applied batch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from govdata.core.db import Base, UTCDateTime, utcnow


class Subscription(Base):
    """A grant's subscription: told in the message centre, and at ``webhook_url`` when one is set,
    whenever a batch changed the resource. One active subscription per grant."""

    __tablename__ = "share_subscriptions"
    __table_args__ = (Index("ix_share_subscriptions_resource", "resource_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("share_grants.id"), index=True)
    resource_id: Mapped[int] = mapped_column(Integer)
    resource_code: Mapped[str] = mapped_column(String(64))
    resource_name: Mapped[str] = mapped_column(String(200))
    consumer_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    system_id: Mapped[int] = mapped_column(Integer)
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    # the platform's address as the subscriber reached it, for the ``changes_url`` of a delivery
    platform_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))  # active | ended
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_by: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """What a subscription was told of one applied batch: the message, and the webhook's attempts."""

    __tablename__ = "share_deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "batch_id", name="uq_share_deliveries_batch"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("share_subscriptions.id"), index=True)
    grant_id: Mapped[int] = mapped_column(Integer, index=True)
    batch_id: Mapped[int] = mapped_column(Integer)
    resource_code: Mapped[str] = mapped_column(String(64))
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    payload: Mapped[dict] = mapped_column(JSON)
    # message_only (no webhook) | pending | delivered | failed | cancelled
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
