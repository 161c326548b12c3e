"""DuckDB store: one file in the data directory, written by one process (the server).

A DuckDB connection must not be shared between threads; each thread takes its own cursor. Writes
are serialised by a lock (DuckDB has one writer); reads run concurrently on their own cursors.

The URL may carry DuckDB settings as query parameters (``duckdb:///var/data.duckdb?memory_limit=4GiB&threads=4``);
without ``memory_limit`` the store takes ``default_memory_limit()``. A batch is read and validated
on a cursor of this very database (``workspace``), in temp tables that spill to the database's temp
directory, and applied from there by SQL: the rows are never copied through Python or Arrow.

Resource tables get no ART indexes when they are made, neither the current table's primary key nor
the history's secondary indexes: DuckDB's ART indexes serve only point lookups, cost a large share of
a big insert to maintain, and live in memory, so the memory a store needs would grow with its rows. A
key stays unique by construction instead: a batch's keys are unique (validation rejects every row
of a repeated key), and applying moves the current versions of the batch's keys into the history
before it inserts the batch's rows, under the store's single write lock. A point lookup scans the
key column, kept uncompressed for it (about 30 ms at a million rows); a batch's rows are appended
together, so ``WHERE _batch_id = N`` is answered from the row groups' min/max. Production with many
readers uses PostgreSQL, with B-tree indexes.

The one exception is a resource served by key (the sharing services' verification and query):
:meth:`DuckDBStore.ensure_key_index` gives its current table a (non-unique) ART index on the key the
first time such a lookup comes, which answers it in well under a millisecond. Its later batches pay
for keeping the index; resources nobody looks up by key never do. DuckDB refuses to retype or rename
a column of an indexed table, so :meth:`alter_column` drops the index first and the next lookup
builds it again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import duckdb

from govdata.store import csv_export
from govdata.store.base import (
    KEY,
    META_TABLE,
    STORE_SCHEMA_VERSION,
    ApplyResult,
    Column,
    Staged,
    TableSpec,
    default_memory_limit,
)
from govdata.store.sql import SqlStore, q
from govdata.store.types import SqlType, parse_type


class DuckDBStore(SqlStore):
    backend = dialect = "duckdb"
    data_schema = "main"
    key_constraint = "NOT NULL"

    def __init__(self, url: str) -> None:
        self.url = url
        location, _, query = url.removeprefix("duckdb:///").partition("?")
        self.path = Path(location)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        config = {"memory_limit": default_memory_limit(), **dict(parse_qsl(query))}
        self._connection = duckdb.connect(str(self.path), config=config)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._key_indexed: set[str] = set()  # current tables known to carry their key index

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._connection.cursor()
            self._local.cursor = cur
        return cur

    # --- hooks of SqlStore ---------------------------------------------------------------------------
    def execute(self, sql: str, params: list | None = None) -> None:
        self.cursor().execute(sql, params or []).fetchall()

    def write(self, sql: str, params: list | None = None) -> int:
        return self.cursor().execute(sql, params or []).fetchall()[0][0]

    def fetchall(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.cursor().execute(sql, params or []).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._write_lock:
            cur = self.cursor()
            if getattr(self._local, "depth", 0):
                self._local.depth += 1
                try:
                    yield
                finally:
                    self._local.depth -= 1
                return
            self._local.depth = 1
            cur.execute("BEGIN TRANSACTION")
            try:
                yield
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                self._local.depth = 0

    @contextmanager
    def workspace(self, work: Path) -> Iterator[duckdb.DuckDBPyConnection]:
        """A fresh cursor of this database, used by the store itself in this thread until the batch
        is done: its temp tables are where ``apply`` reads the ``Staged`` rows from."""
        con = self._connection.cursor()
        previous = getattr(self._local, "cursor", None)
        self._local.cursor = con
        try:
            yield con
        finally:
            self._local.cursor = previous
            con.close()

    def load_incoming(self, data: Any, spec, columns: list[str]) -> str:
        if isinstance(data, Staged):
            if data.connection is not self.cursor():
                raise ValueError("staged rows must come from this store's workspace, in this thread")
            return f"({data.sql})"
        self.cursor().register("incoming_arrow", data)
        self.execute("CREATE OR REPLACE TEMP TABLE incoming AS SELECT * FROM incoming_arrow")
        return "incoming"

    def drop_incoming(self) -> None:
        self.cursor().unregister("incoming_arrow")
        self.execute("DROP TABLE IF EXISTS incoming")

    def _create_history_indexes(self, history: str) -> None:
        """None in DuckDB (see the module's docstring)."""

    def column_type(self, column: Column) -> str:
        return column.duckdb_type()

    def column_definition(
        self, name: str, sql_type: str, *, current_key: bool = False, length: int | None = None
    ) -> str:
        """Text is compressed with ZSTD: cheaper to write than DuckDB's own choice for long varied
        text (dictionary + FSST, picked after trying each method on every segment) and smaller.
        Short codes (declared length up to 6) keep DuckDB's choice, a dictionary of a few values.
        The current table's key stays uncompressed, as a point lookup scans it (see above)."""
        if current_key:
            return f"{q(name)} {sql_type} USING COMPRESSION uncompressed"
        if sql_type.startswith("VARCHAR") and not (length and length <= 6):
            return f"{q(name)} {sql_type} USING COMPRESSION zstd"
        return f"{q(name)} {sql_type}"

    def ensure_key_index(self, spec: TableSpec) -> None:
        if spec.name in self._key_indexed:
            return
        with self.transaction():
            self.execute(f"CREATE INDEX IF NOT EXISTS {q(_key_index(spec.name))} ON {q(spec.name)} ({KEY})")
        self._key_indexed.add(spec.name)

    def _drop_key_index(self, table: str) -> None:
        self._key_indexed.discard(table)
        self.execute(f"DROP INDEX IF EXISTS {q(_key_index(table))}")

    def alter_column(self, table: str, code: str, sql_type: SqlType, using: str) -> None:
        """A text column keeps its ZSTD compression through ALTER TYPE, which no other type takes:
        it is replaced by a new column instead (which comes last; every statement names its columns).
        A key index goes first (DuckDB alters no indexed table); a lookup builds it again."""
        self._drop_key_index(table)
        if sql_type.kind == "text" or parse_type(self.existing_columns(table)[code]).kind != "text":
            return super().alter_column(table, code, sql_type, using)
        spare = f"{code}__retyped"
        self.execute(f"ALTER TABLE {q(table)} ADD COLUMN {q(spare)} {sql_type.sql(self.dialect)}")
        self.execute(f"UPDATE {q(table)} SET {q(spare)} = {using}")
        self.execute(f"ALTER TABLE {q(table)} DROP COLUMN {q(code)}")
        self.execute(f"ALTER TABLE {q(table)} RENAME COLUMN {q(spare)} TO {q(code)}")

    # --- exchange ----------------------------------------------------------------------------------------
    def export_batches(self, spec, codes, batch_size=65_536):
        """Streamed from a cursor of its own (one snapshot, whichever thread reads on)."""
        columns = ", ".join(q(c) for c in codes)
        con = self._connection.cursor()
        try:
            reader = con.sql(f"SELECT {columns} FROM {q(spec.name)}").to_arrow_reader(batch_size)
            yield from reader
        finally:
            con.close()

    def export_csv(self, spec, codes, out, *, transform=None, batch_size=65_536):
        """Without ``transform``: DuckDB's own ``COPY`` of the columns, on a cursor of its own (one
        snapshot), the text cells made safe in the same statement."""
        if transform is not None:
            return super().export_csv(spec, codes, out, transform=transform, batch_size=batch_size)
        types = self.existing_columns(spec.name)
        columns = ", ".join(
            f"{csv_export.safe_text_sql(q(c), self.dialect)} AS {q(c)}"
            if parse_type(types[c]).kind == "text"
            else q(c)
            for c in codes
        )
        con = self._connection.cursor()
        try:
            return csv_export.copy_csv(
                con, f"SELECT {columns} FROM {q(spec.name)}", out, one_column=len(codes) == 1
            )
        finally:
            con.close()

    # --- first loads -----------------------------------------------------------------------------------
    def first_load(self, spec: TableSpec, batch_id: int, extra: dict[str, str]) -> str | None:
        """Into an empty current table, a batch is validated straight into a table shaped like it
        (plus the ``extra`` columns), committed on its own; applying then drops the rejected rows
        and the extra columns and puts the table in the current table's place, so each row is
        written once and no temp table spills. (Deleting rows, dropping a column or renaming a
        table in the transaction that appended the rows would make DuckDB rewrite them all at
        commit; after that commit these are metadata.) A staging table left by a crash is dropped
        when the batch runs again."""
        self.discard_staging(spec, batch_id)
        if not self.is_empty(spec):
            return None
        table = _staging_name(spec, batch_id)
        ddl = self.fetchall(
            "SELECT sql FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?", [spec.name]
        )[0][0]
        columns = [ddl[ddl.index("(") + 1 : ddl.rindex(")")], *(f"{q(n)} {t}" for n, t in extra.items())]
        self.execute(f"CREATE TABLE {q(table)} ({', '.join(columns)})")
        return table

    def discard_staging(self, spec: TableSpec, batch_id: int) -> None:
        self.execute(f"DROP TABLE IF EXISTS {q(_staging_name(spec, batch_id))}")

    def apply(self, spec, batch_id, mode, data, written_at, *, keep=()) -> ApplyResult:
        if isinstance(data, Staged) and data.table and mode != "delete":
            with self.transaction():
                if self.is_empty(spec):
                    return self._adopt(spec, data)
        # the current table has rows by now (another batch came first): apply as usual
        return super().apply(spec, batch_id, mode, data, written_at, keep=keep)

    def _adopt(self, spec: TableSpec, data: Staged) -> ApplyResult:
        """The staging table, without its rejected rows and extra columns, becomes the current table."""
        staging = q(data.table)
        if data.rejected:
            self.execute(f"DELETE FROM {staging} WHERE rowid IN ({data.rejected})")
        for column in self.existing_columns(data.table).keys() - self.existing_columns(spec.name).keys():
            self.execute(f"ALTER TABLE {staging} DROP COLUMN {q(column)}")
        self._key_indexed.discard(spec.name)  # dropped with the table it indexed
        self.execute(f"DROP TABLE {q(spec.name)}")
        self.execute(f"ALTER TABLE {staging} RENAME TO {q(spec.name)}")
        return ApplyResult(inserted=self._count(q(spec.name)), updated=0, deleted=0)

    # --- the store itself -------------------------------------------------------------------------------
    def initialise(self) -> None:
        found = self.schema_version()
        self.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
        self.upgrade(found)
        self.execute(
            f"INSERT OR REPLACE INTO {META_TABLE} VALUES ('schema_version', ?)", [str(STORE_SCHEMA_VERSION)]
        )

    def schema_version(self) -> int | None:
        if not self.existing_columns(META_TABLE):
            return None
        rows = self.fetchall(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'")
        return int(rows[0][0]) if rows else None

    def ping(self) -> bool:
        return self.fetchall("SELECT 1") == [(1,)]

    def close(self) -> None:
        self._connection.close()


def _staging_name(spec: TableSpec, batch_id: int) -> str:
    return f"{spec.name}_load_{int(batch_id)}"


def _key_index(table: str) -> str:
    return f"ix_{table}_key"
