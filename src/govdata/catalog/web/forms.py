"""What the catalog pages read: the compilation form with its items editor, and the search page's
filters from a query string (a stale or hand-made link must not break the page)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from govdata.catalog.web.presenters import ENUMS, ITEM_FIELDS

MAX_ITEMS = 1000
MAX_FORM_FIELDS = 40 * MAX_ITEMS


async def form_data(request: Request) -> FormData:
    """The posted form; the items editor posts many fields (``items-<row>-<field>``)."""
    return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)


Form = Annotated[FormData, Depends(form_data)]

_ITEM_FIELD = re.compile(r"^items-(\d{1,5})-([a-z_]+)$")
_SPLIT_CODES = re.compile(r"[,，、;；\s]+")
TEXT_FIELDS = ("name", "summary", "share_conditions", "legal_basis", "usage_requirements", "open_conditions")
CHOICE_FIELDS = ("format", "share_type", "open_type", "update_cycle", "grade", "legal_basis_kind", "subject")
ROW_FIELDS = (
    "code",
    "name",
    "data_type",
    "length",
    "precision",
    "level",
    "element",
    "share_type",
    "code_list",
    "key_kind",
    "pattern",
    "minimum",
    "maximum",
    "description",
)
OPTIONAL_FIELDS = {
    "share_conditions",
    "legal_basis",
    "usage_requirements",
    "open_conditions",
    "legal_basis_kind",
    "subject",  # not chosen: derived from the classification and the items (CAT-3)
}
ROW_COLUMNS = (
    "code",
    "name",
    "data_type",
    "length",
    "required",
    "key",
    "level",
    "element",
    "share_type",
    "code_list",
)
NEW_DEFAULTS = {
    "format": "database",
    "share_type": "unconditional",
    "open_type": "none",
    "update_cycle": "",
    "grade": "general",
}


def blank_row() -> dict[str, Any]:
    return {**dict.fromkeys(ROW_FIELDS, ""), "data_type": "C", "level": "1", "required": False, "key": False}


def read_form(form: FormData) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The form's values as entered (strings), and its item rows in order, without blank or removed rows."""
    values: dict[str, Any] = {f: str(form.get(f, ""))[:4000] for f in (*TEXT_FIELDS, *CHOICE_FIELDS)}
    values["classification"] = str(form.get("classification", ""))[:32]
    values["materials"] = str(form.get("materials", ""))[:20000]
    # the picker (several values) and the field for other codes post the same name
    values["related_codes"] = " ".join(str(v) for v in form.getlist("related_codes"))[:4000]
    values["reason"] = str(form.get("reason", ""))[:2000]
    values["share_modes"] = [str(v) for v in form.getlist("share_modes")][:10]
    values["share_methods"] = [str(v) for v in form.getlist("share_methods")][:10]
    values["local_catalog"] = bool(form.get("local_catalog"))
    rows: dict[int, dict[str, Any]] = {}
    for key, value in form.multi_items():
        match = _ITEM_FIELD.match(key)
        if not match or not isinstance(value, str):
            continue
        index, field = int(match.group(1)), match.group(2)
        if field not in (*ROW_FIELDS, "required", "key", "remove"):
            continue
        if index not in rows and len(rows) >= MAX_ITEMS:
            continue
        row = rows.setdefault(index, blank_row())
        row[field] = True if field in ("required", "key", "remove") else value.strip()[:2000]
    kept = []
    for index in sorted(rows):
        row = rows[index]
        if row.get("remove"):
            continue
        if not any(row[f] for f in ("code", "name", "length", "element", "code_list")) and not row["key"]:
            continue  # the blank row at the end of the editor
        row.pop("remove", None)
        kept.append(row)
    return values, kept


def payload(
    values: dict[str, Any], rows: list[dict[str, Any]], *, with_classification: bool
) -> dict[str, Any]:
    """The ``ResourceIn``/``ResourcePatch`` body of a form. Empty choices are left out (the schema
    says 必填 for a required one), empty optional texts become null."""
    body: dict[str, Any] = {}
    for field in TEXT_FIELDS:
        value = values[field].strip()
        body[field] = (value or None) if field in OPTIONAL_FIELDS else value
    for field in CHOICE_FIELDS:
        if values[field]:
            body[field] = values[field]
        elif field in OPTIONAL_FIELDS:
            body[field] = None
    if with_classification and values["classification"]:
        body["classification"] = values["classification"]
    body["share_modes"] = values["share_modes"]
    body["share_methods"] = values["share_methods"]
    body["local_catalog"] = bool(values.get("local_catalog"))
    body["materials"] = [line.strip() for line in values["materials"].splitlines() if line.strip()]
    body["related_codes"] = [c for c in _SPLIT_CODES.split(values["related_codes"]) if c]
    items = []
    for row in rows:
        item: dict[str, Any] = {
            "code": row["code"],
            "name": row["name"],
            "required": bool(row["required"]),
            "key": bool(row["key"]),
            "level": row["level"] or 1,
        }
        if row["data_type"]:
            item["data_type"] = row["data_type"]
        for field in ("length", "precision", "minimum", "maximum", "element", "share_type", "key_kind"):
            item[field] = row[field] or None
        item["pattern"] = row["pattern"] or None
        item["description"] = row["description"] or None
        codes = [c for c in _SPLIT_CODES.split(row["code_list"]) if c]
        item["code_list"] = codes or None
        items.append(item)
    body["items"] = items
    return body


def values_from_body(body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The form's values and item rows showing a resource body."""
    values = {f: body.get(f) or "" for f in (*TEXT_FIELDS, *CHOICE_FIELDS)}
    if body.get("subject_derived"):  # a view shows the derived subject; the form keeps it undeclared
        values["subject"] = ""
    values["classification"] = body.get("classification", "")
    values["materials"] = "\n".join(body.get("materials") or [])
    values["related_codes"] = "\n".join(body.get("related_codes") or [])
    values["share_modes"] = list(body.get("share_modes") or [])
    values["share_methods"] = list(body.get("share_methods") or [])
    values["local_catalog"] = bool(body.get("local_catalog"))
    values["reason"] = ""
    rows = []
    for item in body.get("items") or []:
        row = blank_row()
        for field in ROW_FIELDS:
            value = item.get(field)
            row[field] = "" if value is None else str(value)
        row["code_list"] = "、".join(item.get("code_list") or [])
        for field in ("minimum", "maximum"):
            value = item.get(field)
            if isinstance(value, float) and value.is_integer():
                row[field] = str(int(value))
        row["required"] = bool(item.get("required"))
        row["key"] = bool(item.get("key"))
        rows.append(row)
    return values, rows


def field_errors(errors: list[dict[str, str]]) -> dict[str, list[str]]:
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(error["field"], []).append(error["message"])
    return by_field


def row_errors(by_field: dict[str, list[str]], count: int) -> list[dict[str, Any]]:
    """Per item row: the errors of each column, and those of fields edited under 更多."""
    rows = []
    for index in range(count):
        prefix = f"items.{index}"
        row: dict[str, Any] = {"other": list(by_field.get(prefix, []))}
        for field, messages in by_field.items():
            if not field.startswith(prefix + "."):
                continue
            column = field[len(prefix) + 1 :].split(".")[0]
            if column in ROW_COLUMNS:
                row.setdefault(column, []).extend(messages)
            else:
                row["other"].extend(f"{ITEM_FIELDS.get(column, column)}：{m}" for m in messages)
        rows.append(row)
    return rows


def clean_filters(raw: dict[str, str]) -> dict[str, str]:
    """Keep the search filters that name a real value; a stale or hand-made link must not break the page."""
    clean: dict[str, str] = {}
    for name, value in raw.items():
        value = (value or "").strip()
        if not value:
            continue
        if name == "provider_id":
            if value.isdigit() and len(value) < 10:
                clean[name] = value
        elif name == "classification":
            if re.fullmatch(r"[1-3][0-9A-Za-z]{0,31}", value):
                clean[name] = value
        elif name in ENUMS and value in {m.value for m in ENUMS[name]}:
            clean[name] = value
    return clean
