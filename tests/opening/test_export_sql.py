"""De-identified CSV written by the database (OPN-5 downloads, NF-3): for every mask kind and
generalisation the SQL path serves, the bytes are those of the Arrow path (``deid.transform_batch``
then ``csv_export``), on both stores, with hostile values; the rules SQL cannot serve exactly go to
the Arrow path."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pytest

from govdata.opening.service import deid
from govdata.opening.service.reads import sql_columns
from govdata.store import deid_export, open_store
from govdata.store.base import Column, TableSpec
from govdata.store.sql import SqlStore
from tests.support.postgres import create_database, drop_database

AT = dt.datetime(2026, 3, 2, 9, 0)
SPEC = TableSpec(
    900201,
    (
        Column("bh", "C", 10),
        Column("t", "C", 200),
        Column("d", "D"),
        Column("ts", "T"),
        Column("n", "I"),
        Column("amount", "N", 10, 2),
    ),
    ("bh",),
)
HOSTILE = [
    "=1+1",
    "+86 138",
    "-5",
    "@sum",
    "\t制表",
    "\r回车",
    'say "hi", then',
    "行一\n行二",
    None,
    "",
    "张",
    "张三",
    "欧阳",
    "欧阳娜娜",
    "司马光",
    "=欧阳锋",
    "x",
    "ab",
    "\x01控制\x85字符",
    "1985年3月",
    "19850304",
    "198",
    "410802198501011234",
    " 410802 ",
    "\u3000全角",
    "😀表情ab",
    "'引号",
]
ROWS = len(HOSTILE)
# (method, option): every rule the SQL path serves, and the columns it serves it on
SERVED = [
    ("mask", "ric", ["t"]),
    ("mask", "phone", ["t"]),
    ("mask", "name", ["t"]),
    ("mask", "generic", ["t"]),
    ("mask", "date", ["t", "d", "ts"]),
    ("generalise", "year", ["t", "d", "ts"]),
    ("generalise", "age_band", ["n", "amount"]),
]


@pytest.fixture
def store(backend, request, tmp_path) -> Iterator[SqlStore]:
    if backend == "sqlite":
        opened = open_store(f"duckdb:///{tmp_path / 'data.duckdb'}")
        opened.initialise()
        yield opened
        opened.close()
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"govdata_x_{uuid.uuid4().hex[:12]}"
    opened = open_store(create_database(admin_url, name))
    opened.initialise()
    yield opened
    opened.close()
    drop_database(admin_url, name)


class Sink:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> None:
        self.parts.append(bytes(data))

    @property
    def data(self) -> bytes:
        return b"".join(self.parts)


def _load(store: SqlStore) -> None:
    store.ensure_table(SPEC)
    dates = [dt.date(1900 + 7 * i, 1 + i % 12, 1 + i % 28) if i % 5 else None for i in range(ROWS)]
    columns = {
        "bh": pa.array([f"{i:04d}" for i in range(ROWS)]),
        "t": pa.array(HOSTILE, pa.string()),
        "d": pa.array(dates, pa.date32()),
        "ts": pa.array(
            [dt.datetime(d.year, d.month, d.day, 8, 30) if d else None for d in dates], pa.timestamp("us")
        ),
        "n": pa.array([None if i % 7 == 3 else (i * 13) % 120 - 4 for i in range(ROWS)], pa.int64()),
        "amount": pa.array(
            [None if i % 6 == 2 else Decimal(f"{(i * 37) % 1000 / 7:.2f}") for i in range(ROWS)],
            pa.decimal128(10, 2),
        ),
    }
    store.apply(SPEC, 1, "replace", pa.table({"_key": columns["bh"], **columns}), AT)


def _arrow_path(store: SqlStore, codes: list[str], rules: dict) -> bytes:
    sink = Sink()

    def transform(batch: pa.RecordBatch) -> pa.RecordBatch:
        return deid.transform_batch(batch, rules, None)

    store.export_csv(SPEC, codes, sink, transform=transform)
    return sink.data


def _sql_path(store: SqlStore, codes: list[str], rules: dict) -> bytes:
    columns = sql_columns(store, SPEC, codes, rules)
    assert columns is not None, rules
    sink = Sink()
    assert deid_export.export_csv(store, SPEC, columns, sink) == ROWS
    return sink.data


def _rule(method: str, option: str) -> dict:
    return {"method": method, ("mask" if method == "mask" else "generalise"): option}


def test_sql_path_writes_the_arrow_paths_bytes(store):
    _load(store)
    for method, option, targets in SERVED:
        for target in targets:
            rule = _rule(method, option)
            with_key = {"bh": {"method": "keep"}, target: rule}
            expected = _arrow_path(store, ["bh", target], with_key)
            assert _sql_path(store, ["bh", target], with_key) == expected, (method, option, target)
            alone = {target: rule}  # one column: a null is written "" (csv_export)
            assert _sql_path(store, [target], alone) == _arrow_path(store, [target], alone)

    # every rule at once, next to kept columns of each type
    rules = {
        "bh": {"method": "keep"},
        "t": _rule("mask", "name"),
        "d": _rule("generalise", "year"),
        "ts": _rule("mask", "date"),
        "n": {"method": "keep"},
        "amount": _rule("generalise", "age_band"),
    }
    codes = list(rules)
    data = _sql_path(store, codes, rules)
    assert data == _arrow_path(store, codes, rules)
    text = data.decode("utf-8")
    assert "'=***" in text and "欧阳**" in text and "\x01" not in text  # made safe, masked, cleaned


def test_rules_sql_cannot_serve_exactly_take_the_arrow_path(store):
    _load(store)
    for rules in (
        {"t": {"method": "pseudonymise"}},
        {"t": _rule("mask", "address")},
        {"t": _rule("generalise", "age_band")},  # Unicode white space trimmed by Arrow only
        {"t": _rule("generalise", "region_city")},
        {"n": _rule("mask", "ric")},  # a number masked as text
        {"bh": {"method": "keep"}, "t": _rule("mask", "address")},
    ):
        assert sql_columns(store, SPEC, list(rules), rules) is None, rules
    kept = {"bh": {"method": "keep"}, "n": {"method": "keep"}}
    assert sql_columns(store, SPEC, list(kept), kept) == [("bh", None, "text"), ("n", None, "bigint")]
