"""DuckDB store: one file in the data directory, written by one process (the server).

A DuckDB connection must not be shared between threads; each thread takes its own cursor.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb

from govdata.store.base import META_TABLE, STORE_SCHEMA_VERSION


class DuckDBStore:
    backend = "duckdb"

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = Path(url.removeprefix("duckdb:///"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = duckdb.connect(str(self.path))
        self._local = threading.local()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._connection.cursor()
            self._local.cursor = cur
        return cur

    def initialise(self) -> None:
        cur = self.cursor()
        cur.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)")
        cur.execute(
            f"INSERT INTO {META_TABLE} VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING",
            [str(STORE_SCHEMA_VERSION)],
        )

    def schema_version(self) -> int | None:
        cur = self.cursor()
        exists = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [META_TABLE]
        ).fetchall()[0][0]
        if not exists:
            return None
        rows = cur.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'").fetchall()
        return int(rows[0][0]) if rows else None

    def ping(self) -> bool:
        return self.cursor().execute("SELECT 1").fetchall() == [(1,)]

    def close(self) -> None:
        self._connection.close()
