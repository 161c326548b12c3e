"""Input and output of the platform API (audit, calendar, policy)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from govdata.core.errors import register_field_labels
from govdata.core.schemas import OrmModel


class AuditEventOut(OrmModel):
    seq: int
    occurred_at: datetime
    actor_kind: str
    actor: str
    roles: str
    department_id: int | None
    system_id: int | None
    end_user: str | None
    action: str
    object_type: str
    object_id: str | None
    purpose: str | None
    source: str | None
    details: str
    hash: str


class BrokenLink(BaseModel):
    id: int
    at: str | None
    reason: str


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int
    first_broken: BrokenLink | None


class DeadlineOut(BaseModel):
    start: date
    working_days: int
    deadline: date
    provisional: bool = Field(description="该期限跨越尚未公布放假安排的年份，按周一至周五计算，公布后重算")
    unpublished_years: list[int] = Field(
        default_factory=list, description="期限所跨越的、尚未公布放假安排的年份"
    )
    note: str | None = Field(default=None, description="暂定期限的中文说明")


class CalendarYearIn(BaseModel):
    year: int = Field(ge=1900, le=2200)
    holidays: list[date] = Field(default_factory=list, description="法定节假日（含调休形成的休息日）")
    workdays: list[date] = Field(default_factory=list, description="调休上班的周末")
    note: str | None = Field(default=None, max_length=500, description="来源，如国务院办公厅通知文号")


class CalendarYearOut(BaseModel):
    year: int
    holidays: int = Field(description="导入的节假日天数（去重后）")
    workdays: int = Field(description="导入的调休上班日天数（去重后）")
    created: bool = Field(description="是否为首次导入该年度（否则替换了已有安排）")
    recomputed: int = Field(description="因本次导入改变了日期或暂定标记的期限数")


class CalendarYearInfo(OrmModel):
    year: int
    holidays: list[date]
    workdays: list[date]
    note: str | None
    imported_at: datetime
    imported_by: str


class PolicyProfileInfo(BaseModel):
    name: str
    label: str
    active: bool
    body: dict[str, Any]


register_field_labels(
    {
        "start": "起算日期",
        "working_days": "工作日数",
        "year": "年份",
        "holidays": "节假日",
        "workdays": "调休上班日",
        "note": "来源说明",
        "file": "文件",
        "activate": "是否启用",
    }
)
