"""Input and output of data quality (QUA-1, QUA-2)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from govdata.core.errors import register_field_labels


class DimensionOut(BaseModel):
    score: float | None = Field(description="0–100；未能测量时为 null")
    label: str = Field(description="维度名称（GB/T 36344）")
    criteria: str = Field(description="评分规则")
    measured: bool
    weight: float = Field(description="计入综合得分的权重（未测量的维度不计入）")
    note: str | None = Field(default=None, description="未测量的原因或需要注意的情况")
    details: dict[str, Any] | None = Field(default=None, description="公式的输入：计数、逐项比率、探测结果")


class HistoryPoint(BaseModel):
    computed_at: datetime
    overall: float | None
    dimensions: dict[str, float | None]
    trigger: str | None = None
    batch_id: int | None = None


class ProblemCounts(BaseModel):
    open: int = Field(description="未解决（待答复或整改中）")
    total: int
    overdue: int = Field(default=0, description="超过答复期限仍未答复")


class QualityOut(BaseModel):
    resource_code: str
    resource_name: str
    provider: str
    provider_id: int
    computed_at: datetime | None
    overall: float | None = Field(description="已测量维度得分的加权平均")
    no_data: bool = Field(
        default=False, description="已发布但数据存储中暂无数据：不评分（逾期未归集时只计时效性）"
    )
    last_check: datetime | None = Field(default=None, description="最近一次定期检查（每周）的时间")
    dimensions: dict[str, DimensionOut]
    history: list[HistoryPoint]
    problems: ProblemCounts


class DepartmentResourceScore(BaseModel):
    resource_code: str
    resource_name: str
    overall: float | None
    computed_at: datetime | None


class DepartmentQualityOut(BaseModel):
    department_id: int
    department_name: str
    overall: float | None = Field(description="本部门有数据的资源综合得分的平均")
    dimensions: dict[str, float | None] = Field(description="各维度在已测量资源上的平均")
    resources: list[DepartmentResourceScore]
    history: list[HistoryPoint]
    problems: ProblemCounts


class ProblemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # checked in the service, so that a missing description gets a message of its own in Chinese
    description: str = Field(default="", max_length=4000, description="问题描述（必填）")
    record_key: str | None = Field(default=None, max_length=200, description="所涉记录的关键标识（可选）")
    item: str | None = Field(default=None, max_length=64, description="所涉信息项代码（可选）")


class AnswerAction(StrEnum):
    confirm = "confirm"
    fix = "fix"
    reject = "reject"


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: AnswerAction = Field(description="confirm 确认 | fix 已整改 | reject 驳回（须说明理由）")
    reason: str | None = Field(default=None, max_length=4000, description="理由或整改说明；驳回时必填")


class ProblemOut(BaseModel):
    id: int
    resource_code: str
    resource_name: str | None = None
    provider_id: int
    provider: str | None = None
    reporter: str
    reporter_name: str | None
    reporter_department_id: int | None
    reporter_department: str | None = None
    description: str
    record_key: str | None
    item: str | None
    status: str
    status_label: str
    deadline: date | None
    deadline_provisional: bool
    overdue: bool = Field(description="超过答复期限仍未答复")
    answered_late: bool = Field(description="答复晚于期限")
    answer_reason: str | None
    answered_by: str | None
    answered_at: datetime | None
    fixed_note: str | None
    fixed_by: str | None
    fixed_at: datetime | None
    created_at: datetime


register_field_labels({"record_key": "记录关键标识", "action": "处理方式"})
