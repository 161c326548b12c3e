"""What the DuckDB and PostgreSQL stores share: typed tables, atomic batch application, history,
rollback and as-of queries, written once in SQL both dialects understand.

Per resource there are two tables. ``r_<id>_h`` keeps every write: one row per key and batch, with
``_op`` ``U`` (the row as written) or ``D`` (the key deleted). ``r_<id>`` holds the current row per
key. Applying a batch appends to the history and updates the current table in one transaction, so a
batch is applied wholly or not at all, also when the process dies (the database's own recovery rolls
the open transaction back). Rolling back batch N removes its history rows and rebuilds the current
rows of the keys it touched from what remains; "as of batch N / time T" reads the newest history row
per key up to N or T.

A batch arrives as ``Staged`` rows: a query on the DuckDB connection of the store's ``workspace``,
where the batch was read and validated. The DuckDB store validates inside its own database, so
applying is SQL from its temp tables into the resource tables with no copy in between; PostgreSQL
takes the rows through ``COPY``. Applying reads the incoming rows once (into the history); what
follows works from the history rows of the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from govdata.store.base import (
    BATCH,
    KEY,
    OP,
    WRITTEN,
    ApplyResult,
    Column,
    QueryResult,
    TableSpec,
    default_memory_limit,
)


def q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class SqlStore:
    """Subclasses provide: ``execute``, ``fetchall``, ``transaction``, ``load_incoming``,
    ``column_type``, ``existing_columns`` and ``upsert_current``."""

    dialect: str
    # how the current table keeps one row per key (DuckDB: by construction, see store/duckdb.py)
    key_constraint = "PRIMARY KEY"

    # --- hooks -------------------------------------------------------------------------------------
    def execute(self, sql: str, params: list | None = None) -> None:
        raise NotImplementedError

    def fetchall(self, sql: str, params: list | None = None) -> list[tuple]:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager:
        raise NotImplementedError

    def load_incoming(self, data: Any, spec: TableSpec, columns: list[str]) -> str:
        """Make ``data`` (``Staged`` rows, or an Arrow table or reader; columns ``_key`` + ``columns``)
        readable inside the apply transaction; returns the SQL relation to read it from (read once)."""
        raise NotImplementedError

    def drop_incoming(self) -> None:
        raise NotImplementedError

    def column_type(self, column: Column) -> str:
        raise NotImplementedError

    def existing_columns(self, table: str) -> dict[str, str]:
        raise NotImplementedError

    def upsert_current(self, spec: TableSpec, source: str) -> None:
        raise NotImplementedError

    def table_name(self, table: str) -> str:
        return q(table)

    @contextmanager
    def workspace(self, work: Path) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB connection to read and validate a batch on (temp tables and views only), whose
        ``Staged`` rows ``apply`` takes. Here: an in-memory DuckDB of the batch's own, spilling to
        ``work`` beyond its memory limit, so a batch of any size streams through."""
        spill = work / "spill"
        spill.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(
            ":memory:", config={"memory_limit": default_memory_limit(), "temp_directory": str(spill)}
        )
        try:
            yield con
        finally:
            con.close()

    # --- schema (AGG-1) ----------------------------------------------------------------------------
    def ensure_table(self, spec: TableSpec) -> list[str]:
        """Create the tables or migrate them to the spec: add columns, widen types. Never drops a
        column (an item removed from the catalog keeps its data). Returns what changed."""
        changes: list[str] = []
        existing = self.existing_columns(spec.name)
        if not existing:
            columns = ", ".join(f"{q(c.code)} {self.column_type(c)}" for c in spec.columns)
            columns = (columns + ", ") if columns else ""
            with self.transaction():
                self.execute(
                    f"CREATE TABLE {self.table_name(spec.name)} ({KEY} VARCHAR {self.key_constraint}, {columns}"
                    f"{BATCH} BIGINT NOT NULL, {WRITTEN} TIMESTAMP NOT NULL)"
                )
                self.execute(
                    f"CREATE TABLE {self.table_name(spec.history)} ({KEY} VARCHAR NOT NULL, {columns}"
                    f"{BATCH} BIGINT NOT NULL, {OP} VARCHAR(1) NOT NULL, {WRITTEN} TIMESTAMP NOT NULL)"
                )
                self._create_history_indexes(spec)
            return ["created"]
        for column in spec.columns:
            wanted = self.column_type(column)
            have = existing.get(column.code)
            if have is None:
                with self.transaction():
                    for table in (spec.name, spec.history):
                        self.execute(
                            f"ALTER TABLE {self.table_name(table)} ADD COLUMN {q(column.code)} {wanted}"
                        )
                changes.append(f"added {column.code}")
            elif not _same_type(have, wanted):
                if not _widens(have, wanted):
                    raise ValueError(
                        f"信息项 {column.code} 的类型由 {have} 改为 {wanted} 会丢失数据，需要显式的迁移步骤"
                    )
                with self.transaction():
                    # DuckDB cannot alter a column of a table that has secondary indexes
                    for index in self._history_index_names(spec):
                        self.execute(f"DROP INDEX IF EXISTS {self.index_name(index)}")
                    for table in (spec.name, spec.history):
                        self.execute(
                            f"ALTER TABLE {self.table_name(table)} ALTER COLUMN {q(column.code)} TYPE {wanted}"
                        )
                    self._create_history_indexes(spec)
                changes.append(f"widened {column.code} {have}→{wanted}")
        return changes

    def _history_index_names(self, spec: TableSpec) -> list[str]:
        return [f"ix_{spec.history}_batch", f"ix_{spec.history}_key"]

    def _create_history_indexes(self, spec: TableSpec) -> None:
        batch_index, key_index = self._history_index_names(spec)
        self.execute(f"CREATE INDEX {q(batch_index)} ON {self.table_name(spec.history)} ({BATCH})")
        self.execute(f"CREATE INDEX {q(key_index)} ON {self.table_name(spec.history)} ({KEY})")

    def index_name(self, index: str) -> str:
        return q(index)

    # --- batches (AGG-3, AGG-5, AGG-6) --------------------------------------------------------------------
    def apply(
        self, spec: TableSpec, batch_id: int, mode: str, data: Any, written_at: datetime
    ) -> ApplyResult:
        """Apply one validated batch atomically. ``data`` holds ``_key`` and the item columns (for
        ``delete`` only ``_key`` and the key columns are read)."""
        codes = spec.codes
        try:
            with self.transaction():
                source = self.load_incoming(data, spec, codes if mode != "delete" else list(spec.key_columns))
                return self._apply_loaded(spec, batch_id, mode, written_at, source)
        finally:
            self.drop_incoming()

    def _count(self, table: str) -> int:
        return self.fetchall(f"SELECT count(*) FROM {table}")[0][0]

    def _apply_loaded(
        self, spec: TableSpec, batch_id: int, mode: str, written_at: datetime, source: str
    ) -> ApplyResult:
        cur, hist = self.table_name(spec.name), self.table_name(spec.history)
        codes = spec.codes
        cols = ", ".join(q(c) for c in codes)
        sel = ", ".join(f"i.{q(c)}" for c in codes)
        comma = ", " if codes else ""
        before = self._count(cur)
        if mode == "delete":
            keys = ", ".join(q(c) for c in spec.key_columns)
            key_sel = ", ".join(f"c.{q(c)}" for c in spec.key_columns)
            self.execute(
                f"INSERT INTO {hist} ({KEY}{', ' if keys else ''}{keys}, {BATCH}, {OP}, {WRITTEN}) "
                f"SELECT c.{KEY}{', ' if keys else ''}{key_sel}, ?, 'D', ? FROM {cur} c "
                f"WHERE c.{KEY} IN (SELECT {KEY} FROM {source} i)",
                [batch_id, written_at],
            )
            self.execute(
                f"DELETE FROM {cur} WHERE {KEY} IN (SELECT {KEY} FROM {hist} WHERE {BATCH} = ?)", [batch_id]
            )
            return ApplyResult(inserted=0, updated=0, deleted=before - self._count(cur))
        # the only read of the incoming rows: everything below works from the batch's history rows
        self.execute(
            f"INSERT INTO {hist} ({KEY}{comma}{cols}, {BATCH}, {OP}, {WRITTEN}) "
            f"SELECT i.{KEY}{comma}{sel}, ?, 'U', ? FROM {source} i",
            [batch_id, written_at],
        )
        written = f"(SELECT * FROM {hist} WHERE {BATCH} = {int(batch_id)} AND {OP} = 'U')"
        total = self.fetchall(f"SELECT count(*) FROM {written} w")[0][0]
        remaining, deleted = before, 0
        if mode == "replace":
            self.execute(
                f"INSERT INTO {hist} ({KEY}{comma}{cols}, {BATCH}, {OP}, {WRITTEN}) "
                f"SELECT c.{KEY}{comma}{', '.join(f'c.{q(x)}' for x in codes)}, ?, 'D', ? FROM {cur} c "
                f"WHERE c.{KEY} NOT IN (SELECT {KEY} FROM {written} w)",
                [batch_id, written_at],
            )
            self.execute(f"DELETE FROM {cur} WHERE {KEY} NOT IN (SELECT {KEY} FROM {written} w)")
            remaining = self._count(cur)
            deleted = before - remaining
        # the current rows come from the incoming rows again (cheaper to read than the history rows just
        # compressed), with the very batch id and time the history has
        stamp = written_at.isoformat(sep=" ")
        self.upsert_current(
            spec,
            f"(SELECT i.*, {int(batch_id)} AS {BATCH}, TIMESTAMP '{stamp}' AS {WRITTEN} FROM {source} i)",
        )
        inserted = self._count(cur) - remaining  # the batch's keys are unique (duplicates are rejected)
        return ApplyResult(inserted=inserted, updated=total - inserted, deleted=deleted)

    def rollback(self, spec: TableSpec, batch_id: int) -> int:
        """Undo one batch; returns how many keys it had touched."""
        cur, hist = self.table_name(spec.name), self.table_name(spec.history)
        with self.transaction():
            touched = self.fetchall(
                f"SELECT count(DISTINCT {KEY}) FROM {hist} WHERE {BATCH} = ?", [batch_id]
            )[0][0]
            self.execute(
                f"CREATE TEMP TABLE rollback_keys AS SELECT DISTINCT {KEY} FROM {hist} WHERE {BATCH} = ?",
                [batch_id],
            )
            try:
                self.execute(f"DELETE FROM {hist} WHERE {BATCH} = ?", [batch_id])
                self.execute(f"DELETE FROM {cur} WHERE {KEY} IN (SELECT {KEY} FROM rollback_keys)")
                self.upsert_current(
                    spec,
                    f"(SELECT * FROM ({self._latest(spec, f'{KEY} IN (SELECT {KEY} FROM rollback_keys)')}) latest "
                    f"WHERE {OP} = 'U')",
                )
            finally:
                self.execute("DROP TABLE rollback_keys")
        return touched

    def _latest(self, spec: TableSpec, where: str) -> str:
        return (
            f"SELECT * FROM (SELECT h.*, row_number() OVER (PARTITION BY {KEY} ORDER BY {BATCH} DESC) AS rn "
            f"FROM {self.table_name(spec.history)} h WHERE {where}) ranked WHERE rn = 1"
        )

    # --- reading ---------------------------------------------------------------------------------------
    def query(
        self,
        spec: TableSpec,
        *,
        keys: list[str] | None = None,
        filters: dict[str, str] | None = None,
        as_of_batch: int | None = None,
        as_of_time: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> QueryResult:
        params: list[Any] = []
        if as_of_batch is not None or as_of_time is not None:
            bound = f"{BATCH} <= ?" if as_of_batch is not None else f"{WRITTEN} <= ?"
            params.append(as_of_batch if as_of_batch is not None else as_of_time)
            source = f"(SELECT * FROM ({self._latest(spec, bound)}) latest WHERE {OP} = 'U')"
        else:
            source = self.table_name(spec.name)
        where = ["1 = 1"]
        if keys:
            where.append(f"{KEY} IN ({', '.join('?' for _ in keys)})")
            params.extend(keys)
        for code, value in (filters or {}).items():
            where.append(f"CAST({q(code)} AS VARCHAR) = ?")
            params.append(value)
        clause = " AND ".join(where)
        total = self.fetchall(f"SELECT count(*) FROM {source} s WHERE {clause}", params)[0][0]
        select = ", ".join([KEY, *(q(c) for c in spec.codes), BATCH, WRITTEN])
        rows = self.fetchall(
            f"SELECT {select} FROM {source} s WHERE {clause} ORDER BY {KEY} LIMIT {int(limit)} OFFSET {int(offset)}",
            params,
        )
        names = [KEY, *spec.codes, BATCH, WRITTEN]
        return QueryResult([dict(zip(names, row, strict=True)) for row in rows], total)

    def row_count(self, spec: TableSpec) -> int:
        if not self.existing_columns(spec.name):
            return 0
        return self.fetchall(f"SELECT count(*) FROM {self.table_name(spec.name)}")[0][0]


_WIDENING = {
    "BIGINT": {"DOUBLE", "DOUBLE PRECISION", "VARCHAR", "TEXT"},
    "INTEGER": {"BIGINT", "DOUBLE", "DOUBLE PRECISION", "VARCHAR", "TEXT"},
    "DOUBLE": {"VARCHAR", "TEXT"},
    "DOUBLE PRECISION": {"VARCHAR", "TEXT"},
    "DATE": {"TIMESTAMP", "VARCHAR", "TEXT"},
    "TIMESTAMP": {"VARCHAR", "TEXT"},
    "BOOLEAN": {"VARCHAR", "TEXT"},
}


def _norm(type_name: str) -> str:
    name = (
        type_name.upper()
        .replace("CHARACTER VARYING", "VARCHAR")
        .replace("TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP")
    )
    return name.replace("NUMERIC", "DECIMAL").replace(" ", "")


def _same_type(have: str, wanted: str) -> bool:
    return _norm(have) == _norm(wanted) or {_norm(have), _norm(wanted)} <= {"VARCHAR", "TEXT"}


def _widens(have: str, wanted: str) -> bool:
    h, w = _norm(have), _norm(wanted)
    if h.startswith("DECIMAL") and (
        w in ("DOUBLE", "DOUBLEPRECISION", "VARCHAR", "TEXT") or w.startswith("DECIMAL")
    ):
        return True
    return any(_norm(t) == w for t in _WIDENING.get(h.replace("DOUBLEPRECISION", "DOUBLE PRECISION"), ()))
