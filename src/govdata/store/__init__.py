"""The data plane (AGG): the resources' typed tables in DuckDB (embedded) or PostgreSQL.

``SqlStore`` (``sql.py``) holds what both backends share, written once in SQL both understand: a
current and a history table per published resource (``r_<id>``, ``r_<id>_h``), bulk loading from the
validation's DuckDB, upsert/replace/delete batches, rollback of any batch, as-of reads, and the
statistics and comparisons other capabilities need (``column_fill``, ``compare_columns``,
``fusion.py`` for the base libraries). Table names and the system columns (``_key``, ``_batch_id``
…) never leave this package: capabilities speak of ``TableSpec`` and item codes.
"""

from __future__ import annotations

from typing import Protocol

from govdata.store.base import STORE_SCHEMA_VERSION


class Store(Protocol):
    url: str
    backend: str

    def initialise(self) -> None: ...

    def schema_version(self) -> int | None: ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


def open_store(url: str) -> Store:
    if url.startswith("duckdb:///"):
        from govdata.store.duckdb import DuckDBStore

        return DuckDBStore(url)
    if url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        from govdata.store.postgres import PostgresStore

        return PostgresStore(url)
    raise ValueError(
        f"unsupported store URL: {url.split(':', 1)[0]}:… (use duckdb:///path or postgresql://…)"
    )


__all__ = ["STORE_SCHEMA_VERSION", "Store", "open_store"]
