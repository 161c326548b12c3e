"""AGG-1 at the store: a column is changed to a type that does not hold its values only by a
migration, which keeps the old versions in the history; an upsert that lacks item columns keeps
their stored values. Both stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pytest

from govdata.store import open_store
from govdata.store.base import Column, MigrationNeeded, TableSpec
from govdata.store.sql import SqlStore
from govdata.store.types import SqlType, holds, parse_type, supertype

T0 = dt.datetime(2026, 3, 2, 9, 0)
RID = 900101


def spec(*columns: Column) -> TableSpec:
    return TableSpec(RID, (Column("code", "C", 10), *columns), ("code",))


def load(store: SqlStore, table: TableSpec, batch_id: int, rows: dict, mode: str = "upsert", **kw):
    columns = {"_key": list(rows), "code": list(rows)}
    for i, column in enumerate(table.columns[1:]):
        values = [row[i] for row in rows.values()]
        columns[column.code] = pa.array(values, _arrow_type(column))
    at = T0 + dt.timedelta(hours=batch_id)
    return store.apply(table, batch_id, mode, pa.table(columns), at, **kw)


def _arrow_type(column: Column) -> pa.DataType:
    if column.data_type == "N":
        return pa.decimal128(column.length or 18, column.precision or 0)
    if column.data_type == "I":
        return pa.int64()
    if column.data_type == "D":
        return pa.date32()
    return pa.string()


def current(store: SqlStore, table: TableSpec, **as_of) -> dict:
    rows = store.query(table, limit=100, **as_of).rows
    return {r["_key"]: tuple(r[c] for c in table.codes[1:]) for r in rows}


@pytest.fixture
def store(settings) -> Iterator[SqlStore]:
    store = open_store(settings.resolved_store_url())
    store.initialise()
    yield store
    store.close()


def test_which_type_holds_which():
    assert holds(parse_type("DECIMAL(12,2)"), parse_type("numeric(10,2)"))
    assert not holds(parse_type("DECIMAL(10,0)"), parse_type("DECIMAL(10,2)"))
    assert not holds(parse_type("DECIMAL(10,2)"), parse_type("DECIMAL(10,0)"))  # 10 integer digits
    assert holds(parse_type("text"), parse_type("BIGINT")) and holds(
        parse_type("TIMESTAMP"), parse_type("DATE")
    )
    assert supertype(parse_type("DECIMAL(10,2)"), parse_type("DECIMAL(10,0)")) == SqlType("decimal", 12, 2)
    assert supertype(parse_type("DATE"), parse_type("BOOLEAN")) == SqlType("text")


def test_narrowing_a_decimal_changes_nothing_without_a_migration_and_keeps_the_old_values_with_one(store):
    wide = spec(Column("je", "N", 10, 2))
    store.ensure_table(wide)
    load(
        store,
        wide,
        1,
        {"a": (Decimal("12.34"),), "b": (Decimal("12.00"),), "c": (None,), "d": (Decimal("5.5"),)},
    )
    narrow = spec(Column("je", "N", 10, 0))

    assert store.data_impact(narrow, ["je"]) == {"je": 2}  # 12.34 → 12 and 5.50 → 6; 12.00 stays
    assert store.ensure_table(narrow) == []  # the column keeps its type and its values
    with pytest.raises(MigrationNeeded) as refused:
        store.ensure_table(narrow, strict=True)
    assert refused.value.values == {"je": 2} and "迁移" in str(refused.value)
    assert current(store, narrow)["a"] == (Decimal("12.34"),)

    migrated = store.migrate(narrow, 2, T0 + dt.timedelta(hours=2), ["je"])
    assert (migrated.values, migrated.rows) == ({"je": 2}, 2)
    assert current(store, narrow) == {
        "a": (Decimal("12"),),
        "b": (Decimal("12"),),
        "c": (None,),
        "d": (Decimal("6"),),
    }
    # as of batch 1, or of a time before the migration, the old values read back
    # (b did not change: the same number, now as the new type stores it)
    before = {"a": ("12.34",), "b": ("12",), "c": (None,), "d": ("5.50",)}
    assert current(store, narrow, as_of_batch=1) == before
    assert current(store, narrow, as_of_time=T0 + dt.timedelta(hours=1, minutes=30)) == before
    assert current(store, narrow, as_of_batch=2) == {"a": ("12",), "b": ("12",), "c": (None,), "d": ("6",)}
    assert store.ensure_table(narrow, strict=True) == [] and store.data_impact(narrow, ["je"]) == {}
    assert store.migrate(narrow, 3, T0, ["je"]).rows == 0  # nothing left to change

    # later batches and their rollback work across the two types
    load(store, narrow, 4, {"a": (Decimal("13"),)})
    assert current(store, narrow)["a"] == (Decimal("13"),)
    store.rollback(narrow, 4)
    assert current(store, narrow)["a"] == (Decimal("12"),)


def test_a_narrowing_no_stored_value_feels_is_made_at_once(store):
    wide = spec(Column("je", "N", 10, 2))
    store.ensure_table(wide)
    load(store, wide, 1, {"a": (Decimal("12.00"),), "b": (None,)})
    narrow = spec(Column("je", "N", 10, 0))
    assert store.data_impact(narrow, ["je"]) == {"je": 0}
    changes = store.ensure_table(narrow, strict=True)
    assert len(changes) == 1 and changes[0].startswith("retyped je")
    assert parse_type(store.existing_columns(narrow.name)["je"]) == SqlType("decimal", 10, 0)


def test_retyping_text_removing_and_shortening_items(store):
    before = spec(Column("n", "C", 20), Column("d", "C", 20), Column("x", "C", 20), Column("t", "C", 20))
    store.ensure_table(before)
    load(
        store,
        before,
        1,
        {
            "a": ("12", "2024-01-05", "gone", "abcdef"),
            "b": ("x", "2024-02-30", None, "abc"),
            "c": (" 7", None, None, None),
        },
    )
    after = spec(Column("n", "I"), Column("d", "D"), Column("t", "C", 3))
    impact = store.data_impact(after, ["n", "d", "t"], removed=["x"])
    assert impact == {"n": 1, "d": 1, "t": 1, "x": 1}
    migrated = store.migrate(after, 2, T0 + dt.timedelta(hours=2), ["n", "d", "t"], removed=["x"])
    assert migrated.rows == 2  # a (x, t) and b (n, d); c's " 7" is the number 7
    assert current(store, after) == {
        "a": (12, dt.date(2024, 1, 5), "abc"),
        "b": (None, None, "abc"),
        "c": (7, None, None),
    }
    old = current(store, before, as_of_batch=1)
    assert old["a"] == ("12", "2024-01-05", "gone", "abcdef") and old["b"][:2] == ("x", "2024-02-30")


def test_an_upsert_keeps_the_stored_values_of_the_columns_it_lacks(store):
    table = spec(Column("xm", "C", 20), Column("dz", "C", 20))
    store.ensure_table(table)
    load(store, table, 1, {"a": ("甲", "一号"), "b": ("乙", "二号")})
    load(store, table, 2, {"a": ("甲二", None), "c": ("丙", None)}, keep=["dz"])
    assert current(store, table) == {"a": ("甲二", "一号"), "b": ("乙", "二号"), "c": ("丙", None)}
    load(store, table, 3, {"a": ("甲三", None)}, mode="replace", keep=["dz"])  # only upserts keep
    assert current(store, table) == {"a": ("甲三", None)}
