"""Import of a catalog file (CAT-10): an XLSX in the template's layout or a JSON export, parsed row by
row into drafts, each checked as the service would check it, then applied all or nothing."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from govdata.catalog import service
from govdata.catalog.auth import CATALOG_COMPILE
from govdata.catalog.exchange.cells import CellError, cell_text, enum_value, normalised, parse_cell
from govdata.catalog.exchange.template import (
    EXPORT_INFO_COLUMNS,
    EXPORT_ONLY_FIELDS,
    GUIDE_SHEET,
    ITEM_COLUMNS,
    ITEM_FIELD_LABELS,
    ITEM_SHEET,
    JSON_SOURCE,
    RESOURCE_COLUMNS,
    RESOURCE_FIELD_LABELS,
    RESOURCE_SHEET,
    Column,
    Progress,
)
from govdata.catalog.schemas import ItemIn, ResourceIn, ResourcePatch
from govdata.core import audit, files
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
# a 10 MiB catalog needs far less than a batch: calamine holds a sheet as a dense grid
SHEET_CAPS = {
    "max_rows": 50_001,
    "max_columns": 64,
    "max_cells": 50_001 * 64,
    "max_inflated_bytes": 200 * files.MIB,  # a 10 MiB upload that inflates beyond this is a zip bomb
}


class UnsupportedFile(Problem):
    status, slug, title = 415, "unsupported-file", "Unsupported file type"


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
    if files.is_xlsx(data):
        return "xlsx"
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if head[:1] in (b"{", b"["):
        return "json"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFile("这是旧版 Excel（.xls）或加密的工作簿，请另存为 .xlsx 后再导入。")
    raise UnsupportedFile("只能导入 XLSX 工作簿或 JSON 文件（按目录交换模板填写）。")


def sheet_limits() -> files.SheetLimits:
    """The configured limits of a spreadsheet, lowered to what a catalog file needs."""
    return files.SheetLimits.from_settings().at_most(**SHEET_CAPS)


def _xlsx_rows(data: bytes) -> dict[str, list[list[Any]]]:
    """Rows of the template's sheets as stored values (index 0 is Excel row 1), after checking the file."""
    with files.open_xlsx(data, sheet_limits()) as workbook:
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
        return rows


def _header(
    sheet: str, row: list[Any], columns: tuple[Column, ...], ignored: tuple[Column, ...] = ()
) -> tuple[dict[int, Column], list[dict[str, Any]]]:
    by_header = {normalised(c.header): c for c in columns + ignored}
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
        column = by_header.get(normalised(text).strip("*"))
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
    action: str  # create | update | unchanged | skipped
    data: ResourceIn | None = None
    code: str | None = None
    patch: ResourcePatch | None = None
    reason: str | None = None  # why a skipped row was not imported


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


class Unchangeable(Exception):
    """A row naming a resource this import cannot change: skipped and reported, not an error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _target(session: Session, actor: Actor, draft: Draft):
    """The resource a row with a code updates, with the stored bodies; errors go on the draft.

    The same checks as ``service.update_resource``, made without changing anything. A resource the
    caller may see but not change (another department's, one under review, a retired one) raises
    :class:`Unchangeable`: a catalog export holds such rows, and importing it back must work.
    """
    assert draft.code is not None
    try:
        resource, working = service.editable(session, actor, draft.code)
    except NotFound:
        draft.fail(None, "code", f"资源 {draft.code} 不存在；新建资源请将资源代码留空")
        return None
    except PermissionDenied:
        raise Unchangeable(
            "不是本部门的资源，未导入（只能更新本部门的资源；如要以它为样板新建，请选择“忽略资源代码，全部新建”）"
        ) from None
    except Problem as exc:
        raise Unchangeable(exc.detail.rstrip("。") + "，未导入") from None
    shown = service.shown_version(session, resource).body
    return resource, working, shown, (working.body if working is not None else shown)


def check_draft(session: Session, actor: Actor, draft: Draft, *, as_new: bool) -> Plan | None:
    """Everything the service would check, without changing anything; errors go on the draft."""
    try:
        target = _target(session, actor, draft) if draft.code and not as_new else None
    except Unchangeable as exc:
        return Plan(draft, "skipped", code=draft.code, reason=exc.reason)
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
    # rows naming resources the caller cannot change: {code, sheet, row, reason}
    skipped: list[dict[str, Any]] = field(default_factory=list)


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
    written, and a single 422 lists every faulty row. Rows naming a resource the caller cannot change
    (another department's, under review, retired) are skipped and listed in ``skipped`` with the
    reason, so that a catalog export imports back (#13 item 19). Runs in the caller's transaction.
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
    result.skipped = [
        {"code": p.code, "sheet": p.draft.source, "row": p.draft.row, "reason": p.reason}
        for p in plans
        if p.action == "skipped"
    ]
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
                "skipped": len(result.skipped),
                "as_new": as_new,
            },
        )
    return result
