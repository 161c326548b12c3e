"""Input and output of sharing (SPEC §15 "application", "grant"; more fields are welcome)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from govdata.catalog.enums import LegalBasisKind, ShareMode
from govdata.core import clock
from govdata.core.errors import register_field_labels
from govdata.sharing.enums import CoordinationOutcome, CoordinationStep, Decision


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource_code: str = Field(max_length=64, description="资源代码")
    system_id: int = Field(description="使用数据的应用系统")
    items: list[str] = Field(min_length=1, max_length=500, description="申请的信息项代码")
    masked_items: list[str] = Field(default_factory=list, max_length=500, description="申请脱敏提供的信息项")
    purpose: str = Field(max_length=2000, description="使用目的")
    scenario: str = Field(max_length=4000, description="具体应用场景")
    legal_basis: str | None = Field(default=None, max_length=2000, description="法律依据或履职需要")
    period_start: date = Field(description="使用期限起")
    period_end: date = Field(description="使用期限止")
    modes: list[ShareMode] = Field(min_length=1, description="服务方式")
    rate_limit: int | None = Field(default=None, ge=1, le=1_000_000, description="每分钟调用上限")
    request_coordination: bool = Field(
        default=False, description="不予共享的资源：请求主管部门协调（不能直接申请）"
    )


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision
    items: list[str] | None = Field(default=None, max_length=500, description="部分同意时提供的信息项")
    masked: list[str] | None = Field(default=None, max_length=500, description="脱敏提供的信息项")
    period_end: date | None = Field(default=None, description="缩短后的使用期限止")
    conditions: str | None = Field(default=None, max_length=4000, description="附加条件")
    reason: str | None = Field(default=None, max_length=4000, description="理由（不予共享时必填）")
    basis_kind: LegalBasisKind | None = Field(default=None, description="不予共享的依据类别")
    basis: str | None = Field(default=None, max_length=2000, description="不予共享的依据")
    rate_limit: int | None = Field(default=None, ge=1, le=1_000_000, description="每分钟调用上限")


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passed: bool = Field(description="是否通过合规审查")
    note: str | None = Field(default=None, max_length=4000, description="审查意见（不通过时必填）")


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=4000, description="异议理由")


class CoordinateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    step: CoordinationStep = Field(description="negotiate 协商记录；decide 协调决定（有约束力）")
    note: str = Field(max_length=4000, description="协商或协调意见")
    outcome: CoordinationOutcome | None = Field(default=None, description="协调决定：grant 责令提供 / refuse")
    items: list[str] | None = Field(default=None, max_length=500)
    masked: list[str] | None = Field(default=None, max_length=500)
    period_end: date | None = None


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000, description="理由")


class GrantItem(BaseModel):
    code: str
    masked: bool


class GrantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    application_id: int
    resource_code: str
    resource_name: str
    provider_id: int
    consumer_department_id: int
    system_id: int
    items: list[GrantItem]
    modes: list[str]
    purpose: str
    conditions: str | None
    usage_requirements: str | None
    period_start: date
    period_end: date
    rate_limit: int
    status: str
    status_reason: str | None
    created_at: datetime

    @model_validator(mode="after")
    def _past_its_period(self) -> GrantOut:
        """A grant past its period reads expired even before the hourly sweep records it so."""
        if self.status in ("active", "suspended") and self.period_end < clock.today():
            self.status = "expired"
        return self


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    resource_code: str
    resource_name: str
    share_type: str
    provider_id: int
    consumer_department_id: int
    system_id: int
    applicant: str
    items: list[str]
    masked_items: list[str]
    purpose: str
    scenario: str
    legal_basis: str | None
    period_start: date
    period_end: date
    modes: list[str]
    usage_requirements: str | None
    status: str
    phase: str
    deadline: date | None = None
    deadline_provisional: bool = False
    deadline_statutory: bool | None = None
    submitted_at: datetime
    received_at: datetime | None
    checked_at: datetime | None
    check_note: str | None
    decision: str | None
    decided_at: datetime | None
    decided_by: str | None
    decided_items: list[dict[str, Any]] | None
    decided_period_end: date | None
    conditions: str | None
    reason: str | None
    refusal_basis_kind: str | None
    refusal_flagged: bool
    late: bool
    escalated_at: datetime | None
    disputed_at: datetime | None
    dispute_reason: str | None
    coordination: list[dict[str, Any]]
    outcome: str | None
    grant_id: int | None
    attachments: list[AttachmentOut] = []


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direct_evidence: bool = Field(description="共享数据可直接作为办事依据（可直接采信）")


class DemandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=200, description="需要的数据")
    description: str = Field(max_length=4000, description="数据内容与信息项说明")
    purpose: str = Field(max_length=2000, description="用途与应用场景")
    legal_basis: str | None = Field(default=None, max_length=2000, description="依据")


class DemandAssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider_id: int = Field(description="指定的提供部门")
    note: str | None = Field(default=None, max_length=2000)


class DemandAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource_code: str | None = Field(default=None, max_length=64, description="编目后的资源代码")
    reason: str | None = Field(default=None, max_length=4000, description="不能提供的理由")


class DemandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    purpose: str
    legal_basis: str | None
    consumer_department_id: int
    requester: str
    status: str
    created_at: datetime
    provider_id: int | None
    assigned_at: datetime | None
    assign_note: str | None
    deadline: date | None = None
    deadline_provisional: bool = False
    deadline_statutory: bool = False
    answered_at: datetime | None
    resource_code: str | None
    reason: str | None
    late: bool


# Chinese names of sharing's fields in 422 answers (fields of the same name elsewhere read alike)
register_field_labels(
    {
        "resource_code": "资源代码",
        "system_id": "应用系统",
        "masked_items": "申请脱敏的信息项",
        "masked": "脱敏提供的信息项",
        "purpose": "使用目的",
        "scenario": "应用场景",
        "period_start": "使用期限起",
        "period_end": "使用期限止",
        "modes": "服务方式",
        "rate_limit": "调用频率上限",
        "request_coordination": "请求协调",
        "decision": "答复",
        "conditions": "附加条件",
        "basis_kind": "依据类别",
        "basis": "依据",
        "passed": "审查结论",
        "note": "意见",
        "step": "协调步骤",
        "outcome": "协调结果",
        "provider_id": "提供部门",
        "title": "标题",
        "description": "说明",
    }
)
