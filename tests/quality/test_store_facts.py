"""The store methods quality scores from (column fill, paired-column comparison), so that quality
never writes SQL against a resource's tables: values agree by ``core.values``. Both stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pyarrow as pa
import pytest

from govdata.store import open_store
from govdata.store.base import Column, TableSpec
from govdata.store.sql import SqlStore

PEOPLE = TableSpec(
    910001,
    (Column("id", "C", 18), Column("xm", "C", 20), Column("n", "N", 10, 2), Column("note", "C", 20)),
    ("id",),
)
INSURED = TableSpec(
    910002, (Column("sfz", "C", 18), Column("name", "C", 20), Column("amount", "C", 20)), ("sfz",)
)
AT = dt.datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def store(settings) -> Iterator[SqlStore]:
    store = open_store(settings.resolved_store_url())
    store.initialise()
    yield store
    store.close()


def test_column_fill_and_paired_comparison(store):
    assert store.column_fill(PEOPLE) == (0, {})
    assert store.compare_columns(PEOPLE, INSURED, [("xm", "name")]) == [None]
    for spec in (PEOPLE, INSURED):
        store.ensure_table(spec)
    people = {
        "_key": ["A", "B", "C", "D"],
        "id": ["A", "B", "C", "D"],
        "xm": ["张三", "李四", None, "赵六"],
        "n": pa.array([1, 2.5, None, 7], pa.float64()),
        "note": [None, None, None, "x"],
    }
    store.apply(PEOPLE, 1, "upsert", pa.table(people), AT)
    insured = {
        "_key": ["A", "B", "C", "E"],
        "sfz": ["A", "B", "C", "E"],
        "name": ["张三 ", "李四四", "王五", "孙七"],
        "amount": ["1.0", "2.50", "3", "9"],
    }
    store.apply(INSURED, 2, "upsert", pa.table(insured), AT)

    assert store.column_fill(PEOPLE) == (4, {"id": 4, "xm": 3, "n": 3, "note": 1})
    # keys in both: A, B, C. 姓名: A agrees (trimmed), B differs, C absent on one side;
    # amounts: "1.0" = 1 and "2.50" = 2.5 as numbers, C absent on one side
    assert store.compare_columns(PEOPLE, INSURED, [("xm", "name"), ("n", "amount"), ("xm", "missing")]) == [
        (2, 1),
        (2, 2),
        None,
    ]
