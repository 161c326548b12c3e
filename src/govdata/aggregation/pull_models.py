"""Scheduled pulls from a department's own database (AGG-2): the definitions and the record of each run.

The connection URL is a secret (it usually carries a password): it is stored encrypted
(``url_encrypted``, Fernet) and shown only masked (``url_masked``). The pull's schedule, its
watermark and its lease live here, in the metadata database, so the scheduler's job store can be
rebuilt from this table at any start (see ``aggregation/scheduler.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govdata.core.db import Base, UTCDateTime, utcnow
from govdata.core.labels import LabelledEnum


class PullMode(LabelledEnum):
    full = "full", "全量"
    incremental = "incremental", "增量"


class RunOutcome(LabelledEnum):
    running = "running", "运行中"  # reading the source, or its batch is still being processed
    applied = "applied", "已入库"
    rejected = "rejected", "已拒绝"
    failed = "failed", "失败"
    empty = "empty", "无新数据"  # nothing (new) to load: no batch
    skipped = "skipped", "已跳过"  # outside the window, or a previous run still active


class Pull(Base):
    __tablename__ = "agg_pulls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    url_encrypted: Mapped[str] = mapped_column(Text)
    url_masked: Mapped[str] = mapped_column(String(1000))
    dialect: Mapped[str] = mapped_column(String(32))
    table_name: Mapped[str | None] = mapped_column(String(300))
    query: Mapped[str | None] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(16))
    watermark_column: Mapped[str | None] = mapped_column(String(128))
    schedule: Mapped[str] = mapped_column(String(100))
    window_start: Mapped[str | None] = mapped_column(String(5))
    window_end: Mapped[str | None] = mapped_column(String(5))
    max_rows_per_second: Mapped[int | None] = mapped_column(Integer)
    timeout_seconds: Mapped[int] = mapped_column(Integer)
    batch_mode: Mapped[str] = mapped_column(String(16))
    policy: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    # the highest watermark of an APPLIED batch, as JSON {"type", "value"}; moves only then
    watermark: Mapped[str | None] = mapped_column(Text)
    # a run holds the pull until lease_until: a second run (another thread or process) skips
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PullRun(Base):
    __tablename__ = "agg_pull_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pull_id: Mapped[int] = mapped_column(ForeignKey("agg_pulls.id"), index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("agg_batches.id"))
    watermark_from: Mapped[str | None] = mapped_column(Text)
    watermark_to: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
