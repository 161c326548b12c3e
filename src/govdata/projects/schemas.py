"""Input and output of information projects (SPEC §15 project)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from govdata.projects.enums import Decision, ProjectStatus


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class ProjectIn(BaseModel):
    """A project application with its pre-compiled catalog (预编目录): draft resources of the
    department, by code."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="项目名称")
    department_id: int = Field(description="建设单位（申报部门）")
    summary: str = Field(min_length=1, max_length=4000, description="项目概要")
    budget: float | None = Field(default=None, ge=0, le=10_000_000, description="预算（万元，可选）")
    resource_codes: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=200, description="预编目录：本部门草稿资源的代码"
    )
    builds_own_platform: bool = Field(default=False, description="是否自建数据中心或数据平台")
    period_start: dt.date | None = Field(default=None, description="建设期开始")
    period_end: dt.date | None = Field(default=None, description="建设期结束")

    _strip_text = field_validator("name", "summary", mode="before")(lambda cls, v: _strip(v))

    @field_validator("resource_codes")
    @classmethod
    def _unique_codes(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(c.strip() for c in value if c and c.strip()))

    @model_validator(mode="after")
    def _period(self) -> ProjectIn:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError("建设期结束不能早于开始")
        return self


class ReviewIn(BaseModel):
    """The initial review: approve, or refuse with a reason (required)."""

    model_config = ConfigDict(extra="forbid")

    decision: Decision = Field(description="approve 通过 | refuse 不予通过")
    reason: str | None = Field(default=None, max_length=4000, description="理由（不予通过时必填）")

    _strip_reason = field_validator("reason", mode="before")(lambda cls, v: _strip(v) or None)


class AcceptanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(default=None, max_length=4000, description="验收说明（可选）")


class ProjectResourceOut(BaseModel):
    code: str
    name: str | None
    status: str | None = Field(description="目录状态")


class ProjectOut(BaseModel):
    id: int
    name: str
    department_id: int
    department_name: str | None
    summary: str
    budget: float | None
    resource_codes: list[str]
    resources: list[ProjectResourceOut]
    builds_own_platform: bool
    period_start: dt.date | None
    period_end: dt.date | None
    status: ProjectStatus
    status_label: str
    filed_by: str
    filed_at: dt.datetime
    findings: dict[str, Any] | None = Field(
        description="初审发现（已初审的为审查时保存的；待初审的为当前计算的）"
    )
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    review_reason: str | None
    not_funded: bool = Field(description="验收未通过，不予安排运维经费")
    acceptance: dict[str, Any] | None = Field(description="最近一次验收报告")


class AcceptanceOut(BaseModel):
    """The acceptance report (PRJ-2)."""

    project_id: int
    status: ProjectStatus
    accepted: bool
    reasons: list[str] = Field(description="未通过的原因")
    not_funded: bool
    acceptor: str = Field(description="验收者（策略开关 project_acceptor）")
    acceptor_label: str
    reported_to_authority: bool = Field(description="建设单位验收的，已报主管部门备案")
    accepted_by: str
    at: dt.datetime
    comment: str | None = None
    resources: list[dict[str, Any]] = Field(description="各资源的目录、共享、开放与安全保护情况")
    opening_included: bool = True
