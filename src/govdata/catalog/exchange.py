"""Catalog exchange (CAT-10): the XLSX template, import with row-level errors, export of any view.

* The template (documented in ``docs/catalog-exchange.md``) has a sheet "资源" (one row per
  resource), a sheet "信息项" (one row per item, linked to its resource by 资源代码 or 资源名称) and
  a sheet "说明" generated from the enumerations. Enumerated cells take the Chinese label or the
  English value; the export writes labels, so export → edit → import works.
* An import is all or nothing: every row is parsed into ``ResourceIn`` and checked with the same
  ``service.validate_resource`` as the API, and the checks of ``service.update_resource`` are made
  up front, so that one answer lists every faulty row. Only when no row has an error are the
  resources created or updated through the service, in the caller's transaction: if anything fails
  after all, the raised problem rolls the whole import back.
* An update row replaces the fields of the columns the sheet has (an empty cell clears the field);
  columns missing from the sheet keep their stored value, and a resource without rows on "信息项"
  keeps its items. A row that equals the stored resource is left alone, so re-importing an export
  neither opens revisions nor asks for reasons.
* Cells are data, never formulas: the reader takes each cell's stored value as text, and the
  export prefixes text that starts with = + - @ (or a tab/CR) with ``'`` so that a spreadsheet will
  not evaluate it; the import removes that prefix again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.orm import Session

from govdata.catalog import service
from govdata.catalog.auth import CATALOG_COMPILE, CATALOG_READ
from govdata.catalog.enums import (
    DataType,
    Grade,
    KeyKind,
    LabelledEnum,
    LegalBasisKind,
    OpenType,
    ResourceFormat,
    ResourceStatus,
    ShareMethod,
    ShareMode,
    ShareType,
    UpdateCycle,
)
from govdata.catalog.schemas import ItemIn, ResourceIn, ResourceOut, ResourcePatch
from govdata.catalog.search import SearchQuery
from govdata.core import audit
from govdata.core.auth import Actor, require
from govdata.core.errors import (
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    Problem,
    validation_problem,
)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_RESOURCES = 5000
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024  # a 10 MiB upload that inflates beyond this is a zip bomb
MAX_CELL_CHARS = 32767  # Excel's own limit for a cell
# calamine holds a sheet as a dense grid, so one far-away cell in a tiny file would take gigabytes
MAX_SHEET_ROWS = 50_001
MAX_SHEET_COLUMNS = 64
EXPORT_PAGE = 500
TEMPLATE_ROWS = 500  # rows that carry the drop-down lists in the template

RESOURCE_SHEET = "资源"
ITEM_SHEET = "信息项"
GUIDE_SHEET = "说明"
JSON_SOURCE = "JSON"

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_MEDIA_TYPE = "application/json"
CHINA = ZoneInfo("Asia/Shanghai")

Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: phase is "check", "apply" or "export"."""


class UnsupportedFile(Problem):
    status, slug, title = 415, "unsupported-file", "Unsupported file type"


# --- the template's columns ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: (
        str  # text | enum | enum_list | list | bool | int | float | level | key | code | reason | link | info
    )
    enum: type[LabelledEnum] | None = None
    required: bool = False
    note: str = ""
    width: int = 14


RESOURCE_COLUMNS: tuple[Column, ...] = (
    Column("资源代码", "code", "code", note="新建的资源留空；填写本部门已有资源的代码则更新该资源", width=22),
    Column("资源名称", "name", "text", required=True, note="2–200 字", width=24),
    Column("摘要", "summary", "text", note="资源的内容、范围和用途", width=40),
    Column(
        "资源分类",
        "classification",
        "text",
        required=True,
        note="分类代码（类/项/目/细目），如 101 人口、102 法人单位、201 公共服务；3 开头为部门信息资源；创建后不能更改",
    ),
    Column("资源格式", "format", "enum", ResourceFormat, required=True),
    Column("共享类型", "share_type", "enum", ShareType, required=True),
    Column("共享条件", "share_conditions", "text", note="有条件共享时必填", width=30),
    Column("共享依据", "legal_basis", "text", note="有条件共享和不予共享时必填", width=30),
    Column(
        "依据类别",
        "legal_basis_kind",
        "enum",
        LegalBasisKind,
        note="不予共享时必填，且只能是法律、行政法规或党中央、国务院政策",
    ),
    Column("使用要求", "usage_requirements", "text", note="随申请和授权一并告知使用部门", width=30),
    Column("服务方式", "share_modes", "enum_list", ShareMode, note="可填多个；可共享的资源至少一种"),
    Column("共享方式", "share_methods", "enum_list", ShareMethod, note="可填多个"),
    Column("开放类型", "open_type", "enum", OpenType, note="留空为非开放"),
    Column("开放条件", "open_conditions", "text", note="有条件开放时必填", width=30),
    Column("更新周期", "update_cycle", "enum", UpdateCycle, required=True),
    Column("数据分级", "grade", "enum", Grade, note="留空为一般"),
    Column(
        "申请材料",
        "materials",
        "list",
        note="申请使用时需提供的全部材料，可填多个；有条件共享时必填",
        width=30,
    ),
    Column("关联资源", "related_codes", "list", note="关联资源的代码，可填多个", width=22),
    Column("修订原因", "reason", "reason", note="修改已发布的资源时必填（修改会开启修订版本）", width=24),
)
EXPORT_INFO_COLUMNS: tuple[Column, ...] = (
    Column("提供部门", "provider", "info", note="导出时填写，导入时忽略", width=20),
    Column("状态", "status", "info", ResourceStatus, note="导出时填写，导入时忽略", width=10),
    Column("版本", "version", "info", note="导出时填写，导入时忽略", width=8),
)
ITEM_COLUMNS: tuple[Column, ...] = (
    Column("资源代码", "resource_code", "link", note="所属资源的代码（更新已有资源时填写）", width=22),
    Column(
        "资源名称", "resource_name", "link", note="所属资源的名称；资源代码与资源名称至少填一个", width=24
    ),
    Column("信息项代码", "code", "text", required=True, note="字母开头，字母、数字、下划线，如 gmsfhm"),
    Column("信息项名称", "name", "text", required=True, width=18),
    Column("数据类型", "data_type", "enum", DataType, required=True),
    Column("长度", "length", "int", note="1–100000 的整数", width=8),
    Column("精度", "precision", "int", note="小数位数，0–30", width=8),
    Column("必填", "required", "bool", note="是/否，留空为否；关键标识必须必填", width=8),
    Column(
        "关键标识",
        "key",
        "key",
        KeyKind,
        note="否/是，或关键标识类型（公民身份号码、统一社会信用代码、其他关键标识）；留空为否",
    ),
    Column("敏感级别", "level", "level", note="1–4，留空为 1", width=10),
    Column("代码表", "code_list", "list", note="允许的取值，可填多个", width=20),
    Column("格式", "pattern", "text", note="正则表达式", width=20),
    Column("最小值", "minimum", "float", width=10),
    Column("最大值", "maximum", "float", width=10),
    Column("数据元", "element", "text", note="引用的数据元名称，如 公民身份号码", width=16),
    Column("共享类型", "share_type", "enum", ShareType, note="留空则同资源的共享类型"),
    Column("说明", "description", "text", width=30),
)

RESOURCE_FIELD_LABELS = {c.field: c.header for c in RESOURCE_COLUMNS} | {"items": ITEM_SHEET}
ITEM_FIELD_LABELS = {c.field: c.header for c in ITEM_COLUMNS} | {"key_kind": "关键标识"}
RESOURCE_FIELDS = [f for f in ResourceIn.model_fields if f != "items"]
# fields of an exported JSON resource that describe it rather than compile it
EXPORT_ONLY_FIELDS = {
    "status",
    "version",
    "provider",
    "provider_id",
    "published_version",
    "published_at",
    "updated_at",
    "revision",
    "warnings",
}

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
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _norm(text: str) -> str:
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
            lookup[_norm(spelling)] = member.value
        lookup[_norm(f"{member.label}({member.value})")] = member.value
        lookup[_norm(f"{member.value}({member.label})")] = member.value
    for spelling, value in ALIASES.get(enum, {}).items():
        lookup.setdefault(_norm(spelling), value)
    return lookup


_LOOKUPS: dict[type[LabelledEnum], dict[str, str]] = {}


def enum_value(enum: type[LabelledEnum], text: str) -> str | None:
    """The English value for a cell holding a label, a value or both; None when it is neither."""
    if enum not in _LOOKUPS:
        _LOOKUPS[enum] = _enum_lookup(enum)
    return _LOOKUPS[enum].get(_norm(text))


def allowed_values(enum: type[LabelledEnum]) -> str:
    return "、".join(f"{m.label}（{m.value}）" for m in enum)


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
    if len(text) > MAX_CELL_CHARS:
        raise CellError(f"内容过长（{len(text)} 字符，单元格最多 {MAX_CELL_CHARS} 字符）")
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
        word = _norm(text)
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise CellError(f"“{text}”应为“是”或“否”")
    if kind == "key":
        word = _norm(text)
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


# --- what an import is made of --------------------------------------------------------------------


@dataclass
class Draft:
    """One resource of an import file, with where each of its values came from."""

    number: int  # 1-based position among the file's resources
    source: str  # RESOURCE_SHEET (XLSX) or JSON_SOURCE
    row: int  # Excel row on "资源", or the number of the resource in JSON
    code: str | None = None
    reason: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # resource fields the file gives
    items: list[dict[str, Any]] | None = None  # None: the file gives no items for it
    item_rows: list[int] = field(default_factory=list)  # Excel rows on "信息项"
    raw: dict[tuple[int | None, str], Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    bad: set[tuple[int | None, str]] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    unusable: bool = False  # not even an object: nothing to check

    @property
    def name(self) -> str:
        return str(self.fields.get("name") or "")

    @property
    def place(self) -> str:
        return f"第 {self.number} 个资源" if self.source == JSON_SOURCE else f"第 {self.row} 行"

    def where(self, item: int | None, name: str) -> dict[str, Any]:
        if self.source == JSON_SOURCE:
            if item is None:
                label = None if name == "resource" else RESOURCE_FIELD_LABELS.get(name, name)
            elif name == "item":
                label = f"信息项第 {item + 1} 项"
            else:
                label = f"信息项第 {item + 1} 项的{ITEM_FIELD_LABELS.get(name, name)}"
            return {"sheet": JSON_SOURCE, "row": self.number, "column": label}
        if item is None:
            return {"sheet": RESOURCE_SHEET, "row": self.row, "column": RESOURCE_FIELD_LABELS.get(name, name)}
        return {"sheet": ITEM_SHEET, "row": self.item_rows[item], "column": ITEM_FIELD_LABELS.get(name, name)}

    def fail(self, item: int | None, name: str, message: str, value: Any = None) -> None:
        """Record an error on one cell; the first error of a cell is the one shown."""
        if (item, name) in self.bad:
            return
        self.bad.add((item, name))
        if value is None:
            value = self.raw.get((item, name))
        self.errors.append(
            {**self.where(item, name), "field": _path(item, name), "value": _shown(value), "message": message}
        )


def _path(item: int | None, name: str) -> str:
    return name if item is None else f"items.{item}.{name}"


def _shown(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:200] + "…"


def _file_error(sheet: str, row: int, column: str | None, message: str, value: Any = None) -> dict[str, Any]:
    return {
        "sheet": sheet,
        "row": row,
        "column": column,
        "field": None,
        "value": _shown(value),
        "message": message,
    }


def describe(error: dict[str, Any]) -> str:
    """``第 3 行（资源）：共享条件：有条件共享的资源必须写明共享条件``."""
    if error["sheet"] == JSON_SOURCE:
        place = f"第 {error['row']} 个资源"
    else:
        place = f"第 {error['row']} 行（{error['sheet']}）"
    if error.get("column"):
        return f"{place}：{error['column']}：{error['message']}"
    return f"{place}：{error['message']}"


def _refuse(errors: list[dict[str, Any]], what: str = "文件") -> None:
    order = {RESOURCE_SHEET: 0, ITEM_SHEET: 1, JSON_SOURCE: 2}
    errors = sorted(errors, key=lambda e: (order.get(e["sheet"], 3), e["row"]))
    lines = [describe(e) for e in errors]
    more = f"（共 {len(lines)} 处）" if len(lines) > 5 else ""
    raise InvalidInput(
        f"{what}有误，未导入任何资源：" + "；".join(lines[:5]) + more,
        slug="catalog-import-invalid",
        errors=errors,
    )


# --- reading files ---------------------------------------------------------------------------------


def read_limited(stream: Any, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read an upload, refusing anything over the limit (413) before parsing it."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    return data


def _too_large(limit: int = MAX_FILE_BYTES) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"文件超过 {limit // (1024 * 1024)} MiB，请拆分后分批导入。", slug="file-too-large", limit=limit
    )


def _too_many() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"一次最多导入 {MAX_RESOURCES} 个资源，请拆分后分批导入。",
        slug="too-many-resources",
        limit=MAX_RESOURCES,
    )


def sniff(data: bytes) -> str:
    """ "xlsx" or "json" by content, whatever the file is called."""
    if not data.strip():
        raise InvalidInput("文件是空的。", slug="empty-file")
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if head[:1] in (b"{", b"["):
        return "json"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFile("这是旧版 Excel（.xls）或加密的工作簿，请另存为 .xlsx 后再导入。")
    raise UnsupportedFile("只能导入 XLSX 工作簿或 JSON 文件（按目录交换模板填写）。")


_SHEET_TAG = re.compile(rb"<(?:\w+:)?(row|c)\b([^>]*)>")
_REF = re.compile(rb'\sr="([A-Za-z]{0,3})([0-9]+)"')


def _check_extent(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse a worksheet whose cells reach beyond the limits, reading its XML as a stream.

    Cells are placed as calamine places them: at their ``r`` reference, else after the previous one.
    Only cells that can hold a value count (calamine skips ``<c …/>``, e.g. formatting on empty rows).
    """
    row = column = 0
    carry = b""
    with archive.open(name) as stream:
        while chunk := stream.read(1 << 20):
            data = carry + chunk
            cut = data.rfind(b"<")
            data, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
            for tag, attributes in _SHEET_TAG.findall(data):
                ref = _REF.search(attributes)
                if tag == b"row":
                    row = int(ref.group(2)) if ref else row + 1
                    column = 0
                    continue
                if ref and ref.group(1):
                    column = 0
                    for letter in ref.group(1).upper():
                        column = column * 26 + letter - 64
                    row = int(ref.group(2))
                else:
                    column += 1
                empty = attributes.rstrip().endswith(b"/")
                if not empty and (row > MAX_SHEET_ROWS or column > MAX_SHEET_COLUMNS):
                    raise PayloadTooLarge(
                        f"工作表过大：最多 {MAX_SHEET_ROWS - 1} 行数据、{MAX_SHEET_COLUMNS} 列，请拆分后分批导入。",
                        slug="sheet-too-large",
                    )


def _xlsx_rows(data: bytes) -> dict[str, list[list[Any]]]:
    """Rows of the template's sheets as stored values (index 0 is Excel row 1), after checking the zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidInput("文件不是有效的 XLSX 工作簿：压缩包已损坏。", slug="broken-xlsx") from None
    names = {e.filename for e in entries}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise InvalidInput("压缩包里没有 Excel 工作簿，不是 .xlsx 文件。", slug="not-xlsx")
    if sum(e.file_size for e in entries) > MAX_UNZIPPED_BYTES or len(entries) > 10000:
        raise PayloadTooLarge("工作簿解压后过大，请拆分后分批导入。", slug="file-too-large")
    from python_calamine import CalamineWorkbook

    try:
        for name in names:
            if name.startswith("xl/worksheets/") and name.endswith(".xml") and "/_rels/" not in name:
                _check_extent(archive, name)
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [s.strip() for s in workbook.sheet_names]
        if RESOURCE_SHEET not in sheets:
            raise InvalidInput(
                f"工作簿中没有“{RESOURCE_SHEET}”工作表，请使用目录交换模板（现有工作表：{'、'.join(sheets) or '无'}）。",
                slug="missing-sheet",
            )
        rows = {}
        for original, name in zip(workbook.sheet_names, sheets, strict=True):
            if name in (RESOURCE_SHEET, ITEM_SHEET) and name not in rows:
                rows[name] = workbook.get_sheet_by_name(original).to_python(skip_empty_area=False)
        workbook.close()
        return rows
    except Problem:
        raise
    except Exception:  # zlib, calamine (broken XML, missing parts) …
        raise InvalidInput(
            "无法读取工作簿：文件已损坏，或不是由 Excel/WPS 保存的 .xlsx 文件。", slug="broken-xlsx"
        ) from None


def _header(
    sheet: str, row: list[Any], columns: tuple[Column, ...], ignored: tuple[Column, ...] = ()
) -> tuple[dict[int, Column], list[dict[str, Any]]]:
    by_header = {_norm(c.header): c for c in columns + ignored}
    found: dict[int, Column] = {}
    errors = []
    seen: set[str] = set()
    for index, raw in enumerate(row):
        try:
            text = cell_text(raw)
        except CellError as exc:
            errors.append(_file_error(sheet, 1, None, f"表头第 {index + 1} 列{exc}"))
            continue
        if text is None:
            continue
        column = by_header.get(_norm(text).strip("*"))
        if column is None:
            errors.append(_file_error(sheet, 1, text, f"未知的列，模板的列见“{GUIDE_SHEET}”工作表", text))
        elif column.header in seen:
            errors.append(_file_error(sheet, 1, text, "列重复", text))
        else:
            seen.add(column.header)
            if column.kind != "info":
                found[index] = column
    for column in columns:
        if column.required and column.header not in seen:
            errors.append(_file_error(sheet, 1, column.header, "缺少这一列"))
    if sheet == ITEM_SHEET and not seen & {"资源代码", "资源名称"}:
        errors.append(_file_error(sheet, 1, "资源名称", "缺少“资源名称”或“资源代码”列，信息项无法关联到资源"))
    return found, errors


def _blank(row: list[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in row)


def _cell(row: list[Any], position: int) -> Any:
    return row[position] if position < len(row) else None


def drafts_from_xlsx(data: bytes) -> tuple[list[Draft], list[dict[str, Any]]]:
    """The resources of a workbook in the template layout, and errors that belong to no resource."""
    sheets = _xlsx_rows(data)
    resource_rows = sheets[RESOURCE_SHEET]
    if not resource_rows or _blank(resource_rows[0]):
        raise InvalidInput(
            f"“{RESOURCE_SHEET}”工作表第 1 行应为表头（见目录交换模板）。", slug="missing-header"
        )
    columns, errors = _header(RESOURCE_SHEET, resource_rows[0], RESOURCE_COLUMNS, EXPORT_INFO_COLUMNS)
    item_rows = sheets.get(ITEM_SHEET) or []
    item_columns: dict[int, Column] = {}
    if item_rows and not _blank(item_rows[0]):
        item_columns, item_errors = _header(ITEM_SHEET, item_rows[0], ITEM_COLUMNS)
        errors += item_errors
    elif any(not _blank(r) for r in item_rows):
        errors.append(_file_error(ITEM_SHEET, 1, None, "第 1 行应为表头（见目录交换模板）"))
    if errors:
        _refuse(errors, "工作簿")

    drafts: list[Draft] = []
    for index, row in enumerate(resource_rows[1:], start=2):
        if _blank(row):
            continue
        if len(drafts) >= MAX_RESOURCES:
            raise _too_many()
        draft = Draft(number=len(drafts) + 1, source=RESOURCE_SHEET, row=index)
        for position, column in columns.items():
            raw = _cell(row, position)
            draft.raw[(None, column.field)] = raw
            try:
                value = parse_cell(column, raw)
            except CellError as exc:
                draft.fail(None, column.field, str(exc))
                continue
            if column.kind == "code":
                draft.code = value
            elif column.kind == "reason":
                draft.reason = value
            else:
                draft.fields[column.field] = value
        drafts.append(draft)

    by_code = {d.code: d for d in drafts if d.code}
    by_name: dict[str, list[Draft]] = {}
    for draft in drafts:
        if draft.name:
            by_name.setdefault(draft.name, []).append(draft)
    orphans: list[dict[str, Any]] = []
    for index, row in enumerate(item_rows[1:], start=2):
        if _blank(row):
            continue
        values: dict[str, Any] = {}
        raws: dict[str, Any] = {}
        cell_errors: list[tuple[str, str]] = []
        for position, column in item_columns.items():
            raw = _cell(row, position)
            raws[column.field] = raw
            try:
                values[column.field] = parse_cell(column, raw)
            except CellError as exc:
                cell_errors.append((column.field, str(exc)))
        owner, problem = _owner(
            values.pop("resource_code", None), values.pop("resource_name", None), by_code, by_name
        )
        if owner is None:
            orphans.append(
                _file_error(
                    ITEM_SHEET, index, ITEM_FIELD_LABELS[problem[0]], problem[1], raws.get(problem[0])
                )
            )
            continue
        if owner.items is None:
            owner.items = []
        position = len(owner.items)
        owner.item_rows.append(index)
        key, key_kind = values.pop("key", (False, None))
        values["key"] = key
        if key_kind:
            values["key_kind"] = key_kind
        owner.items.append({k: v for k, v in values.items() if v is not None})
        for name, raw in raws.items():
            owner.raw[(position, name)] = raw
        for name, message in cell_errors:
            owner.fail(position, name, message)
    return drafts, orphans


def _owner(
    code: str | None, name: str | None, by_code: dict[str, Draft], by_name: dict[str, list[Draft]]
) -> tuple[Draft | None, tuple[str, str]]:
    """The resource row an item row belongs to: by 资源代码, else by 资源名称."""
    if code and code in by_code:
        return by_code[code], ("", "")
    if name:
        owners = by_name.get(name, [])
        if len(owners) == 1:
            return owners[0], ("", "")
        if owners:
            return None, (
                "resource_name",
                f"“{RESOURCE_SHEET}”工作表中有 {len(owners)} 个资源名为“{name}”，请用资源代码关联",
            )
    if code:
        return None, ("resource_code", f"“{RESOURCE_SHEET}”工作表中没有代码为 {code} 的资源")
    if name:
        return None, ("resource_name", f"“{RESOURCE_SHEET}”工作表中没有名为“{name}”的资源")
    return None, ("resource_name", f"请填写资源名称或资源代码，以关联到“{RESOURCE_SHEET}”工作表中的资源")


def drafts_from_json(data: bytes) -> list[Draft]:
    """The resources of a JSON file: ``{"resources": [...]}`` (as exported) or a bare list."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("JSON 文件应为 UTF-8 编码。", slug="bad-encoding") from None
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = (
            f"第 {exc.lineno} 行第 {exc.colno} 列附近"
            if isinstance(exc, json.JSONDecodeError)
            else "嵌套过深"
        )
        raise InvalidInput(f"不是有效的 JSON：{where}有误。", slug="invalid-json") from None
    resources = document.get("resources") if isinstance(document, dict) else document
    if not isinstance(resources, list):
        raise InvalidInput(
            'JSON 应为 {"resources": [资源, …]} 或资源的列表（与导出的格式相同）。', slug="invalid-json"
        )
    if len(resources) > MAX_RESOURCES:
        raise _too_many()
    drafts = []
    for number, body in enumerate(resources, start=1):
        draft = Draft(number=number, source=JSON_SOURCE, row=number)
        drafts.append(draft)
        if not isinstance(body, dict):
            draft.fail(None, "resource", "应为对象（一个资源的元数据）", body)
            draft.unusable = True
            continue
        code, reason = body.get("code"), body.get("reason")
        if code is not None and not isinstance(code, str):
            draft.fail(None, "code", "应为文本", code)
        draft.code = code.strip() or None if isinstance(code, str) else None
        draft.reason = reason.strip() or None if isinstance(reason, str) else None
        for key, value in body.items():
            if key in ("code", "reason", "items") or key in EXPORT_ONLY_FIELDS:
                continue
            draft.raw[(None, key)] = value
            if key not in ResourceIn.model_fields:
                draft.fail(None, key, "未知字段", value)
                continue
            draft.fields[key] = _json_value(RESOURCE_COLUMNS, key, value)
        if "items" not in body:
            continue
        items = body["items"]
        if not isinstance(items, list):
            draft.fail(None, "items", "应为列表", items)
            draft.unusable = True
            continue
        draft.items = []
        for position, item in enumerate(items):
            if not isinstance(item, dict):
                draft.items.append({})
                draft.fail(position, "item", "应为对象", item)
                continue
            for key, value in item.items():
                draft.raw[(position, key)] = value
            draft.items.append({k: _json_value(ITEM_COLUMNS, k, v) for k, v in item.items()})
    return drafts


def _json_value(columns: tuple[Column, ...], key: str, value: Any) -> Any:
    """JSON takes the API's English values; a Chinese label is accepted too."""
    column = next((c for c in columns if c.field == key and c.kind in ("enum", "enum_list")), None)
    if column is None or column.enum is None:
        return value
    if isinstance(value, str):
        return enum_value(column.enum, value) or value
    if isinstance(value, list):
        return [(enum_value(column.enum, v) or v) if isinstance(v, str) else v for v in value]
    return value


# --- checking and applying --------------------------------------------------------------------------


@dataclass
class Plan:
    draft: Draft
    action: str  # create | update | unchanged
    data: ResourceIn | None = None
    code: str | None = None
    patch: ResourcePatch | None = None


def _pydantic_errors(draft: Draft, item: int | None, exc: ValidationError) -> None:
    translated = validation_problem(exc.errors()).extra["errors"]
    for original, error in zip(exc.errors(), translated, strict=True):
        location = [p for p in original.get("loc", ()) if isinstance(p, str)]
        name = location[0] if location else ("item" if item is not None else "resource")
        given = original.get("input")
        value = draft.raw.get((item, name), None if isinstance(given, dict | list) else given)
        draft.fail(item, name, error["message"], value)


def _map_service_errors(draft: Draft, problem: Problem, items: list[int] | None, lenient: bool) -> None:
    """Errors of ``validate_resource`` or of the service, put on the cells they concern.

    ``items`` maps the checked items back to the file's item rows (None: the stored items were kept).
    """
    errors = problem.extra.get("errors") or [{"field": "", "message": problem.detail}]
    for error in errors:
        path = str(error.get("field") or "").split(".")
        message = error.get("message") or problem.detail
        if path[0] == "items" and len(path) >= 3 and path[1].isdigit():
            if items is None:
                draft.fail(None, "items", message)
            else:
                draft.fail(items[int(path[1])], path[2], message)
        elif path[0] == "items":
            if not lenient:
                draft.fail(None, "items", message)
        elif path[0] in RESOURCE_FIELD_LABELS:
            draft.fail(None, path[0], message)
        else:
            draft.fail(None, "code" if draft.code else "name", message)


def _canonical(value: Any) -> Any:
    """For comparing bodies: an empty text or list means the same as nothing."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items() if _canonical(v) is not None}
    if isinstance(value, list):
        return [_canonical(v) for v in value] or None
    if isinstance(value, str):
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _body(body: dict[str, Any]) -> dict[str, Any]:
    with contextlib.suppress(ValidationError):
        body = ResourceIn.model_validate(body).model_dump(mode="json")
    return _canonical(body)


def _target(session: Session, actor: Actor, draft: Draft):
    """The resource a row with a code updates, with the stored bodies; errors go on the draft.

    The same checks as ``service.update_resource``, made without changing anything.
    """
    assert draft.code is not None
    try:
        resource, working = service.editable(session, actor, draft.code)
    except NotFound:
        draft.fail(None, "code", f"资源 {draft.code} 不存在；新建资源请将资源代码留空")
        return None
    except PermissionDenied:
        draft.fail(
            None,
            "code",
            f"资源 {draft.code} 不是本部门的资源，只能更新本部门的资源；如要以它为样板新建，请选择“忽略资源代码，全部新建”",
        )
        return None
    except Problem as exc:
        draft.fail(None, "code", exc.detail.rstrip("。"))
        return None
    shown = service.shown_version(session, resource).body
    return resource, working, shown, (working.body if working is not None else shown)


def check_draft(session: Session, actor: Actor, draft: Draft, *, as_new: bool) -> Plan | None:
    """Everything the service would check, without changing anything; errors go on the draft."""
    target = _target(session, actor, draft) if draft.code and not as_new else None
    base = target[3] if target else None

    # each item on its own, so that every faulty item row is named
    valid: list[tuple[int, ItemIn]] = []
    for position, item in enumerate(draft.items or []):
        try:
            valid.append((position, ItemIn.model_validate(item)))
        except ValidationError as exc:
            _pydantic_errors(draft, position, exc)
    # with faulty items left out, or the stored items of an unresolved code unknown, list-level item
    # rules ("needs a key item") could be untrue
    lenient = (draft.items is not None and len(valid) < len(draft.items)) or (
        draft.items is None and bool(draft.code) and not as_new and target is None
    )

    merged = dict(draft.fields)
    if base is not None:
        merged = {**{k: v for k, v in base.items() if k != "items"}, **draft.fields}
        if merged.get("classification") != base.get("classification"):
            draft.fail(None, "classification", "资源分类决定资源代码，创建后不能更改；请按新分类新建资源")
            merged["classification"] = base.get("classification")
    try:
        ResourceIn.model_validate({**merged, "items": []})
    except ValidationError as exc:
        _pydantic_errors(draft, None, exc)
        return None

    if draft.items is not None:
        sources: list[int] | None = [p for p, _ in valid]
        items = [i.model_dump(mode="json") for _, i in valid]
    else:
        sources = None
        items = list(base.get("items", [])) if base is not None else []
    try:
        data = ResourceIn.model_validate({**merged, "items": items})
    except ValidationError as exc:
        for error in validation_problem(exc.errors()).extra["errors"]:
            draft.fail(None, "items", error["message"])
        return None
    try:
        draft.warnings = service.validate_resource(session, data)
    except InvalidInput as exc:
        _map_service_errors(draft, exc, sources, lenient)
    if draft.errors:
        return None
    if target is None:
        return Plan(draft, "create", data=data)

    resource, working, shown, base = target
    body = _body(data.model_dump(mode="json"))
    if body in (_body(shown), _body(base)):  # an export imported back: leave it (and any revision) alone
        return Plan(draft, "unchanged", code=resource.code)
    current = _body(base)
    new = data.model_dump(mode="json")
    changes = {k: v for k, v in new.items() if body.get(k) != current.get(k)}
    if working is None and not draft.reason:
        draft.fail(None, "reason", "修改已发布的资源会开启修订版本，必须说明修订原因")
        return None
    return Plan(draft, "update", code=resource.code, patch=ResourcePatch(**changes, reason=draft.reason))


@dataclass
class ImportResult:
    format: str
    dry_run: bool
    total: int
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    to_create: int = 0
    to_update: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)


def import_catalog(
    session: Session,
    actor: Actor,
    data: bytes,
    *,
    dry_run: bool = False,
    as_new: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a catalog file (XLSX or JSON, told apart by content) into the caller's department.

    All or nothing: rows without a resource code (every row, with ``as_new``) become drafts, rows
    with a code of the caller's department update that resource; one faulty row and nothing is
    written, and a single 422 lists every faulty row. Runs in the caller's transaction.
    """
    require(actor, CATALOG_COMPILE)
    if actor.department_id is None:
        raise PermissionDenied("只有部门目录管理员可以导入本部门的目录。")
    if len(data) > MAX_FILE_BYTES:
        raise _too_large()
    kind = sniff(data)
    if kind == "xlsx":
        drafts, errors = drafts_from_xlsx(data)
    else:
        drafts, errors = drafts_from_json(data), []
    if not drafts and not errors:
        raise InvalidInput(
            f"文件中没有资源：请在“{RESOURCE_SHEET}”工作表第 2 行起逐行填写（JSON 为 resources 列表）。",
            slug="empty-import",
        )

    first: dict[str, Draft] = {}
    for draft in drafts:
        if draft.code and not as_new:
            if draft.code in first:
                draft.fail(None, "code", f"资源代码重复（{first[draft.code].place}已填写这个代码）")
            first.setdefault(draft.code, draft)

    plans: list[Plan] = []
    for done, draft in enumerate(drafts, start=1):
        if not draft.unusable:
            plan = check_draft(session, actor, draft, as_new=as_new)
            if plan is not None:
                plans.append(plan)
        if progress:
            progress("check", done, len(drafts))
    errors += [e for d in drafts for e in d.errors]
    if errors:
        _refuse(errors)

    result = ImportResult(format=kind, dry_run=dry_run, total=len(drafts))
    result.warnings = [{"sheet": d.source, "row": d.row, "message": w} for d in drafts for w in d.warnings]
    result.unchanged = [p.code for p in plans if p.action == "unchanged" and p.code]
    result.to_create = sum(p.action == "create" for p in plans)
    result.to_update = sum(p.action == "update" for p in plans)
    if dry_run:
        return result
    for done, plan in enumerate(plans, start=1):
        try:
            if plan.action == "create":
                assert plan.data is not None
                resource, _ = service.create_resource(session, actor, plan.data)
                result.created.append(resource.code)
            elif plan.action == "update":
                assert plan.code is not None and plan.patch is not None
                service.update_resource(session, actor, plan.code, plan.patch)
                result.updated.append(plan.code)
        except Problem as exc:  # checked above; only a change made meanwhile gets here
            _map_service_errors(plan.draft, exc, None, False)
            _refuse(plan.draft.errors)
        if progress:
            progress("apply", done, len(plans))
    if result.created or result.updated:
        audit.record(
            session,
            actor,
            "catalog.imported",
            "catalog",
            None,
            details={
                "format": kind,
                "created": result.created,
                "updated": result.updated,
                "unchanged": len(result.unchanged),
                "as_new": as_new,
            },
        )
    return result


# --- export ------------------------------------------------------------------------------------------


def iter_views(
    session: Session, actor: Actor, query: SearchQuery, progress: Progress | None = None
) -> Iterator[dict[str, Any]]:
    """Every resource of a catalog view as the caller may see it, in pages of ``EXPORT_PAGE``."""
    require(actor, CATALOG_READ)
    offset = done = 0
    while True:
        page = service.search_resources(
            session, actor, dataclasses.replace(query, limit=EXPORT_PAGE, offset=offset)
        )
        for resource in page.items:
            view = service.resource_view(session, actor, resource)
            done += 1
            if progress:
                progress("export", done, page.total)
            yield ResourceOut.model_validate(view).model_dump(mode="json", exclude={"warnings"})
        offset += EXPORT_PAGE
        if len(page.items) < EXPORT_PAGE or offset >= page.total:
            return


@dataclass
class ExportFile:
    content: bytes
    filename: str
    fallback_filename: str
    media_type: str
    count: int

    @property
    def content_disposition(self) -> str:
        return content_disposition(self.filename, self.fallback_filename)


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _today() -> str:
    return datetime.now(CHINA).strftime("%Y%m%d")


def export_catalog(
    session: Session,
    actor: Actor,
    query: SearchQuery,
    fmt: str = "xlsx",
    progress: Progress | None = None,
) -> ExportFile:
    """The resources of a catalog view (the caller's visibility, no page limit) as XLSX or JSON."""
    views = list(iter_views(session, actor, query, progress))
    stamp = _today()
    if fmt == "json":
        body = {
            "exported_at": datetime.now(CHINA).isoformat(timespec="seconds"),
            "total": len(views),
            "resources": views,
        }
        content = json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")
        return ExportFile(
            content, f"目录导出-{stamp}.json", f"catalog-export-{stamp}.json", JSON_MEDIA_TYPE, len(views)
        )
    if fmt != "xlsx":
        raise InvalidInput("导出格式只能是 xlsx 或 json。")
    return ExportFile(
        build_workbook(views),
        f"目录导出-{stamp}.xlsx",
        f"catalog-export-{stamp}.xlsx",
        XLSX_MEDIA_TYPE,
        len(views),
    )


def template_file() -> ExportFile:
    return ExportFile(build_workbook(None), "目录交换模板.xlsx", "catalog-template.xlsx", XLSX_MEDIA_TYPE, 0)


# --- writing workbooks -------------------------------------------------------------------------------


def safe_cell(value: Any) -> Any:
    """A value for a cell: text that a spreadsheet would run as a formula gets a leading ``'``."""
    if value is None or isinstance(value, bool | int | float):
        return value
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text


def _label(enum: type[LabelledEnum] | None, value: Any) -> Any:
    if value is None or value == "" or enum is None:
        return value
    try:
        return enum(value).label
    except ValueError:
        return value


def _resource_cell(column: Column, view: dict[str, Any]) -> Any:
    value = view.get(column.field)
    if column.kind == "reason":
        return None
    if column.kind in ("enum", "info") and column.enum is not None:
        return _label(column.enum, value)
    if column.kind == "enum_list":
        return join_list(_label(column.enum, v) for v in value or [])
    if column.kind == "list":
        return join_list(value or []) or None
    return value


def _item_cell(column: Column, view: dict[str, Any], item: dict[str, Any]) -> Any:
    if column.field == "resource_code":
        return view.get("code")
    if column.field == "resource_name":
        return view.get("name")
    value = item.get(column.field)
    if column.kind == "enum":
        return _label(column.enum, value)
    if column.kind == "bool":
        return "是" if value else "否"
    if column.kind == "key":
        if not value:
            return "否"
        return _label(KeyKind, item.get("key_kind")) if item.get("key_kind") else "是"
    if column.kind == "list":
        return join_list(value or []) or None
    if column.kind == "float" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _choices(column: Column) -> list[str] | None:
    if column.kind == "enum" and column.enum is not None:
        return [m.label for m in column.enum]
    if column.kind == "bool":
        return ["是", "否"]
    if column.kind == "key":
        return ["否", "是"] + [m.label for m in KeyKind]
    if column.kind == "level":
        return ["1", "2", "3", "4"]
    return None


def _write_sheet(sheet, columns: tuple[Column, ...], rows: Iterable[list[Any]], last_row: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet.append([c.header for c in columns])
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="FFFFFF" if column.required else "000000")
        cell.fill = PatternFill("solid", fgColor="C0392B" if column.required else "D9E1F2")
        cell.alignment = Alignment(vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        choices = _choices(column)
        if choices and column.kind != "info":
            letter = get_column_letter(index)
            validation = DataValidation(
                type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True, showErrorMessage=False
            )
            validation.add(f"{letter}2:{letter}{max(last_row, TEMPLATE_ROWS)}")
            sheet.add_data_validation(validation)


def _guide_rows() -> list[list[Any]]:
    rows: list[list[Any]] = []
    for sheet, columns in (
        (RESOURCE_SHEET, RESOURCE_COLUMNS + EXPORT_INFO_COLUMNS),
        (ITEM_SHEET, ITEM_COLUMNS),
    ):
        for column in columns:
            if column.kind in ("enum", "enum_list") and column.enum is not None:
                values = allowed_values(column.enum) + ("；可填多个" if column.kind == "enum_list" else "")
            elif column.kind == "key":
                values = "否、是、" + allowed_values(KeyKind)
            elif column.kind == "bool":
                values = "是、否"
            elif column.kind == "level":
                values = "1、2、3、4"
            else:
                values = ""
            rows.append([sheet, column.header, "是" if column.required else "", column.note, values])
    return rows


GUIDE_RULES = (
    "一行一个资源（“资源”工作表），一行一个信息项（“信息项”工作表）；第 1 行为表头，不要改动。",
    "资源代码留空的行新建为本部门的草稿；填写本部门资源代码的行更新该资源，已发布的资源会开启修订版本，须填写修订原因。",
    "信息项用“资源代码”或“资源名称”关联到“资源”工作表中的资源；更新资源时若没有它的信息项行，原有信息项保持不变。",
    "枚举列可填中文名称或英文取值，如“有条件共享”或 conditional；多个值用分号（；或 ;）或换行分隔。",
    "是否类的列填“是”或“否”；留空的可选列取默认值，更新时留空即清除该项内容。",
    "导入时全部校验通过才会写入；任何一行有误都不会导入，错误会列出工作表、行号和列名。",
    "单元格中的公式不会被执行；导出时以 = + - @ 开头的文本会加上前导 ' 以防公式注入，导入时自动去掉。",
)


def build_workbook(views: list[dict[str, Any]] | None) -> bytes:
    """The exchange template (``views`` None) or an export in the same layout."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    resources = workbook.active
    resources.title = RESOURCE_SHEET
    resource_columns = RESOURCE_COLUMNS + (EXPORT_INFO_COLUMNS if views is not None else ())
    views = views or []
    _write_sheet(
        resources,
        resource_columns,
        ([_resource_cell(c, v) for c in resource_columns] for v in views),
        len(views) + 1,
    )
    items_sheet = workbook.create_sheet(ITEM_SHEET)
    item_rows = [[_item_cell(c, v, i) for c in ITEM_COLUMNS] for v in views for i in v.get("items", [])]
    _write_sheet(items_sheet, ITEM_COLUMNS, item_rows, len(item_rows) + 1)

    guide = workbook.create_sheet(GUIDE_SHEET)
    guide.append(["目录交换模板说明（CAT-10）"])
    guide["A1"].font = Font(bold=True, size=14)
    for rule in GUIDE_RULES:
        guide.append([rule])
    guide.append([])
    guide.append(["工作表", "列名", "必填", "说明", "可填写的值"])
    header_row = guide.max_row
    for cell in guide[header_row]:
        cell.font = Font(bold=True)
    for row in _guide_rows():
        guide.append(row)
    for letter, width in zip("ABCDE", (10, 14, 6, 60, 80), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
