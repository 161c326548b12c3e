"""Input and output of base libraries, conflicts and resource pools."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from govdata.core.errors import FIELD_LABELS, register_field_labels

# a base (1) or thematic (2) class at 项 level or deeper (CAT-1a)
CLASSIFICATION_PATTERN = r"^[12][0-9]{2}[0-9A-Za-z]*$"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class LibraryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$", description="库代码，如 population")
    name: str = Field(min_length=1, max_length=100, description="库名称")
    key_element: str = Field(min_length=1, max_length=100, description="关键标识数据元，如 公民身份号码")
    classification: str | None = Field(
        default=None,
        pattern=CLASSIFICATION_PATTERN,
        description="该库对应的资源分类（如 101 人口），其资源目录只由牵头部门编制",
    )
    elements: list[str] = Field(default_factory=list, max_length=200, description="基础信息项（数据元名称）")
    lead_department_id: int | None = Field(default=None, description="牵头部门")
    description: str = Field(default="", max_length=2000)

    @field_validator("name", "key_element", "description", mode="before")
    @classmethod
    def _strip_text(cls, value: Any) -> Any:
        return _strip(value)


class LibraryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    classification: str | None = Field(default=None, pattern=CLASSIFICATION_PATTERN)
    lead_department_id: int | None = None
    description: str | None = Field(default=None, max_length=2000)


class FieldSourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_resource_code: str | None = Field(
        max_length=64, description="权威来源资源代码；为 null 时取消指定"
    )


class SourceOut(BaseModel):
    resource_id: int
    resource_code: str
    resource_name: str
    department_id: int
    department_name: str
    item_code: str | None = None


class FieldOut(BaseModel):
    element: str
    position: int
    column: str
    key: bool
    source: SourceOut | None
    chosen_by: str | None
    chosen_by_name: str | None = None
    chosen_at: dt.datetime | None
    candidates: list[SourceOut]


class LibraryOut(BaseModel):
    id: int
    code: str
    name: str
    key_element: str
    classification: str | None
    lead_department_id: int | None
    lead_department_name: str | None
    description: str
    fields: list[FieldOut]
    built_at: dt.datetime | None
    built_by: str | None
    built_by_name: str | None = None
    built_rows: int | None
    conflicts_unsettled: int


class BuildOut(BaseModel):
    library_id: int
    rows: int
    built_at: dt.datetime
    fields: list[dict[str, Any]]
    compared_resources: list[str]
    skipped: list[str]
    conflicts_detected: int
    conflicts_new: int
    conflicts_still_open: int
    conflicts_closed: int
    truncated: bool


class ConflictValue(BaseModel):
    resource_id: int
    resource_code: str
    resource_name: str
    department_id: int
    department_name: str
    value: str
    batch_id: int | None
    authoritative: bool


class CommentOut(BaseModel):
    id: int
    author: str
    author_name: str | None
    department_id: int | None
    department_name: str | None
    comment: str
    proposed_value: str | None
    created_at: dt.datetime


class ConflictParty(BaseModel):
    department_id: int
    department_name: str | None
    agreed_value: str | None = Field(description="该部门确认同意采用的值")
    agreed_by: str | None
    agreed_by_name: str | None
    agreed_at: dt.datetime | None


class ConflictOut(BaseModel):
    id: int
    library_id: int
    library_name: str
    key: str
    element: str
    values: list[ConflictValue]
    department_ids: list[int]
    parties: list[ConflictParty]
    awaiting_department_ids: list[int] = Field(description="尚待确认协商结果的部门")
    status: str
    status_label: str
    detected_at: dt.datetime
    last_seen_at: dt.datetime
    deadline: dt.date | None
    deadline_provisional: bool
    overdue: bool
    escalated_by: str | None
    escalated_by_name: str | None = None
    escalated_at: dt.datetime | None
    escalation_reason: str | None
    resolution: str | None
    decided_value: str | None
    decided_by: str | None
    decided_by_name: str | None = None
    decided_at: dt.datetime | None
    comments: list[CommentOut]


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=4000, description="协商意见")
    proposed_value: str | None = Field(default=None, max_length=1000, description="建议采用的值")

    @field_validator("comment", "proposed_value", mode="before")
    @classmethod
    def _strip_text(cls, value: Any) -> Any:
        return _strip(value)


class ResolveIn(BaseModel):
    """A department's confirmation of the value it agrees to; the conflict is resolved when every
    department involved has confirmed the same value."""

    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=1000, description="本部门确认同意采用的值")
    note: str = Field(default="", max_length=4000, description="说明")

    @field_validator("value", "note", mode="before")
    @classmethod
    def _strip_text(cls, value: Any) -> Any:
        return _strip(value)


class EscalateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=4000, description="提请裁决的理由")

    @field_validator("reason", mode="before")
    @classmethod
    def _strip_text(cls, value: Any) -> Any:
        return _strip(value)


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=1000, description="裁决采用的值")
    reason: str = Field(min_length=1, max_length=4000, description="裁决理由")

    @field_validator("value", "reason", mode="before")
    @classmethod
    def _strip_text(cls, value: Any) -> Any:
        return _strip(value)


class FieldValueOut(BaseModel):
    element: str
    column: str
    value: Any
    source: SourceOut | None
    batch_id: int | None


class LibraryRecordOut(BaseModel):
    key: str
    fields: list[FieldValueOut]
    conflicts: list[dict[str, Any]]


class LibraryRecordsOut(BaseModel):
    items: list[LibraryRecordOut]
    total: int
    built_at: dt.datetime | None


class PoolBatch(BaseModel):
    id: int
    status: str
    mode: str
    rows_applied: int
    created_at: dt.datetime
    finished_at: dt.datetime | None


class PoolResource(BaseModel):
    code: str
    name: str
    provider_id: int
    provider_name: str
    subordinate: bool = Field(description="由所属单位提供")
    update_cycle: str
    format: str
    rows: int | None
    last_batch: PoolBatch | None
    last_batch_at: dt.datetime | None
    next_due: dt.datetime | None
    overdue: bool
    authoritative_for: list[str]


class PoolUnit(BaseModel):
    department_id: int
    department_name: str
    resources: int
    rows: int


class PoolOut(BaseModel):
    department_id: int
    department_name: str
    units: list[PoolUnit] = Field(description="本部门及所属单位（按上级部门关系）")
    resources: list[PoolResource]
    total_rows: int


# --- one number, one source (CAT-9) -----------------------------------------------------------------


class DesignationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource_code: str | None = Field(max_length=64, description="权威来源资源代码；为 null 时取消指定")
    note: str | None = Field(default=None, max_length=2000, description="说明")

    @field_validator("resource_code", "note", mode="before")
    @classmethod
    def _strip_text(cls, value: Any) -> Any:
        return _strip(value) or None


class DesignationOut(BaseModel):
    element: str
    subject: str
    subject_label: str
    source: SourceOut | None
    library_id: int | None = None
    library_name: str | None = Field(default=None, description="为基础库字段时，所属基础库")
    designated_by: str | None = None
    designated_by_name: str | None = None
    designated_at: dt.datetime | None = None
    note: str | None = None


class StopRequest(BaseModel):
    violation_id: int
    status: str
    status_label: str
    detected_at: dt.datetime


class DuplicateHolder(SourceOut):
    item_name: str
    authoritative: bool = Field(description="该资源是权威来源")
    duplicate: bool = Field(description="重复采集（权威来源以外其他部门的资源）")
    stop_request: StopRequest | None = Field(default=None, description="已要求停止重复采集（违规记录）")


class DuplicateOut(BaseModel):
    element: str
    subject: str
    subject_label: str
    source: SourceOut | None = Field(description="权威来源；未指定时为 null")
    library_name: str | None
    departments: int
    holders: list[DuplicateHolder]


class StopRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource_code: str = Field(min_length=1, max_length=64, description="重复采集的资源代码")


class StopRequestOut(BaseModel):
    resource_code: str
    violation_id: int
    duplicated: list[dict[str, Any]]


register_field_labels(
    {
        "proposed_value": "建议采用的值",
        "source_resource_code": "权威来源资源代码",
        "key_element": "关键标识数据元",
        "elements": "基础信息项",
        "lead_department_id": "牵头部门",
        "classification": "资源分类",
    }
)
# generic names: keep a label another capability already gave them
register_field_labels(
    {
        name: label
        for name, label in {
            "comment": "意见",
            "value": "值",
            "reason": "理由",
            "note": "说明",
            "resource_code": "资源代码",
            "subject": "主体",
        }.items()
        if name not in FIELD_LABELS
    }
)
