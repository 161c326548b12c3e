"""Batches of aggregated data (AGG-2…7). The rows themselves live in the data store (``store/``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from govdata.core.db import Base, UTCDateTime, utcnow
from govdata.core.labels import LabelledEnum, labels


class BatchStatus(LabelledEnum):
    queued = "queued", "排队中"
    running = "running", "处理中"
    applied = "applied", "已入库"
    rejected = "rejected", "已拒绝"
    failed = "failed", "失败"
    rolled_back = "rolled_back", "已回滚"


class BatchMode(LabelledEnum):
    replace = "replace", "全量替换"
    upsert = "upsert", "增量更新"
    delete = "delete", "按关键标识删除"


MIGRATION = "migrate"  # the mode of the batch that migrated stored data to a new catalog version
MODE_LABELS = {**labels(BatchMode), MIGRATION: "目录修订迁移"}


class BatchPolicy(LabelledEnum):
    strict = "strict", "严格"
    accept_valid = "accept_valid", "接受有效行"


class Batch(Base):
    __tablename__ = "agg_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    catalog_version: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))
    policy: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # upload | records | pull
    filename: Mapped[str | None] = mapped_column(String(255))
    file_format: Mapped[str | None] = mapped_column(String(16))
    encoding: Mapped[str | None] = mapped_column(String(32))
    upload_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), index=True, default=BatchStatus.queued)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str | None] = mapped_column(String(100))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_applied: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    rows_inserted: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_deleted: Mapped[int] = mapped_column(Integer, default=0)
    errors_count: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[str | None] = mapped_column(Text)
    absent_items: Mapped[list[str] | None] = mapped_column(JSON)  # item columns the source lacked
    message: Mapped[str | None] = mapped_column(Text)
    source_rows: Mapped[int | None] = mapped_column(Integer)
    source_checksum: Mapped[str | None] = mapped_column(String(128))
    file_checksum: Mapped[str | None] = mapped_column(String(128))
    reconciliation: Mapped[str | None] = mapped_column(String(16))  # ok | mismatch
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rolled_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rolled_back_by: Mapped[str | None] = mapped_column(String(64))


# the scorecards count each resource's applied batches from this index alone (SUP-1)
Index("ix_agg_batches_applied", Batch.resource_id, Batch.status, Batch.mode, Batch.finished_at)
