"""The SQL types of item columns: which type holds which, and how a stored value becomes a value of
another type when a catalog revision changes an item (AGG-1).

A type *holds* another when every value of the other is stored in it unchanged (DECIMAL(12, 2) holds
DECIMAL(10, 2) and BIGINT; text holds everything). Changing a column to a type that holds the old
one is a widening, done whenever the catalog asks. Any other change may alter stored values: it is
done only when no stored value would change, or as an explicit migration that keeps the old values
in the history (``SqlStore.migrate``). The history table keeps a type that holds every version it
has, old and new (``supertype``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from govdata.store.base import Column

MAX_DECIMAL_DIGITS = 38
BIGINT_DIGITS = 19  # the digits a BIGINT may have
BIGINT_LIMIT = "9.2e18"  # below 2^63: a rounded number of at most this size fits a BIGINT
LOGICAL_TRUE = ("true", "t", "y", "yes", "1", "是")  # as validation reads a logical value
LOGICAL_FALSE = ("false", "f", "n", "no", "0", "否")


@dataclass(frozen=True)
class SqlType:
    kind: str  # text | decimal | double | bigint | date | timestamp | boolean | other
    precision: int | None = None  # decimal: digits in all, None for PostgreSQL's unbounded numeric
    scale: int | None = None

    @property
    def numeric(self) -> bool:
        return self.kind in ("decimal", "double", "bigint")

    @property
    def temporal(self) -> bool:
        return self.kind in ("date", "timestamp")

    @property
    def integer_digits(self) -> int | None:
        if self.kind == "bigint":
            return BIGINT_DIGITS
        if self.kind == "decimal" and self.precision is not None:
            return self.precision - (self.scale or 0)
        return None

    def sql(self, dialect: str) -> str:
        if self.kind == "text":
            return "VARCHAR" if dialect == "duckdb" else "TEXT"
        if self.kind == "decimal":
            return "DECIMAL" if self.precision is None else f"DECIMAL({self.precision}, {self.scale or 0})"
        if self.kind == "double":
            return "DOUBLE" if dialect == "duckdb" else "DOUBLE PRECISION"
        return {"bigint": "BIGINT", "date": "DATE", "timestamp": "TIMESTAMP", "boolean": "BOOLEAN"}.get(
            self.kind, "VARCHAR" if dialect == "duckdb" else "TEXT"
        )


_DECIMAL = re.compile(r"(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")


def parse_type(name: str) -> SqlType:
    """A type as DuckDB or PostgreSQL names it (``DECIMAL(10,2)``, ``numeric(10,2)``, ``text`` …)."""
    upper = name.strip().upper()
    if match := _DECIMAL.fullmatch(upper):
        return SqlType("decimal", int(match.group(1)), int(match.group(2) or 0))
    if upper in ("DECIMAL", "NUMERIC"):
        return SqlType("decimal")
    if upper.startswith(("VARCHAR", "TEXT", "CHARACTER", "CHAR", "STRING", "BPCHAR")):
        return SqlType("text")
    if upper in ("DOUBLE", "DOUBLE PRECISION", "FLOAT", "FLOAT8", "REAL", "FLOAT4"):
        return SqlType("double")
    if upper in ("BIGINT", "INTEGER", "INT", "INT8", "INT4", "SMALLINT", "INT2", "TINYINT"):
        return SqlType("bigint")
    if upper == "DATE":
        return SqlType("date")
    if upper.startswith("TIMESTAMP"):
        return SqlType("timestamp")
    if upper in ("BOOLEAN", "BOOL"):
        return SqlType("boolean")
    return SqlType("other")


def arrow_type(sql_type: SqlType) -> pa.DataType:
    """The Arrow type a value of ``sql_type`` is read as (an unbounded decimal as text, exactly)."""
    if sql_type.kind == "decimal":
        if sql_type.precision is None:
            return pa.string()
        return pa.decimal128(sql_type.precision, sql_type.scale or 0)
    return {
        "double": pa.float64(),
        "bigint": pa.int64(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
        "boolean": pa.bool_(),
    }.get(sql_type.kind, pa.string())


def holds(wide: SqlType, narrow: SqlType) -> bool:
    """Whether every value of ``narrow`` is stored in ``wide`` unchanged."""
    if wide == narrow or wide.kind == "text":
        return True
    if narrow.kind == "text" or "other" in (wide.kind, narrow.kind):
        return False
    if wide.kind == "double":
        return narrow.numeric
    if wide.kind == "decimal":
        if narrow.kind not in ("decimal", "bigint"):
            return False
        if wide.precision is None:
            return True
        if narrow.kind == "decimal" and narrow.precision is None:
            return False
        return (narrow.scale or 0) <= (wide.scale or 0) and (narrow.integer_digits or 0) <= (
            wide.integer_digits or 0
        )
    if wide.kind == "timestamp":
        return narrow.temporal
    return wide.kind == narrow.kind


def supertype(a: SqlType, b: SqlType) -> SqlType:
    """A type that holds both."""
    if holds(a, b):
        return a
    if holds(b, a):
        return b
    if a.kind in ("decimal", "bigint") and b.kind in ("decimal", "bigint"):
        if None in (a.integer_digits, b.integer_digits):
            return SqlType("decimal")
        scale = max(a.scale or 0, b.scale or 0)
        digits = max(a.integer_digits or 0, b.integer_digits or 0) + scale
        return SqlType("decimal", digits, scale) if digits <= MAX_DECIMAL_DIGITS else SqlType("double")
    if a.numeric and b.numeric:
        return SqlType("double")
    return SqlType("text")


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Conversions:
    """SQL turning a stored value into the value a column of another type holds (NULL where it
    has none), and telling whether that changes it; ``dialect`` decides the few spellings that
    differ."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.text = "VARCHAR" if dialect == "duckdb" else "TEXT"

    # --- the dialects' differences ---------------------------------------------------------------------
    def _round(self, x: str, scale: int) -> str:
        return f"round({x}, {scale})" if self.dialect == "duckdb" else f"round(CAST({x} AS NUMERIC), {scale})"

    def _number(self, x: str) -> str:
        """Text ``x`` as a number (DOUBLE or NUMERIC), NULL where it is none."""
        if self.dialect == "duckdb":
            return f"TRY_CAST(trim({x}) AS DOUBLE)"
        # no question mark: the PostgreSQL store turns "?" into its placeholders
        number = r"^\s*[+-]{0,1}([0-9]+\.{0,1}[0-9]*|\.[0-9]+)([eE][+-]{0,1}[0-9]{1,3}){0,1}\s*$"
        return f"CASE WHEN {x} ~ {literal(number)} THEN CAST(trim({x}) AS NUMERIC) END"

    def _temporal(self, x: str, target: SqlType) -> str:
        """Text ``x`` as a date or timestamp, NULL where it is none."""
        name = target.sql(self.dialect)
        if self.dialect == "duckdb":
            return f"TRY_CAST(trim({x}) AS {name})"
        return f"CAST(govdata_try_cast({x}, {literal(name.lower())}) AS {name})"

    # --- conversions ----------------------------------------------------------------------------------
    def convert(self, x: str, have: SqlType, want: SqlType, column: Column | None = None) -> str:
        """The value of stored ``x`` (of type ``have``) in a column of type ``want`` for item
        ``column`` (a text item's length is kept to), or NULL where it has none."""
        if want.kind == "text":
            value = x if have.kind == "text" else f"CAST({x} AS {self.text})"
            if column is not None and column.data_type in ("C", "M") and column.length:
                value = f"left({value}, {int(column.length)})"
            return value
        if holds(want, have):
            return f"CAST({x} AS {want.sql(self.dialect)})"
        number = x if have.numeric else (self._number(x) if have.kind == "text" else None)
        if want.kind in ("decimal", "bigint") and number is not None:
            if have.kind == "text" and self.dialect == "duckdb":  # rounds, NULL when too large
                return f"TRY_CAST(trim({x}) AS {want.sql(self.dialect)})"
            if want.precision is None and want.kind == "decimal":
                return f"CAST({number} AS NUMERIC)"
            scale = (want.scale or 0) if want.kind == "decimal" else 0
            rounded = self._round(number, scale)
            limit = BIGINT_LIMIT if want.kind == "bigint" else f"1e{want.integer_digits}"
            return f"CASE WHEN abs({rounded}) < {limit} THEN CAST({rounded} AS {want.sql(self.dialect)}) END"
        if want.kind == "double" and number is not None:
            return f"CAST({number} AS {want.sql(self.dialect)})"
        if want.kind == "date" and have.kind == "timestamp":
            return f"CAST({x} AS DATE)"
        if want.temporal and have.kind == "text":
            return self._temporal(x, want)
        if want.kind == "boolean" and have.kind == "text":
            trues = ", ".join(literal(v) for v in LOGICAL_TRUE)
            falses = ", ".join(literal(v) for v in LOGICAL_FALSE)
            return (
                f"CASE WHEN lower(trim({x})) IN ({trues}) THEN TRUE "
                f"WHEN lower(trim({x})) IN ({falses}) THEN FALSE END"
            )
        if want.kind == "boolean" and have.numeric:
            return f"CASE WHEN {x} = 1 THEN TRUE WHEN {x} = 0 THEN FALSE END"
        return f"CAST(NULL AS {want.sql(self.dialect)})"

    def changed(self, x: str, have: SqlType, want: SqlType, converted: str) -> str:
        """Whether stored ``x`` changes when it becomes ``converted``: it is lost, or it differs
        (numbers as numbers, dates and times as instants, anything else as its text)."""
        if want.numeric and (have.numeric or have.kind == "text"):
            before = x if have.numeric else self._number(x)
            differs = f"{converted} <> {before}"
        elif want.temporal and have.temporal:
            differs = f"CAST({converted} AS TIMESTAMP) <> CAST({x} AS TIMESTAMP)"
        else:
            differs = f"CAST({converted} AS {self.text}) <> CAST({x} AS {self.text})"
        return f"CASE WHEN {x} IS NULL THEN FALSE WHEN {converted} IS NULL THEN TRUE ELSE {differs} END"


# PostgreSQL has no TRY_CAST: text becomes a date or timestamp through this function (created with
# the store's schema), which answers NULL where the cast fails. Used only by migrations.
POSTGRES_TRY_CAST = """
CREATE FUNCTION {schema}.govdata_try_cast(value text, target text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE result text;
BEGIN
  EXECUTE 'SELECT CAST(CAST(' || quote_literal(trim(value)) || ' AS ' || target || ') AS text)' INTO result;
  RETURN result;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$
"""
