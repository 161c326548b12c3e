"""Validation derived from the catalog (AGG-4), as DuckDB SQL over whole columns.

The source rows sit in a DuckDB table ``src`` of text columns plus ``_row`` (the 1-based data row of
the file). For each item one SQL expression names the first rule the value breaks (or NULL), so a
million rows are checked in a few vectorised passes and never in a Python loop. Rules, in order:
required, type, length, code list, pattern, range, GB 11643 / GB 32100 for key identifiers, and
duplicate keys (every row of a key that occurs more than once in the batch is rejected).
"""

from __future__ import annotations

from dataclasses import dataclass

from govdata.core.ids import ric_valid_sql, uscc_valid_sql
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

RULE_MESSAGES = {
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
    if letter == "I":
        return f"TRY_CAST({v} AS BIGINT)"
    if letter == "N":
        if rule.length and rule.length <= 38:
            return f"TRY_CAST({v} AS DECIMAL({rule.length}, {min(rule.precision or 0, rule.length)}))"
        return f"TRY_CAST({v} AS DOUBLE)"
    if letter == "Y":
        return f"TRY_CAST(replace({v}, ',', '') AS DECIMAL(18, 2))"
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
            f"CASE WHEN lower({v}) IN ('1', 'true', 't', 'y', 'yes', '是') THEN TRUE "
            f"WHEN lower({v}) IN ('0', 'false', 'f', 'n', 'no', '否') THEN FALSE END"
        )
    return v


def check_sql(rule: ItemRule, v: str) -> str:
    """The name of the first rule that text ``v`` breaks, or NULL."""
    typed = cast_sql(rule, v)
    cases = [f"WHEN {v} IS NULL THEN {literal('required') if rule.required else 'NULL'}"]
    if typed != v:
        cases.append(f"WHEN {typed} IS NULL THEN 'type'")
    if rule.length and rule.data_type in ("C", "M"):
        cases.append(f"WHEN length({v}) > {int(rule.length)} THEN 'length'")
    if rule.code_list:
        cases.append(f"WHEN {v} NOT IN ({', '.join(literal(c) for c in rule.code_list)}) THEN 'code_list'")
    if rule.pattern:
        cases.append(f"WHEN NOT regexp_full_match({v}, {literal(rule.pattern)}) THEN 'pattern'")
    if rule.minimum is not None:
        cases.append(f"WHEN {typed} < {float(rule.minimum)} THEN 'range'")
    if rule.maximum is not None:
        cases.append(f"WHEN {typed} > {float(rule.maximum)} THEN 'range'")
    if rule.key_kind == "ric":
        cases.append(f"WHEN NOT {ric_valid_sql(v)} THEN 'ric'")
    if rule.key_kind == "uscc":
        cases.append(f"WHEN NOT {uscc_valid_sql(v)} THEN 'uscc'")
    return "CASE " + " ".join(cases) + " END"


def key_sql(rules: list[ItemRule], values: dict[str, str]) -> str:
    """The row's key: its key items' values (identifiers upper-cased), or a hash of the whole row."""
    keys = [r for r in rules if r.key]
    if not keys:
        return "md5(concat_ws(chr(31), " + ", ".join(f"coalesce({values[r.code]}, '')" for r in rules) + "))"
    parts = [f"upper({values[r.code]})" if r.key_kind in ("ric", "uscc") else values[r.code] for r in keys]
    return parts[0] if len(parts) == 1 else "concat_ws(chr(31), " + ", ".join(parts) + ")"


def validate(con, rules: list[ItemRule], present: dict[str, str], *, delete: bool = False) -> None:
    """Create ``checked`` (``_row``, ``_key``, ``_ok``, typed items) and ``errors`` (row, item,
    value, rule) from ``src``. ``present`` maps an item code to its column in ``src``."""
    checked_rules = [r for r in rules if (r.key if delete else True)]
    values = {
        r.code: (f"NULLIF(trim({q(present[r.code])}), '')" if r.code in present else "NULL") for r in rules
    }
    select = ["_row", f"{key_sql(checked_rules, values)} AS _key"]
    for r in checked_rules:
        select.append(f"{values[r.code]} AS {q('v_' + r.code)}")
        select.append(f"{check_sql(r, values[r.code])} AS {q('e_' + r.code)}")
    con.execute("CREATE OR REPLACE TEMP TABLE raw_checked AS SELECT " + ", ".join(select) + " FROM src")
    key_rules = [r for r in checked_rules if r.key]
    dup_target = key_rules[0].code if key_rules else None
    errors_cols = [f"{q('e_' + r.code)} IS NULL" for r in checked_rules]
    dup = "count(*) OVER (PARTITION BY _key) > 1" if dup_target else "FALSE"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE flagged AS SELECT *, "
        f"CASE WHEN _key IS NOT NULL AND {dup} THEN TRUE ELSE FALSE END AS _dup FROM raw_checked"
    )
    unions = [
        f"SELECT _row AS row, {literal(r.code)} AS item, {q('v_' + r.code)} AS value, {q('e_' + r.code)} AS rule "
        f"FROM flagged WHERE {q('e_' + r.code)} IS NOT NULL"
        for r in checked_rules
    ]
    if dup_target:
        unions.append(
            f"SELECT _row AS row, {literal(dup_target)} AS item, {q('v_' + dup_target)} AS value, "
            "'duplicate_key' AS rule FROM flagged WHERE _dup"
        )
    if unions:
        con.execute("CREATE OR REPLACE TEMP TABLE errors AS " + " UNION ALL ".join(unions))
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE errors (row BIGINT, item VARCHAR, value VARCHAR, rule VARCHAR)"
        )
    ok = " AND ".join([*errors_cols, "NOT _dup"]) if errors_cols else "NOT _dup"
    typed = [
        f"{cast_sql(r, q('v_' + r.code)) if not (delete and not r.key) else 'NULL'} AS {q(r.code)}"
        for r in checked_rules
    ]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE checked AS SELECT _row, _key, "
        + (", ".join(typed) + ", " if typed else "")
        + f"({ok}) AS _ok FROM flagged"
    )
