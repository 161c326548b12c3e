"""AGG-4 at the SQL level: how cell text becomes typed values, and which rule a value breaks, for the
forms department exports really take (spaces around values, thousands separators, 是/否, dates in
several notations). Validation runs in DuckDB whatever the store, so these need no store."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest

from govdata.aggregation.validation import VALID, ItemRule, validate
from govdata.core.ids import ric_check_digit, uscc_check_char
from tests.support.catalog import population

RULES = [
    ItemRule("bh", "编号", "C", length=6, required=True, key=True),
    ItemRule("mc", "名称", "C", length=4),
    ItemRule("je", "金额", "Y", minimum=0),
    ItemRule("yx", "是否有效", "L"),
    ItemRule("rq", "日期", "D"),
    ItemRule("lb", "类别", "C", length=2, code_list=("01", "02")),
]


def check(rows: list[tuple]) -> tuple[list[tuple], list[tuple]]:
    """(valid rows as typed values, errors as (row, item, value, rule)) of these source rows."""
    con = duckdb.connect()
    values = ", ".join("(" + ", ".join("NULL" if v is None else f"'{v}'" for v in row) + ")" for row in rows)
    con.execute(f"CREATE TEMP VIEW src AS SELECT * FROM (VALUES {values}) t(bh, mc, je, yx, rq, lb)")
    validate(con, RULES, {r.code: r.code for r in RULES})
    valid = con.execute(f"SELECT bh, mc, je, yx, rq, lb FROM {VALID} ORDER BY bh").fetchall()
    errors = con.execute("SELECT row, item, value, rule FROM errors ORDER BY row, item").fetchall()
    return valid, errors


def test_spaces_around_values_are_dropped_and_inner_ones_kept():
    valid, errors = check([("  000001 ", " 张 三 ", " 12.50", "是 ", " 2024-02-29 ", " 01")])
    assert errors == []
    assert valid == [("000001", "张 三", Decimal("12.50"), True, dt.date(2024, 2, 29), "01")]


def test_a_cell_of_spaces_is_empty():
    valid, errors = check([("000001", "   ", "   ", " ", "  ", "  ")])
    assert errors == [] and valid == [("000001", None, None, None, None, None)]
    _, errors = check([("   ", "甲", None, None, None, None)])
    assert errors == [(1, "bh", None, "required")]


@pytest.mark.parametrize(
    ("text", "amount"), [("1,234.50", Decimal("1234.50")), ("1234", Decimal("1234.00")), ("0", Decimal("0"))]
)
def test_amounts_read_thousands_separators(text, amount):
    valid, errors = check([("000001", None, text, None, None, None)])
    assert errors == [] and valid[0][2] == amount


@pytest.mark.parametrize(
    ("text", "value"),
    [("是", True), ("否", False), ("1", True), ("0", False), ("Yes", True), ("NO", False), ("t", True)],
)
def test_logical_values_in_chinese_and_english(text, value):
    valid, errors = check([("000001", None, None, text, None, None)])
    assert errors == [] and valid[0][3] is value


@pytest.mark.parametrize("text", ["2024-03-05", "20240305", "2024/03/05", "2024年03月05日"])
def test_dates_in_the_notations_departments_use(text):
    valid, errors = check([("000001", None, None, None, text, None)])
    assert errors == [] and valid[0][4] == dt.date(2024, 3, 5)


def test_each_broken_value_names_its_rule_and_row():
    rows = [
        ("000001", "甲", "1,2x", "是", "2024-02-30", "01"),  # not an amount, no such day
        ("000002", "名称过长了", "-1", "也许", "2024-01-01", "03"),  # length, range, logical, code list
        ("000003", "丙", "5", "否", "2024-01-01", "02"),
    ]
    valid, errors = check(rows)
    assert [v[0] for v in valid] == ["000003"]
    assert errors == [
        (1, "je", "1,2x", "type"),
        (1, "rq", "2024-02-30", "type"),
        (2, "je", "-1", "range"),
        (2, "lb", "03", "code_list"),
        (2, "mc", "名称过长了", "length"),
        (2, "yx", "也许", "type"),
    ]


def test_every_row_of_a_repeated_key_is_rejected():
    valid, errors = check(
        [("000001", "甲", None, None, None, None), ("000001 ", "乙", None, None, None, None)]
    )
    assert valid == []
    assert errors == [(1, "bh", "000001", "duplicate_key"), (2, "bh", "000001", "duplicate_key")]


def test_identifiers_that_are_not_the_key_are_checked_once_per_value_with_the_same_result():
    """A person's employer code repeats across rows: its GB 32100 check runs per distinct value,
    after the other rules, and reports exactly what checking every row would."""
    first17 = "91410800MA44ABCD1"
    good, bad = (
        first17 + uscc_check_char(first17),
        first17 + ("0" if uscc_check_char(first17) != "0" else "1"),
    )
    rules = [
        ItemRule("sfzh", "公民身份号码", "C", length=18, required=True, key=True, key_kind="ric"),
        ItemRule("dwdm", "单位统一社会信用代码", "C", length=18, key_kind="uscc"),
    ]
    ids = [f"41080219850101{i:03d}" for i in range(6)]
    rows = [
        (i + ric_check_digit(i), code)
        for i, code in zip(ids, [good, bad, bad, good.lower(), bad + "X", None], strict=True)
    ]
    con = duckdb.connect()
    values = ", ".join("(" + ", ".join("NULL" if v is None else f"'{v}'" for v in row) + ")" for row in rows)
    con.execute(f"CREATE TEMP VIEW src AS SELECT * FROM (VALUES {values}) t(sfzh, dwdm)")
    checked = validate(con, rules, {"sfzh": "sfzh", "dwdm": "dwdm"})
    errors = con.execute("SELECT row, item, value, rule FROM errors ORDER BY row").fetchall()
    assert errors == [(2, "dwdm", bad, "uscc"), (3, "dwdm", bad, "uscc"), (5, "dwdm", bad + "X", "length")]
    assert (checked.rows, checked.rejected) == (6, 3)
    assert [r[0] for r in con.execute(f"SELECT sfzh FROM {VALID} ORDER BY sfzh").fetchall()] == [
        rows[0][0],
        rows[3][0],
        rows[5][0],
    ]


def test_a_pattern_written_with_unicode_escapes_applies_as_the_catalog_read_it():
    """A 姓名 pattern as Python or JavaScript writes it, ``[\\u4e00-\\u9fa5]``: the batch reads the
    escapes as the characters (the stores' engine, RE2, has no ``\\u``)."""
    rule = ItemRule("xm", "姓名", "C", length=20, pattern=r"^[\u4e00-\u9fa5·]{2,20}$")
    con = duckdb.connect()
    con.execute(
        "CREATE TEMP VIEW src AS SELECT * FROM (VALUES ('张三'), ('Zhang San'), ('买买提·艾力')) t(xm)"
    )
    validate(con, [rule], {"xm": "xm"})
    assert con.execute("SELECT row, value, rule FROM errors").fetchall() == [(2, "Zhang San", "pattern")]


def test_a_pattern_the_stores_cannot_apply_is_refused_by_the_catalog(client, as_user):
    body = population(name="人口信息（格式）")
    body["items"][1]["pattern"] = r"^(?!测试)[\u4e00-\u9fa5]+$"  # a look-ahead: RE2 has none
    refused = client.post("/api/v1/resources", json=body, headers=as_user("ga_officer"))
    assert refused.status_code == 422, refused.text
    assert "items.1.pattern" in {e["field"] for e in refused.json()["errors"]}
    body["items"][1]["pattern"] = r"^[\u4e00-\u9fa5]+$"
    assert client.post("/api/v1/resources", json=body, headers=as_user("ga_officer")).status_code == 201
