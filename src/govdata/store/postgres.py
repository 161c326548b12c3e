"""PostgreSQL store: resource tables live in the ``govdata_data`` schema of the given database."""

from __future__ import annotations

import psycopg

from govdata.store.base import META_TABLE, STORE_SCHEMA_VERSION

SCHEMA = "govdata_data"


class PostgresStore:
    backend = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._connection = psycopg.connect(conninfo, autocommit=True)

    def initialise(self) -> None:
        with self._connection.cursor() as cur:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{META_TABLE} (key TEXT PRIMARY KEY, value TEXT)"
            )
            cur.execute(
                f"INSERT INTO {SCHEMA}.{META_TABLE} VALUES ('schema_version', %s) ON CONFLICT (key) DO NOTHING",
                [str(STORE_SCHEMA_VERSION)],
            )

    def schema_version(self) -> int | None:
        with self._connection.cursor() as cur:
            cur.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.{META_TABLE}"])
            if cur.fetchone()[0] is None:
                return None
            cur.execute(f"SELECT value FROM {SCHEMA}.{META_TABLE} WHERE key = 'schema_version'")
            row = cur.fetchone()
            return int(row[0]) if row else None

    def ping(self) -> bool:
        with self._connection.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone() == (1,)

    def close(self) -> None:
        self._connection.close()
