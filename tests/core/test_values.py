"""One definition of "agree" (core.values): the Python rule and its SQL on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govdata.core.values import agree, agree_sql, comparable, comparable_sql

CASES = [
    (None, None),
    ("", None),
    ("   ", None),
    ("李四", "李四"),
    (" 李四 ", "李四"),
    ("1", "1"),
    ("1.0", "1"),
    ("01", "1"),
    ("+1.50", "1.5"),
    ("-0.00", "0"),
    ("-0", "0"),
    (".5", "0.5"),
    ("5.", "5"),
    ("-007.100", "-7.1"),
    ("0", "0"),
    ("000", "0"),
    ("12345678901234567890.000000000000000001", "12345678901234567890.000000000000000001"),
    ("1e-05", "1e-05"),  # scientific notation is text
    ("1,000", "1,000"),
    ("１２", "１２"),  # full-width digits are text
    ("-", "-"),
    (".", "."),
    ("+-1", "+-1"),
    ("41080219850101001X", "41080219850101001X"),
    (12, "12"),
    (Decimal("1.50"), "1.5"),
    (1.0, "1"),
    (True, "true"),
    (date(2026, 1, 2), "2026-01-02"),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_comparable_form(value, expected):
    assert comparable(value) == expected


def test_agree_compares_numbers_as_numbers_and_everything_else_as_trimmed_text():
    assert agree("1.0", "1") is True
    assert agree("1.0", 1) is True
    assert agree(" 007 ", "7") is True
    assert agree("1.0", "1.01") is False
    assert agree("李四", " 李四") is True
    assert agree("李四", "张三") is False
    assert agree("1", "one") is False
    assert agree("1e0", "1") is False  # scientific notation is text
    assert agree(None, "1") is None and agree("", "1") is None and agree("1", " ") is None


TEXT_CASES = [c for c in CASES if isinstance(c[0], str) or c[0] is None]


def _duckdb_forms(values: list[str | None]) -> list[str | None]:
    with duckdb.connect() as con:
        con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
        return [row[0] for row in con.execute(f"SELECT {comparable_sql('v')} FROM t ORDER BY i").fetchall()]


def _postgres_forms(url: str, values: list[str | None]) -> list[str | None]:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE t (i INTEGER, v TEXT)")
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO t VALUES (%s, %s)", list(enumerate(values)))
        return [row[0] for row in conn.execute(f"SELECT {comparable_sql('v')} FROM t ORDER BY i").fetchall()]


def test_the_sql_gives_the_same_forms_on_duckdb():
    values = [v for v, _ in TEXT_CASES]
    assert _duckdb_forms(values) == [e for _, e in TEXT_CASES]


def test_the_sql_gives_the_same_forms_on_postgresql(postgres_admin_url):
    values = [v for v, _ in TEXT_CASES]
    assert _postgres_forms(postgres_admin_url, values) == [e for _, e in TEXT_CASES]


def test_typed_columns_compare_by_value_in_sql():
    with duckdb.connect() as con:
        row = con.execute(
            f"SELECT {agree_sql('CAST(1.50 AS DECIMAL(10, 2))', 'CAST(1.5 AS DOUBLE)')}, "
            f"{agree_sql('CAST(7 AS BIGINT)', chr(39) + '007' + chr(39))}, "
            f"{agree_sql('CAST(NULL AS VARCHAR)', chr(39) + '1' + chr(39))}, "
            f"{agree_sql(chr(39) + 'a' + chr(39), chr(39) + 'b' + chr(39))}"
        ).fetchall()[0]
    assert row == (True, True, None, False)


numbers = st.from_regex(r"\A[ ]{0,2}[+-]?([0-9]{1,12}\.?[0-9]{0,6}|\.[0-9]{1,6})[ ]{0,2}\Z")
texts = st.text(alphabet=st.sampled_from(list("0123456789.+-eE ,x李")), max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(numbers, texts), min_size=1, max_size=20))
def test_python_and_duckdb_agree_on_generated_values(values):
    assert _duckdb_forms(values) == [comparable(v) for v in values]


@settings(max_examples=200, deadline=None)
@given(numbers, numbers)
def test_numbers_agree_exactly_when_equal_as_decimals(a, b):
    assert agree(a, b) == (Decimal(a.strip()) == Decimal(b.strip()))
