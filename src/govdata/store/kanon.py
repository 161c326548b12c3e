"""Group counts for k-anonymity (OPN-5), in SQL over a resource's whole current table.

The opening capability names the quasi-identifiers and how its de-identification plan serves each
(:class:`Quasi`); here each becomes an SQL expression whose values are equal exactly when the served
values are equal, the rows are grouped by them, and the groups are counted by size. Nothing leaves the
database but the counts.

* generalised: the generalisation itself (the year of a date, the band of ten of an age, the first 4
  or 2 digits of a region code);
* masked: what the mask keeps and the length it keeps (``sharing.masking``: the first 6 and last 4
  characters of a 公民身份号码, the last 4 of a phone number, the family name, the year of a date,
  else the first and last character). An address mask is grouped by the stored value, which is finer
  than the masked one: the smallest group found is never larger than the served one;
* kept or pseudonymised (one value, one pseudonym): the stored value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from govdata.core.names import COMPOUND_SURNAMES
from govdata.store.types import parse_type

NUMBER_PATTERN = r"^[0-9]+(\.[0-9]+)?$"


@dataclass(frozen=True)
class Quasi:
    """A quasi-identifier as served: ``method`` keep | mask | pseudonymise | generalise; ``option`` the
    generalisation (year | age_band | region_city | region_province) or the mask kind."""

    code: str
    method: str
    option: str | None = None


@dataclass(frozen=True)
class GroupCounts:
    """Rows and equivalence classes of the current table over the quasi-identifiers."""

    k: int
    rows: int
    groups: int
    smallest: int | None  # the smallest group's size (None: no rows)
    below: tuple[tuple[int, int, int], ...]  # (size, groups of that size, their rows), sizes under k

    @property
    def groups_below_k(self) -> int:
        return sum(groups for _, groups, _ in self.below)

    @property
    def rows_below_k(self) -> int:
        return sum(rows for _, _, rows in self.below)


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _Sql:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.text = "VARCHAR" if dialect == "duckdb" else "TEXT"
        self.double = "DOUBLE" if dialect == "duckdb" else "DOUBLE PRECISION"

    def as_text(self, column: str) -> str:
        return f"CAST({column} AS {self.text})"

    def matches(self, text: str, pattern: str) -> str:
        if self.dialect == "duckdb":
            return f"regexp_matches({text}, {_lit(pattern)})"
        return f"({text} ~ {_lit(pattern)})"

    def keep_ends(self, text: str, head: int | str, tail: int) -> str:
        """A key equal for two texts exactly when their masks (kept ends, stars for the rest) are."""
        length = f"length({text})"
        parts = [f"substr({text}, 1, {head})"] if head else []
        parts.append(self.as_text(length))
        if tail:
            parts.append(f"right({text}, {tail})")
        kept = " || '|' || ".join(parts)
        total = f"({head} + {tail})" if isinstance(head, str) else str(head + tail)
        return f"CASE WHEN {length} > {total} THEN {kept} ELSE '*' || {self.as_text(length)} END"

    def year(self, column: str, kind: str) -> str:
        if kind in ("date", "timestamp"):
            return f"CAST(EXTRACT(YEAR FROM {column}) AS BIGINT)"
        text = self.as_text(column)
        return f"CASE WHEN {self.matches(text, '^[0-9]{4}')} THEN substr({text}, 1, 4) END"

    def age_band(self, column: str, kind: str) -> str:
        if kind in ("decimal", "double", "bigint"):
            number = f"CAST({column} AS {self.double})"
        else:
            text = f"trim({self.as_text(column)})"
            numeric = self.matches(text, NUMBER_PATTERN)
            number = f"CASE WHEN {numeric} THEN CAST({text} AS {self.double}) END"
        return f"CAST(floor({number} / 10) AS BIGINT)"

    def region(self, column: str, digits: int) -> str:
        return f"substr(trim({self.as_text(column)}), 1, {digits})"

    def mask(self, column: str, kind: str, mask: str | None) -> str:
        if mask == "date":
            if kind in ("date", "timestamp"):
                return self.year(column, kind)
            text = self.as_text(column)
            return f"CASE WHEN {self.matches(text, '^[0-9]{4}')} THEN substr({text}, 1, 4) ELSE {self.keep_ends(text, 1, 1)} END"
        if mask == "address":
            return column  # finer than the mask: see the module
        text = self.as_text(column)
        if mask == "ric":
            return self.keep_ends(text, 6, 4)
        if mask == "phone":
            return self.keep_ends(text, 0, 4)
        if mask == "name":
            compound = ", ".join(_lit(s) for s in COMPOUND_SURNAMES)
            head = (
                f"(CASE WHEN length({text}) > 2 AND substr({text}, 1, 2) IN ({compound}) THEN 2 ELSE 1 END)"
            )
            return self.keep_ends(text, head, 0)
        return self.keep_ends(text, 1, 1)

    def expression(self, quasi: Quasi, kind: str) -> str:
        column = _q(quasi.code)
        if quasi.method == "generalise":
            if quasi.option == "year":
                return self.year(column, kind)
            if quasi.option == "age_band":
                return self.age_band(column, kind)
            if quasi.option == "region_city":
                return self.region(column, 4)
            if quasi.option == "region_province":
                return self.region(column, 2)
            raise ValueError(quasi.option)
        if quasi.method == "mask":
            return self.mask(column, kind, quasi.option)
        return column


def group_counts_sql(
    dialect: str, table: str, columns: dict[str, str], quasi: Sequence[Quasi], k: int
) -> str:
    """The query: one row per group size under ``k`` (and one for ``k`` and over): size, groups, rows,
    the smallest size. ``columns`` maps the table's columns to their SQL types."""
    sql = _Sql(dialect)
    expressions = [sql.expression(item, parse_type(columns[item.code]).kind) for item in quasi]
    keys = ", ".join(f"{e} AS g{i}" for i, e in enumerate(expressions))
    grouped = ", ".join(f"g{i}" for i in range(len(expressions)))
    k = int(k)
    return (
        f"SELECT least(n, {k}) AS s, count(*), sum(n), min(n) FROM "
        f"(SELECT count(*) AS n FROM (SELECT {keys} FROM {table}) v GROUP BY {grouped}) g "
        f"GROUP BY least(n, {k}) ORDER BY s"
    )


def group_counts(rows: list[tuple], k: int) -> GroupCounts:
    below = tuple((int(s), int(g), int(r)) for s, g, r, _ in rows if int(s) < k)
    return GroupCounts(
        k=k,
        rows=sum(int(r) for _, _, r, _ in rows),
        groups=sum(int(g) for _, g, _, _ in rows),
        smallest=min((int(m) for _, _, _, m in rows), default=None),
        below=below,
    )
