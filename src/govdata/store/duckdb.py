"""DuckDB store: one file in the data directory, written by one process (the server).

A DuckDB connection must not be shared between threads; each thread takes its own cursor. Writes
are serialised by a lock (DuckDB has one writer); reads run concurrently on their own cursors.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from govdata.store.base import META_TABLE, STORE_SCHEMA_VERSION, Column
from govdata.store.sql import SqlStore, q


class DuckDBStore(SqlStore):
    backend = dialect = "duckdb"

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = Path(url.removeprefix("duckdb:///"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = duckdb.connect(str(self.path))
        self._local = threading.local()
        self._write_lock = threading.RLock()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._connection.cursor()
            self._local.cursor = cur
        return cur

    # --- hooks of SqlStore ---------------------------------------------------------------------------
    def execute(self, sql: str, params: list | None = None) -> None:
        self.cursor().execute(sql, params or []).fetchall()

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

    def load_incoming(self, data: Any, spec, columns: list[str]) -> None:
        # an Arrow reader can be scanned once; the batch is read several times, so copy it
        self.cursor().register("incoming_arrow", data)
        self.execute("CREATE OR REPLACE TEMP TABLE incoming AS SELECT * FROM incoming_arrow")

    def drop_incoming(self) -> None:
        self.cursor().unregister("incoming_arrow")
        self.execute("DROP TABLE IF EXISTS incoming")

    def column_type(self, column: Column) -> str:
        return column.duckdb_type()

    def existing_columns(self, table: str) -> dict[str, str]:
        rows = self.fetchall(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main'",
            [table],
        )
        return dict(rows)

    def upsert_current(self, spec, source: str) -> None:
        from govdata.store.base import BATCH, KEY, WRITTEN

        cols = ", ".join([KEY, *(q(c) for c in spec.codes), BATCH, WRITTEN])
        self.execute(f"INSERT OR REPLACE INTO {q(spec.name)} ({cols}) SELECT {cols} FROM {source} s")

    # --- the store itself -------------------------------------------------------------------------------
    def initialise(self) -> None:
        self.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
        self.execute(
            f"INSERT INTO {META_TABLE} VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING",
            [str(STORE_SCHEMA_VERSION)],
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
