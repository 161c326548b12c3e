"""Input and output of database pulls (the API's payloads; field names labelled in Chinese for 422s)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from govdata.core.errors import register_field_labels
from govdata.core.schemas import OrmModel

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class PullIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, description="部门数据库的 SQLAlchemy 连接地址")
    table: str | None = Field(default=None, max_length=300, description="表名（与 query 二选一）")
    query: str | None = Field(
        default=None, max_length=20000, description="一条 SELECT 查询（与 table 二选一）"
    )
    mode: Literal["full", "incremental"] = Field(default="full", description="全量或按水位列增量")
    watermark_column: str | None = Field(default=None, max_length=128, description="增量拉取的水位列")
    schedule: str = Field(max_length=100, description="cron 表达式（分 时 日 月 周），如 0 2 * * *")
    window_start: str | None = Field(default=None, pattern=HHMM, description="允许拉取的开始时间 HH:MM")
    window_end: str | None = Field(default=None, pattern=HHMM, description="允许拉取的结束时间 HH:MM")
    max_rows_per_second: int | None = Field(default=None, ge=1, le=1_000_000, description="每秒最多读取行数")
    timeout_seconds: int = Field(default=600, ge=1, le=86_400, description="一次拉取占用源库的最长秒数")
    batch_mode: Literal["replace", "upsert"] | None = Field(
        default=None, description="入库方式；默认全量为 replace、增量为 upsert"
    )
    policy: Literal["strict", "accept_valid"] = Field(default="strict", description="校验策略")


class PullPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=8, max_length=2000)
    table: str | None = Field(default=None, max_length=300)
    query: str | None = Field(default=None, max_length=20000)
    mode: Literal["full", "incremental"] | None = None
    watermark_column: str | None = Field(default=None, max_length=128)
    schedule: str | None = Field(default=None, max_length=100)
    window_start: str | None = Field(default=None, pattern=HHMM)
    window_end: str | None = Field(default=None, pattern=HHMM)
    max_rows_per_second: int | None = Field(default=None, ge=1, le=1_000_000)
    timeout_seconds: int | None = Field(default=None, ge=1, le=86_400)
    batch_mode: Literal["replace", "upsert"] | None = None
    policy: Literal["strict", "accept_valid"] | None = None
    enabled: bool | None = None


class PullRunOut(OrmModel):
    id: int
    pull_id: int
    trigger: str
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    rows: int
    batch_id: int | None
    batch_status: str | None = None
    watermark_from: str | None
    watermark_to: str | None
    message: str | None


class PullOut(BaseModel):
    id: int
    resource_code: str
    url: str = Field(description="连接地址（口令已隐去）")
    dialect: str
    table: str | None
    query: str | None
    mode: str
    watermark_column: str | None
    watermark: str | None = Field(description="已入库的最高水位")
    schedule: str
    window_start: str | None
    window_end: str | None
    max_rows_per_second: int | None
    timeout_seconds: int
    batch_mode: str
    policy: str
    enabled: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    last_run: PullRunOut | None = None


register_field_labels(
    {
        "url": "连接地址",
        "table": "表名",
        "query": "查询语句",
        "mode": "方式",
        "policy": "校验策略",
        "watermark_column": "水位列",
        "schedule": "执行计划",
        "window_start": "时间窗口开始",
        "window_end": "时间窗口结束",
        "max_rows_per_second": "每秒最多行数",
        "timeout_seconds": "超时秒数",
        "batch_mode": "入库方式",
        "enabled": "是否启用",
    }
)
