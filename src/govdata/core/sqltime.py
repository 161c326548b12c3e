"""Time in SQL: the China date (UTC+8) of a stored instant, so that figures grouped by day or compared
with a deadline (a China date) are computed by the database on both stores.

Instants are stored as naive UTC (``core.db.UTCDateTime``); China has no daylight saving time, so the
China date is the UTC instant plus eight hours, truncated to a date.
"""

from __future__ import annotations

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Date, String


class china_day(FunctionElement):  # noqa: N801  (used like a SQL function)
    """``china_day(column)``: the China date of a UTC instant column."""

    type = Date()
    name = "china_day"
    inherit_cache = True


@compiles(china_day, "sqlite")
def _china_day_sqlite(element, compiler, **kw) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"date({column}, '+8 hours')"


@compiles(china_day)
def _china_day_default(element, compiler, **kw) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"CAST(({column}) + INTERVAL '8 hours' AS DATE)"


class china_month(FunctionElement):  # noqa: N801  (used like a SQL function)
    """``china_month(column)``: the China month (``YYYY-MM``) of a UTC instant column."""

    type = String(7)
    name = "china_month"
    inherit_cache = True


@compiles(china_month, "sqlite")
def _china_month_sqlite(element, compiler, **kw) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"strftime('%Y-%m', {column}, '+8 hours')"


@compiles(china_month)
def _china_month_default(element, compiler, **kw) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(({column}) + INTERVAL '8 hours', 'YYYY-MM')"
