"""The data plane (AGG): a small ``Store`` protocol with DuckDB (embedded) and PostgreSQL backends.

The foundation only opens, initialises and checks the store; typed resource tables, bulk loading,
history and export arrive with the aggregation capability on top of this protocol.
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
