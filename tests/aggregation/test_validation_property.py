"""AGG-4 as a property: the vectorised validator reports exactly the errors a plain per-row reference
finds, on generated rule sets and rows (valid values, broken ones, blanks, spaces, thousands
separators, 是/否, 公民身份号码 judged by python-stdnum). Validation runs in DuckDB whatever the
store, so this needs no store."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

import duckdb
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric

from govdata.aggregation.validation import VALID, ItemRule, validate

# --- the reference: one row at a time, one rule after another ----------------------------------

INVALID = object()
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")  # thousands separators, grouped by three
INTEGER = re.compile(r"[+-]?\d+")
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S")
LOGICAL = {"是": True, "1": True, "true": True, "t": True, "y": True, "yes": True}
LOGICAL |= {"否": False, "0": False, "false": False, "f": False, "n": False, "no": False}


def _decimal(text: str, digits: int, places: int):
    """``text`` as DECIMAL(digits, places): rounded to ``places``, at most ``digits - places`` before
    the point."""
    value = Decimal(text).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return INVALID if abs(value) >= Decimal(10) ** (digits - places) else value


def typed(rule: ItemRule, text: str):
    """The value ``text`` stands for under the item's type, or INVALID."""
    kind = rule.data_type
    if kind in ("C", "M", "G"):
        return text
    if kind == "I":
        return int(text) if INTEGER.fullmatch(text) else INVALID
    if kind == "N":
        if not NUMBER.fullmatch(text):
            return INVALID
        if rule.length:
            return _decimal(text, rule.length, min(rule.precision or 0, rule.length))
        return Decimal(text)
    if kind == "Y":
        if GROUPED.fullmatch(text):
            text = text.replace(",", "")
        return _decimal(text, 18, 2) if NUMBER.fullmatch(text) else INVALID
    if kind == "D":
        for pattern in DATE_FORMATS:
            try:
                return dt.datetime.strptime(text, pattern).date()
            except ValueError:
                continue
        return INVALID
    if kind == "L":
        return LOGICAL.get(text.lower() if text.isascii() else text, INVALID)
    raise AssertionError(kind)


def first_broken_rule(rule: ItemRule, text: str | None) -> str | None:
    if text is None:
        return "required" if rule.required else None
    value = typed(rule, text)
    if value is INVALID:
        return "type"
    if rule.length and rule.data_type in ("C", "M") and len(text) > rule.length:
        return "length"
    if rule.code_list and text not in rule.code_list:
        return "code_list"
    if rule.pattern and not re.fullmatch(rule.pattern, text):
        return "pattern"
    if rule.minimum is not None and value < Decimal(str(rule.minimum)):
        return "range"
    if rule.maximum is not None and value > Decimal(str(rule.maximum)):
        return "range"
    if rule.key_kind == "ric" and not stdnum_ric.is_valid(text):
        return "ric"
    return None


def cell_text(cell: str | None) -> str | None:
    """What a cell holds once the spaces around it are dropped; an empty cell holds nothing."""
    return (cell.strip(" ") or None) if cell is not None else None


def reference(rules: list[ItemRule], rows: list[dict[str, str | None]]) -> list[tuple]:
    """The errors (row, item, value, rule) of ``rows``, checked one row at a time."""
    errors = []
    keys: dict[str, list[int]] = {}
    key_rule = next((r for r in rules if r.key), None)
    for number, row in enumerate(rows, start=1):
        for rule in rules:
            text = cell_text(row.get(rule.code))
            broken = first_broken_rule(rule, text)
            if broken:
                errors.append((number, rule.code, text, broken))
        if key_rule is not None:
            key = cell_text(row.get(key_rule.code))
            if key is not None:
                keys.setdefault(key.upper() if key_rule.key_kind else key, []).append(number)
    for numbers in keys.values():
        if len(numbers) > 1:
            for number in numbers:
                errors.append(
                    (number, key_rule.code, cell_text(rows[number - 1][key_rule.code]), "duplicate_key")
                )
    return sorted(errors, key=repr)


def vectorised(rules: list[ItemRule], columns: list[str], rows: list[dict[str, str | None]]):
    """The validator's errors (row, item, value, rule) and its counts, on ``rows`` as a text view."""
    con = duckdb.connect()
    try:

        def literal(value: str | None) -> str:
            return "CAST(NULL AS VARCHAR)" if value is None else "'" + value.replace("'", "''") + "'"

        names = ", ".join(f'"{c}"' for c in columns)
        values = ", ".join("(" + ", ".join(literal(row.get(c)) for c in columns) + ")" for row in rows)
        con.execute(f"CREATE TEMP VIEW src AS SELECT * FROM (VALUES {values}) t({names})")
        checked = validate(con, rules, {c: c for c in columns})
        errors = con.execute("SELECT row, item, value, rule FROM errors").fetchall()
        valid = con.execute(f"SELECT count(*) FROM {VALID}").fetchall()[0][0]
        return sorted(errors, key=repr), checked, valid
    finally:
        con.close()


# --- generated rule sets and rows ---------------------------------------------------------------

REGIONS = ("410802", "110101")  # regions python-stdnum knows for every birth year generated


@st.composite
def ric_texts(draw) -> str:
    """A 公民身份号码, valid or broken in one of the ways department data is."""
    first17 = (
        draw(st.sampled_from(REGIONS))
        + draw(st.dates(dt.date(1984, 1, 1), dt.date(2009, 12, 31))).strftime("%Y%m%d")
        + f"{draw(st.integers(0, 999)):03d}"
    )
    check = stdnum_ric.calc_check_digit(first17 + "0")
    kind = draw(st.sampled_from(["valid", "valid", "lower", "check", "date", "short", "long", "letter"]))
    if kind == "lower":
        return first17 + check.lower()
    if kind == "check":
        return first17 + ("0" if check != "0" else "1")
    if kind == "date":  # 30 February, with the check digit it would have
        first17 = first17[:10] + "0230" + first17[14:]
        return first17 + stdnum_ric.calc_check_digit(first17 + "0")
    if kind == "short":
        return first17
    if kind == "long":
        return first17 + check + "0"
    if kind == "letter":
        return first17[:8] + "A" + first17[9:] + check
    return first17 + check


NUMBERS = st.builds(
    lambda sign, whole, fraction: sign + str(whole) + (f".{fraction}" if fraction else ""),
    st.sampled_from(["", "", "-"]),
    st.integers(0, 99_999),
    st.sampled_from(["", "", "5", "25", "125", "995"]),  # rounded to the item's precision
)


GARBAGE = st.sampled_from(["abc", "12x", "--1", "1.2.3", "一百", "-", "O'Brien"])
GROUPED_NUMBERS = st.integers(1_000, 9_999_999).map(lambda n: f"{n:,}")
MISGROUPED = st.sampled_from(["12,34", "1,5", "1,2345", "-12,34.5"])

TEXTS = {
    "C": st.sampled_from(
        ["甲", "张三", "名称过长了啊", "01", "02", "03", "AB12", "ab12", "123456", "O'Brien"]
    ),
    "I": st.one_of(NUMBERS, st.sampled_from(["0", "7", "-3", "1.5", "-0.5", "1,000"]), GARBAGE),
    "N": st.one_of(NUMBERS, GROUPED_NUMBERS, GARBAGE),
    "Y": st.one_of(NUMBERS, GROUPED_NUMBERS, MISGROUPED, GARBAGE),
    "D": st.one_of(
        st.builds(
            lambda day, pattern: day.strftime(pattern),
            st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31)),
            st.sampled_from(DATE_FORMATS),
        ),
        st.sampled_from(["2023-02-29", "2024-02-30", "2024-13-01", "20240230", "2024/03/05x", "昨天"]),
    ),
    "L": st.sampled_from(
        ["是", "否", "1", "0", "true", "False", "Y", "n", "yes", "NO", "t", "也许", "2", "对"]
    ),
}


@st.composite
def item_rules(draw, code: str) -> ItemRule:
    kind = draw(st.sampled_from(sorted(TEXTS)))
    rule = {"code": code, "name": code, "data_type": kind, "required": draw(st.booleans())}
    if kind == "C":
        rule["length"] = draw(st.sampled_from([None, 2, 4, 6]))
        rule["code_list"] = draw(st.sampled_from([None, ("01", "02", "03")]))
        rule["pattern"] = draw(st.sampled_from([None, r"\d+", r"[A-Z]{2}\d{2}"]))
    if kind == "N":
        rule["length"] = draw(st.sampled_from([None, 4, 6, 8]))
        rule["precision"] = draw(st.sampled_from([None, 0, 2])) if rule["length"] else None
    if kind in ("I", "N", "Y"):
        rule["minimum"] = draw(st.sampled_from([None, 0, -10.5]))
        rule["maximum"] = draw(st.sampled_from([None, 100, 5000.25]))
    return ItemRule(**rule)


KEY_RIC = ItemRule("sfzh", "公民身份号码", "C", length=18, required=True, key=True, key_kind="ric")
KEY_CODE = ItemRule("bh", "编号", "C", length=6, required=True, key=True)
EMPLOYEE_RIC = ItemRule("lxrsfzh", "联系人公民身份号码", "C", length=18, key_kind="ric")  # checked per value


def cells(rule: ItemRule) -> st.SearchStrategy[str | None]:
    if rule.key_kind == "ric":
        text = ric_texts()
    elif rule is KEY_CODE:
        text = st.sampled_from(["000001", "000002", "000003", "00000a", "0000001"])
    else:
        text = TEXTS[rule.data_type]
    padded = st.builds(
        lambda t, left, right: left + t + right,
        text,
        st.sampled_from(["", " ", "  "]),
        st.sampled_from(["", " "]),
    )
    return st.one_of(text, text, text, padded, st.sampled_from([None, "", "   "]))


@st.composite
def batches(draw):
    """(rules, the file's columns, rows): some items may be missing from the file."""
    rules = [draw(st.sampled_from([KEY_RIC, KEY_CODE, None]))]
    rules += [draw(item_rules(f"x{i}")) for i in range(draw(st.integers(1, 4)))]
    rules += [EMPLOYEE_RIC] if draw(st.booleans()) else []
    rules = [r for r in rules if r is not None]
    columns = [r.code for r in rules if draw(st.integers(0, 9)) > 0]
    if not columns:
        columns = [rules[0].code]
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        row = {c: draw(cells(next(r for r in rules if r.code == c))) for c in columns}
        if rows and rules[0].key and rules[0].code in columns and draw(st.integers(0, 3)) == 0:
            row[rules[0].code] = draw(st.sampled_from(rows))[rules[0].code]  # a repeated key
        rows.append(row)
    return rules, columns, rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
# Disagreements found so far, kept until the validator is changed:
# an integer item takes "1.5" as 2 (DuckDB's TRY_CAST to BIGINT rounds a decimal);
@example(([ItemRule("x0", "x0", "I")], ["x0"], [{"x0": "1.5"}]))
# an amount drops every comma, so "1,5" (a decimal comma, or a typo) becomes 15.
@example(([ItemRule("x0", "x0", "Y")], ["x0"], [{"x0": "1,5"}]))
def test_the_vectorised_validator_agrees_with_a_per_row_reference(batch):
    rules, columns, rows = batch
    expected = reference(rules, rows)
    errors, checked, valid = vectorised(rules, columns, rows)
    assert errors == expected
    rejected = len({e[0] for e in expected})
    assert (checked.rows, checked.rejected, checked.errors) == (len(rows), rejected, len(expected))
    assert valid == len(rows) - rejected
