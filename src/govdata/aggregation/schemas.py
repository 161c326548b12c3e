"""Output of the aggregation API (SPEC §15 batch and query answers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from govdata.core.schemas import OrmModel


class BatchOut(OrmModel):
    id: int
    resource_code: str
    status: str
    mode: str
    policy: str
    source: str
    filename: str | None
    file_format: str | None
    encoding: str | None
    rows_total: int
    rows_applied: int
    rows_rejected: int
    rows_inserted: int
    rows_updated: int
    rows_deleted: int
    errors_count: int
    progress: float
    stage: str | None
    message: str | None
    warnings: str | None
    absent_items: list[str] = Field(
        default_factory=list, description="来源中缺少列的信息项（代码）：增量更新保留其已存值，全量替换后为空"
    )
    source_rows: int | None
    reconciliation: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rolled_back_at: datetime | None

    @field_validator("absent_items", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class BatchError(BaseModel):
    row: int
    item: str
    value: str | None
    rule: str
    message: str
    line: dict[str, str | None] | None = Field(
        None, description="该行各信息项的值（信息项代码 → 文本），供核对源数据"
    )


class Freshness(BaseModel):
    last_batch_at: datetime | None
    next_due: datetime | None
    overdue: bool


class RecordsOut(BaseModel):
    items: list[dict[str, Any]]
    total: int
    under_review: list[str]
    freshness: Freshness
    receipt: Any = None


class RecordVersionOut(BaseModel):
    """One stored version of a record (AGG-6): its values, the batch that wrote it, how it ended."""

    values: dict[str, Any] = Field(description="各信息项的值（信息项代码 → 值）")
    batch_id: int = Field(description="写入该版本的批次")
    written_at: datetime
    ended_by: int | None = Field(description="结束该版本的批次（更新或删除）；当前版本为空")
    ended_at: datetime | None
    state: str = Field(description="current 当前版本 | superseded 已被更新 | deleted 已删除")


class RecordHistoryOut(BaseModel):
    key: str
    versions: list[RecordVersionOut] = Field(description="全部版本，新的在前")
