"""Input and output shapes of opening's public side (SPEC §15 "public accounts and opening")."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from govdata.core.labels import LabelledEnum


class AccountKind(LabelledEnum):
    """Who registers a public account (ORG-4)."""

    natural_person = "natural_person", "自然人"
    legal_person = "legal_person", "法人"
    unincorporated_org = "unincorporated_org", "非法人组织"
    developer = "developer", "开发者企业"


class Decision(StrEnum):
    approve = "approve"
    partial = "partial"
    refuse = "refuse"


class ApplicationStatus(LabelledEnum):
    pending = "pending", "待决定"
    approved = "approved", "已同意"
    partially_approved = "partially_approved", "部分同意"
    refused = "refused", "不予同意"


class DemandKind(LabelledEnum):
    new_dataset = "new_dataset", "开放新数据"
    update = "update", "更新已开放数据"


class DemandOutcome(LabelledEnum):
    accepted = "accepted", "已采纳"
    refused = "refused", "不予采纳"
    opened = "opened", "已开放"


class AccountIn(BaseModel):
    kind: AccountKind = Field(description="主体类型")
    identity_number: str = Field(min_length=1, max_length=32, description="公民身份号码或统一社会信用代码")
    name: str = Field(min_length=1, max_length=100, description="姓名或单位名称")
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", description="登录名")
    password: str = Field(min_length=1, max_length=256, description="密码")
    phone: str | None = Field(default=None, max_length=32, pattern=r"^[0-9+\- ]*$", description="联系电话")
    email: str | None = Field(
        default=None, max_length=200, pattern=r"^$|^[^@\s]+@[^@\s]+$", description="电子邮箱"
    )


class AccountOut(BaseModel):
    id: int
    username: str
    display_name: str
    kind: str
    kind_label: str
    identity_number: str  # masked: the caller typed it, the answer need not repeat it whole
    phone: str | None = None
    email: str | None = None
    verified: bool
    created_at: datetime | None


class OpenApplicationIn(BaseModel):
    dataset_code: str = Field(min_length=1, max_length=64, description="数据集编码")
    items: list[str] | None = Field(
        default=None, max_length=500, description="申请的信息项；缺省为全部可申请项"
    )
    purpose: str = Field(min_length=1, max_length=2000, description="用途")
    scenario: str = Field(min_length=1, max_length=2000, description="应用场景")
    commitments: str = Field(min_length=1, max_length=4000, description="数据安全承诺")
    period_end: date = Field(description="使用期限截止日期")


class OpenDecisionIn(BaseModel):
    decision: Decision
    items: list[str] | None = Field(default=None, max_length=500)
    period_end: date | None = None
    reason: str | None = Field(default=None, max_length=2000)


class OpenApplicationOut(BaseModel):
    id: int
    dataset_code: str
    dataset_name: str
    provider_id: int
    applicant_name: str
    items: list[str]
    purpose: str
    scenario: str
    commitments: str
    period_start: date
    period_end: date
    status: str
    status_label: str
    submitted_at: datetime
    deadline: date | None
    deadline_provisional: bool
    deadline_statutory: bool
    working_days_left: int | None
    decision: str | None
    decided_items: list[str] | None
    decided_period_end: date | None
    reason: str | None
    decided_at: datetime | None
    late: bool


class KeyOut(BaseModel):
    id: int
    application_id: int
    hint: str
    created_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    key: str | None = Field(default=None, description="密钥本身，仅在创建时显示一次")


class UseOut(BaseModel):
    at: datetime
    dataset_code: str
    kind: str
    application_id: int | None
    rows: int | None
    detail: str | None
    account_name: str | None = None


class DemandIn(BaseModel):
    title: str = Field(min_length=2, max_length=200)
    description: str = Field(min_length=1, max_length=4000)
    department_id: int | None = None
    dataset_code: str | None = Field(default=None, max_length=64)
    kind: DemandKind = DemandKind.new_dataset


class DemandAnswerIn(BaseModel):
    answer: str = Field(min_length=1, max_length=4000)
    outcome: DemandOutcome
    dataset_code: str | None = Field(default=None, max_length=64)


class DemandOut(BaseModel):
    id: int
    title: str
    description: str
    kind: str
    kind_label: str
    department_id: int | None
    department_name: str | None
    dataset_code: str | None
    submitted_at: datetime
    status: str
    deadline: date | None
    deadline_provisional: bool
    deadline_statutory: bool
    overdue: bool
    answer: str | None
    outcome: str | None
    outcome_label: str | None
    answer_dataset_code: str | None
    answered_at: datetime | None
    mine: bool = False


class ReuseIn(BaseModel):
    title: str = Field(min_length=2, max_length=200)
    description: str = Field(min_length=1, max_length=4000)
    url: str | None = Field(default=None, max_length=500, pattern=r"^$|^https?://\S+$")
    dataset_codes: list[str] = Field(min_length=1, max_length=50)


class ReuseOut(BaseModel):
    id: int
    title: str
    description: str
    url: str | None
    dataset_codes: list[str]
    created_at: datetime | None
