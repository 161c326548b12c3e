"""Input and output of the violations register (SPEC §15 violation)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from govdata.supervision.enums import ViolationKind, ViolationStatus


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
