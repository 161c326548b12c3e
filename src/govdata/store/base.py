"""Shapes shared by the store backends: the typed table of a resource and how it is named."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# 1: the history kept every write (``_op`` U/D); 2: the history keeps superseded versions only
STORE_SCHEMA_VERSION = 2
META_TABLE = "govdata_store_meta"
KEY = "_key"
BATCH = "_batch_id"
WRITTEN = "_written_at"
ENDED_BY = "_ended_by"  # the batch that superseded or deleted a history version
ENDED_AT = "_ended_at"


@dataclass(frozen=True)
class Column:
    code: str  # the item code, lower case: a safe SQL identifier (catalog pattern)
    data_type: str  # the catalog letter
    length: int | None = None
    precision: int | None = None

    def duckdb_type(self) -> str:
        return _type(self, "duckdb")

    def postgres_type(self) -> str:
        return _type(self, "postgresql")


def _type(column: Column, dialect: str) -> str:
    letter = column.data_type
    text = "VARCHAR" if dialect == "duckdb" else "TEXT"
    if letter in ("C", "M", "G"):
        return text
    if letter == "N":
        if column.length and column.length <= 38:
            return f"DECIMAL({column.length}, {min(column.precision or 0, column.length)})"
        return "DOUBLE" if dialect == "duckdb" else "DOUBLE PRECISION"
    if letter == "Y":
        return "DECIMAL(18, 2)"
    if letter in ("B", "F"):
        return "DOUBLE" if dialect == "duckdb" else "DOUBLE PRECISION"
    if letter == "I":
        return "BIGINT"
    if letter == "D":
        return "DATE"
    if letter == "T":
        return "TIMESTAMP"
    if letter == "L":
        return "BOOLEAN"
    return text


@dataclass(frozen=True)
class TableSpec:
    """A resource's typed tables: ``r_<resource id>`` (the current version of each key) and
    ``r_<id>_h`` (the versions later batches superseded or deleted)."""

    resource_id: int
    columns: tuple[Column, ...]
    key_columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"r_{self.resource_id}"

    @property
    def history(self) -> str:
        return f"r_{self.resource_id}_h"

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.columns]


@dataclass
class ApplyResult:
    inserted: int
    updated: int
    deleted: int


@dataclass(frozen=True)
class Migrated:
    """What a migration changed: the values per item column, and the rows whose old versions went
    to the history."""

    values: dict[str, int]
    rows: int


class MigrationNeeded(ValueError):
    """Bringing the table to the catalog would change stored values: only a migration may."""

    def __init__(self, values: dict[str, int]) -> None:
        self.values = values
        items = "、".join(f"{code}（{n} 个值）" for code, n in values.items())
        super().__init__(
            f"数据表中信息项 {items} 的已存数据不符合目录的新定义，改写须经目录修订声明的数据迁移；数据未改变。"
        )


@dataclass
class QueryResult:
    rows: list[dict]
    total: int


@dataclass(frozen=True)
class Change:
    """One change of a resource's rows since a batch (``SqlStore.changes_since``): ``op`` is
    ``upsert`` (``row`` holds the current values) or ``delete``; ``batch`` the batch that made it."""

    op: str
    batch: int
    key: str
    row: dict[str, Any] | None


@dataclass(frozen=True)
class Staged:
    """Validated rows to apply, as a query on a DuckDB connection (the store's ``workspace``):
    ``_key`` and the item columns. ``work`` is a directory the store may use for spill files;
    ``table`` the store's own staging table the rows were validated into, if any (``first_load``),
    and ``rejected`` a query of the row ids in it that are not to be applied."""

    connection: Any
    sql: str
    work: Path
    table: str | None = None
    rejected: str | None = None


def default_memory_limit() -> str:
    """DuckDB's memory limit unless the store URL names one: an eighth of the machine's memory,
    between 1 and 4 GiB. Beyond it DuckDB spills to disk, so a batch of any size streams through
    in bounded memory (DuckDB's own default, 80% of the machine, would let one batch take it all)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 2**30
    return f"{max(1, min(4, total // 8 // 2**30))}GiB"
