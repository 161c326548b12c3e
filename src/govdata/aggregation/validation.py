"""Validation derived from the catalog (AGG-4), as DuckDB SQL over whole columns.

The source rows arrive as a DuckDB view ``src`` of text columns, in file order. For each item one SQL
expression names the first rule the value breaks (or NULL), so a million rows are checked in one
vectorised, parallel pass over the file and never in a Python loop. A row's number (1-based: the
first row after the header is 1) is its position: DuckDB keeps the order of the source when it
creates a table (``preserve_insertion_order``), so it is ``rowid + 1`` of the staged table (a temp
table, or on a first load a fresh table of the store written by one INSERT). Rules, in order:
a single value (not a JSON object or array), required, type, length, code list, pattern, range, GB 11643 / GB 32100 for identifier items (those
that are not the key once per distinct value, see ``deferred``), and duplicate keys (every row of a
key that occurs more than once in the batch is rejected).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import duckdb

from govdata.core.ids import normalised_sql, ric_valid_sql, uscc_valid_sql
from govdata.core.values import engine_pattern
from govdata.store.base import Column
from govdata.store.sql import q

TYPE_LABELS = {
    "C": "字符",
    "N": "数值",
    "Y": "金额",
    "D": "日期",
    "T": "日期时间",
    "L": "逻辑值",
    "M": "备注",
    "G": "通用",
    "B": "双精度数",
    "I": "整数",
    "F": "浮点数",
}

TEXT_TYPES = ("C", "M", "G")

RULE_MESSAGES = {
    "not_scalar": "应为单个值，不能是对象或数组",
    "required": "必填项为空",
    "type": "不是有效的{type}",
    "length": "长度超过 {length} 个字符",
    "code_list": "不在代码表中（可选：{codes}）",
    "pattern": "不符合规定格式",
    "range": "超出取值范围（{range}）",
    "ric": "公民身份号码无效（校验码或出生日期错误）",
    "uscc": "统一社会信用代码无效（字符或校验码错误）",
    "duplicate_key": "关键标识在本批次中重复出现，无法判断哪条正确",
}


@dataclass(frozen=True)
class ItemRule:
    """What the catalog says about one item, as validation needs it."""

    code: str
    name: str
    data_type: str
    length: int | None = None
    precision: int | None = None
    required: bool = False
    key: bool = False
    key_kind: str | None = None  # ric | uscc | other
    code_list: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def column(self) -> Column:
        return Column(self.code, self.data_type, self.length, self.precision)

    def message(self, rule: str) -> str:
        text = RULE_MESSAGES[rule]
        codes = "、".join((self.code_list or ())[:10]) + ("…" if len(self.code_list or ()) > 10 else "")
        span = (
            f"{'' if self.minimum is None else self.minimum} ~ {'' if self.maximum is None else self.maximum}"
        )
        return text.format(
            type=TYPE_LABELS.get(self.data_type, self.data_type), length=self.length, codes=codes, range=span
        )


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def cast_sql(rule: ItemRule, v: str) -> str:
    """The typed value of text ``v`` (NULL when it does not parse)."""
    letter = rule.data_type
    if letter in ("C", "M", "G"):
        return v
    if letter == "I":  # digits only: a cast alone would round 1.5 and read 0x10 or 1_000
        return f"CASE WHEN regexp_full_match({v}, '[+-]{{0,1}}[0-9]+') THEN TRY_CAST({v} AS BIGINT) END"
    if letter == "N":
        if rule.length and rule.length <= 38:
            return f"TRY_CAST({v} AS DECIMAL({rule.length}, {min(rule.precision or 0, rule.length)}))"
        return f"TRY_CAST({v} AS DOUBLE)"
    if letter == "Y":  # thousands separators are read where they group digits by three (not 1,5)
        grouped = "'[+-]{0,1}[0-9]{1,3}(,[0-9]{3})+([.][0-9]+){0,1}'"
        return (
            f"TRY_CAST(CASE WHEN NOT contains({v}, ',') THEN {v} "
            f"WHEN regexp_full_match({v}, {grouped}) THEN replace({v}, ',', '') END AS DECIMAL(18, 2))"
        )
    if letter in ("B", "F"):
        return f"TRY_CAST({v} AS DOUBLE)"
    if letter == "D":
        formats = ["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S"]
        return (
            "CAST(coalesce(" + ", ".join(f"try_strptime({v}, {literal(f)})" for f in formats) + ") AS DATE)"
        )
    if letter == "T":
        formats = ["%Y/%m/%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y年%m月%d日 %H:%M:%S"]
        return (
            f"coalesce(TRY_CAST({v} AS TIMESTAMP), "
            + ", ".join(f"try_strptime({v}, {literal(f)})" for f in formats)
            + ")"
        )
    if letter == "L":
        return (
            f"CASE WHEN {v} IN ('是', '1') THEN TRUE WHEN {v} IN ('否', '0') THEN FALSE "
            f"WHEN lower({v}) IN ('true', 't', 'y', 'yes') THEN TRUE "
            f"WHEN lower({v}) IN ('false', 'f', 'n', 'no') THEN FALSE END"
        )
    return v


def trimmed_sql(column: str) -> str:
    """The text without leading and trailing spaces, NULL when empty. ``trim`` copies every value; a
    value is copied only when it starts or ends with a space (a fifth of the cost of a batch)."""
    return (
        f"NULLIF(CASE WHEN prefix({column}, ' ') OR suffix({column}, ' ') THEN trim({column}) "
        f"ELSE {column} END, '')"
    )


def identifier_sql(rule: ItemRule, v: str, *, normalised: bool = False) -> str | None:
    """Whether text ``v`` is a valid identifier of the item's kind (GB 11643 / GB 32100), if it has
    one; ``normalised``: ``v`` already holds ``normalised_sql`` of the text."""
    if rule.key_kind == "ric":
        return ric_valid_sql(v, normalised=normalised)
    if rule.key_kind == "uscc":
        return uscc_valid_sql(v, normalised=normalised)
    return None


def inline_identifier(rule: ItemRule) -> bool:
    """Whether the item's identifier is checked on every row, as the batch is read."""
    return rule.key_kind in ("ric", "uscc") and not deferred(rule)


def check_sql(
    rule: ItemRule,
    v: str,
    typed: str | None = None,
    identifier_ok: str | None = None,
    nested: str | None = None,
) -> str:
    """The name of the first rule that text ``v`` breaks, or NULL. ``typed`` and ``identifier_ok``
    may name columns that already hold ``cast_sql`` and ``identifier_sql`` of ``v``: DuckDB shares
    no subexpression inside a CASE branch, so computing them once, a level below, is much faster.
    ``nested``, if given, is true where the source value is an object or array (``v`` its JSON text)."""
    own_cast = cast_sql(rule, v)
    typed = typed or own_cast
    cases = [f"WHEN {nested} THEN 'not_scalar'"] if nested else []
    cases.append(f"WHEN {v} IS NULL THEN {literal('required') if rule.required else 'NULL'}")
    if own_cast != v:
        cases.append(f"WHEN {typed} IS NULL THEN 'type'")
    if rule.length and rule.data_type in ("C", "M"):
        # a value of at most n bytes has at most n characters: count characters only when it may matter
        n = int(rule.length)
        cases.append(f"WHEN strlen({v}) > {n} AND length({v}) > {n} THEN 'length'")
    if rule.code_list:
        cases.append(f"WHEN {v} NOT IN ({', '.join(literal(c) for c in rule.code_list)}) THEN 'code_list'")
    if rule.pattern:
        cases.append(
            f"WHEN NOT regexp_full_match({v}, {literal(engine_pattern(rule.pattern))}) THEN 'pattern'"
        )
    if rule.minimum is not None:
        cases.append(f"WHEN {typed} < {float(rule.minimum)} THEN 'range'")
    if rule.maximum is not None:
        cases.append(f"WHEN {typed} > {float(rule.maximum)} THEN 'range'")
    if inline_identifier(rule):
        cases.append(f"WHEN NOT {identifier_ok or identifier_sql(rule, v)} THEN {literal(rule.key_kind)}")
    return "CASE " + " ".join(cases) + " END"


def deferred(rule: ItemRule) -> bool:
    """Whether the item's identifier check runs once per distinct value, after the other rules.

    An identifier that is not the key (a person's 单位统一社会信用代码) repeats across rows: checking
    each distinct value once is several times cheaper than checking every row. A key is unique in a
    batch, so it is checked inline."""
    return rule.key_kind in ("ric", "uscc") and not rule.key and rule.data_type in TEXT_TYPES


def key_sql(rules: list[ItemRule], values: dict[str, str]) -> str:
    """The row's key: its key items' values (identifiers upper-cased), or a hash of the whole row."""
    keys = [r for r in rules if r.key]
    if not keys:
        return "md5(concat_ws(chr(31), " + ", ".join(f"coalesce({values[r.code]}, '')" for r in rules) + "))"
    parts = [f"upper({values[r.code]})" if r.key_kind in ("ric", "uscc") else values[r.code] for r in keys]
    return parts[0] if len(parts) == 1 else "concat_ws(chr(31), " + ", ".join(parts) + ")"


@dataclass(frozen=True)
class Checked:
    """Counts of a validated batch; the rows themselves are in the connection's temp tables."""

    rows: int  # data rows read from the source
    rejected: int  # rows with at least one error (every row of a repeated key included)
    errors: int  # row-level errors (a row may break several rules)


VALID = "valid"  # the temp view of the rows to apply: ``_key`` and the typed items, in file order


DUP_TEXT = "_dup_text"  # the text of a repeated key that is not itself text (for its error)


@dataclass(frozen=True)
class Target:
    """A persistent table of the store to validate into instead of the temp table ``staged``: it has
    the resource table's columns plus ``staging_columns``, and is empty. ``batch_id`` and ``written_at`` fill the system columns."""

    table: str
    batch_id: int
    written_at: datetime


def needs_dup_text(rules: list[ItemRule]) -> bool:
    keys = [r for r in rules if r.key]
    return bool(keys) and keys[0].data_type not in TEXT_TYPES


def staging_columns(rules: list[ItemRule]) -> dict[str, str]:
    """The columns a ``Target`` has besides the resource table's, with their DuckDB types."""
    columns = {"_errors": 'STRUCT(item VARCHAR, "value" VARCHAR, "rule" VARCHAR)[]'}
    if needs_dup_text(rules):
        columns[DUP_TEXT] = "VARCHAR"
    return columns


REJECTED_ROWIDS = "SELECT row - 1 FROM errors"  # the staged rows ``valid`` leaves out, by row id


def validate(
    con,
    rules: list[ItemRule],
    present: dict[str, str],
    *,
    delete: bool = False,
    into: Target | None = None,
    shapes: dict[str, str] | None = None,
) -> Checked:
    """Check ``src`` once, as a stream, into the temp table ``staged`` (or the table ``into``):
    ``_key``, each item typed under its code, and ``_errors``: NULL, or the list of (item, value,
    rule) the row breaks. Then collect ``errors`` (row, item, value, rule) and define the view ``valid``.

    The file is parsed once and never held as text: the staged rows keep typed values, and the text
    of a value only where it broke a rule (about 1% of the rows). ``present`` maps an item code to its
    column in ``src``; ``shapes`` an item code to the column of ``src`` that flags an object or
    array in its column (``SourceInfo.shapes``). A read error of the source (a broken file) surfaces here, as ``duckdb.Error``.
    """
    checked_rules = [r for r in rules if (r.key if delete else True)]
    key_rules = [r for r in checked_rules if r.key]
    dup_target = key_rules[0] if key_rules else None
    # level 1: the trimmed text of each item (and, below level 2, the text an identifier check
    # reads); 2: its typed value and identifier check, each computed once; 3: the first rule it
    # breaks; 4: the row's errors, built only for rows that have any
    text = {r.code: trimmed_sql(q(present[r.code])) if r.code in present else "NULL" for r in rules}
    level1 = [f"{text[r.code]} AS {q('v_' + r.code)}" for r in rules]
    nested = {r.code: q("s_" + r.code) for r in checked_rules if r.code in (shapes or {})}
    level1 += [f"{q(shapes[code])} AS {column}" for code, column in nested.items()]
    names = {r.code: q("v_" + r.code) for r in rules}
    source = f"SELECT {', '.join(level1)} FROM src"
    if identifiers := [r for r in checked_rules if inline_identifier(r)]:
        prepared = (f"{normalised_sql(names[r.code])} AS {q('n_' + r.code)}" for r in identifiers)
        source = f"SELECT *, {', '.join(prepared)} FROM ({source})"
    level2 = [f"{key_sql(checked_rules, names)} AS _key"]
    level3 = ["_key"]
    level4 = ["_key"]
    failures, problems = [], []
    for r in checked_rules:
        v, t, k, e = (q(prefix + r.code) for prefix in ("v_", "t_", "k_", "e_"))
        level2 += [v, f"{'NULL' if (delete and not r.key) else cast_sql(r, v)} AS {t}"]
        level2 += [nested[r.code]] if r.code in nested else []
        identifier = identifier_sql(r, q("n_" + r.code), normalised=True) if inline_identifier(r) else None
        if identifier:
            level2.append(f"{identifier} AS {k}")
        check = check_sql(r, v, typed=t, identifier_ok=k if identifier else None, nested=nested.get(r.code))
        level3 += [v, t, f"{check} AS {e}"]
        level4.append(f"{t} AS {q(r.code)}")
        failures.append(f"{e} IS NOT NULL")
        problems.append(f"{{'item': {literal(r.code)}, 'value': {v}, 'rule': {e}}}")
    # the text of a repeated key, for its error: the typed value itself when the key is text
    dup_text = None
    if dup_target is not None:
        dup_text = q(dup_target.code)
        if needs_dup_text(checked_rules):
            level4.append(f"{q('v_' + dup_target.code)} AS {DUP_TEXT}")
            dup_text = DUP_TEXT
    if problems:
        level4.append(
            f"CASE WHEN {' OR '.join(failures)} THEN list_filter([{', '.join(problems)}], lambda p: p.rule IS NOT NULL) "
            "END AS _errors"
        )
    else:
        level4.append("NULL AS _errors")
    rows = (
        f"SELECT {', '.join(level4)} FROM (SELECT {', '.join(level3)} FROM (SELECT {', '.join(level2)} FROM ("
        f"{source})))"
    )
    if into is None:
        staged = "staged"
        con.execute(f"CREATE OR REPLACE TEMP TABLE staged AS {rows}")
    else:
        # a fresh table written by one INSERT keeps the file's order in its row ids, as a temp table does
        staged = q(into.table)
        outputs = ["_key", *(q(r.code) for r in checked_rules)] + ([DUP_TEXT] if dup_text == DUP_TEXT else [])
        stamp = into.written_at.isoformat(sep=" ")
        con.execute(
            f"INSERT INTO {staged} ({', '.join(outputs)}, _errors, _batch_id, _written_at) "
            f"SELECT *, {int(into.batch_id)}, TIMESTAMP {literal(stamp)} FROM ({rows})"
        )
    found = (
        "SELECT row, e.item, e.value, e.rule FROM (SELECT rowid + 1 AS row, unnest(_errors) AS e "
        f"FROM {staged} WHERE _errors IS NOT NULL)"
    )
    if dup_target is not None:
        # every row of a key that occurs more than once is rejected: the platform cannot tell which is right
        found += (
            f" UNION ALL SELECT rowid + 1, {literal(dup_target.code)}, CAST({dup_text} AS VARCHAR), 'duplicate_key' "
            f"FROM {staged} WHERE _key IN (SELECT _key FROM {staged} WHERE _key IS NOT NULL GROUP BY _key "
            "HAVING count(*) > 1)"
        )
    for i, r in enumerate(r for r in checked_rules if deferred(r)):
        # the distinct values go into a table of their own: given a query, DuckDB would push the check
        # below the DISTINCT and run it on every row. A value that broke an earlier rule of the item
        # keeps that error alone, as inline.
        column, values = q(r.code), f"distinct_{i}"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {values} AS SELECT DISTINCT {column} AS v FROM {staged} "
            f"WHERE {column} IS NOT NULL"
        )
        found += (
            f" UNION ALL SELECT rowid + 1, {literal(r.code)}, {column}, {literal(r.key_kind)} FROM {staged} "
            f"WHERE {column} IN (SELECT v FROM {values} WHERE NOT {identifier_sql(r, 'v')}) "
            f"AND (_errors IS NULL OR NOT list_contains(list_transform(_errors, lambda p: p.item), {literal(r.code)}))"
        )
    con.execute("CREATE OR REPLACE TEMP TABLE errors (row BIGINT, item VARCHAR, value VARCHAR, rule VARCHAR)")
    con.execute(f"INSERT INTO errors {found}")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {VALID} AS SELECT _key"
        + "".join(f", {q(r.code)}" for r in checked_rules)
        + f" FROM {staged} WHERE rowid + 1 NOT IN (SELECT row FROM errors)"
    )
    rows_total, rejected, errors = con.execute(
        f"SELECT (SELECT count(*) FROM {staged}), count(DISTINCT row), count(*) FROM errors"
    ).fetchall()[0]
    return Checked(rows_total, rejected, errors)


def check_values(rules: list[ItemRule], values: dict[str, Any]) -> dict[str, str]:
    """The message of the first rule each value breaks, by item code (empty when all hold): the
    rules a batch applies, checked on one row in memory, for values claimed long before any batch
    carries them (an objection's claimed values). ``values`` maps item codes to values as JSON
    carries them; items without a value are not checked, and the uniqueness of a key is a question
    for a batch, not for one row."""
    checked = [replace(r, key=False) for r in rules if r.code in values]
    problems = {r.code: r.message("not_scalar") for r in checked if isinstance(values[r.code], dict | list)}
    checked = [r for r in checked if r.code not in problems]
    if not checked:
        return problems
    row = [_text(values[r.code]) for r in checked]
    with duckdb.connect() as con:
        con.execute(f"CREATE TEMP TABLE src ({', '.join(f'c{i} VARCHAR' for i in range(len(row)))})")
        con.execute(f"INSERT INTO src VALUES ({', '.join('?' for _ in row)})", row)
        validate(con, checked, {r.code: f"c{i}" for i, r in enumerate(checked)})
        broken = con.execute("SELECT item, rule FROM errors ORDER BY rowid").fetchall()
    by_code = {r.code: r for r in checked}
    for code, rule in broken:
        problems.setdefault(code, by_code[code].message(rule))
    return problems


def _text(value: Any) -> str | None:
    """A JSON value as a batch of JSON records reads it: text as is, numbers and logical values as
    JSON spells them."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)
