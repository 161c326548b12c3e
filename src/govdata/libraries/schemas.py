"""Input and output of base libraries, conflicts and resource pools."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from govdata.core.errors import FIELD_LABELS, register_field_labels


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class LibraryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$", description="库代码，如 population")
    name: str = Field(min_length=1, max_length=100, description="库名称")
    key_element: str = Field(min_length=1, max_length=100, description="关键标识数据元，如 公民身份号码")
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
    chosen_at: dt.datetime | None
    candidates: list[SourceOut]


class LibraryOut(BaseModel):
    id: int
    code: str
    name: str
    key_element: str
    lead_department_id: int | None
    lead_department_name: str | None
    description: str
    fields: list[FieldOut]
    built_at: dt.datetime | None
    built_by: str | None
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


class ConflictOut(BaseModel):
    id: int
    library_id: int
    library_name: str
    key: str
    element: str
    values: list[ConflictValue]
    department_ids: list[int]
    status: str
    status_label: str
    detected_at: dt.datetime
    last_seen_at: dt.datetime
    deadline: dt.date | None
    deadline_provisional: bool
    overdue: bool
    escalated_by: str | None
    escalated_at: dt.datetime | None
    escalation_reason: str | None
    resolution: str | None
    decided_value: str | None
    decided_by: str | None
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
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=1000, description="协商一致的值")
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
    update_cycle: str
    format: str
    rows: int | None
    last_batch: PoolBatch | None
    last_batch_at: dt.datetime | None
    next_due: dt.datetime | None
    overdue: bool
    authoritative_for: list[str]


class PoolOut(BaseModel):
    department_id: int
    department_name: str
    resources: list[PoolResource]
    total_rows: int


register_field_labels(
    {
        "proposed_value": "建议采用的值",
        "source_resource_code": "权威来源资源代码",
        "key_element": "关键标识数据元",
        "elements": "基础信息项",
        "lead_department_id": "牵头部门",
    }
)
# generic names: keep a label another capability already gave them
register_field_labels(
    {
        name: label
        for name, label in {"comment": "意见", "value": "值", "reason": "理由", "note": "说明"}.items()
        if name not in FIELD_LABELS
    }
)
