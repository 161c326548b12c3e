"""Information projects (PRJ-1, PRJ-2).

A project names its pre-compiled catalog (预编目录) as catalog resources, kept here by id and code
(the catalog's own tables stay the catalog's). The initial review stores the findings the reviewer saw
with the decision; each acceptance attempt keeps its report, the project the outcome of the latest.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govdata.core.db import Base, UTCDateTime, utcnow
from govdata.projects.enums import ProjectStatus


class Project(Base):
    __tablename__ = "prj_projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    budget: Mapped[float | None] = mapped_column(Float)  # 万元
    builds_own_platform: Mapped[bool] = mapped_column(Boolean, default=False)
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    # the pre-compiled catalog: [{"id": resource id, "code": resource code}] in the order filed
    resources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), index=True, default=ProjectStatus.filed)
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    findings: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # what the reviewer saw
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str | None] = mapped_column(Text)
    not_funded: Mapped[bool] = mapped_column(Boolean, default=False)  # 不予安排运维经费


class Acceptance(Base):
    """One acceptance attempt and its report."""

    __tablename__ = "prj_acceptances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("prj_projects.id"), index=True)
    accepted: Mapped[bool] = mapped_column(Boolean)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    acceptor: Mapped[str] = mapped_column(String(32))  # the policy switch project_acceptor then
    accepted_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
