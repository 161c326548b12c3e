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

A catalog revision that would change stored values (a narrower precision, another type, a removed
item) is applied by ``migrate``, as if it were a batch: the rows whose values change move to the
history, ended by the migration's batch, and stay current with their new values, so as-of reads
before it still see the old ones; ``types.py`` says which type holds which and how values convert.

A batch arrives as ``Staged`` rows: a query on the DuckDB connection of the store's ``workspace``,
where the batch was read and validated. The DuckDB store validates inside its own database, so
applying is SQL from its temp tables into the resource tables with no copy in between; PostgreSQL
takes the rows through ``COPY``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from govdata.core.values import comparable, comparable_sql
from govdata.store import csv_export, kanon
from govdata.store.base import (
    BATCH,
    ENDED_AT,
    ENDED_BY,
    KEY,
    WRITTEN,
    ApplyResult,
    Change,
    Column,
    Migrated,
    MigrationNeeded,
    QueryResult,
    TableSpec,
    default_memory_limit,
)
from govdata.store.types import Conversions, SqlType, arrow_type, holds, parse_type, supertype


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
    @property
    def conversions(self) -> Conversions:
        return Conversions(self.dialect)

    def ensure_key_index(self, spec: TableSpec) -> None:
        """Make point lookups by key on the current table fast (it exists): here its primary key
        already does; DuckDB adds an index on first use."""

    def ensure_table(self, spec: TableSpec, *, strict: bool = False) -> list[str]:
        """Create the tables or bring them to the spec: add columns, widen types, and change a type
        that does not hold the old one when no stored value would change. Never drops a column (an
        item removed from the catalog keeps its data) and never changes a stored value: a column
        whose values would change keeps its type until ``migrate`` (the catalog publishes such a
        revision only with a migration). With ``strict`` (a batch about to write), such a column
        raises ``MigrationNeeded``. Returns what changed."""
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
        history = self.existing_columns(spec.history)
        pending: dict[str, int] = {}
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
                continue
            have_type, want_type = parse_type(have), parse_type(wanted)
            if have_type == want_type:
                continue
            if holds(want_type, have_type):
                with self.transaction():
                    self._retype(spec, column.code, want_type, history, using=None)
                changes.append(f"widened {column.code} {have}→{wanted}")
                continue
            converted = self.conversions.convert(q(column.code), have_type, want_type)
            changed = self.conversions.changed(q(column.code), have_type, want_type, converted)
            with self.transaction():
                count = self._count_where(spec.name, changed)
                if count == 0:
                    self._retype(spec, column.code, want_type, history, using=converted)
            if count:
                pending[column.code] = count
            else:
                changes.append(f"retyped {column.code} {have}→{wanted}")
        if pending and strict:
            raise MigrationNeeded(pending)
        return changes

    def _count_where(self, table: str, condition: str) -> int:
        return int(
            self.fetchall(
                f"SELECT coalesce(sum(CASE WHEN {condition} THEN 1 ELSE 0 END), 0) FROM {self.table_name(table)}"
            )[0][0]
        )

    def _retype(
        self, spec: TableSpec, code: str, want: SqlType, history: dict[str, str], *, using: str | None
    ) -> None:
        """Change the current table's column to ``want`` (its values computed by ``using``), and the
        history's to a type that holds both its versions and the new ones."""
        self._history_holds(spec, code, want, history)
        self.alter_column(spec.name, code, want, using or f"CAST({q(code)} AS {want.sql(self.dialect)})")

    def _history_holds(self, spec: TableSpec, code: str, want: SqlType, history: dict[str, str]) -> None:
        """Widen the history's column, if need be, to a type that holds its versions and ``want``."""
        kept = parse_type(history.get(code, want.sql(self.dialect)))
        if holds(kept, want):
            return
        wider = supertype(kept, want)
        # DuckDB cannot alter a column of a table that has secondary indexes
        for index in self._history_index_names(spec.history):
            self.execute(f"DROP INDEX IF EXISTS {self.index_name(index)}")
        self.alter_column(spec.history, code, wider, f"CAST({q(code)} AS {wider.sql(self.dialect)})")
        self._create_history_indexes(spec.history)

    def alter_column(self, table: str, code: str, sql_type: SqlType, using: str) -> None:
        """Give a column of a resource table another type, its values computed by ``using``."""
        self.execute(
            f"ALTER TABLE {self.table_name(table)} ALTER COLUMN {q(code)} TYPE {sql_type.sql(self.dialect)} "
            f"USING {using}"
        )

    # --- migrations (AGG-1) -----------------------------------------------------------------------------
    def _migration_steps(
        self, spec: TableSpec, codes: Iterable[str], removed: Iterable[str], existing: dict[str, str]
    ) -> list[_Step]:
        """What migrating the current table to ``spec`` does to the columns ``codes`` (items whose
        definition narrowed or changed type) and ``removed`` (items no longer in the catalog)."""
        by_code = {c.code: c for c in spec.columns}
        steps: list[_Step] = []
        for code in dict.fromkeys(codes):
            column, have = by_code.get(code), existing.get(code)
            if column is None or have is None:
                continue
            have_type, want_type = parse_type(have), parse_type(self.column_type(column))
            shortens = want_type.kind == "text" and column.data_type in ("C", "M") and bool(column.length)
            if holds(want_type, have_type) and not shortens:
                continue
            converted = self.conversions.convert(q(code), have_type, want_type, column)
            changed = self.conversions.changed(q(code), have_type, want_type, converted)
            retype = want_type if want_type != have_type else None
            steps.append(_Step(code, converted, changed, retype))
        for code in dict.fromkeys(removed):
            if code in existing and code not in by_code:
                steps.append(_Step(code, "NULL", f"{q(code)} IS NOT NULL", None))
        return steps

    def data_impact(
        self, spec: TableSpec, codes: Iterable[str], removed: Iterable[str] = ()
    ) -> dict[str, int]:
        """How many current values of each item column would change if the table were migrated to
        ``spec`` (see ``migrate``): the columns ``codes`` and ``removed``; those whose values all
        survive unchanged count 0, those the table lacks are left out."""
        existing = self.existing_columns(spec.name)
        steps = self._migration_steps(spec, codes, removed, existing) if existing else []
        if not steps:
            return {}
        sums = ", ".join(f"coalesce(sum(CASE WHEN {step.changed} THEN 1 ELSE 0 END), 0)" for step in steps)
        row = self.fetchall(f"SELECT {sums} FROM {self.table_name(spec.name)}")[0]
        return {step.code: int(n) for step, n in zip(steps, row, strict=True)}

    def migrate(
        self,
        spec: TableSpec,
        marker: int,
        at: datetime,
        codes: Iterable[str],
        removed: Iterable[str] = (),
    ) -> Migrated:
        """Migrate the current table to ``spec`` for the columns ``codes`` and ``removed``, in one
        transaction: each current row with a value that changes moves to the history, ended by
        ``marker`` (the migration's batch) at ``at``, and stays current with its new values, written
        by ``marker``. As-of reads before the migration therefore still show the old values; a
        removed item's values become NULL in the current table. Safe to run again: a migrated
        table has nothing left to change."""
        with self.transaction():
            existing = self.existing_columns(spec.name)
            steps = self._migration_steps(spec, codes, removed, existing) if existing else []
            if not steps:
                return Migrated({}, 0)
            history = self.existing_columns(spec.history)
            sums = ", ".join(f"coalesce(sum(CASE WHEN {s.changed} THEN 1 ELSE 0 END), 0)" for s in steps)
            counts = self.fetchall(f"SELECT {sums} FROM {self.table_name(spec.name)}")[0]
            values = {step.code: int(n) for step, n in zip(steps, counts, strict=True)}
            for step in steps:  # the history holds the new versions' types as well as its own
                if step.retype is not None:
                    self._history_holds(spec, step.code, step.retype, history)
            cur, hist = self.table_name(spec.name), self.table_name(spec.history)
            changed = " OR ".join(f"({step.changed})" for step in steps)
            names = ", ".join(q(c) for c in existing)
            moved = self.write(
                f"INSERT INTO {hist} ({names}, {ENDED_BY}, {ENDED_AT}) SELECT {names}, ?, ? FROM {cur} "
                f"WHERE {changed}",
                [marker, at],
            )
            sets = [f"{q(s.code)} = {s.converted}" for s in steps if s.retype is None]
            self.execute(
                f"UPDATE {cur} SET {', '.join([*sets, f'{BATCH} = ?', f'{WRITTEN} = ?'])} WHERE {changed}",
                [marker, at],
            )
            for step in steps:
                if step.retype is not None:
                    self.alter_column(spec.name, step.code, step.retype, step.converted)
        return Migrated(values, moved)

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
        self,
        spec: TableSpec,
        batch_id: int,
        mode: str,
        data: Any,
        written_at: datetime,
        *,
        keep: Sequence[str] = (),
    ) -> ApplyResult:
        """Apply one validated batch atomically. ``data`` holds ``_key`` and the item columns (for
        ``delete`` only ``_key`` and the key columns are read). In an ``upsert``, the item columns
        ``keep`` (those the source lacked) keep the values stored for the batch's existing keys."""
        codes = spec.codes
        try:
            with self.transaction():
                source = self.load_incoming(data, spec, codes if mode != "delete" else list(spec.key_columns))
                return self._apply_loaded(spec, batch_id, mode, written_at, source, keep)
        finally:
            self.drop_incoming()

    def _count(self, table: str) -> int:
        return self.fetchall(f"SELECT count(*) FROM {table}")[0][0]

    def is_empty(self, spec: TableSpec) -> bool:
        """Whether the resource has no current rows."""
        return not self.fetchall(f"SELECT 1 FROM {self.table_name(spec.name)} LIMIT 1")

    def _apply_loaded(
        self,
        spec: TableSpec,
        batch_id: int,
        mode: str,
        written_at: datetime,
        source: str,
        keep: Sequence[str] = (),
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
        kept = [c for c in spec.codes if c in keep] if has_rows and mode == "upsert" else []
        if kept:
            # the versions this batch just ended hold the values the source lacked
            restore = self._restore_columns(spec, "h")
            values = ", ".join(restore[c] if c in kept else f"i.{q(c)}" for c in codes)
            source = (
                f"{source} i LEFT JOIN {self.table_name(spec.history)} h "
                f"ON h.{KEY} = i.{KEY} AND h.{ENDED_BY} = {int(batch_id)}"
            )
        else:
            values = ", ".join(f"i.{q(c)}" for c in codes)
            source = f"{source} i"
        written = self.write(
            f"INSERT INTO {self.table_name(spec.name)} ({names}, {BATCH}, {WRITTEN}) "
            f"SELECT {values}, ?, ? FROM {source}",
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

    def _restore_columns(self, spec: TableSpec, alias: str | None = None) -> dict[str, str]:
        """Column → how to read it from the history into the current table (``alias`` its name in
        the query): as is, or cast where a migration left the history a wider type."""
        current, history = self.existing_columns(spec.name), self.existing_columns(spec.history)
        prefix = f"{alias}." if alias else ""
        restore = {}
        for column in [KEY, *spec.codes, BATCH, WRITTEN]:
            have, want = history.get(column), current.get(column)
            value = prefix + q(column)
            if have and want and parse_type(have) != parse_type(want):
                value = f"CAST({value} AS {parse_type(want).sql(self.dialect)})"
            restore[column] = value
        return restore

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
                restore = ", ".join(self._restore_columns(spec).values())
                self.execute(
                    f"INSERT INTO {cur} ({names}) SELECT {restore} FROM {hist} WHERE {ENDED_BY} = {b}"
                )
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
            both = self._union_columns(spec)
            source = (
                f"(SELECT {both} FROM {self.table_name(spec.name)} WHERE {written} <= ? UNION ALL "
                f"SELECT {both} FROM {self.table_name(spec.history)} WHERE {written} <= ? AND {ended} > ?)"
            )
            params += [bound, bound, bound]
        else:
            source = self.table_name(spec.name)
        where = ["1 = 1"]
        if keys:
            where.append(f"{KEY} IN ({', '.join('?' for _ in keys)})")
            params.extend(keys)
        for code, value in (filters or {}).items():
            condition, param = _filter(spec, code, value, "VARCHAR")
            where.append(condition)
            params.append(param)
        clause = " AND ".join(where)
        names = [KEY, *spec.codes, BATCH, WRITTEN]
        if keys and source == self.table_name(spec.name):
            # current records by key: at most one a key, so every match is read (from the key's
            # index) and paged here; a plan that sorts and limits in SQL would scan the table
            found = sorted(self.fetchall(f"SELECT {select} FROM {source} s WHERE {clause}", params))
            rows = found[offset : offset + limit]
            return QueryResult([dict(zip(names, row, strict=True)) for row in rows], len(found))
        rows = self.fetchall(
            f"SELECT {select} FROM {source} s WHERE {clause} ORDER BY {KEY} LIMIT {int(limit)} OFFSET {int(offset)}",
            params,
        )
        if offset == 0 and len(rows) < limit:  # the page holds every match: no count needed
            total = len(rows)
        else:
            total = self.fetchall(f"SELECT count(*) FROM {source} s WHERE {clause}", params)[0][0]
        return QueryResult([dict(zip(names, row, strict=True)) for row in rows], total)

    def key_versions(self, spec: TableSpec, key: str, limit: int = 500) -> list[dict]:
        """Every stored version of one key, newest first (at most ``limit``): the current one, if the
        key is current, and those later batches superseded or deleted. Each has the item values, the
        batch that wrote it (``_batch_id``, ``_written_at``) and the batch that ended it (``_ended_by``,
        ``_ended_at``; None for the current version)."""
        if not self.existing_columns(spec.name):
            return []
        both = self._union_columns(spec)
        rows = self.fetchall(
            f"SELECT * FROM (SELECT {both}, NULL AS {ENDED_BY}, NULL AS {ENDED_AT} "
            f"FROM {self.table_name(spec.name)} WHERE {KEY} = ? UNION ALL "
            f"SELECT {both}, {ENDED_BY}, {ENDED_AT} FROM {self.table_name(spec.history)} WHERE {KEY} = ?) v "
            f"ORDER BY {BATCH} DESC, {WRITTEN} DESC LIMIT {int(limit)}",
            [key, key],
        )
        names = [KEY, *spec.codes, BATCH, WRITTEN, ENDED_BY, ENDED_AT]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def _union_columns(self, spec: TableSpec) -> str:
        """The columns of the current and the history table as one list both answer alike: a column
        a migration left of different types in the two is read as text (each value as stored)."""
        current, history = self.existing_columns(spec.name), self.existing_columns(spec.history)
        text = parse_type("TEXT").sql(self.dialect)
        columns = []
        for code in spec.codes:
            have, kept = current.get(code), history.get(code)
            differ = have and kept and parse_type(have) != parse_type(kept)
            columns.append(f"CAST({q(code)} AS {text}) AS {q(code)}" if differ else q(code))
        return ", ".join([KEY, *columns, BATCH, WRITTEN])

    def row_count(self, spec: TableSpec) -> int:
        if not self.existing_columns(spec.name):
            return 0
        return self.fetchall(f"SELECT count(*) FROM {self.table_name(spec.name)}")[0][0]

    # --- exchange (SHR-6): bulk export and changes since a batch ---------------------------------------
    def arrow_schema(self, spec: TableSpec, codes: Sequence[str]) -> pa.Schema:
        """The Arrow types of the current table's columns ``codes`` (as stored, after migrations)."""
        existing = self.existing_columns(spec.name)
        return pa.schema([pa.field(code, arrow_type(parse_type(existing[code]))) for code in codes])

    def export_batches(
        self, spec: TableSpec, codes: Sequence[str], batch_size: int = 65_536
    ) -> Iterator[pa.RecordBatch]:
        """The current rows' columns ``codes`` as Arrow record batches of at most ``batch_size`` rows,
        read as one snapshot and streamed: memory holds a batch or two, whatever the table's size.
        Rows come in the store's order (none is imposed: sorting a large table would cost more than
        the export)."""
        raise NotImplementedError

    def export_csv(
        self,
        spec: TableSpec,
        codes: Sequence[str],
        out: csv_export.Writer,
        *,
        transform: Callable[[pa.RecordBatch], pa.RecordBatch] | None = None,
        batch_size: int = 65_536,
    ) -> int:
        """The current rows' columns ``codes`` written into ``out`` as the rows of the platform's CSV
        (no header; ``csv_export`` says how: CRLF, quoting where needed, safe text cells), as one
        snapshot and streamed; the rows written. With ``transform``, each Arrow record batch of
        ``export_batches`` passes through it first (masking), and the CSV is written from those."""
        return csv_export.arrow_csv(self.export_batches(spec, codes, batch_size), out, transform)

    def latest_batch(self, spec: TableSpec) -> int:
        """The newest batch that wrote or ended a row of the resource (0 when none did)."""
        if not self.existing_columns(spec.name):
            return 0
        row = self.fetchall(
            f"SELECT max(b) FROM (SELECT max({BATCH}) AS b FROM {self.table_name(spec.name)} UNION ALL "
            f"SELECT max({ENDED_BY}) FROM {self.table_name(spec.history)}) latest"
        )
        return int(row[0][0] or 0)

    def changes_since(
        self,
        spec: TableSpec,
        batch_id: int,
        limit: int,
        *,
        after_key: str | None = None,
        deletions_after: int = 0,
        codes: Sequence[str] | None = None,
    ) -> list[Change]:
        """What changed after position (``batch_id``, ``after_key``), at most ``limit`` changes in the
        order (batch, key): each key whose current version a later batch wrote (an upsert, with its
        ``codes`` columns), and each key no longer current whose last version a later batch ended (a
        deletion). ``after_key`` None means after every key of ``batch_id``. Deletions by batches up
        to ``deletions_after`` are left out (a first synchronisation has nothing to delete).

        A key changed by several batches is reported once, at its latest change; a reader that keeps
        the position of the last change it received and asks again misses nothing, as batches of a
        resource are applied in the order of their ids (which the as-of reads assume too)."""
        if not self.existing_columns(spec.name):
            return []
        codes = list(spec.codes if codes is None else codes)
        cur, hist = self.table_name(spec.name), self.table_name(spec.history)
        b, key = int(batch_id), after_key
        upserts_after = (
            f"{BATCH} > {b}" if key is None else f"({BATCH} > {b} OR ({BATCH} = {b} AND {KEY} > ?))"
        )
        deletes_after = f"d.b > {b}" if key is None else f"(d.b > {b} OR (d.b = {b} AND d.k > ?))"
        params: list[Any] = [key, key] if key is not None else []
        columns = ", ".join(q(c) for c in codes)
        empty = ", ".join(f"NULL AS {q(c)}" for c in codes)
        rows = self.fetchall(
            f"SELECT op, b, k{', ' + columns if codes else ''} FROM ("
            f"SELECT 'upsert' AS op, {BATCH} AS b, {KEY} AS k{', ' + columns if codes else ''} "
            f"FROM {cur} WHERE {upserts_after} "
            f"UNION ALL SELECT 'delete', d.b, d.k{', ' + empty if codes else ''} FROM ("
            f"SELECT h.{KEY} AS k, max(h.{ENDED_BY}) AS b FROM {hist} h "
            f"WHERE h.{ENDED_BY} >= {b} AND h.{ENDED_BY} > {int(deletions_after)} "
            f"AND NOT EXISTS (SELECT 1 FROM {cur} c WHERE c.{KEY} = h.{KEY}) GROUP BY h.{KEY}) d "
            f"WHERE {deletes_after}) changes ORDER BY b, k LIMIT {int(limit)}",
            params,
        )
        return [
            Change(op, int(batch), k, dict(zip(codes, values, strict=True)) if op == "upsert" else None)
            for op, batch, k, *values in rows
        ]

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

    # --- open data (OPN-2, OPN-5) --------------------------------------------------------------------
    def group_counts(self, spec: TableSpec, quasi: Sequence[kanon.Quasi], k: int) -> kanon.GroupCounts:
        """The current rows grouped by the quasi-identifiers as served (``store.kanon``), counted."""
        existing = self.existing_columns(spec.name)
        if not existing or not quasi:
            return kanon.GroupCounts(k=k, rows=self.row_count(spec), groups=0, smallest=None, below=())
        sql = kanon.group_counts_sql(self.dialect, self.table_name(spec.name), existing, quasi, k)
        return kanon.group_counts(self.fetchall(sql), k)

    def search_rows(
        self,
        spec: TableSpec,
        codes: Sequence[str],
        *,
        filters: dict[str, str] | None = None,
        contains: str | None = None,
        contains_codes: Sequence[str] = (),
        limit: int = 50,
        offset: int = 0,
    ) -> QueryResult:
        """Current rows' columns ``codes`` (item code → value), in key order: those whose ``filters``
        columns equal the values (as text) and, with ``contains``, one of ``contains_codes`` holds it."""
        if not self.existing_columns(spec.name) or not codes:
            return QueryResult([], 0)
        text = "VARCHAR" if self.dialect == "duckdb" else "TEXT"
        where, params = ["1 = 1"], []
        for code, value in (filters or {}).items():
            condition, param = _filter(spec, code, value, text)
            where.append(condition)
            params.append(param)
        if contains and contains_codes:
            pattern = "%" + contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(
                "(" + " OR ".join(f"CAST({q(c)} AS {text}) LIKE ? ESCAPE '\\'" for c in contains_codes) + ")"
            )
            params.extend([pattern] * len(contains_codes))
        clause = " AND ".join(where)
        table = self.table_name(spec.name)
        columns = ", ".join(q(c) for c in codes)
        rows = self.fetchall(
            f"SELECT {columns} FROM {table} WHERE {clause} ORDER BY {KEY} LIMIT {int(limit)} OFFSET {int(offset)}",
            params,
        )
        if offset == 0 and len(rows) < limit:
            total = len(rows)
        else:
            total = self.fetchall(f"SELECT count(*) FROM {table} WHERE {clause}", params)[0][0]
        return QueryResult([dict(zip(codes, row, strict=True)) for row in rows], int(total))


@dataclass(frozen=True)
class _Step:
    """One column of a migration: its new value, whether a row's value changes, its new type (None:
    the type stays, the values are updated)."""

    code: str
    converted: str
    changed: str
    retype: SqlType | None


NUMERIC_TYPES = ("N", "Y", "B", "F", "I")


def _filter(spec: TableSpec, code: str, value: str, text: str) -> tuple[str, Any]:
    """The condition (and its parameter) of "item ``code`` equals ``value``": a number equals a
    number of the same value (``3500.5`` finds the stored ``3500.50``, as verification compares);
    anything else is compared as the text the store gives it (dates in ISO form)."""
    column = next((c for c in spec.columns if c.code == code), None)
    if column is not None and column.data_type in NUMERIC_TYPES:
        return f"{comparable_sql(q(code))} = ?", comparable(value)
    return f"CAST({q(code)} AS {text}) = ?", value
