"""Fused tables (AGG-8) and the disagreements found while fusing (QUA-3), in the data store.

A fused table has one row per key and one column per field, each field read from one source table:
a resource's current table, given as its :class:`TableSpec` with the column that holds the join key
and the fields it holds (field → column). The caller (the libraries capability) speaks of fields and
sources; the table names and the system columns stay here. Everything is SQL over whole tables, the
same text on DuckDB and PostgreSQL:

1. One common table expression per source reads its current table once: the key is the join-key
   column, normalised (``UPPER(TRIM(CAST(… AS VARCHAR)))``), and when a table holds several rows of
   one key (it is keyed on something else) the newest row wins (``row_number() OVER (PARTITION BY
   key ORDER BY batch DESC)``). A table keyed on that identifier alone is read by its row key.
2. The keys of the fused table are the keys of the key field's source when there is one, else the
   union of the keys of every field's source. The fused table is these keys LEFT JOINed to each
   source: per field a value column and a lineage column (the batch that wrote the value).
3. Every holder (a source table holding some of the fields) contributes observations ``(key, field,
   resource, value text, batch)`` for the fused table's keys (a temporary table); the groups ``(key,
   field)`` whose values do not all agree (``core.values``: numbers as numbers, else trimmed text)
   are the disagreements.

The fused table is replaced in one store transaction, so readers see the old or the new build.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from govdata.core import values
from govdata.store.base import BATCH, KEY, TableSpec
from govdata.store.sql import SqlStore, q

OBSERVATIONS = "fusion_obs"
DISAGREEMENTS = "fusion_dis"
LINEAGE = "__batch"  # suffix of a field's lineage column


@dataclass(frozen=True)
class FusionSource:
    """A resource's current table as fusion reads it."""

    spec: TableSpec
    key_column: str  # the column holding the join key
    columns: Mapping[str, str]  # field → column of the table
    # the join key is an identifier (公民身份号码, 统一社会信用代码): when the table is keyed on that
    # column alone, its row key is already the upper-cased value, one row per key, and no window is needed
    identifier_key: bool = False

    @property
    def resource_id(self) -> int:
        return self.spec.resource_id

    @property
    def keyed_on_it(self) -> bool:
        return self.identifier_key and self.spec.key_columns == (self.key_column,)


@dataclass(frozen=True)
class FusedField:
    name: str
    column: str  # its column in the fused table
    key: bool  # the join key (compared by construction, never a disagreement)
    source: FusionSource | None  # where its values come from; None: an empty column


@dataclass
class FusionResult:
    rows: int
    disagreements: int
    # (key, field index, resource id, value, batch id) of the disagreeing groups, ordered
    observations: list[tuple[str, int, int, str, int | None]] = field(default_factory=list)


@dataclass(frozen=True)
class FusedRow:
    key: str
    values: dict[str, Any]  # column → value
    batches: dict[str, int | None]  # column → the batch that wrote the value


def _norm_key(column: str) -> str:
    return f"UPPER(TRIM(CAST({q(column)} AS VARCHAR)))"


def _latest_per_key(store: SqlStore, source: FusionSource, selects: list[str]) -> str:
    """The newest row per normalised key of one source table."""
    table = store.table_name(source.spec.name)
    if source.keyed_on_it:
        return f"SELECT {', '.join([f'{KEY} AS k', f'{BATCH} AS b', *selects])}, 1 AS rn FROM {table}"
    key = _norm_key(source.key_column)
    columns = ", ".join([f"{key} AS k", f"{BATCH} AS b", *selects])
    return (
        f"SELECT {columns}, row_number() OVER (PARTITION BY {key} ORDER BY {BATCH} DESC, {KEY} DESC) AS rn "
        f"FROM {table}"
    )


def _fused_table_sql(store: SqlStore, target: str, fields: list[FusedField]) -> str:
    """``CREATE TABLE <target> AS …``: one row per key, a value and a lineage column per field."""
    sources: dict[int, FusionSource] = {}
    value_index: dict[tuple[int, str], int] = {}
    for f in fields:
        if f.source is None:
            continue
        sources.setdefault(f.source.resource_id, f.source)
        value_index.setdefault((f.source.resource_id, f.name), len(value_index))
    if not sources:
        raise ValueError("no field has a source")
    ctes = []
    for resource_id, source in sources.items():
        selects = [
            f"{q(source.columns[name])} AS v{index}"
            for (rid, name), index in value_index.items()
            if rid == resource_id
        ]
        names = ", ".join(f"v{index}" for (rid, _), index in value_index.items() if rid == resource_id)
        ctes.append(
            f"s{resource_id} AS (SELECT k, b, {names} FROM ({_latest_per_key(store, source, selects)}) t "
            f"WHERE rn = 1 AND k IS NOT NULL AND k <> '')"
        )
    key_field = next((f for f in fields if f.key and f.source is not None), None)
    if key_field is not None and key_field.source is not None:
        keys = f"SELECT k FROM s{key_field.source.resource_id}"
    else:
        keys = " UNION ".join(f"SELECT k FROM s{rid}" for rid in sources)
    ctes.append(f"keys AS ({keys})")
    outputs = [f"keys.k AS {KEY}"]
    for f in fields:
        if f.source is None:
            outputs.append(f"CAST(NULL AS VARCHAR) AS {q(f.column)}")
            outputs.append(f"CAST(NULL AS BIGINT) AS {q(f.column + LINEAGE)}")
        else:
            rid = f.source.resource_id
            outputs.append(f"s{rid}.v{value_index[(rid, f.name)]} AS {q(f.column)}")
            outputs.append(f"s{rid}.b AS {q(f.column + LINEAGE)}")
    joins = " ".join(f"LEFT JOIN s{rid} ON s{rid}.k = keys.k" for rid in sources)
    return f"CREATE TABLE {target} AS WITH {', '.join(ctes)} SELECT {', '.join(outputs)} FROM keys {joins}"


def _observations_sql(
    store: SqlStore, target: str, fields: list[FusedField], holders: list[FusionSource]
) -> str | None:
    """``CREATE TEMP TABLE`` of every holder's newest value per key of the fused table and compared
    field: ``(k, f, r, v, c, b)`` with ``v`` the trimmed text shown and ``c`` its comparable form.

    Each holder's table is scanned once (a materialised CTE with every compared column), then
    unpivoted.
    """
    ctes, parts = [], []
    for source in holders:
        compared = [
            (index, source.columns[f.name])
            for index, f in enumerate(fields)
            if not f.key and f.name in source.columns  # the join key agrees by construction
        ]
        if not compared:
            continue
        name = f"h{source.resource_id}"
        selects = [f"TRIM(CAST({q(column)} AS VARCHAR)) AS v{index}" for index, column in compared]
        names = ", ".join(f"v{index}" for index, _ in compared)
        ctes.append(
            f"{name} AS MATERIALIZED (SELECT k, b, {names} FROM ({_latest_per_key(store, source, selects)}) t "
            f"WHERE rn = 1 AND k IN (SELECT {KEY} FROM {target}))"
        )
        parts += [
            f"SELECT k, {index} AS f, {source.resource_id} AS r, v{index} AS v, "
            f"{values.comparable_sql(f'v{index}')} AS c, b FROM {name} "
            f"WHERE v{index} IS NOT NULL AND v{index} <> ''"
            for index, _ in compared
        ]
    if not parts:
        return None
    return f"CREATE TEMP TABLE {OBSERVATIONS} AS WITH {', '.join(ctes)} " + " UNION ALL ".join(parts)


def fuse(
    store: SqlStore,
    table: str,
    fields: list[FusedField],
    holders: list[FusionSource],
    *,
    max_disagreements: int,
) -> FusionResult:
    """Replace the fused table ``table`` (from the fields' sources) and return the disagreeing
    observations of the ``holders`` (at most ``max_disagreements`` groups of them)."""
    target = store.table_name(table)
    index_name = q(f"ix_{table}_key")
    create = _fused_table_sql(store, target, fields)
    observe = _observations_sql(store, target, fields, holders)
    try:
        with store.transaction():
            store.execute(f"DROP TABLE IF EXISTS {target}")
            store.execute(create)
            store.execute(f"CREATE UNIQUE INDEX {index_name} ON {target} ({KEY})")
            rows = store.fetchall(f"SELECT count(*) FROM {target}")[0][0]
            if observe is None:
                return FusionResult(rows=rows, disagreements=0)
            store.execute(f"DROP TABLE IF EXISTS {DISAGREEMENTS}")
            store.execute(f"DROP TABLE IF EXISTS {OBSERVATIONS}")
            store.execute(observe)
            store.execute(
                f"CREATE TEMP TABLE {DISAGREEMENTS} AS SELECT k, f FROM {OBSERVATIONS} "
                f"GROUP BY k, f HAVING MIN(c) <> MAX(c)"
            )
            disagreements = store.fetchall(f"SELECT count(*) FROM {DISAGREEMENTS}")[0][0]
            observations = store.fetchall(
                f"SELECT o.k, o.f, o.r, o.v, o.b FROM {OBSERVATIONS} o JOIN "
                f"(SELECT k, f FROM {DISAGREEMENTS} ORDER BY k, f LIMIT {int(max_disagreements)}) d "
                f"ON d.k = o.k AND d.f = o.f ORDER BY o.k, o.f, o.r"
            )
            return FusionResult(rows=rows, disagreements=disagreements, observations=observations)
    finally:
        store.execute(f"DROP TABLE IF EXISTS {DISAGREEMENTS}")
        store.execute(f"DROP TABLE IF EXISTS {OBSERVATIONS}")


def fused_rows(
    store: SqlStore,
    table: str,
    columns: list[str],
    *,
    keys: list[str] | None,
    limit: int,
    offset: int,
) -> tuple[list[FusedRow], int]:
    """Rows of a fused table, by key or a page of all, with the lineage of each column."""
    target = store.table_name(table)
    params: list = []
    where = "1 = 1"
    if keys:
        where = f"{KEY} IN ({', '.join('?' for _ in keys)})"
        params = list(keys)
    total = store.fetchall(f"SELECT count(*) FROM {target} WHERE {where}", params)[0][0]
    names = [KEY]
    for column in columns:
        names += [column, column + LINEAGE]
    found = store.fetchall(
        f"SELECT {', '.join(q(n) for n in names)} FROM {target} WHERE {where} "
        f"ORDER BY {KEY} LIMIT {int(limit)} OFFSET {int(offset)}",
        params,
    )
    rows = []
    for row in found:
        cells = dict(zip(names, row, strict=True))
        rows.append(
            FusedRow(
                key=cells[KEY],
                values={c: cells[c] for c in columns},
                batches={c: cells[c + LINEAGE] for c in columns},
            )
        )
    return rows, total


def fused_table_exists(store: SqlStore, table: str) -> bool:
    return bool(store.existing_columns(table))
