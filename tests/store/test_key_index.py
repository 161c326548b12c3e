"""SHR-6 at the store: a resource served by key gets an index for its lookups (DuckDB builds it on
first use; PostgreSQL's primary key is one), and the store's own changes to the table — a first
load that adopts its staging table, a column retyped by a migration — keep working with it and
answer the same records afterwards. Both stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa
import pytest

from govdata.store import open_store
from govdata.store.base import Column, TableSpec
from govdata.store.sql import SqlStore

T0 = dt.datetime(2026, 3, 2, 9, 0)
RID = 900202


def spec(amount: Column) -> TableSpec:
    return TableSpec(RID, (Column("code", "C", 18), Column("name", "C", 40), amount), ("code",))


@pytest.fixture
def store(settings) -> Iterator[SqlStore]:
    store = open_store(settings.resolved_store_url())
    store.initialise()
    yield store
    store.close()


def load(store: SqlStore, table: TableSpec, batch_id: int, rows: dict[str, tuple[str, int]]) -> None:
    columns = {
        "_key": list(rows),
        "code": list(rows),
        "name": [name for name, _ in rows.values()],
        "amount": [amount for _, amount in rows.values()],
    }
    store.apply(table, batch_id, "upsert", pa.table(columns), T0 + dt.timedelta(hours=batch_id))


def by_key(store: SqlStore, table: TableSpec, *keys: str) -> dict[str, tuple]:
    result = store.query(table, keys=list(keys), limit=50, offset=0)
    assert result.total == len(result.rows)
    return {row["_key"]: (row["name"], row["amount"]) for row in result.rows}


def test_lookups_by_key_before_and_after_the_store_changes_the_table(store):
    small = spec(Column("amount", "I", 4))
    store.ensure_table(small)
    store.ensure_key_index(small)  # on the empty table, before the first load adopts its staging table
    load(store, small, 1, {f"K{i:04d}": (f"名{i}", i) for i in range(300)})
    store.ensure_key_index(small)
    assert by_key(store, small, "K0007", "K0299", "NOPE") == {"K0007": ("名7", 7), "K0299": ("名299", 299)}

    load(store, small, 2, {"K0007": ("改名", 70), "K0300": ("新增", 300)})  # kept up by the index
    assert by_key(store, small, "K0007", "K0300") == {"K0007": ("改名", 70), "K0300": ("新增", 300)}

    wider = spec(Column("amount", "I", 12))  # a wider integer: the column is retyped in place
    store.ensure_table(wider)
    store.ensure_key_index(wider)
    assert by_key(store, wider, "K0007", "K0001") == {"K0007": ("改名", 70), "K0001": ("名1", 1)}


def test_a_page_of_many_keys_comes_in_key_order_with_the_count_of_all(store):
    table = spec(Column("amount", "I", 4))
    store.ensure_table(table)
    load(store, table, 1, {f"K{i:04d}": (f"名{i}", i) for i in range(20)})
    store.ensure_key_index(table)
    keys = [f"K{i:04d}" for i in (15, 3, 9, 12, 1)]
    page = store.query(table, keys=keys, limit=2, offset=1)
    assert [row["_key"] for row in page.rows] == ["K0003", "K0009"]
    assert page.total == 5
