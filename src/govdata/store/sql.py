"""What the DuckDB and PostgreSQL stores share: typed tables, atomic batch application, history,
rollback and as-of queries, written once in SQL both dialects understand.

Per resource there are two tables, as in SQL:2011 system-versioned tables. ``r_<id>`` holds the
current version of each key; ``r_<id>_h`` holds the versions that later batches superseded or
deleted, each with the batch that wrote it (``_batch_id``, ``_written_at``) and the batch that ended
it (``_ended_by``, ``_ended_at``). A row is therefore stored once: a first load writes only the
current table, and an update moves the old version to the history as it writes the new one.
Applying a batch is one transaction, so it is applied wholly or not at all, also when the process
dies (the database's own recovery rolls the open transaction back).

"As of batch N / time T" is the current rows written up to N (or T) and the history versions alive
then (written up to N, ended after N): at most one version per key, with no window function.
Rolling back batch N removes the versions it wrote and gives the versions it ended the end of what
came after them (or makes them current again).

A batch arrives as ``Staged`` rows: a query on the DuckDB connection of the store's ``workspace``,
where the batch was read and validated. The DuckDB store validates inside its own database, so
applying is SQL from its temp tables into the resource tables with no copy in between; PostgreSQL
takes the rows through ``COPY``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from govdata.core.values import comparable_sql
from govdata.store.base import (
    BATCH,
    ENDED_AT,
    ENDED_BY,
    KEY,
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
    """Subclasses provide: ``execute``, ``write``, ``fetchall``, ``transaction``, ``load_incoming``,
    ``drop_incoming`` and ``column_type``."""

    dialect: str
    data_schema: str  # where the resource tables live
    # how the current table keeps one row per key (DuckDB: by construction, see store/duckdb.py)
    key_constraint = "PRIMARY KEY"

    # --- hooks -------------------------------------------------------------------------------------
    def execute(self, sql: str, params: list | None = None) -> None:
        raise NotImplementedError

    def write(self, sql: str, params: list | None = None) -> int:
        """Run an INSERT, UPDATE or DELETE; returns how many rows it changed."""
        raise NotImplementedError

    def fetchall(self, sql: str, params: list | None = None) -> list[tuple]:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager:
        raise NotImplementedError

    def load_incoming(self, data: Any, spec: TableSpec, columns: list[str]) -> str:
        """Make ``data`` (``Staged`` rows, or an Arrow table or reader; columns ``_key`` + ``columns``)
        readable inside the apply transaction; returns the SQL relation to read it from."""
        raise NotImplementedError

    def drop_incoming(self) -> None:
        raise NotImplementedError

    def column_type(self, column: Column) -> str:
        raise NotImplementedError

    def existing_columns(self, table: str) -> dict[str, str]:
        rows = self.fetchall(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [self.data_schema, table],
        )
        return dict(rows)

    def column_definition(
        self, name: str, sql_type: str, *, current_key: bool = False, length: int | None = None
    ) -> str:
        """A column of a resource table in CREATE / ALTER TABLE (DuckDB adds its compression);
        ``length`` is the item's declared length, if any."""
        return f"{q(name)} {sql_type}"

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
            items = [
                self.column_definition(c.code, self.column_type(c), length=c.length) for c in spec.columns
            ]
            with self.transaction():
                current = [
                    self.column_definition(KEY, f"VARCHAR {self.key_constraint}", current_key=True),
                    *items,
                    f"{BATCH} BIGINT NOT NULL",
                    f"{WRITTEN} TIMESTAMP NOT NULL",
                ]
                self.execute(f"CREATE TABLE {self.table_name(spec.name)} ({', '.join(current)})")
                self._create_history(spec.history, items)
            return ["created"]
        for column in spec.columns:
            wanted = self.column_type(column)
            have = existing.get(column.code)
            if have is None:
                with self.transaction():
                    for table in (spec.name, spec.history):
                        self.execute(
                            f"ALTER TABLE {self.table_name(table)} ADD COLUMN "
                            + self.column_definition(column.code, wanted, length=column.length)
                        )
                changes.append(f"added {column.code}")
            elif not _same_type(have, wanted):
                if not _widens(have, wanted):
                    raise ValueError(
                        f"信息项 {column.code} 的类型由 {have} 改为 {wanted} 会丢失数据，需要显式的迁移步骤"
                    )
                with self.transaction():
                    # DuckDB cannot alter a column of a table that has secondary indexes
                    for index in self._history_index_names(spec.history):
                        self.execute(f"DROP INDEX IF EXISTS {self.index_name(index)}")
                    for table in (spec.name, spec.history):
                        self.execute(
                            f"ALTER TABLE {self.table_name(table)} ALTER COLUMN {q(column.code)} TYPE {wanted}"
                        )
                    self._create_history_indexes(spec.history)
                changes.append(f"widened {column.code} {have}→{wanted}")
        return changes

    def _create_history(self, history: str, items: list[str]) -> None:
        columns = [
            self.column_definition(KEY, "VARCHAR NOT NULL"),
            *items,
            f"{BATCH} BIGINT NOT NULL",
            f"{WRITTEN} TIMESTAMP NOT NULL",
            f"{ENDED_BY} BIGINT NOT NULL",
            f"{ENDED_AT} TIMESTAMP NOT NULL",
        ]
        self.execute(f"CREATE TABLE {self.table_name(history)} ({', '.join(columns)})")
        self._create_history_indexes(history)

    def _history_index_names(self, history: str) -> list[str]:
        return [f"ix_{history}_batch", f"ix_{history}_ended", f"ix_{history}_key"]

    def _create_history_indexes(self, history: str) -> None:
        for index, column in zip(self._history_index_names(history), (BATCH, ENDED_BY, KEY), strict=True):
            self.execute(f"CREATE INDEX {q(index)} ON {self.table_name(history)} ({column})")

    def index_name(self, index: str) -> str:
        return q(index)

    def upgrade(self, version: int | None) -> None:
        """Bring resource tables written by store schema ``version`` (None: a new store) to the
        current one.

        1 → 2: the history kept every write with ``_op`` U/D; now it keeps the superseded versions,
        each ended by the next write of its key (the current versions are already in ``r_<id>``)."""
        if version is None or version >= 2:
            return
        for history in self._tables_with_column("_op"):
            items = [
                self.column_definition(name, sql_type)
                for name, sql_type in self.existing_columns(history).items()
                if name not in (KEY, BATCH, WRITTEN, "_op")
            ]
            names = ", ".join(
                q(n) for n in self.existing_columns(history) if n not in (BATCH, WRITTEN, "_op")
            )
            upgraded = f"{history}_v2"
            with self.transaction():
                self._create_history(upgraded, items)
                self.execute(
                    f"INSERT INTO {self.table_name(upgraded)} ({names}, {BATCH}, {WRITTEN}, {ENDED_BY}, {ENDED_AT}) "
                    f"SELECT {names}, {BATCH}, {WRITTEN}, ended_by, ended_at FROM (SELECT h.*, "
                    f"lead({BATCH}) OVER (PARTITION BY {KEY} ORDER BY {BATCH}) AS ended_by, "
                    f"lead({WRITTEN}) OVER (PARTITION BY {KEY} ORDER BY {BATCH}) AS ended_at "
                    f"FROM {self.table_name(history)} h) versions WHERE _op = 'U' AND ended_by IS NOT NULL"
                )
                self.execute(f"DROP TABLE {self.table_name(history)}")
                for index in self._history_index_names(upgraded):
                    self.execute(f"DROP INDEX IF EXISTS {self.index_name(index)}")
                self.execute(f"ALTER TABLE {self.table_name(upgraded)} RENAME TO {q(history)}")
                self._create_history_indexes(history)

    def _tables_with_column(self, column: str) -> list[str]:
        rows = self.fetchall(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = ? AND column_name = ?",
            [self.data_schema, column],
        )
        return [r[0] for r in rows]

    # --- batches (AGG-3, AGG-5, AGG-6) --------------------------------------------------------------------
    def first_load(self, spec: TableSpec, batch_id: int, extra: dict[str, str]) -> str | None:
        """A table of the store, shaped like the current table plus the ``extra`` columns (name:
        type), to validate a batch into when that is cheaper than a temp table; else None (here:
        never; see the DuckDB store)."""
        return None

    def discard_staging(self, spec: TableSpec, batch_id: int) -> None:
        """Remove what ``first_load`` made for the batch, if it is still there."""

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

    def is_empty(self, spec: TableSpec) -> bool:
        """Whether the resource has no current rows."""
        return not self.fetchall(f"SELECT 1 FROM {self.table_name(spec.name)} LIMIT 1")

    def _apply_loaded(
        self, spec: TableSpec, batch_id: int, mode: str, written_at: datetime, source: str
    ) -> ApplyResult:
        in_batch = f"{KEY} IN (SELECT {KEY} FROM {source} i)"
        has_rows = not self.is_empty(spec)
        if mode == "delete":
            deleted = self._end_current(spec, batch_id, written_at, in_batch) if has_rows else 0
            return ApplyResult(inserted=0, updated=0, deleted=deleted)
        updated = deleted = 0
        if has_rows and mode == "replace":
            ended = self._end_current(spec, batch_id, written_at, None)
            updated = self.fetchall(
                f"SELECT count(*) FROM {self.table_name(spec.history)} WHERE {ENDED_BY} = ? AND {in_batch}",
                [batch_id],
            )[0][0]
            deleted = ended - updated
        elif has_rows:
            updated = self._end_current(spec, batch_id, written_at, in_batch)
        codes = [KEY, *spec.codes]
        names = ", ".join(q(c) for c in codes)
        written = self.write(
            f"INSERT INTO {self.table_name(spec.name)} ({names}, {BATCH}, {WRITTEN}) "
            f"SELECT {', '.join(f'i.{q(c)}' for c in codes)}, ?, ? FROM {source} i",
            [batch_id, written_at],
        )
        # the batch's keys are unique (validation rejects every row of a repeated key)
        return ApplyResult(inserted=written - updated, updated=updated, deleted=deleted)

    def _end_current(self, spec: TableSpec, batch_id: int, at: datetime, where: str | None) -> int:
        """Move the current versions ``where`` selects into the history, ended by this batch."""
        cur, clause = self.table_name(spec.name), f" WHERE {where}" if where else ""
        names = ", ".join(q(c) for c in [KEY, *spec.codes, BATCH, WRITTEN])
        self.execute(
            f"INSERT INTO {self.table_name(spec.history)} ({names}, {ENDED_BY}, {ENDED_AT}) "
            f"SELECT {names}, ?, ? FROM {cur}{clause}",
            [batch_id, at],
        )
        return self.write(f"DELETE FROM {cur}{clause}")

    def batch_keys(self, spec: TableSpec, batch_id: int) -> int:
        """How many keys the batch wrote or deleted, as the store holds them now (0: not applied)."""
        cur, hist = self.table_name(spec.name), self.table_name(spec.history)
        return self.fetchall(
            f"SELECT count(DISTINCT {KEY}) FROM (SELECT {KEY} FROM {cur} WHERE {BATCH} = ? "
            f"UNION ALL SELECT {KEY} FROM {hist} WHERE {BATCH} = ? OR {ENDED_BY} = ?) touched",
            [batch_id, batch_id, batch_id],
        )[0][0]

    def rollback(self, spec: TableSpec, batch_id: int) -> int:
        """Undo exactly this batch's changes (later batches keep theirs); returns how many keys it touched."""
        cur, hist = self.table_name(spec.name), self.table_name(spec.history)
        b = int(batch_id)
        names = ", ".join(q(c) for c in [KEY, *spec.codes, BATCH, WRITTEN])
        with self.transaction():
            touched = self.batch_keys(spec, b)
            # each version the batch ended now ends where the batch's own version ended; or, if the
            # batch deleted the key, at the key's next version; or never (it is current again)
            self.execute(
                "CREATE TEMP TABLE rollback_ends AS SELECT p._key, "
                "CASE WHEN mh._key IS NOT NULL THEN mh._ended_by WHEN mc._key IS NOT NULL THEN NULL "
                "ELSE nx.batch END AS end_batch, "
                "CASE WHEN mh._key IS NOT NULL THEN mh._ended_at WHEN mc._key IS NOT NULL THEN NULL "
                "ELSE nx.at END AS end_at "
                f"FROM {hist} p "
                f"LEFT JOIN {hist} mh ON mh._key = p._key AND mh.{BATCH} = {b} "
                f"LEFT JOIN {cur} mc ON mc._key = p._key AND mc.{BATCH} = {b} "
                f"LEFT JOIN (SELECT _key, min({BATCH}) AS batch, min({WRITTEN}) AS at FROM ("
                f"SELECT _key, {BATCH}, {WRITTEN} FROM {hist} WHERE {BATCH} > {b} UNION ALL "
                f"SELECT _key, {BATCH}, {WRITTEN} FROM {cur} WHERE {BATCH} > {b}) later GROUP BY _key) nx "
                f"ON nx._key = p._key WHERE p.{ENDED_BY} = {b}"
            )
            try:
                self.execute(f"DELETE FROM {hist} WHERE {BATCH} = {b}")
                self.execute(f"DELETE FROM {cur} WHERE {BATCH} = {b}")
                self.execute(
                    f"UPDATE {hist} AS h SET {ENDED_BY} = e.end_batch, {ENDED_AT} = e.end_at FROM rollback_ends e "
                    f"WHERE h.{ENDED_BY} = {b} AND h._key = e._key AND e.end_batch IS NOT NULL"
                )
                self.execute(f"INSERT INTO {cur} ({names}) SELECT {names} FROM {hist} WHERE {ENDED_BY} = {b}")
                self.execute(f"DELETE FROM {hist} WHERE {ENDED_BY} = {b}")
            finally:
                self.execute("DROP TABLE rollback_ends")
        return touched

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
        select = ", ".join([KEY, *(q(c) for c in spec.codes), BATCH, WRITTEN])
        if as_of_batch is not None or as_of_time is not None:
            # the versions alive then: current ones written by then, history ones not yet ended
            written, ended = (BATCH, ENDED_BY) if as_of_batch is not None else (WRITTEN, ENDED_AT)
            bound = as_of_batch if as_of_batch is not None else as_of_time
            source = (
                f"(SELECT {select} FROM {self.table_name(spec.name)} WHERE {written} <= ? UNION ALL "
                f"SELECT {select} FROM {self.table_name(spec.history)} WHERE {written} <= ? AND {ended} > ?)"
            )
            params += [bound, bound, bound]
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

    # --- statistics and comparisons (quality) --------------------------------------------------------
    def column_fill(self, spec: TableSpec) -> tuple[int, dict[str, int]]:
        """The resource's current rows, and the non-null values of each item column the table has."""
        existing = self.existing_columns(spec.name)
        if not existing:
            return 0, {}
        codes = [c for c in spec.codes if c in existing]
        counts = ", ".join(["count(*)", *(f"count({q(c)})" for c in codes)])
        row = self.fetchall(f"SELECT {counts} FROM {self.table_name(spec.name)}")[0]
        return int(row[0]), {c: int(n) for c, n in zip(codes, row[1:], strict=True)}

    def compare_columns(
        self, left: TableSpec, right: TableSpec, pairs: list[tuple[str, str]]
    ) -> list[tuple[int, int] | None]:
        """For the keys current in both resources, per pair of columns (left, right): how many keys have
        both values present and how many of those agree (``core.values``: numbers as numbers, else
        trimmed text). None for a pair naming a column its table lacks (or a table not created yet)."""
        mine, theirs = self.existing_columns(left.name), self.existing_columns(right.name)
        usable = [(a, b) for a, b in pairs if a in mine and b in theirs]
        if not usable:
            return [None] * len(pairs)
        parts = []
        for a, b in usable:
            x, y = comparable_sql(f"a.{q(a)}"), comparable_sql(f"b.{q(b)}")
            parts.append(f"sum(CASE WHEN {x} IS NOT NULL AND {y} IS NOT NULL THEN 1 ELSE 0 END)")
            parts.append(f"sum(CASE WHEN {x} = {y} THEN 1 ELSE 0 END)")
        row = self.fetchall(
            f"SELECT {', '.join(parts)} FROM {self.table_name(left.name)} a "
            f"JOIN {self.table_name(right.name)} b ON a.{KEY} = b.{KEY}"
        )[0]
        counts = {pair: (int(row[2 * i] or 0), int(row[2 * i + 1] or 0)) for i, pair in enumerate(usable)}
        return [counts.get(pair) for pair in pairs]


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
