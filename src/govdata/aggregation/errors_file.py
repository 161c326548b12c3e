"""The row-level errors of a batch (AGG-5): the errors file kept beside the batch, and the downloads.

When a batch is validated, each error (row, item, value, rule) is written to ``errors.parquet`` with
``line``, the row's values as text (item code → text): the values the platform read, taken from the
validated rows while they are still at hand, so the report never needs the uploaded file again (a
rejected batch's file is removed at once, an applied one's after the retention).

Two layouts are downloaded:

* the API's CSV (SPEC §15): columns ``row, item, value, rule, message``, kept as they are;
* the errors file for the department's vendor (给源系统开发商的错误清单), in Chinese: 行号, the item's
  name, the value, the rule's name, the message, and beside them the whole row as it arrived, one
  column per item under its name. A value that broke a rule is shown as sent; the row's other values
  as the platform read them (a date as YYYY-MM-DD, a logical value as 是/否).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from govdata.aggregation import sources
from govdata.core import files
from govdata.store.sql import q

ERROR_COLUMNS = ["row", "item", "value", "rule", "message"]
VENDOR_HEADER = ["行号", "出错信息项", "错误值", "校验规则", "错误说明"]
SHEET_TITLE = "错误清单"

RULE_NAMES = {
    "not_scalar": "单个值",
    "required": "必填",
    "type": "数据类型",
    "length": "长度",
    "code_list": "代码表",
    "pattern": "格式",
    "range": "取值范围",
    "ric": "公民身份号码校验",
    "uscc": "统一社会信用代码校验",
    "duplicate_key": "关键标识重复",
}


def errors_sql(staged: str | None, codes: Sequence[str]) -> str:
    """The query of the errors file, on the connection a batch was validated in: the temp table
    ``errors`` joined to the validated rows (the temp table ``staged``, or the store's table
    ``staged`` of a first load) for ``line``, the row's values of the items ``codes`` as text."""
    table = q(staged) if staged else "staged"
    if codes:
        keys = ", ".join(sources.literal(c) for c in codes)
        values = ", ".join(f"CAST({q(c)} AS VARCHAR)" for c in codes)
        line = f"map([{keys}], [{values}])"
    else:
        line = "CAST(NULL AS MAP(VARCHAR, VARCHAR))"
    return (
        "SELECT e.row, e.item, e.value, e.rule, l.line FROM errors e LEFT JOIN "
        f"(SELECT rowid + 1 AS n, {line} AS line FROM {table} WHERE rowid + 1 IN (SELECT row FROM errors)) l "
        "ON l.n = e.row ORDER BY e.row, e.item"
    )


@dataclass(frozen=True)
class RowError:
    """One error of a batch: the data row (1-based), the item's code, the value as sent, the rule, and
    the row's values by item code (None in an errors file written before they were kept)."""

    row: int
    item: str
    value: str | None
    rule: str
    line: dict[str, str | None] | None


def read_errors(path: Path, limit: int | None = None) -> list[RowError]:
    """The errors file of a batch, in the order of rows and items (none when there is no file)."""
    if not path.exists():
        return []
    source = f"read_parquet({sources.literal(str(path))})"
    with duckdb.connect() as con:
        columns = {name for name, *_ in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        line = "line" if "line" in columns else "NULL"
        sql = f"SELECT row, item, value, rule, {line} FROM {source} ORDER BY row, item"
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = con.execute(sql).fetchall()
    return [RowError(int(r), i, v, rule, dict(line) if line else None) for r, i, v, rule, line in rows]


# --- downloads ------------------------------------------------------------------------------------


def contract_csv(rows: Iterable[dict[str, Any]]) -> bytes:
    """The API's CSV (SPEC §15): ``row, item, value, rule, message``, for programs: no BOM, so that the
    first column reads ``row``, and each value as the JSON errors give it. People download the
    errors in Chinese (``lang=zh``, CSV or XLSX), made safe for spreadsheets."""
    return files.write_csv(
        ERROR_COLUMNS, ([row[k] for k in ERROR_COLUMNS] for row in rows), for_programs=True
    )


@dataclass(frozen=True)
class ItemColumn:
    """An item of the catalog version the batch was loaded against, as the vendor's file names it."""

    code: str
    name: str
    data_type: str = "C"


def _shown(value: str | None, data_type: str) -> str | None:
    if value is not None and data_type == "L":
        return {"true": "是", "false": "否"}.get(value.lower(), value)
    return value


def vendor_table(
    rows: Sequence[dict[str, Any]], items: Sequence[ItemColumn]
) -> tuple[list[str], list[list[Any]]]:
    """The vendor's layout: one line per error, with the row's values beside it under the items'
    names (an item whose name repeats another's is told apart by its code)."""
    names = [i.name for i in items]
    header = [*VENDOR_HEADER]
    for item in items:
        header.append(f"{item.name}（{item.code}）" if names.count(item.name) > 1 else item.name)
    by_code = {i.code: i for i in items}
    sent: dict[int, dict[str, str | None]] = {}  # per row, the values that broke a rule, as sent
    for row in rows:
        sent.setdefault(row["row"], {})[row["item"]] = row["value"]
    lines = []
    for row in rows:
        item = by_code.get(row["item"])
        read = row.get("line") or {}
        values = [
            sent[row["row"]][i.code] if i.code in sent[row["row"]] else _shown(read.get(i.code), i.data_type)
            for i in items
        ]
        lines.append(
            [
                row["row"],
                f"{item.name}（{item.code}）" if item else row["item"],
                row["value"],
                RULE_NAMES.get(row["rule"], row["rule"]),
                row["message"],
                *values,
            ]
        )
    return header, lines


def vendor_csv(rows: Sequence[dict[str, Any]], items: Sequence[ItemColumn]) -> bytes:
    header, lines = vendor_table(rows, items)
    return files.write_csv(header, lines)


def vendor_xlsx(rows: Sequence[dict[str, Any]], items: Sequence[ItemColumn]) -> bytes:
    header, lines = vendor_table(rows, items)
    return files.write_xlsx({SHEET_TITLE: (header, lines)})
