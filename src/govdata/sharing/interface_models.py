"""Tables of sharing's interface mode (接口访问): the HTTP service a provider registers for one of its
resources, which the platform calls on behalf of grant holders (``sharing.interface``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govdata.core.db import Base, UTCDateTime, utcnow


class InterfaceEndpoint(Base):
    """A provider's own service for one resource. The secret header value is kept sealed
    (``sharing.sealing``) and never answered; consumers see neither it nor the address."""

    __tablename__ = "share_interfaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), unique=True)
    resource_code: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    base_url: Mapped[str] = mapped_column(String(2000))
    secret_header: Mapped[str] = mapped_column(String(100))
    secret_sealed: Mapped[str] = mapped_column(Text)
    timeout_seconds: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
