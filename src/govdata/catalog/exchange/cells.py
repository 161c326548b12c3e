"""Cells of the exchange workbook: the spellings a cell may use (labels, values, aliases, lists), a
cell's value read as its field's type, and a field's value written back as a cell."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from govdata.catalog.enums import (
    KeyKind,
    LegalBasisKind,
    OpenType,
    ResourceFormat,
    ShareType,
)
from govdata.catalog.exchange.template import Column, allowed_values
from govdata.catalog.schemas import ResourceIn
from govdata.core.files import CONTROL_CHARS, EXCEL_MAX_CELL_CHARS, FORMULA_START
from govdata.core.labels import LabelledEnum

# Extra spellings people write in catalogs; labels and English values are accepted anyway.
ALIASES: dict[type[LabelledEnum], dict[str, str]] = {
    ShareType: {"无条件": "unconditional", "有条件": "conditional", "不共享": "none", "不予": "none"},
    OpenType: {
        "无条件": "unconditional",
        "有条件": "conditional",
        "不开放": "none",
        "不予开放": "none",
        "不予": "none",
    },
    LegalBasisKind: {"党中央国务院政策": "central_policy", "国务院政策": "central_policy"},
    ResourceFormat: {"电子文档": "file", "文件": "file", "表格": "spreadsheet", "接口": "service"},
}
TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "必填"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "✗"}
LEVEL_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4}


def normalised(text: str) -> str:
    """Text as compared with spellings and headers: NFKC, without spaces, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def _enum_lookup(enum: type[LabelledEnum]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for member in enum:
        for spelling in (
            member.value,
            member.label,
            member.value + member.label,
            member.label + member.value,
        ):
            lookup[normalised(spelling)] = member.value
        lookup[normalised(f"{member.label}({member.value})")] = member.value
        lookup[normalised(f"{member.value}({member.label})")] = member.value
    for spelling, value in ALIASES.get(enum, {}).items():
        lookup.setdefault(normalised(spelling), value)
    return lookup


_LOOKUPS: dict[type[LabelledEnum], dict[str, str]] = {}


def enum_value(enum: type[LabelledEnum], text: str) -> str | None:
    """The English value for a cell holding a label, a value or both; None when it is neither."""
    if enum not in _LOOKUPS:
        _LOOKUPS[enum] = _enum_lookup(enum)
    return _LOOKUPS[enum].get(normalised(text))


def split_list(text: str) -> list[str]:
    """List cells: entries separated by newlines, or by ；/; when the cell has no newline."""
    parts = text.splitlines() if "\n" in text or "\r" in text else re.split(r"[；;]", text)
    return [p.strip() for p in parts if p.strip()]


def join_list(values: Iterable[str]) -> str:
    values = [str(v) for v in values]
    separator = "\n" if any(re.search(r"[；;]", v) for v in values) else "；"
    return separator.join(values)


# --- reading cells --------------------------------------------------------------------------------


class CellError(ValueError):
    pass


def cell_text(raw: Any) -> str | None:
    """A cell's value as text (None when empty); hostile content stays text and is checked."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        text = "是" if raw else "否"
    elif isinstance(raw, float):
        text = str(int(raw)) if raw.is_integer() else repr(raw)
    elif isinstance(raw, datetime | date | time):
        text = raw.isoformat()
    elif isinstance(raw, timedelta):
        text = str(raw)
    else:
        text = str(raw)
    if len(text) > EXCEL_MAX_CELL_CHARS:
        raise CellError(f"内容过长（{len(text)} 字符，单元格最多 {EXCEL_MAX_CELL_CHARS} 字符）")
    if CONTROL_CHARS.search(text):
        raise CellError("含有不可见的控制字符")
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        text = text[1:]  # the export's guard against formula injection
    text = text.strip()
    return text or None


def parse_cell(column: Column, raw: Any) -> Any:
    """The field value of one cell; ``None`` for an empty optional cell. Raises ``CellError``."""
    text = cell_text(raw)
    if text is None:
        if column.required:
            raise CellError("必填")
        if column.kind in ("enum_list",):
            return []
        if column.kind == "list":
            return [] if column.field in ("materials", "related_codes") else None
        if column.kind == "bool":
            return False
        if column.kind == "key":
            return (False, None)
        if column.kind == "level":
            return 1
        if column.field == "summary":
            return ""
        if column.field in ("open_type", "grade"):
            return ResourceIn.model_fields[column.field].default.value
        return None
    kind = column.kind
    if kind == "enum":
        assert column.enum is not None
        value = enum_value(column.enum, text)
        if value is None:
            raise CellError(f"“{text}”不是有效的{column.header}，可填：{allowed_values(column.enum)}")
        return value
    if kind == "enum_list":
        assert column.enum is not None
        values = []
        for part in split_list(text):
            value = enum_value(column.enum, part)
            if value is None:
                raise CellError(f"“{part}”不是有效的{column.header}，可填：{allowed_values(column.enum)}")
            if value not in values:
                values.append(value)
        return values
    if kind == "list":
        return split_list(text)
    if kind == "bool":
        word = normalised(text)
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise CellError(f"“{text}”应为“是”或“否”")
    if kind == "key":
        word = normalised(text)
        if word in TRUE_WORDS:
            return (True, None)
        if word in FALSE_WORDS:
            return (False, None)
        key_kind = enum_value(KeyKind, text)
        if key_kind is None:
            raise CellError(f"“{text}”应为“是”“否”或关键标识类型（{allowed_values(KeyKind)}）")
        return (True, key_kind)
    if kind in ("int", "level"):
        word = text.removesuffix("级").strip()
        if kind == "level" and word in LEVEL_WORDS:
            return LEVEL_WORDS[word]
        try:
            number = float(word)
        except ValueError:
            number = 0.5
        if kind == "level" and number not in (1, 2, 3, 4):
            raise CellError(f"“{text}”应为 1–4 级")
        if not number.is_integer():
            raise CellError(f"“{text}”应为整数")
        return int(number)
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise CellError(f"“{text}”应为数字") from None
    return text


# --- writing cells ---------------------------------------------------------------------------------


def cell_label(enum: type[LabelledEnum] | None, value: Any) -> Any:
    """The label of an enumerated value; an empty or unknown value stays as it is."""
    if value is None or value == "" or enum is None:
        return value
    try:
        return enum(value).label
    except ValueError:
        return value


def resource_cell(column: Column, view: dict[str, Any]) -> Any:
    """The cell of ``column`` on the resource sheet for an exported resource view."""
    value = view.get(column.field)
    if column.kind == "reason":
        return None
    if column.kind in ("enum", "info") and column.enum is not None:
        return cell_label(column.enum, value)
    if column.kind == "enum_list":
        return join_list(cell_label(column.enum, v) for v in value or [])
    if column.kind == "list":
        return join_list(value or []) or None
    return value


def item_cell(column: Column, view: dict[str, Any], item: dict[str, Any]) -> Any:
    """The cell of ``column`` on the item sheet for one item of an exported resource view."""
    if column.field == "resource_code":
        return view.get("code")
    if column.field == "resource_name":
        return view.get("name")
    value = item.get(column.field)
    if column.kind == "enum":
        return cell_label(column.enum, value)
    if column.kind == "bool":
        return "是" if value else "否"
    if column.kind == "key":
        if not value:
            return "否"
        return cell_label(KeyKind, item.get("key_kind")) if item.get("key_kind") else "是"
    if column.kind == "list":
        return join_list(value or []) or None
    if column.kind == "float" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value
