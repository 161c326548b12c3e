"""Fusing a base library in the data store (AGG-8) and finding where departments disagree (QUA-3).

Everything here is SQL over whole tables, the same text on DuckDB and PostgreSQL:

1. One common table expression per authoritative source resource reads its current table
   (``r_<id>``) once: the key is the item that references the library's key element, normalised
   (``UPPER(TRIM(CAST(… AS VARCHAR)))``), and when a resource holds several rows of one key (it is
   keyed on something else) the newest row wins (``row_number() OVER (PARTITION BY key ORDER BY
   _batch_id DESC)``). A resource keyed on that identifier alone is read by its ``_key`` directly.
2. The keys of the library are the keys of the key element's source when the authority named one,
   else the union of the keys of every field's source. The fused table ``lib_<id>`` is these keys
   LEFT JOINed to each source: one row per key, one column per field (named after the data element's
   code) and one lineage column per field (``<column>__batch``: the batch that wrote the value).
   The resource of each column is the library's definition at build time (kept in the metadata).
3. Every published resource with an item referencing a field's element contributes observations
   ``(key, field, resource, value text, batch)`` for the library's keys (a temporary table); the
   groups ``(key, field)`` with more than one distinct non-empty value are the conflicts.

The fused table is replaced in one store transaction, so readers see the old or the new build.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from govdata.store.base import BATCH, KEY
from govdata.store.sql import SqlStore, q

OBSERVATIONS = "lib_build_obs"
DISAGREEMENTS = "lib_build_dis"


@dataclass(frozen=True)
class SourceTable:
    """A published resource's current table, as the fusion reads it."""

    resource_id: int
    table: str  # already quoted and qualified (``store.table_name``)
    key_column: str  # the item referencing the library's key element
    columns: dict[str, str]  # element name → item code (column)
    # the table is keyed on that item alone and it is an identifier (公民身份号码, 统一社会信用代码):
    # its ``_key`` is already the upper-cased value, one row per key, and no window is needed
    keyed_on_it: bool = False


@dataclass(frozen=True)
class FusedField:
    element: str
    column: str  # column name in the fused table
    key: bool
    source: SourceTable | None  # the authoritative source, if the authority named one


@dataclass
class FusionResult:
    rows: int
    disagreements: int
    # (key, field index, resource id, value, batch id) of the disagreeing groups, ordered
    observations: list[tuple[str, int, int, str, int | None]] = field(default_factory=list)


def norm_key(column: str) -> str:
    return f"UPPER(TRIM(CAST({q(column)} AS VARCHAR)))"


def _latest_per_key(source: SourceTable, selects: list[str]) -> str:
    """The newest row per normalised key of one source table."""
    if source.keyed_on_it:
        return f"SELECT {', '.join([f'{KEY} AS k', f'{BATCH} AS b', *selects])}, 1 AS rn FROM {source.table}"
    key = norm_key(source.key_column)
    columns = ", ".join([f"{key} AS k", f"{BATCH} AS b", *selects])
    return (
        f"SELECT {columns}, row_number() OVER (PARTITION BY {key} ORDER BY {BATCH} DESC, {KEY} DESC) AS rn "
        f"FROM {source.table}"
    )


def fused_table_sql(target: str, fields: list[FusedField]) -> str:
    """``CREATE TABLE <target> AS …``: one row per key, a value and a lineage column per field."""
    sources: dict[int, SourceTable] = {}
    value_index: dict[tuple[int, str], int] = {}
    for f in fields:
        if f.source is None:
            continue
        sources.setdefault(f.source.resource_id, f.source)
        value_index.setdefault((f.source.resource_id, f.element), len(value_index))
    if not sources:
        raise ValueError("no field has a source")
    ctes = []
    for resource_id, source in sources.items():
        selects = [
            f"{q(source.columns[element])} AS v{index}"
            for (rid, element), index in value_index.items()
            if rid == resource_id
        ]
        values = ", ".join(f"v{index}" for (rid, _), index in value_index.items() if rid == resource_id)
        ctes.append(
            f"s{resource_id} AS (SELECT k, b, {values} FROM ({_latest_per_key(source, selects)}) t "
            f"WHERE rn = 1 AND k IS NOT NULL AND k <> '')"
        )
    key_field = next((f for f in fields if f.key and f.source is not None), None)
    if key_field is not None:
        keys = f"SELECT k FROM s{key_field.source.resource_id}"
    else:
        keys = " UNION ".join(f"SELECT k FROM s{rid}" for rid in sources)
    ctes.append(f"keys AS ({keys})")
    outputs = [f"keys.k AS {KEY}"]
    for f in fields:
        if f.source is None:
            outputs.append(f"CAST(NULL AS VARCHAR) AS {q(f.column)}")
            outputs.append(f"CAST(NULL AS BIGINT) AS {q(f.column + '__batch')}")
        else:
            rid = f.source.resource_id
            outputs.append(f"s{rid}.v{value_index[(rid, f.element)]} AS {q(f.column)}")
            outputs.append(f"s{rid}.b AS {q(f.column + '__batch')}")
    joins = " ".join(f"LEFT JOIN s{rid} ON s{rid}.k = keys.k" for rid in sources)
    return f"CREATE TABLE {target} AS WITH {', '.join(ctes)} SELECT {', '.join(outputs)} FROM keys {joins}"


def observations_sql(target: str, fields: list[FusedField], holders: list[SourceTable]) -> str | None:
    """``CREATE TEMP TABLE`` of every resource's newest value per library key and compared field.

    Each holder's table is scanned once (a materialised CTE with every compared column), then
    unpivoted to ``(k, f, r, v, b)`` rows.
    """
    ctes, parts = [], []
    for source in holders:
        compared = [
            (index, source.columns[f.element])
            for index, f in enumerate(fields)
            if not f.key and f.element in source.columns  # the join key agrees by construction
        ]
        if not compared:
            continue
        name = f"h{source.resource_id}"
        selects = [f"TRIM(CAST({q(column)} AS VARCHAR)) AS v{index}" for index, column in compared]
        values = ", ".join(f"v{index}" for index, _ in compared)
        ctes.append(
            f"{name} AS MATERIALIZED (SELECT k, b, {values} FROM ({_latest_per_key(source, selects)}) t "
            f"WHERE rn = 1 AND k IN (SELECT {KEY} FROM {target}))"
        )
        parts += [
            f"SELECT k, {index} AS f, {source.resource_id} AS r, v{index} AS v, b FROM {name} "
            f"WHERE v{index} IS NOT NULL AND v{index} <> ''"
            for index, _ in compared
        ]
    if not parts:
        return None
    return f"CREATE TEMP TABLE {OBSERVATIONS} AS WITH {', '.join(ctes)} " + " UNION ALL ".join(parts)


def build(
    store: SqlStore,
    table: str,
    fields: list[FusedField],
    holders: list[SourceTable],
    *,
    max_conflicts: int,
) -> FusionResult:
    """Replace the fused table ``table`` and return the disagreeing observations (at most
    ``max_conflicts`` groups of them)."""
    target = store.table_name(table)
    index_name = q(f"ix_{table}_key")
    create = fused_table_sql(target, fields)
    observe = observations_sql(target, fields, holders)
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
                f"GROUP BY k, f HAVING MIN(v) <> MAX(v)"
            )
            disagreements = store.fetchall(f"SELECT count(*) FROM {DISAGREEMENTS}")[0][0]
            observations = store.fetchall(
                f"SELECT o.k, o.f, o.r, o.v, o.b FROM {OBSERVATIONS} o JOIN "
                f"(SELECT k, f FROM {DISAGREEMENTS} ORDER BY k, f LIMIT {int(max_conflicts)}) d "
                f"ON d.k = o.k AND d.f = o.f ORDER BY o.k, o.f, o.r"
            )
            return FusionResult(rows=rows, disagreements=disagreements, observations=observations)
    finally:
        store.execute(f"DROP TABLE IF EXISTS {DISAGREEMENTS}")
        store.execute(f"DROP TABLE IF EXISTS {OBSERVATIONS}")


def read_rows(
    store: SqlStore,
    table: str,
    columns: list[str],
    *,
    keys: list[str] | None,
    limit: int,
    offset: int,
) -> tuple[list[dict], int]:
    """Rows of a fused table, by key or a page of all, with their lineage columns."""
    target = store.table_name(table)
    params: list = []
    where = "1 = 1"
    if keys:
        where = f"{KEY} IN ({', '.join('?' for _ in keys)})"
        params = list(keys)
    total = store.fetchall(f"SELECT count(*) FROM {target} WHERE {where}", params)[0][0]
    names = [KEY]
    for column in columns:
        names += [column, column + "__batch"]
    rows = store.fetchall(
        f"SELECT {', '.join(q(n) for n in names)} FROM {target} WHERE {where} "
        f"ORDER BY {KEY} LIMIT {int(limit)} OFFSET {int(offset)}",
        params,
    )
    return [dict(zip(names, row, strict=True)) for row in rows], total


def exists(store: SqlStore, table: str) -> bool:
    return bool(store.existing_columns(table))
