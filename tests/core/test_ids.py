"""Tests for govdata.core.ids: scalar checks against python-stdnum, and SQL == scalar."""

from __future__ import annotations

import datetime
import random
import re
import sys

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from govdata.core import ids

DIGITS = "0123456789"
TODAY = datetime.date.today()
CJK = re.compile(r"[\u4e00-\u9fff]")
WHITESPACE = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]
# Characters that look like whitespace or digits but are not stripped / not ASCII digits.
LOOKALIKES = ["\u200b", "\ufeff", "\u00ad", "０", "１", "Ｘ", "ｘ", "٣", "-", "_", "+", ".", "\x00"]


def is_chinese(message: str | None) -> bool:
    return message is not None and CJK.search(message) is not None


def make_ric(region: str, birth: datetime.date | str, seq: str = "001", *, check: str | None = None) -> str:
    ymd = birth if isinstance(birth, str) else f"{birth.year:04d}{birth.month:02d}{birth.day:02d}"
    first17 = region + ymd + seq
    return first17 + (ids.ric_check_digit(first17) if check is None else check)


# --------------------------------------------------------------------------------------------
# Normalisation table
# --------------------------------------------------------------------------------------------


def test_whitespace_table_matches_str_strip() -> None:
    assert list(ids._WHITESPACE) == WHITESPACE


# --------------------------------------------------------------------------------------------
# 公民身份号码
# --------------------------------------------------------------------------------------------


def test_ric_known_valid_agrees_with_stdnum() -> None:
    first17 = "11010519491231002"
    check = ids.ric_check_digit(first17)
    assert check == stdnum_ric.calc_check_digit(first17 + "?") == "X"
    value = first17 + check
    assert ids.ric_is_valid(value)
    assert ids.ric_problem(value) is None
    assert stdnum_ric.is_valid(value)
    assert ids.ric_birth_date(value) == datetime.date(1949, 12, 31)
    # stdnum's own doctest example
    assert ids.ric_is_valid("360426199101010071")


def test_ric_normalisation() -> None:
    assert ids.ric_is_valid("11010519491231002x")
    assert ids.ric_is_valid(" \t11010519491231002X\u3000\n")
    assert not ids.ric_is_valid("1101051949 1231002X")
    assert not ids.ric_is_valid("１１０１０５１９４９１２３１００２Ｘ")  # full-width: rejected
    assert not ids.ric_is_valid(None)
    assert not ids.ric_is_valid(110105194912310021)


def test_ric_check_digit_rejects_bad_input() -> None:
    for bad in ["", "1234", "1101051949123100X", "１１０１０５１９４９１２３１００２", "110105194912310021"]:
        with pytest.raises(ValueError):
            ids.ric_check_digit(bad)


def test_ric_messages() -> None:
    assert ids.ric_problem("1101051949123100") == "长度应为18位（实际为16位）"
    assert ids.ric_problem("11010519491231002XX").startswith("长度应为18位")
    assert ids.ric_problem("11010519491231A02X") == "前17位应为数字"
    assert ids.ric_problem("11010519491231002٣") is not None
    assert ids.ric_problem(make_ric("110105", "19900230")).startswith("出生日期无效")
    assert ids.ric_problem(make_ric("110105", "19901301")).startswith("出生日期无效")
    assert ids.ric_problem(make_ric("110105", datetime.date(1849, 12, 31))).startswith("出生日期无效")
    assert ids.ric_problem(make_ric("110105", datetime.date(1850, 1, 1))) is None
    tomorrow = TODAY + datetime.timedelta(days=1)
    assert ids.ric_problem(make_ric("110105", tomorrow)).startswith("出生日期无效")
    assert ids.ric_problem(make_ric("110105", TODAY)) is None
    assert ids.ric_problem(make_ric("110105", tomorrow), today=tomorrow) is None
    assert ids.ric_problem(make_ric("110105", datetime.date(2000, 2, 29))) is None
    assert ids.ric_problem(make_ric("110105", "19000229")).startswith("出生日期无效")
    wrong = "110105194912310021"
    message = ids.ric_problem(wrong)
    assert message is not None and message.startswith("校验码错误，应为X")
    for value in [wrong, "", "123", "11010519491231A02X", make_ric("110105", "19900230")]:
        assert is_chinese(ids.ric_problem(value))


def test_ric_birth_date() -> None:
    assert ids.ric_birth_date("110105194912310021") == datetime.date(1949, 12, 31)  # check not verified
    for bad in ["110105", make_ric("110105", "19900230"), "11010519491231A02X"]:
        with pytest.raises(ValueError):
            ids.ric_birth_date(bad)


@given(st.text(DIGITS, min_size=17, max_size=17))
def test_ric_check_digit_matches_stdnum(first17: str) -> None:
    assert ids.ric_check_digit(first17) == stdnum_ric.calc_check_digit(first17 + "0")


@st.composite
def ric_candidates(draw: st.DrawFn) -> tuple[str, bool]:
    """An 18-char id and the reference verdict (check digit right AND birth date valid)."""
    birth = draw(
        st.dates(min_value=datetime.date(1700, 1, 1), max_value=TODAY + datetime.timedelta(days=800))
    )
    first17 = draw(st.text(DIGITS, min_size=6, max_size=6))
    first17 += f"{birth.year:04d}{birth.month:02d}{birth.day:02d}"
    first17 += draw(st.text(DIGITS, min_size=3, max_size=3))
    right = stdnum_ric.calc_check_digit(first17 + "0")
    check = draw(st.sampled_from([right, right.lower(), *"0123456789Xx"]))
    expected = check.upper() == right and datetime.date(1850, 1, 1) <= birth <= TODAY
    return first17 + check, expected


@given(ric_candidates())
def test_ric_is_valid_matches_reference(candidate: tuple[str, bool]) -> None:
    value, expected = candidate
    assert ids.ric_is_valid(value) is expected
    if not expected:
        assert is_chinese(ids.ric_problem(value))


# --------------------------------------------------------------------------------------------
# 统一社会信用代码 / 组织机构代码
# --------------------------------------------------------------------------------------------


def test_uscc_known_valid() -> None:
    value = "91110000600037341L"
    assert stdnum_uscc.is_valid(value)
    assert ids.uscc_is_valid(value)
    assert ids.uscc_problem(value) is None
    assert ids.uscc_check_char(value[:17]) == "L"
    assert ids.uscc_is_valid(" 91110000600037341l\u3000")
    assert not ids.uscc_is_valid(None)


def test_uscc_messages() -> None:
    assert ids.uscc_problem("91110000600037341") == "长度应为18位（实际为17位）"
    message = ids.uscc_problem("91110000600037341I")
    assert message == "含有不允许的字符 'I'（GB 32100 不使用 I、O、Z、S、V）"
    assert "'o'" in (ids.uscc_problem("91110000600037o41L") or "")
    assert "'中'" in (ids.uscc_problem("91110000600037中41L") or "")
    assert ids.uscc_problem("B1110000600037341L").startswith("登记管理部门代码")
    assert ids.uscc_problem("011100006000373410") is not None
    assert ids.uscc_problem("911A0000600037341L").startswith("登记管理机关行政区划码")
    message = ids.uscc_problem("91110000600037341M")
    assert message is not None and message.startswith("校验码错误，应为L")
    for value in ["", "B1110000600037341L", "911A0000600037341L", "91110000600037341M", "9111000060003734IL"]:
        assert is_chinese(ids.uscc_problem(value))


def test_uscc_letters_in_first_two_positions() -> None:
    # GB 32100 allows 'N' (农业), 'Y' (其他), 'A' registration authorities; stdnum wants digits.
    for authority, category in [("N", "2"), ("Y", "1"), ("A", "1"), ("9", "A")]:
        code = ids.uscc_make(authority, category, "320102", "MA1XY200")
        assert ids.uscc_is_valid(code)
        assert not stdnum_uscc.is_valid(code)
    # ...and rejects '0' as registration authority, which stdnum accepts.
    first17 = "01110000600037341"
    code = first17 + ids.uscc_check_char(first17)
    assert stdnum_uscc.is_valid(code)
    assert not ids.uscc_is_valid(code)


def test_uscc_check_char_rejects_bad_input() -> None:
    for bad in ["", "9111000060003734", "9111000060003734I", "91110000600037３41"]:
        with pytest.raises(ValueError):
            ids.uscc_check_char(bad)


@st.composite
def uscc_like(draw: st.DrawFn) -> str:
    """18 chars over the USCC alphabet, positions 1-8 digits (first not 0), maybe lowercase."""
    first17 = draw(st.sampled_from("123456789")) + draw(st.text(DIGITS, min_size=7, max_size=7))
    first17 += draw(st.text(ids.USCC_ALPHABET, min_size=9, max_size=9))
    check = draw(st.sampled_from([ids.uscc_check_char(first17), *ids.USCC_ALPHABET]))
    value = first17 + check
    return value.lower() if draw(st.booleans()) else value


@given(uscc_like())
def test_uscc_matches_stdnum(value: str) -> None:
    assert ids.uscc_check_char(value[:17]) == stdnum_uscc.calc_check_digit(value[:17])
    assert ids.uscc_is_valid(value) == stdnum_uscc.is_valid(value)


def org_code_reference(first8: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(first8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    return {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))


def test_org_code_check_digit() -> None:
    assert ids.org_code_check_digit("60003734") == "1"  # from 91110000600037341L
    assert ids.org_code_check_digit("00000000") == "0"
    rnd = random.Random(11643)
    seen = set()
    for _ in range(2000):
        first8 = "".join(rnd.choice(DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(8))
        check = ids.org_code_check_digit(first8)
        assert check == org_code_reference(first8)
        assert ids.org_code_check_digit(first8.lower()) == check
        seen.add(check)
    assert seen == set(DIGITS + "X")
    for bad in ["6000373", "6000373#", "60003734１"]:
        with pytest.raises(ValueError):
            ids.org_code_check_digit(bad)


@given(
    st.sampled_from(ids.USCC_REGISTRATION_AUTHORITIES),
    st.sampled_from(ids.USCC_ALPHABET),
    st.text(DIGITS, min_size=6, max_size=6),
    st.text(ids.USCC_ALPHABET, min_size=8, max_size=8),
)
def test_uscc_make(authority: str, category: str, region: str, org: str) -> None:
    code = ids.uscc_make(authority, category, region, org)
    assert len(code) == 18
    assert code[:8] == authority + category + region
    assert code[8:16] == org
    assert code[16] == ids.org_code_check_digit(org)
    assert ids.uscc_is_valid(code)
    assert stdnum_uscc.is_valid(code) == (authority + category).isdigit()
    assert ids.uscc_make(authority.lower(), category.lower(), region, org.lower()) == code


def test_uscc_make_rejects_bad_parts() -> None:
    good = ("9", "1", "110000", "60003734")
    for position, bad in [
        (0, "B"),
        (0, "91"),
        (1, "I"),
        (1, ""),
        (2, "11000A"),
        (2, "1100000"),
        (3, "6000373O"),
    ]:
        parts = list(good)
        parts[position] = bad
        with pytest.raises(ValueError, match="[\u4e00-\u9fff]"):
            ids.uscc_make(*parts)


# --------------------------------------------------------------------------------------------
# 行政区划代码
# --------------------------------------------------------------------------------------------


def test_region_code_problem() -> None:
    for good in ["110000", "110105", "410802", "650102", "710000", "810000", "820000", " 320102 "]:
        assert ids.region_code_problem(good) is None
    for bad in ["10000", "1100000", "11000A", "１１００００", "100000", "160000", "720000", "990000", ""]:
        assert is_chinese(ids.region_code_problem(bad)), bad


# --------------------------------------------------------------------------------------------
# DuckDB SQL expressions == scalar functions
# --------------------------------------------------------------------------------------------

_CON = duckdb.connect()


def sql_verdicts(expression: str, values: list[str | None]) -> list[bool | None]:
    table = pa.table({"i": pa.array(range(len(values)), pa.int64()), "v": pa.array(values, pa.string())})
    cursor = _CON.cursor()
    cursor.register("vals", table)
    try:
        return [row[0] for row in cursor.execute(f"SELECT {expression} FROM vals ORDER BY i").fetchall()]
    finally:
        cursor.close()


def assert_sql_agrees(values: list[str | None]) -> None:
    for scalar, make_sql in [(ids.ric_is_valid, ids.ric_valid_sql), (ids.uscc_is_valid, ids.uscc_valid_sql)]:
        got = sql_verdicts(make_sql("v"), values)
        want = [None if v is None else scalar(v) for v in values]
        mismatches = [(v, g, w) for v, g, w in zip(values, got, want, strict=True) if g is not w]
        assert not mismatches, mismatches[:10]


def mutate(value: str, draw_int, draw_char) -> str:
    """One random edit that keeps the value near-valid."""
    kind = draw_int(0, 7)
    i = draw_int(0, len(value) - 1)
    if kind == 0:
        return value
    if kind == 1:
        return value.lower()
    if kind == 2:  # pad with whitespace or lookalikes
        pads = WHITESPACE + LOOKALIKES
        return pads[draw_int(0, len(pads) - 1)] * draw_int(1, 2) + value + pads[draw_int(0, len(pads) - 1)]
    if kind == 3:
        return value[:i] + draw_char() + value[i + 1 :]
    if kind == 4:
        return value[:i] + draw_char() + value[i:]
    if kind == 5:
        return value[:i] + value[i + 1 :]
    if kind == 6:  # swap in an excluded letter or lowercase x
        return value[:i] + "IOZSVxX"[draw_int(0, 6)] + value[i + 1 :]
    return value[:-1] + (DIGITS + "XxLl")[draw_int(0, 13)]


@st.composite
def near_valid_values(draw: st.DrawFn) -> str:
    def draw_int(lo: int, hi: int) -> int:
        return draw(st.integers(lo, hi))

    def draw_char() -> str:
        return draw(st.one_of(st.characters(), st.sampled_from(DIGITS + ids.USCC_ALPHABET + "xX")))

    if draw(st.booleans()):
        birth = draw(
            st.one_of(
                st.dates(min_value=datetime.date(1800, 1, 1), max_value=TODAY + datetime.timedelta(days=3)),
                st.text(DIGITS, min_size=8, max_size=8),
            )
        )
        base = make_ric(draw(st.text(DIGITS, min_size=6, max_size=6)), birth, "123")
    else:
        base = ids.uscc_make(
            draw(st.sampled_from(ids.USCC_REGISTRATION_AUTHORITIES)),
            draw(st.sampled_from(ids.USCC_ALPHABET)),
            draw(st.text(DIGITS, min_size=6, max_size=6)),
            draw(st.text(ids.USCC_ALPHABET, min_size=8, max_size=8)),
        )
    return mutate(base, draw_int, draw_char)


hostile_values = st.one_of(
    near_valid_values(),
    near_valid_values(),
    st.text(),
    st.text(DIGITS + "Xx", min_size=16, max_size=20),
    st.text(ids.USCC_ALPHABET + "IOZSVxy ", min_size=17, max_size=19),
    st.none(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_values, min_size=1, max_size=80))
def test_sql_agrees_with_scalar_hypothesis(values: list[str | None]) -> None:
    assert_sql_agrees(values)


def test_sql_agrees_with_scalar_corpus() -> None:
    rnd = random.Random(32100)
    alphabet = DIGITS + ids.USCC_ALPHABET + "IOZSVxy -中😀\u3000\t\x00Ｘ"
    values: list[str | None] = [None, "", " ", "\u3000", "x" * 18, "中" * 18, "😀" * 18, "\x00" * 18]
    for _ in range(1500):
        birth = datetime.date.fromordinal(
            rnd.randint(
                datetime.date(1840, 1, 1).toordinal(), (TODAY + datetime.timedelta(days=2)).toordinal()
            )
        )
        ric = make_ric(f"{rnd.randint(110000, 829999)}", birth, f"{rnd.randint(0, 999):03d}")
        uscc = ids.uscc_make(
            rnd.choice(ids.USCC_REGISTRATION_AUTHORITIES),
            rnd.choice(ids.USCC_ALPHABET),
            f"{rnd.randint(0, 999999):06d}",
            "".join(rnd.choices(ids.USCC_ALPHABET, k=8)),
        )
        for base in (ric, uscc):
            values.append(base)
            values.append(mutate(base, rnd.randint, lambda: rnd.choice(alphabet)))
        values.append("".join(rnd.choices(alphabet, k=rnd.randint(0, 20))))
    verdicts = [ids.ric_is_valid(v) for v in values] + [ids.uscc_is_valid(v) for v in values]
    assert 1000 < sum(verdicts) < len(verdicts) - 1000  # a real mix of valid and invalid
    assert_sql_agrees(values)


def test_sql_null_and_edge_values() -> None:
    values = [
        None,
        "11010519491231002x",
        " 11010519491231002X\u3000",
        "91110000600037341l",
        "\t91110000600037341L",
    ]
    assert sql_verdicts(ids.ric_valid_sql("v"), values) == [None, True, True, False, False]
    assert sql_verdicts(ids.uscc_valid_sql("v"), values) == [None, False, False, True, True]


def test_sql_today_and_1850_boundaries() -> None:
    tomorrow = TODAY + datetime.timedelta(days=1)
    values = [
        make_ric("110105", TODAY),
        make_ric("110105", tomorrow),
        make_ric("110105", datetime.date(1850, 1, 1)),
        make_ric("110105", datetime.date(1849, 12, 31)),
        make_ric("110105", "20000229"),
        make_ric("110105", "19000229"),
    ]
    assert sql_verdicts(ids.ric_valid_sql("v"), values) == [True, False, True, False, True, False]


def test_sql_over_read_csv(tmp_path) -> None:
    # All-digit ids: DuckDB sniffs the column as BIGINT; the expression casts it back to VARCHAR.
    path = tmp_path / "ids.csv"
    good = make_ric("110105", datetime.date(1990, 1, 1), "002")
    if good.endswith("X"):
        good = make_ric("110105", datetime.date(1990, 1, 1), "003")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    path.write_text("证件号码,code\n" + f"{good},91110000600037341L\n{bad},91110000600037341M\n,\n")
    column = '"证件号码"'
    query = f"SELECT {ids.ric_valid_sql(column)}, {ids.uscc_valid_sql('t.code')} FROM read_csv('{path}') AS t"
    assert duckdb.connect().execute(query).fetchall() == [(True, True), (False, False), (None, None)]
