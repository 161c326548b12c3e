"""De-identified CSV written by the database itself (OPN-5 downloads, NF-3): the masks and
generalisations of an open dataset's plan as SQL expressions inside the store's own ``COPY``
(DuckDB's ``COPY (SELECT …) TO`` into a pipe, PostgreSQL's ``COPY (SELECT …) TO STDOUT``), so that no
row passes through Python.

Each expression gives exactly the text that the Arrow transforms give (``sharing.masking`` for the
masks, ``opening.service.deid`` for the generalisations), for the stored types where both read the
value alike; :func:`served_sql` answers None for any other case (an address mask, an age band or a
region code read from text, whose trimming of Unicode white space SQL does not share, a number
masked as text, pseudonymisation, whose key stays out of the database), and the caller then takes the
Arrow path for the whole file. The CSV itself is ``store.csv_export``'s (CRLF, quoting, safe cells:
the served text is made safe like any other text).

| rule | SQL (text ``t``; ``length`` and ``substr`` count characters in both dialects) |
|---|---|
| mask ``ric`` / ``phone`` / ``generic`` | the first 6 and last 4 / the last 4 / the first and last characters, ``*`` for the others; all ``*`` when nothing would stay hidden |
| mask ``name`` | a compound surname (``core.names``, two characters each) and more: its two characters, else the first one |
| mask ``date`` | a date or time: its year; a text starting with four digits: them, else the generic mask |
| generalise ``year`` | a date or time: its year; a text starting with four digits: them, else null |
| generalise ``age_band`` | an integer or decimal: ``floor(x / 10) * 10`` and that plus 9, joined by ``-`` |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from govdata.core.names import COMPOUND_SURNAMES
from govdata.store import csv_export
from govdata.store.sql import q
from govdata.store.types import parse_type


@dataclass(frozen=True)
class Served:
    """A column as served: ``method`` keep | mask | generalise; ``option`` the mask kind or the
    generalisation."""

    code: str
    method: str
    option: str | None = None


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _Sql:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.text = "VARCHAR" if dialect == "duckdb" else "TEXT"

    def as_text(self, expr: str) -> str:
        return f"CAST({expr} AS {self.text})"

    def starts_with_year(self, t: str) -> str:
        if self.dialect == "duckdb":
            return f"regexp_matches({t}, '^[0-9]{{4}}')"
        return f"({t} ~ '^[0-9]{{4}}')"

    def stars(self, count: str) -> str:
        return f"repeat('*', {count})"

    def keep_ends(self, t: str, head: int, tail: int) -> str:
        length = f"length({t})"
        parts = [f"substr({t}, 1, {head})"] if head else []
        parts.append(self.stars(f"{length} - {head + tail}"))
        if tail:  # the last characters: cheaper than right() in DuckDB
            parts.append(f"substr({t}, {length} - {tail - 1})")
        return f"CASE WHEN {length} > {head + tail} THEN {' || '.join(parts)} ELSE {self.stars(length)} END"

    def name(self, t: str) -> str:
        compound = ", ".join(_lit(s) for s in COMPOUND_SURNAMES)
        length = f"length({t})"
        return (
            f"CASE WHEN {length} > 2 AND substr({t}, 1, 2) IN ({compound}) "
            f"THEN substr({t}, 1, 2) || {self.stars(f'{length} - 2')} "
            f"WHEN {length} > 1 THEN substr({t}, 1, 1) || {self.stars(f'{length} - 1')} "
            f"ELSE {self.stars(length)} END"
        )

    def year_of_date(self, column: str) -> str:
        return self.as_text(f"CAST(EXTRACT(YEAR FROM {column}) AS BIGINT)")

    def age_band(self, column: str) -> str:
        double = "DOUBLE" if self.dialect == "duckdb" else "DOUBLE PRECISION"
        low = f"CAST(floor(CAST({column} AS {double}) / 10) * 10 AS BIGINT)"
        return f"{self.as_text(low)} || '-' || {self.as_text(f'{low} + 9')}"


def served_sql(dialect: str, served: Served, stored_kind: str) -> str | None:
    """The SQL text of a column as served (``stored_kind``: ``store.types`` kind of the stored
    column), or None when only the Arrow transform gives it exactly (see the module)."""
    sql = _Sql(dialect)
    column = q(served.code)
    dated = stored_kind in ("date", "timestamp")
    if served.method == "mask":
        kind = served.option or "generic"
        if kind == "date" and dated:
            return sql.year_of_date(column)
        if stored_kind != "text":
            return None
        if kind == "ric":
            return sql.keep_ends(column, 6, 4)
        if kind == "phone":
            return sql.keep_ends(column, 0, 4)
        if kind == "name":
            return sql.name(column)
        if kind == "date":
            return (
                f"CASE WHEN {sql.starts_with_year(column)} THEN substr({column}, 1, 4) "
                f"ELSE {sql.keep_ends(column, 1, 1)} END"
            )
        if kind == "generic":
            return sql.keep_ends(column, 1, 1)
        return None  # address: the division names are Arrow's
    if served.method == "generalise":
        if served.option == "year":
            if dated:
                return sql.year_of_date(column)
            if stored_kind == "text":
                return f"CASE WHEN {sql.starts_with_year(column)} THEN substr({column}, 1, 4) END"
            return None
        if served.option == "age_band" and stored_kind in ("bigint", "decimal"):
            return sql.age_band(column)
        return None
    return None


Column = tuple[str, str | None, str]  # code, served SQL (None: kept as stored), stored kind


def plan_sql(store: Any, spec: Any, columns: Sequence[Served]) -> list[Column] | None:
    """Per column, its code, its served SQL (None: kept as stored) and its stored kind; None when some
    column is not served exactly by SQL."""
    types = {code: parse_type(name).kind for code, name in store.existing_columns(spec.name).items()}
    found: list[Column] = []
    for served in columns:
        kind = types[served.code]
        if served.method == "keep":
            found.append((served.code, None, kind))
            continue
        expr = served_sql(store.dialect, served, kind)
        if expr is None:
            return None
        found.append((served.code, expr, kind))
    return found


def _stored(code: str, kind: str, dialect: str) -> str:
    """A column kept as stored, as ``SqlStore.export_csv`` writes it."""
    if kind == "text":
        return f"{csv_export.safe_text_sql(q(code), dialect)} AS {q(code)}"
    if kind == "boolean" and dialect == "postgresql":
        return f"CASE WHEN {q(code)} THEN 'true' WHEN NOT {q(code)} THEN 'false' END AS {q(code)}"
    return q(code)


def export_csv(store: Any, spec: Any, columns: Sequence[Column], out: csv_export.Writer) -> int:
    """The current rows' columns as served (:func:`plan_sql`) written by the database into ``out`` as
    the rows of the platform's CSV (``store.csv_export``; no header), as one snapshot and streamed;
    the rows written. The served values are computed in an inner select, made safe in the outer one
    (each computed once per row)."""
    dialect = store.dialect
    inner = ", ".join(f"{expr} AS {q(code)}" if expr is not None else q(code) for code, expr, _ in columns)
    outer = ", ".join(
        _stored(code, "text" if expr is not None else kind, dialect) for code, expr, kind in columns
    )
    select = f"SELECT {outer} FROM (SELECT {inner} FROM {store.table_name(spec.name)}) AS served"
    one_column = len(columns) == 1
    if dialect == "duckdb":
        con = store._connection.cursor()
        try:
            return csv_export.copy_csv(con, select, out, one_column=one_column)
        finally:
            con.close()
    with psycopg.connect(store._conninfo) as conn:
        conn.execute("SET DateStyle TO ISO, YMD")
        conn.execute("SET client_encoding TO 'UTF8'")
        with conn.cursor().copy(f"COPY ({select}) TO STDOUT (FORMAT csv)") as copy:
            return csv_export.pg_rows(copy, out, one_column=one_column)
