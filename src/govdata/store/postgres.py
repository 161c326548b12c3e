"""PostgreSQL store: resource tables live in the ``govdata_data`` schema of the given database.

A batch is validated in a DuckDB of its own (``SqlStore.workspace``); DuckDB writes the valid rows
as CSV into a pipe, which is streamed in 1 MiB chunks through ``COPY … FROM STDIN`` into a
temporary table (no Python work per row), then the same SQL as DuckDB's applies them; a first load
(into an empty current table) goes into a new table that then takes its place.
"""

from __future__ import annotations

import io
import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import duckdb
import psycopg
import pyarrow.csv as pa_csv

from govdata.store import csv_export
from govdata.store.base import (
    BATCH,
    KEY,
    META_TABLE,
    STORE_SCHEMA_VERSION,
    WRITTEN,
    ApplyResult,
    Column,
    Staged,
)
from govdata.store.sql import SqlStore, q
from govdata.store.types import POSTGRES_TRY_CAST, parse_type

SCHEMA = "govdata_data"


class PostgresStore(SqlStore):
    backend = dialect = "postgresql"
    data_schema = SCHEMA

    def __init__(self, url: str) -> None:
        self.url = url
        self._conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._local = threading.local()

    def _conn(self) -> psycopg.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = psycopg.connect(self._conninfo, autocommit=True)
            conn.execute(f"SET search_path TO {SCHEMA}, public")
            self._local.conn = conn
        return conn

    # --- hooks of SqlStore ---------------------------------------------------------------------------
    def execute(self, sql: str, params: list | None = None) -> None:
        self._conn().execute(sql.replace("?", "%s"), params or [])

    def write(self, sql: str, params: list | None = None) -> int:
        return self._conn().execute(sql.replace("?", "%s"), params or []).rowcount

    def fetchall(self, sql: str, params: list | None = None) -> list[tuple]:
        return self._conn().execute(sql.replace("?", "%s"), params or []).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self._conn()
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            yield  # already inside one
            return
        with conn.transaction():
            yield

    def load_incoming(self, data: Any, spec, columns: list[str]) -> str:
        names = [KEY, *columns]
        types = {c.code: self.column_type(c) for c in spec.columns}
        self.execute(
            "CREATE TEMP TABLE incoming ("
            + ", ".join(f"{q(n)} {types.get(n, 'TEXT')}" for n in names)
            + ") ON COMMIT DROP"
        )
        if isinstance(data, Staged):
            self._copy_csv(
                data.connection, f"SELECT {', '.join(q(n) for n in names)} FROM ({data.sql})", names
            )
            self.execute("ANALYZE incoming")  # without its statistics, each key is looked up one by one
            return "incoming"
        # Arrow rows (a table or a reader) take the same way, through a DuckDB of their own
        with duckdb.connect() as con:
            con.register("incoming_arrow", data)
            self._copy_csv(con, f"SELECT {', '.join(q(n) for n in names)} FROM incoming_arrow", names)
        return "incoming"

    def _copy_csv(
        self, con: duckdb.DuckDBPyConnection, sql: str, names: list[str], target: str = "incoming"
    ) -> int:
        """DuckDB writes the rows as CSV into a pipe (in parallel, no Python per row) while ``COPY``
        streams them out of it into ``target``, 1 MiB at a time: the two run side by side, and the
        pipe bounds the memory. Either side's failure fails the other: a reader that stops closes
        the pipe, so DuckDB's next write fails; a writer that fails ends the stream, and its error
        is raised inside ``COPY``, which then aborts. Returns how many rows were copied."""
        read_end, write_end = os.pipe()
        failed: list[BaseException] = []

        def write() -> None:
            try:
                con.execute(f"COPY ({sql}) TO '/dev/fd/{write_end}' (FORMAT csv, HEADER false)")
            except BaseException as exc:  # raised in the reading thread
                failed.append(exc)
            finally:
                os.close(write_end)

        writer = threading.Thread(target=write, name="govdata-copy-csv", daemon=True)
        writer.start()
        cursor = self._conn().cursor()
        copy_sql = f"COPY {target} ({', '.join(q(n) for n in names)}) FROM STDIN (FORMAT csv)"
        try:
            with open(read_end, "rb") as rows, cursor.copy(copy_sql) as copy:
                while chunk := rows.read(1024 * 1024):
                    copy.write(chunk)
                writer.join()
                if failed:
                    raise failed[0]
        finally:
            writer.join()
        return cursor.rowcount

    def apply(self, spec, batch_id, mode, data, written_at, *, keep=()) -> ApplyResult:
        """Into an empty current table (a first load), validated rows are copied into a new table
        shaped like it but without its primary key, the batch's columns written by DuckDB beside
        them; the key is then built in one sorted pass (the batch's keys are unique) and the new
        table takes the current table's place. No temporary table, no second pass, and no key
        inserted one by one, which costs more than the copy itself. Other writers wait from the
        start (the batches of a resource apply one at a time); readers only for the swap at the end."""
        if isinstance(data, Staged) and mode != "delete" and self.is_empty(spec):
            current = self.table_name(spec.name)
            with self.transaction():
                self.execute(f"LOCK TABLE {current} IN SHARE ROW EXCLUSIVE MODE")
                if self.is_empty(spec):  # still: no other batch came first
                    return self._first_load(spec, batch_id, data, written_at)
        return super().apply(spec, batch_id, mode, data, written_at, keep=keep)

    def _first_load(self, spec, batch_id: int, data: Staged, written_at) -> ApplyResult:
        current, loaded = self.table_name(spec.name), self.table_name(f"{spec.name}_load")
        self.execute(f"DROP TABLE IF EXISTS {loaded}")
        self.execute(f"CREATE TABLE {loaded} (LIKE {current} INCLUDING ALL EXCLUDING INDEXES)")
        names = [KEY, *spec.codes]
        stamp = written_at.isoformat(sep=" ")
        rows = (
            f"SELECT {', '.join(q(n) for n in names)}, {int(batch_id)}, TIMESTAMP '{stamp}' FROM ({data.sql})"
        )
        copied = self._copy_csv(data.connection, rows, [*names, BATCH, WRITTEN], loaded)
        self.execute(f"ALTER TABLE {loaded} ADD CONSTRAINT {q(spec.name + '_load_pkey')} PRIMARY KEY ({KEY})")
        self.execute(f"LOCK TABLE {current} IN ACCESS EXCLUSIVE MODE")
        self._carry_privileges(spec.name, loaded)
        self.execute(f"DROP TABLE {current}")
        self.execute(f"ALTER TABLE {loaded} RENAME TO {q(spec.name)}")
        self.execute(
            f"ALTER TABLE {current} RENAME CONSTRAINT {q(spec.name + '_load_pkey')} TO {q(spec.name + '_pkey')}"
        )
        return ApplyResult(inserted=copied, updated=0, deleted=0)

    def _carry_privileges(self, table: str, to: str) -> None:
        """Grant on ``to`` what was granted on ``table`` (say, SELECT to a reporting role by a DBA):
        the new table of a first load would otherwise have only the schema's default privileges."""
        granted = self.fetchall(
            "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, "
            "a.privilege_type, a.is_grantable FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(c.relacl) a "
            "LEFT JOIN pg_roles r ON r.oid = a.grantee "
            "WHERE n.nspname = ? AND c.relname = ? AND a.grantee <> c.relowner",
            [self.data_schema, table],
        )
        for grantee, privilege, grantable in granted:
            option = " WITH GRANT OPTION" if grantable else ""
            self.execute(f"GRANT {privilege} ON {to} TO {grantee}{option}")

    def drop_incoming(self) -> None:
        self.execute("DROP TABLE IF EXISTS incoming")

    def column_type(self, column: Column) -> str:
        return column.postgres_type()

    def existing_columns(self, table: str) -> dict[str, str]:
        """Column → its full type (``numeric(10,2)``, not the bare ``numeric`` of information_schema)."""
        rows = self.fetchall(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum",
            [self.data_schema, table],
        )
        return dict(rows)

    def table_name(self, table: str) -> str:
        return f"{SCHEMA}.{q(table)}"

    def index_name(self, index: str) -> str:
        return f"{SCHEMA}.{q(index)}"

    # --- exchange ----------------------------------------------------------------------------------------
    def export_batches(self, spec, codes, batch_size=65_536):
        """``COPY (SELECT …) TO STDOUT (FORMAT csv)`` on a connection of its own (one snapshot), parsed
        into Arrow record batches by Arrow's CSV reader with the columns' Arrow types (C++, no Python
        work per value; the rows are gathered 1 MiB at a time): a null is an unquoted empty field,
        an empty text a quoted one."""
        schema = self.arrow_schema(spec, codes)
        sql = f"COPY (SELECT {', '.join(q(c) for c in codes)} FROM {self.table_name(spec.name)}) TO STDOUT (FORMAT csv)"
        with psycopg.connect(self._conninfo) as conn:
            conn.execute("SET DateStyle TO ISO, YMD")
            conn.execute("SET client_encoding TO 'UTF8'")
            with conn.cursor().copy(sql) as copy:
                messages = iter(copy)
                first = next(messages, None)
                if first is None:  # no rows: Arrow's reader takes no empty file
                    return
                reader = pa_csv.open_csv(
                    _Rows(itertools.chain([first], messages)),
                    read_options=pa_csv.ReadOptions(column_names=list(codes), block_size=csv_export.BLOCK),
                    # a row of one null cell is an empty line: a row, not to be skipped
                    parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
                    convert_options=pa_csv.ConvertOptions(
                        column_types=schema,
                        strings_can_be_null=True,
                        quoted_strings_can_be_null=False,
                        true_values=["t"],
                        false_values=["f"],
                    ),
                )
                for batch in reader:
                    for start in range(0, batch.num_rows, batch_size):
                        yield batch.slice(start, batch_size)

    def export_csv(self, spec, codes, out, *, transform=None, batch_size=65_536):
        """Without ``transform``: ``COPY (SELECT …) TO STDOUT (FORMAT csv)`` on a connection of its own
        (one snapshot), the text cells made safe and the logical values spelt ``true``/``false`` in
        the same statement, dates in ISO; PostgreSQL ends lines with LF, ``csv_export.pg_rows`` with
        CRLF."""
        if transform is not None:
            return super().export_csv(spec, codes, out, transform=transform, batch_size=batch_size)
        types = {code: parse_type(name) for code, name in self.existing_columns(spec.name).items()}
        columns = ", ".join(_csv_column(c, types[c].kind) for c in codes)
        sql = f"COPY (SELECT {columns} FROM {self.table_name(spec.name)}) TO STDOUT (FORMAT csv)"
        with psycopg.connect(self._conninfo) as conn:
            conn.execute("SET DateStyle TO ISO, YMD")
            conn.execute("SET client_encoding TO 'UTF8'")
            with conn.cursor().copy(sql) as copy:
                return csv_export.pg_rows(copy, out, one_column=len(codes) == 1)

    # --- the store itself -------------------------------------------------------------------------------
    def initialise(self) -> None:
        found = self.schema_version()
        self.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        try_cast = f"{SCHEMA}.govdata_try_cast(text, text)"
        if self.fetchall("SELECT to_regprocedure(?)", [try_cast])[0][0] is None:
            with suppress(psycopg.errors.UniqueViolation):  # another process created it meanwhile
                self.execute(POSTGRES_TRY_CAST.format(schema=SCHEMA))
        self.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{META_TABLE} (key TEXT PRIMARY KEY, value TEXT)")
        self.upgrade(found)
        self.execute(
            f"INSERT INTO {SCHEMA}.{META_TABLE} VALUES ('schema_version', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [str(STORE_SCHEMA_VERSION)],
        )

    def schema_version(self) -> int | None:
        if self.fetchall("SELECT to_regclass(?)", [f"{SCHEMA}.{META_TABLE}"])[0][0] is None:
            return None
        rows = self.fetchall(f"SELECT value FROM {SCHEMA}.{META_TABLE} WHERE key = 'schema_version'")
        return int(rows[0][0]) if rows else None

    def ping(self) -> bool:
        return self.fetchall("SELECT 1") == [(1,)]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()


def _csv_column(code: str, kind: str) -> str:
    if kind == "text":
        return f"{csv_export.safe_text_sql(q(code), 'postgresql')} AS {q(code)}"
    if kind == "boolean":
        return f"CASE WHEN {q(code)} THEN 'true' WHEN NOT {q(code)} THEN 'false' END AS {q(code)}"
    return q(code)


class _Rows(io.RawIOBase):
    """PostgreSQL's COPY messages (one row each) as a file Arrow's CSV reader reads."""

    def __init__(self, messages: Iterator[Any]) -> None:
        super().__init__()
        self._messages = iter(messages)
        self._pending = bytearray()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        wanted = len(buffer)
        while len(self._pending) < wanted:
            message = next(self._messages, None)
            if message is None:
                break
            self._pending += message
        size = min(wanted, len(self._pending))
        buffer[:size] = self._pending[:size]
        del self._pending[:size]
        return size
