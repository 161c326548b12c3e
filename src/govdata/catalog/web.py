"""Pages of the catalog (CAT-1…11, NF-5): search, the department's catalog, compilation with an items
editor, the resource page with its review actions, versions and diffs, the review queue and duplicate
collection.

Like the API, every page calls :mod:`govdata.catalog.service`, which checks the caller's right and the
resource's visibility again. Errors of a service are shown on the page next to the form they belong
to, in Chinese, and the entered values are kept.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govdata.catalog import events, search, service
from govdata.catalog.auth import (
    CATALOG_COMPILE,
    CATALOG_DEPARTMENT_READ,
    CATALOG_PUBLISH_OWN,
    CATALOG_READ,
    CATALOG_REVIEW,
    CATALOG_SUPERVISE,
    CatalogCompiler,
    CatalogPublisher,
    CatalogReader,
    CatalogReviewer,
    CatalogSupervisor,
)
from govdata.catalog.enums import (
    LABELS,
    DataType,
    Grade,
    KeyKind,
    LegalBasisKind,
    OpenType,
    ResourceFormat,
    ResourceStatus,
    ShareMethod,
    ShareMode,
    ShareType,
    UpdateCycle,
)
from govdata.catalog.schemas import CATALOG_FIELD_LABELS, ResourceIn, ResourcePatch, ReturnIn
from govdata.core import policy
from govdata.core.auth import INTERNAL_ROLES, Actor, DbSession, Role
from govdata.core.errors import PermissionDenied, Problem, field_error
from govdata.orgs import service as orgs
from govdata.orgs.auth import DEPARTMENT_READ
from govdata.web import (
    check_same_origin,
    field_messages,
    form_action,
    home_card,
    local_time,
    nav_item,
    parse_input,
    problem_errors,
    render,
    render_error,
)

router = APIRouter(include_in_schema=False)


def _catalog_card(session: Session, actor: Actor) -> dict | None:
    """目录概况 on the home page: the caller's department's resources by status (all, for the
    authority) and open catalog update tasks — real counts, nothing else."""
    if not actor.has(CATALOG_READ) or not (actor.roles & INTERNAL_ROLES):
        return None
    counts = service.count_by_status(session, actor)
    tasks, open_tasks = [], 0
    if actor.department_id is not None or Role.authority in actor.roles:
        items, open_tasks = events.list_tasks(
            session, actor, department_id=None, status="open", limit=5, offset=0
        )
        tasks = [events.task_view(session, t) for t in items]
    return {
        "counts": counts,
        "tasks": tasks,
        "open_tasks": open_tasks,
        "authority": Role.authority in actor.roles,
    }


home_card("catalog/_home_card.html", _catalog_card, order=10)

nav_item("目录检索", "/catalog", CATALOG_READ, order=10)
nav_item("本部门目录", "/catalog/mine", CATALOG_DEPARTMENT_READ, order=20)
nav_item("目录编制", "/catalog/new", CATALOG_COMPILE, order=30)
nav_item("审核队列", "/catalog/review", CATALOG_REVIEW, order=40)
nav_item("重复采集", "/catalog/duplicates", CATALOG_SUPERVISE, order=50)

PAGE_SIZE = 20
MAX_ITEMS = 1000
MAX_FORM_FIELDS = 40 * MAX_ITEMS

# --- labels ---------------------------------------------------------------------------------------


def _field_labels(fields: str, **own: str) -> dict[str, str]:
    """The pages' names of ``fields``: the schema's (those of the error messages), or ``own``."""
    return {field: own.get(field) or CATALOG_FIELD_LABELS[field] for field in fields.split()}


RESOURCE_FIELDS = _field_labels(
    "name summary classification format share_type share_conditions legal_basis legal_basis_kind"
    " usage_requirements share_modes share_methods open_type open_conditions update_cycle grade"
    " materials related_codes items",
    name="资源名称",
    summary="资源摘要",
    related_codes="关联资源代码",
)
ITEM_FIELDS = _field_labels(
    "code name data_type length precision required key key_kind level code_list pattern minimum"
    " maximum element share_type description",
    name="名称",
    description="说明",
)
ENUMS = {
    "share_type": ShareType,
    "open_type": OpenType,
    "format": ResourceFormat,
    "update_cycle": UpdateCycle,
    "grade": Grade,
    "legal_basis_kind": LegalBasisKind,
    "share_modes": ShareMode,
    "share_methods": ShareMethod,
    "data_type": DataType,
    "key_kind": KeyKind,
    "status": ResourceStatus,
}
VERSION_STATUS = {**LABELS["ResourceStatus"], "superseded": "已被新版本替代"}
LOG_ACTIONS = {
    "created": "创建草稿",
    "edited": "修改",
    "revision_opened": "开启修订",
    "submitted": "提交审核",
    "returned": "退回",
    "published": "发布",
    "retired": "停用",
}
SUBJECTS = {"person": "自然人", "legal_person": "法人"}
SORTS = {
    "relevance": "相关度",
    "updated": "最近更新",
    "published": "最近发布",
    "name": "名称",
    "code": "资源代码",
}
FACET_TITLES = {
    "provider_id": "提供部门",
    **{
        field: RESOURCE_FIELDS[field]
        for field in ("classification", "share_type", "open_type", "format", "update_cycle", "grade")
    },
    "status": "状态",
}
DONE_MESSAGES = {
    "created": "已保存为草稿。检查无误后请提交审核。",
    "saved": "已保存修改。",
    "unchanged": "内容没有变化，没有开启修订。",
    "revision": "已开启修订并保存。已发布的版本在修订发布前继续提供服务。",
    "submitted": "已提交审核，等待数据资源主管部门审核。",
    "returned": "已退回，提供部门将看到退回意见。",
    "published": "已发布，资源代码从此固定。",
    "retired": "已停用。",
}
STATUS_BADGES = {
    "draft": "",
    "submitted": "info",
    "returned": "warn",
    "published": "ok",
    "retired": "off",
    "superseded": "off",
}


def enum_label(field: str, value: Any) -> str:
    enum = ENUMS.get(field)
    if enum is None or value is None:
        return "" if value is None else str(value)
    try:
        return enum(value).label
    except ValueError:
        return str(value)


def show_value(field: str, value: Any, classifications: dict[str, str] | None = None) -> str:
    """A metadata value as a person reads it: labels for enumerations, 是/否, lists joined."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if field == "classification" and classifications is not None:
        return f"{value} {classifications.get(value, '')}".strip()
    if field == "level":
        return f"{value} 级"
    if isinstance(value, list):
        return "、".join(enum_label(field, v) if field in ENUMS else str(v) for v in value)
    if field in ENUMS:
        return enum_label(field, value)
    return str(value)


def item_summary(item: dict[str, Any]) -> str:
    parts = [f"{item.get('data_type')} {enum_label('data_type', item.get('data_type'))}"]
    if item.get("length"):
        parts.append(f"长度 {item['length']}")
    if item.get("required"):
        parts.append("必填")
    if item.get("key"):
        parts.append("关键标识")
    parts.append(f"{item.get('level', 1)} 级")
    if item.get("element"):
        parts.append(f"数据元“{item['element']}”")
    if item.get("share_type"):
        parts.append(enum_label("share_type", item["share_type"]))
    if item.get("code_list"):
        parts.append("代码表 " + "、".join(item["code_list"]))
    return "，".join(parts)


def describe_diff(diff: list[dict[str, Any]] | None, classifications: dict[str, str]) -> list[dict[str, Any]]:
    """A published version's changes, readable: added/removed/changed items and fields, before → after."""
    out = []
    for change in diff or []:
        field = change["field"]
        if field.startswith("items."):
            item = change.get("after") or change.get("before") or {}
            title = f"{item.get('name', '')}（{item.get('code', field[6:])}）"
            if change["change"] == "added":
                out.append({"kind": "added", "title": f"新增信息项 {title}", "note": item_summary(item)})
            elif change["change"] == "removed":
                out.append({"kind": "removed", "title": f"删除信息项 {title}", "note": item_summary(item)})
            else:
                before, after = change.get("before") or {}, change.get("after") or {}
                rows = [
                    (ITEM_FIELDS.get(f, f), show_value(f, before.get(f)), show_value(f, after.get(f)))
                    for f in change.get("fields") or []
                ]
                out.append({"kind": "changed", "title": f"修改信息项 {title}", "rows": rows})
        else:
            out.append(
                {
                    "kind": "changed",
                    "title": f"修改{RESOURCE_FIELDS.get(field, field)}",
                    "rows": [
                        (
                            RESOURCE_FIELDS.get(field, field),
                            show_value(field, change.get("before"), classifications),
                            show_value(field, change.get("after"), classifications),
                        )
                    ],
                }
            )
    return out


def resource_href(code: str, suffix: str = "") -> str:
    return "/catalog/r/" + quote(code, safe="/") + suffix


def _helpers() -> dict[str, Any]:
    return {
        "label": enum_label,
        "show": show_value,
        "local_time": local_time,
        "href": resource_href,
        "status_badge": STATUS_BADGES,
        "version_status": VERSION_STATUS,
    }


def _page(request: Request, template: str, actor: Actor, status_code: int = 200, **context: Any) -> Response:
    return render(request, template, actor, status_code=status_code, **_helpers(), **context)


def _classification_names(session: Session, actor: Actor) -> dict[str, str]:
    return {c.code: c.name for c in service.list_classifications(session, actor)}


def _department_names(session: Session, actor: Actor) -> dict[int, str]:
    if not actor.has(DEPARTMENT_READ):
        return {}
    items, _ = orgs.list_departments(session, actor, limit=1000, offset=0)
    return {d.id: d.name for d in items}


def _page_links(link: Callable[[int], str], page: int, total: int) -> tuple[int, str | None, str | None]:
    """The number of pages, and the previous and next page's address (``link(page)``)."""
    pages = max(1, -(-total // PAGE_SIZE))
    return pages, link(page - 1) if page > 1 else None, link(page + 1) if page < pages else None


# --- search (CAT-11) --------------------------------------------------------------------------------


def _clean_filters(raw: dict[str, str]) -> dict[str, str]:
    """Keep the filters that name a real value; a stale or hand-made link must not break the page."""
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


def _facet_label(name: str, value: str, departments: dict[int, str], classifications: dict[str, str]) -> str:
    if name == "provider_id":
        return departments.get(int(value), f"部门 {value}") if value.isdigit() else value
    if name == "classification":
        return f"{classifications.get(value, '')}（{value}）" if value in classifications else value
    return enum_label(name, value)


@router.get("/catalog")
def catalog_search(
    request: Request,
    session: DbSession,
    actor: CatalogReader,
    q: Annotated[str, Query(max_length=200)] = "",
    provider_id: Annotated[str, Query(max_length=12)] = "",
    classification: Annotated[str, Query(max_length=32)] = "",
    share_type: Annotated[str, Query(max_length=20)] = "",
    open_type: Annotated[str, Query(max_length=20)] = "",
    format: Annotated[str, Query(max_length=20)] = "",
    update_cycle: Annotated[str, Query(max_length=20)] = "",
    grade: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    q = q.strip()
    filters = _clean_filters(
        {
            "provider_id": provider_id,
            "classification": classification,
            "share_type": share_type,
            "open_type": open_type,
            "format": format,
            "update_cycle": update_cycle,
            "grade": grade,
            "status": status,
        }
    )
    sort = sort if sort in SORTS else ""
    result = service.search_resources(
        session,
        actor,
        search.SearchQuery(
            q=q or None,
            provider_id=int(filters["provider_id"]) if "provider_id" in filters else None,
            classification=filters.get("classification"),
            share_type=filters.get("share_type"),
            open_type=filters.get("open_type"),
            format=filters.get("format"),
            update_cycle=filters.get("update_cycle"),
            grade=filters.get("grade"),
            status=filters.get("status"),
            sort=sort or None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        ),
    )
    departments = _department_names(session, actor)
    for resource in result.items:
        departments.setdefault(resource.provider_id, resource.provider.name)
    classifications = _classification_names(session, actor)
    state = {"q": q, **filters, "sort": sort}

    def link(**changes: Any) -> str:
        params = {**state, **changes}
        return "/catalog?" + urlencode({k: v for k, v in params.items() if v not in ("", None, 1)})

    facets = []
    for name, title in FACET_TITLES.items():
        values = result.facets.get(name, {})
        if not values:
            continue
        entries = [
            {
                "label": _facet_label(name, value, departments, classifications),
                "count": count,
                "active": filters.get(name) == value,
                "href": link(**{name: "" if filters.get(name) == value else value, "page": 1}),
            }
            for value, count in values.items()
        ]
        facets.append({"name": name, "title": title, "entries": entries})
    chips = [
        {
            "title": FACET_TITLES[name],
            "label": _facet_label(name, value, departments, classifications),
            "href": link(**{name: "", "page": 1}),
        }
        for name, value in filters.items()
    ]
    if q:
        chips.insert(0, {"title": "关键词", "label": q, "href": link(q="", page=1)})
    pages, prev_href, next_href = _page_links(lambda p: link(page=p), page, result.total)
    return _page(
        request,
        "catalog/search.html",
        actor,
        q=q,
        sort=sort,
        sorts=SORTS,
        filters=filters,
        results=result.items,
        total=result.total,
        facets=facets,
        chips=chips,
        clear_href="/catalog",
        page=page,
        pages=pages,
        prev_href=prev_href,
        next_href=next_href,
        classifications=classifications,
        is_public=not (actor.roles & (INTERNAL_ROLES | {Role.admin, Role.app})),
    )


# --- the department's catalog (CAT-5, CAT-6) ------------------------------------------------------


def _department_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Resources per status of the caller's department."""
    if Role.authority not in actor.roles:
        return {str(k): v for k, v in service.count_by_status(session, actor).items()}
    # count_by_status gives the authority every department's counts; this page is about its own.
    counts = {}
    for status in ResourceStatus:
        found = service.search_resources(
            session,
            actor,
            search.SearchQuery(provider_id=actor.department_id, status=status.value, limit=1),
        )
        counts[status.value] = found.total
    return counts


@router.get("/catalog/mine")
def catalog_mine(
    request: Request,
    session: DbSession,
    actor: CatalogReader,
    status: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    if actor.department_id is None:
        return render_error(request, PermissionDenied("本部门目录只对部门用户开放；请使用目录检索。"))
    status = status if status in {s.value for s in ResourceStatus} else ""
    result = service.search_resources(
        session,
        actor,
        search.SearchQuery(
            provider_id=actor.department_id,
            status=status or None,
            sort="updated",
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        ),
    )
    counts = _department_counts(session, actor)
    department = (
        orgs.get_department(session, actor, actor.department_id) if actor.has(DEPARTMENT_READ) else None
    )
    tabs = [
        {
            "value": "",
            "label": "全部（不含已停用）",
            "count": sum(v for k, v in counts.items() if k != "retired"),
        }
    ]
    tabs += [{"value": s.value, "label": s.label, "count": counts.get(s.value, 0)} for s in ResourceStatus]

    def link(new_page: int) -> str:
        return "/catalog/mine?" + urlencode(
            {k: v for k, v in {"status": status, "page": new_page}.items() if v}
        )

    pages, prev_href, next_href = _page_links(link, page, result.total)

    return _page(
        request,
        "catalog/mine.html",
        actor,
        department=department,
        status=status,
        tabs=tabs,
        results=result.items,
        total=result.total,
        can_compile=actor.has(CATALOG_COMPILE),
        page=page,
        pages=pages,
        prev_href=prev_href,
        next_href=next_href,
    )


# --- compilation (CAT-1, CAT-3) ---------------------------------------------------------------------


async def form_data(request: Request) -> FormData:
    """The posted form; the items editor posts many fields (``items-<row>-<field>``)."""
    return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)


Form = Annotated[FormData, Depends(form_data)]

_ITEM_FIELD = re.compile(r"^items-(\d{1,5})-([a-z_]+)$")
_SPLIT_CODES = re.compile(r"[,，、;；\s]+")
TEXT_FIELDS = ("name", "summary", "share_conditions", "legal_basis", "usage_requirements", "open_conditions")
CHOICE_FIELDS = ("format", "share_type", "open_type", "update_cycle", "grade", "legal_basis_kind")
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
}


def blank_row() -> dict[str, Any]:
    return {**dict.fromkeys(ROW_FIELDS, ""), "data_type": "C", "level": "1", "required": False, "key": False}


def _read_form(form: FormData) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The form's values as entered (strings), and its item rows in order, without blank or removed rows."""
    values: dict[str, Any] = {f: str(form.get(f, ""))[:4000] for f in (*TEXT_FIELDS, *CHOICE_FIELDS)}
    values["classification"] = str(form.get("classification", ""))[:32]
    values["materials"] = str(form.get("materials", ""))[:20000]
    values["related_codes"] = str(form.get("related_codes", ""))[:4000]
    values["reason"] = str(form.get("reason", ""))[:2000]
    values["share_modes"] = [str(v) for v in form.getlist("share_modes")][:10]
    values["share_methods"] = [str(v) for v in form.getlist("share_methods")][:10]
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


def _payload(
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


def _values_from_body(body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    values = {f: body.get(f) or "" for f in (*TEXT_FIELDS, *CHOICE_FIELDS)}
    values["classification"] = body.get("classification", "")
    values["materials"] = "\n".join(body.get("materials") or [])
    values["related_codes"] = "\n".join(body.get("related_codes") or [])
    values["share_modes"] = list(body.get("share_modes") or [])
    values["share_methods"] = list(body.get("share_methods") or [])
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


def _field_errors(errors: list[dict[str, str]]) -> dict[str, list[str]]:
    by_field: dict[str, list[str]] = {}
    for error in errors:
        by_field.setdefault(error["field"], []).append(error["message"])
    return by_field


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


def _row_errors(by_field: dict[str, list[str]], count: int) -> list[dict[str, Any]]:
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


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any],
    rows: list[dict[str, Any]],
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
    resource: dict[str, Any] | None = None,
    revision: dict[str, Any] | None = None,
    locked: str | None = None,
) -> Response:
    errors = errors or []
    by_field = _field_errors(errors)
    elements = service.list_elements(session, actor)
    classifications = service.list_classifications(session, actor)
    return _page(
        request,
        "catalog/edit.html",
        actor,
        status_code=status_code,
        values=values,
        rows=[*rows, blank_row()],
        row_errors=_row_errors(by_field, len(rows) + 1),
        errors=errors,
        field_errors=by_field,
        elements=elements,
        classifications=classifications,
        resource=resource,
        revision=revision,
        locked=locked,
        choices={
            "format": ResourceFormat.choices(),
            "share_type": ShareType.choices(),
            "open_type": OpenType.choices(),
            "update_cycle": UpdateCycle.choices(),
            "grade": Grade.choices(),
            "legal_basis_kind": LegalBasisKind.choices(),
            "share_modes": ShareMode.choices(),
            "share_methods": ShareMethod.choices(),
            "data_type": DataType.choices(),
        },
        action=resource_href(resource["code"], "/edit") if resource else "/catalog/new",
    )


def _form_failed(request: Request, session: Session, actor: Actor, exc: Problem, **form: Any) -> Response:
    """The form again, after a refused save: the entered ``values`` and ``rows``, and the errors."""
    session.rollback()
    return _form_page(request, session, actor, errors=problem_errors(exc), status_code=exc.status, **form)


NEW_DEFAULTS = {
    "format": "database",
    "share_type": "unconditional",
    "open_type": "none",
    "update_cycle": "",
    "grade": "general",
}


@router.get("/catalog/new")
def new_resource_page(request: Request, session: DbSession, actor: CatalogCompiler) -> Response:
    values, _ = _values_from_body({**NEW_DEFAULTS, "share_modes": []})
    return _form_page(request, session, actor, values=values, rows=[])


@router.post("/catalog/new")
def create_resource(request: Request, session: DbSession, actor: CatalogCompiler, form: Form) -> Response:
    check_same_origin(request)
    values, rows = _read_form(form)
    if form.get("_action") == "add_row":
        return _form_page(request, session, actor, values=values, rows=[*rows, blank_row()])
    try:
        payload = _payload(values, rows, with_classification=True)
        data = parse_input(ResourceIn, payload, prefix="资源元数据有误")
        resource, _ = service.create_resource(session, actor, data)
    except Problem as exc:
        return _form_failed(request, session, actor, exc, values=values, rows=rows)
    return RedirectResponse(resource_href(resource.code, "?done=created"), status_code=303)


def _edit_context(
    session: Session, actor: Actor, code: str
) -> tuple[dict[str, Any], dict[str, Any] | None, dict]:
    """The resource as shown, the revision being prepared (if any), and the body the form edits."""
    view = service.resource_view(session, actor, service.get_resource(session, actor, code))
    if view["provider_id"] != actor.department_id:
        raise PermissionDenied("只能编制本部门的目录。")
    revision = view["revision"]
    body = view
    if revision is not None:
        body = service.get_version(session, actor, code, revision["version"]).body
    return view, revision, body


def _locked_reason(view: dict[str, Any], revision: dict[str, Any] | None) -> str | None:
    if view["status"] == ResourceStatus.retired:
        return "资源已停用，不能修改。"
    working = (
        revision["status"] if revision else (view["status"] if view["published_version"] is None else None)
    )
    if working == "submitted":
        return "该版本正在审核中，不能修改；审核退回后可以继续修改。"
    return None


@router.get("/catalog/r/{code:path}/edit")
def edit_resource_page(request: Request, session: DbSession, actor: CatalogCompiler, code: str) -> Response:
    try:
        view, revision, body = _edit_context(session, actor, code)
    except Problem as exc:
        return render_error(request, exc)
    values, rows = _values_from_body(body)
    if revision and revision.get("reason"):
        values["reason"] = revision["reason"]
    return _form_page(
        request,
        session,
        actor,
        values=values,
        rows=rows,
        resource=view,
        revision=revision,
        locked=_locked_reason(view, revision),
    )


@router.post("/catalog/r/{code:path}/edit")
def update_resource(
    request: Request, session: DbSession, actor: CatalogCompiler, code: str, form: Form
) -> Response:
    check_same_origin(request)
    try:
        view, revision, _ = _edit_context(session, actor, code)
    except Problem as exc:
        return render_error(request, exc)
    values, rows = _read_form(form)
    values["classification"] = view["classification"]
    context = {"resource": view, "revision": revision, "locked": _locked_reason(view, revision)}
    if form.get("_action") == "add_row":
        return _form_page(request, session, actor, values=values, rows=[*rows, blank_row()], **context)
    opens_revision = view["published_version"] is not None and revision is None
    try:
        payload = _payload(values, rows, with_classification=False)
        payload["reason"] = values["reason"].strip() or None
        patch = parse_input(ResourcePatch, payload, prefix="资源元数据有误")
        resource, _ = service.update_resource(session, actor, code, patch)
    except Problem as exc:
        return _form_failed(request, session, actor, exc, values=values, rows=rows, **context)
    done = "saved"
    if opens_revision:
        # The service opens no revision when nothing really changes.
        opened = service.resource_view(session, actor, resource)["revision"] is not None
        done = "revision" if opened else "unchanged"
    return RedirectResponse(resource_href(code, f"?done={done}"), status_code=303)


# --- the resource page (CAT-1, CAT-5) --------------------------------------------------------------


def _actions(session: Session, actor: Actor, view: dict[str, Any]) -> dict[str, bool]:
    """Which buttons this caller gets on this resource in its current state (the services decide)."""
    revision = view["revision"]
    working = (
        revision["status"] if revision else (view["status"] if view["published_version"] is None else None)
    )
    own = actor.department_id is not None and actor.department_id == view["provider_id"]
    compiler = actor.has(CATALOG_COMPILE) and own
    publisher = actor.has(CATALOG_REVIEW) or (
        actor.has(CATALOG_PUBLISH_OWN)
        and own
        and policy.active_policy(session).switches.catalog_publisher == "provider"
    )
    return {
        "submit": compiler and working in ("draft", "returned"),
        "edit": compiler and view["status"] != ResourceStatus.retired and working != "submitted",
        "revise": view["published_version"] is not None and revision is None,
        "return": actor.has(CATALOG_REVIEW) and working == "submitted",
        "publish": publisher and working == "submitted",
        "retire": actor.has(CATALOG_REVIEW)
        and view["status"] == ResourceStatus.published
        and revision is None,
    }


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    version: int | None = None,
    done: str | None = None,
    action_error: str | None = None,
    action_errors: dict[str, str] | None = None,
    comment: str = "",
    status_code: int = 200,
) -> Response:
    resource = service.get_resource(session, actor, code)
    view = service.resource_view(session, actor, resource)
    versions = service.list_versions(session, actor, code)
    log = service.resource_log(session, actor, code)
    classifications = _classification_names(session, actor)
    body: dict[str, Any] = view
    shown_version = view["version"]
    if version is not None and version != view["version"]:
        body = service.get_version(session, actor, code, version).body
        shown_version = version
    revision = view["revision"]
    revision_changes = None
    if revision is not None:
        published = service.get_version(session, actor, code, view["published_version"]).body
        draft = service.get_version(session, actor, code, revision["version"]).body
        revision_changes = describe_diff(service.diff_bodies(published, draft), classifications)
    actions = _actions(session, actor, view)
    warnings: list[str] = []
    if actions["submit"] or actions["publish"]:
        # Rules that do not block (e.g. 4 级 items of an open resource) are worth seeing before review.
        working = revision["version"] if revision else view["version"]
        working_body = service.get_version(session, actor, code, working).body
        try:
            warnings = service.validate_resource(session, service.parse_resource(working_body))
        except Problem as exc:
            warnings = [exc.detail]
    history = [
        {
            "version": v.version,
            "status": v.status,
            "reason": v.reason,
            "created_by": v.created_by,
            "created_at": v.created_at,
            "submitted_at": v.submitted_at,
            "published_at": v.published_at,
            "published_by": v.published_by,
            "changes": describe_diff(v.diff, classifications),
            "first": v.diff is None,
        }
        for v in versions
    ]
    return _page(
        request,
        "catalog/detail.html",
        actor,
        status_code=status_code,
        view=view,
        body=body,
        shown_version=shown_version,
        revision=revision,
        revision_changes=revision_changes,
        history=history,
        log=[
            {
                "at": e.at,
                "action": LOG_ACTIONS.get(e.action, e.action),
                "returned": e.action == "returned",
                "actor": e.actor,
                "version": e.version,
                "comment": e.comment,
            }
            for e in log
        ],
        actions=actions,
        classifications=classifications,
        warnings=warnings,
        done=DONE_MESSAGES.get(done or ""),
        action_error=action_error,
        action_errors=action_errors or {},
        comment=comment,
        item_fields=ITEM_FIELDS,
        quality=_quality_panel(request, session, actor, code)
        if view["status"] in ("published", "retired")
        else None,
    )


def _quality_panel(request: Request, session: Session, actor: Actor, code: str):
    from govdata.quality.web import quality_panel  # quality builds on the catalog

    return quality_panel(request, session, actor, code)


@router.get("/catalog/r/{code:path}")
def resource_page(
    request: Request,
    session: DbSession,
    actor: CatalogReader,
    code: str,
    v: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    try:
        return _detail_page(request, session, actor, code, version=v, done=done)
    except Problem as exc:
        return render_error(request, exc)


def _lifecycle(request: Request, session: Session, actor: Actor, code: str, run, done: str) -> Response:
    def action() -> str:
        run()
        return resource_href(code, f"?done={done}")

    def show_error(exc: Problem) -> Response:
        return _detail_page(request, session, actor, code, action_error=exc.detail, status_code=exc.status)

    return form_action(request, session, action, show_error)


@router.post("/catalog/r/{code:path}/submit")
def submit_resource(request: Request, session: DbSession, actor: CatalogCompiler, code: str) -> Response:
    check_same_origin(request)
    return _lifecycle(
        request, session, actor, code, lambda: service.submit_resource(session, actor, code), "submitted"
    )


@router.post("/catalog/r/{code:path}/return")
def return_resource(
    request: Request, session: DbSession, actor: CatalogReviewer, code: str, form: Form
) -> Response:
    check_same_origin(request)
    comment = str(form.get("comment", ""))[:5000]

    def run() -> str:
        if not comment.strip():
            raise field_error("comment", "必填，请写明需要提供部门修改的内容")
        data = parse_input(ReturnIn, {"comment": comment.strip()}, prefix="退回失败")
        service.return_resource(session, actor, code, data.comment)
        return resource_href(code, "?done=returned")

    def show_error(exc: Problem) -> Response:
        messages = field_messages(exc)
        return _detail_page(
            request,
            session,
            actor,
            code,
            action_error=None if messages else exc.detail,
            action_errors={"comment": f"退回意见：{messages['comment']}"} if "comment" in messages else {},
            comment=comment,
            status_code=exc.status,
        )

    return form_action(request, session, run, show_error)


@router.post("/catalog/r/{code:path}/publish")
def publish_resource(request: Request, session: DbSession, actor: CatalogPublisher, code: str) -> Response:
    check_same_origin(request)
    return _lifecycle(
        request, session, actor, code, lambda: service.publish_resource(session, actor, code), "published"
    )


@router.post("/catalog/r/{code:path}/retire")
def retire_resource(request: Request, session: DbSession, actor: CatalogReviewer, code: str) -> Response:
    check_same_origin(request)
    return _lifecycle(
        request, session, actor, code, lambda: service.retire_resource(session, actor, code), "retired"
    )


# --- review queue and supervision (CAT-5, CAT-9) ---------------------------------------------------


@router.get("/catalog/review")
def review_page(request: Request, session: DbSession, actor: CatalogReviewer) -> Response:
    now = dt.datetime.now(dt.UTC)
    rows = []
    for resource, version in service.review_queue(session, actor):
        submitted = version.submitted_at
        if submitted is not None and submitted.tzinfo is None:
            submitted = submitted.replace(tzinfo=dt.UTC)
        waited = (now - submitted).days if submitted else 0
        rows.append(
            {
                "code": resource.code,
                "name": version.body.get("name", resource.name),
                "provider": resource.provider.name,
                "version": version.version,
                "revision": resource.published_version is not None,
                "published_version": resource.published_version,
                "reason": version.reason,
                "submitted_at": version.submitted_at,
                "waited": waited,
                "share_type": version.body.get("share_type"),
                "item_count": len(version.body.get("items") or []),
            }
        )
    return _page(request, "catalog/review.html", actor, rows=rows)


@router.get("/catalog/duplicates")
def duplicates_page(request: Request, session: DbSession, actor: CatalogSupervisor) -> Response:
    groups = service.duplicate_collections(session, actor)
    for group in groups:
        group["subject_label"] = SUBJECTS.get(group.get("subject") or "", "—")
        group["providers"] = len({r["provider"] for r in group["resources"]})
    return _page(request, "catalog/duplicates.html", actor, groups=groups)
