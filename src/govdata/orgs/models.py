"""Organisations and identity (ORG-1…4): regions, the node, departments, users, application systems."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from govdata.core.db import Base, UTCDateTime, utcnow
from govdata.core.labels import LabelledEnum


class RegionLevel(StrEnum):
    province = "province"
    city = "city"
    county = "county"


class OrgType(LabelledEnum):
    """Who is in scope differs between the seeds (ORG-2); every kind can be registered. Seeds 001, 002
    and 003 put organisations authorised by law to manage public affairs in scope (法律法规授权的具有
    管理公共事务职能的组织, 法律、法规授权具有行政职能的组织), e.g. a 住房公积金管理中心."""

    government = "government", "政府部门"
    authorized_organization = "authorized_organization", "法律法规授权组织"
    public_institution = "public_institution", "事业单位"
    public_service_enterprise = "public_service_enterprise", "具有公共服务职能的企业"
    peoples_organization = "peoples_organization", "人民团体"


class IdentityKind(StrEnum):
    """Public accounts (ORG-4)."""

    natural_person = "natural_person"
    legal_person = "legal_person"
    unincorporated_organization = "unincorporated_organization"


class Region(Base):
    """A GB/T 2260 administrative division. Retired codes stay known (``active`` false)."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(6), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    valid_from: Mapped[int | None] = mapped_column(Integer)
    valid_to: Mapped[int | None] = mapped_column(Integer)


class Node(Base):
    """This installation: one region and its level (ORG-1, FED-1)."""

    __tablename__ = "node"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(50))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    org_type: Mapped[str] = mapped_column(String(40), default=OrgType.government)
    is_authority: Mapped[bool] = mapped_column(Boolean, default=False)
    principal_head: Mapped[str | None] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region: Mapped[Region] = relationship(lazy="joined")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    identity_kind: Mapped[str | None] = mapped_column(String(40))
    identity_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="UserRole.role"
    )

    @property
    def roles(self) -> list[str]:
        return [r.role for r in self.role_rows]


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))


class AccessToken(Base):
    """A user's session token (API and web): stored as a digest, expiring, revocable."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApplicationSystem(Base):
    """A department's business system that calls sharing services (ORG-3)."""

    __tablename__ = "application_systems"
    __table_args__ = (UniqueConstraint("department_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department] = relationship(lazy="joined")


class SystemCredential(Base):
    """An API credential of an application system: shown once, stored as a digest (ORG-3)."""

    __tablename__ = "system_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("application_systems.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    system: Mapped[ApplicationSystem] = relationship(lazy="joined")
