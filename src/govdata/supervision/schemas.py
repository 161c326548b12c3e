"""Input and output of the violations register (SPEC §15 violation)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from govdata.supervision.enums import EscalationStep, NoticeStatus, ViolationKind, ViolationStatus


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class ReasonIn(BaseModel):
    """Withdrawing and contesting need a reason."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=4000, description="理由")

    _strip_reason = field_validator("reason", mode="before")(lambda cls, v: _strip(v))


class ConfirmIn(BaseModel):
    """Confirming may say why."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=4000, description="说明（可选）")

    _strip_reason = field_validator("reason", mode="before")(lambda cls, v: _strip(v) or None)


class ViolationOut(BaseModel):
    id: int
    kind: ViolationKind
    kind_label: str
    department_id: int
    department_name: str | None
    object_type: str
    object_id: str
    detected_at: dt.datetime
    evidence: dict[str, Any] = Field(description="证明违规的对象与日期")
    status: ViolationStatus
    status_label: str
    contest_reason: str | None
    contested_by: str | None
    contested_at: dt.datetime | None
    decided_by: str | None
    decided_at: dt.datetime | None
    reason: str | None = Field(description="确认或撤销的理由")


class AnswerIn(BaseModel):
    """The department says what it did to rectify."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=8000, description="整改情况")

    _strip_text = field_validator("text", mode="before")(lambda cls, v: _strip(v))


class NoticeEventOut(BaseModel):
    action: str
    action_label: str
    step: EscalationStep | None
    step_label: str | None
    actor: str
    at: dt.datetime
    text: str | None = Field(description="答复内容、验收意见、退回或升级的理由")
    deadline: dt.date | None = Field(description="这一步设定的整改期限")
    attachments: list[dict[str, Any]]


class NoticeOut(BaseModel):
    id: int
    violation_id: int
    violation_kind: ViolationKind
    violation_kind_label: str
    department_id: int
    department_name: str | None
    status: NoticeStatus
    status_label: str
    step: EscalationStep | None = Field(description="已升级到的督办步骤（未升级为空）")
    step_label: str | None
    deadline: dt.date
    deadline_provisional: bool = Field(description="期限跨越尚未公布节假日安排的年份，暂按周末推算")
    deadline_statutory: bool = Field(description="整改期限是否由法规规定（默认否：平台默认值）")
    deadline_source: str
    overdue: bool
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    timeline: list[NoticeEventOut] | None = None
