"""Input and output of objections (SPEC §15 "objection"; more fields are welcome)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from govdata.core.errors import register_field_labels
from govdata.objections.enums import Outcome

MAX_VALUE_CHARS = 100_000  # a claimed or corrected value: no item of the catalog is longer (its ``length``)

Value = str | int | float | bool | None  # as stored and shown
# as given: text of a sensible length, finite numbers (JSON's NaN and Infinity are not values of any item)
ValueIn = (
    Annotated[str, Field(max_length=MAX_VALUE_CHARS)]
    | int
    | Annotated[float, Field(allow_inf_nan=False)]
    | bool
    | None
)
ItemCode = Annotated[str, Field(min_length=1, max_length=64)]


class ObjectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource_code: str = Field(max_length=64, description="资源代码")
    key: str = Field(max_length=500, description="记录的关键标识（如公民身份号码）")
    items: dict[ItemCode, ValueIn] = Field(
        min_length=1, max_length=100, description="有疑义的信息项及认为正确的值：{信息项代码: 值}"
    )
    reason: str = Field(max_length=4000, description="疑义理由")
    received_on: date | None = Field(
        default=None,
        description="线下提出的疑义：提供部门实际收到的日期（由提供部门录入，复核期限自此日起算）",
    )
    filer_name: str | None = Field(default=None, max_length=200, description="线下提出疑义的单位或个人")
    filer_department_id: int | None = Field(default=None, description="线下提出疑义的部门（平台上的部门）")
    filer_contact: str | None = Field(default=None, max_length=200, description="线下提出人的联系方式")


class ExtendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=4000, description="延长理由")
    working_days: int | None = Field(
        default=None, ge=1, le=365, description="延长的工作日数（不超过策略规定的上限，不填即上限）"
    )


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Outcome = Field(description="corrected 更正数据 | rejected 维持原数据")
    reason: str | None = Field(default=None, max_length=4000, description="复核意见（维持原数据时必填）")
    values: dict[ItemCode, ValueIn] | None = Field(
        default=None, max_length=100, description="更正后的值（不填即按疑义主张的值更正）"
    )


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class ObjectionOut(BaseModel):
    id: int
    resource_code: str
    resource_name: str
    provider_id: int
    key: str | None = Field(description="记录的关键标识（主管部门看不到）")
    items: dict[str, Value] = Field(description="疑义主张的值（主管部门看到的值为空）")
    reason: str
    status: str
    deadline: date | None
    deadline_provisional: bool
    deadline_statutory: bool
    original_deadline: date | None
    extended: bool
    extension_days: int | None
    extension_reason: str | None
    extended_by: str | None
    extended_at: datetime | None
    extension_requested_at: datetime | None
    extension_request_days: int | None
    extension_request_reason: str | None
    channel: str
    filer_kind: str
    filer_name: str
    filer_department_id: int | None
    received_on: date
    filed_at: datetime
    escalated_at: datetime | None
    outcome: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_reason: str | None
    corrected_values: dict[str, Value] | None
    correction_batch_id: int | None
    correction_error: str | None
    late: bool
    attachments: list[AttachmentOut] = []


# Chinese names of the fields only objections has (``key``, ``items``, ``reason`` … read alike elsewhere)
register_field_labels(
    {
        "received_on": "收到日期",
        "filer_name": "提出人",
        "filer_department_id": "提出部门",
        "filer_contact": "联系方式",
    }
)
