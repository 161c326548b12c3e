"""When two values of the same data element agree: the one rule of the platform.

Quality's consistency (the same element of the same person in two resources) and the base
libraries' fusion (conflicts between departments) ask the same question, so they ask it here:

* a value is *absent* when it is null or blank after trimming spaces; absent values are not compared;
* a value is a *number* when its trimmed text is plain decimal notation: an optional sign, digits and
  an optional decimal point with digits (``1``, ``-1.50``, ``.5``, ``007``, ``5.``). Scientific
  notation (``1e-05``), thousands separators and full-width digits are text;
* two present values agree when both are numbers of equal value (``1.0`` = ``1`` = ``01``,
  ``-0`` = ``0``), or otherwise when their trimmed texts are equal (``"李四 "`` = ``"李四"``).

The rule is implemented as a *comparable form* — the trimmed text, or for a number its canonical
decimal text (sign only when not zero, no leading zeros in the integer part, no trailing zeros in the
fraction) — so that "agree" is plain equality of comparable forms. That makes it usable both
pairwise (``a = b``) and in groups (``GROUP BY … HAVING min(v) <> max(v)``), exact for numbers of any
length (no floating point), and the same in Python and in SQL: :func:`comparable` and
:func:`comparable_sql` give identical strings for the same text.

A value that is not a string is compared as the text a store gives it (``CAST(… AS VARCHAR)``):
booleans as ``true``/``false``, dates in ISO form, numbers as their usual text.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import duckdb

NUMBER_PATTERN = "^[+-]{0,1}([0-9]+[.]{0,1}[0-9]*|[.][0-9]+)$"
"""A number in plain decimal notation (the same pattern in Python, DuckDB and PostgreSQL). It has no
``?``: the PostgreSQL store turns every ``?`` of a statement into a bound parameter."""

_NUMBER = re.compile(NUMBER_PATTERN)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def comparable(value: Any) -> str | None:
    """The form in which ``value`` is compared (None when it is absent)."""
    if value is None:
        return None
    text = _text(value).strip(" ")
    if not text:
        return None
    if not _NUMBER.match(text):
        return text
    sign = "-" if text[0] == "-" else ""
    whole, _, fraction = text.lstrip("+-").partition(".")
    whole, fraction = whole.lstrip("0"), fraction.rstrip("0")
    magnitude = (whole or "0") + ("." + fraction if fraction else "")
    return "0" if magnitude == "0" else sign + magnitude


def agree(a: Any, b: Any) -> bool | None:
    """Whether two values agree; None when either is absent (nothing to compare)."""
    left, right = comparable(a), comparable(b)
    if left is None or right is None:
        return None
    return left == right


def comparable_sql(expression: str) -> str:
    """SQL for :func:`comparable` of ``expression`` (any type), the same text on DuckDB and PostgreSQL.

    ``expression`` is inserted as is (a quoted column, ``a."xm"``): never pass user input.
    """
    text = f"NULLIF(TRIM(CAST({expression} AS VARCHAR)), '')"
    unsigned = f"ltrim({text}, '+-')"
    whole = f"ltrim(split_part({unsigned}, '.', 1), '0')"
    fraction = f"rtrim(split_part({unsigned}, '.', 2), '0')"
    magnitude = (
        f"(CASE WHEN {whole} = '' THEN '0' ELSE {whole} END"
        f" || CASE WHEN {fraction} = '' THEN '' ELSE '.' || {fraction} END)"
    )
    number = (
        f"CASE WHEN {magnitude} = '0' THEN '0' "
        f"WHEN left({text}, 1) = '-' THEN '-' || {magnitude} ELSE {magnitude} END"
    )
    return f"(CASE WHEN {text} ~ '{NUMBER_PATTERN}' THEN {number} ELSE {text} END)"


def agree_sql(left: str, right: str) -> str:
    """SQL that is true when both values are present and agree (null or false otherwise)."""
    return f"({comparable_sql(left)} = {comparable_sql(right)})"


def json_value(value: Any) -> Any:
    """A stored value as a JSON answer carries it: numbers as JSON numbers (a decimal exactly, as an
    integer or the double that prints back as it; its text only when no double holds it), dates and
    times in ISO form, anything else as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        if value == value.to_integral_value():
            return int(value)
        double = float(value)
        return double if Decimal(repr(double)) == value else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


# \uXXXX (or \UXXXXXXXX) not itself escaped: an even run of backslashes before it is kept
_CHARACTER_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))")


def engine_pattern(pattern: str) -> str:
    """An item's pattern as the stores' regular-expression engine (RE2, in DuckDB) reads it: the
    ``\\uXXXX`` escapes that Python, Java and JavaScript write for a character (a Chinese range
    ``[\\u4e00-\\u9fa5]``) become the character, which RE2 reads as itself."""

    def character(match: re.Match[str]) -> str:
        return match.group(1) + re.escape(chr(int(match.group(2) or match.group(3), 16)))

    return _CHARACTER_ESCAPE.sub(character, pattern)


def pattern_problem(pattern: str) -> str | None:
    """Why the stores' engine cannot apply ``pattern`` (RE2 has no look-around or back-references),
    or None when it can."""
    try:
        duckdb.execute("SELECT regexp_full_match('', ?)", [engine_pattern(pattern)])
    except duckdb.Error as exc:
        return str(exc).splitlines()[-1][:200]
    return None
