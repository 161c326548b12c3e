"""The public portal (OPN-2): home, the open catalog's search with facets, dataset pages and the
providers, in Chinese, for anyone, readable without scripts and at phone width.

Everything shown comes from the open catalog's facts (``opening.service``: what is open, which items
a caller reads, de-identified rows), never from the internal catalog's own pages; a code that is not
open is a 404 page like an unknown one (SEC-1: nothing of a resource outside the open catalog)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.catalog.enums import ResourceFormat, UpdateCycle
from govdata.core.auth import INTERNAL_ROLES, Actor, AnyActor, DbSession, Role
from govdata.core.labels import label
from govdata.opening import service as opening
from govdata.opening.enums import IncidentCategory, Method, OpenType
from govdata.opening.service import applications
from govdata.opening.service.search import DatasetSearch, search_datasets, use_totals
from govdata.orgs import service as orgs
from govdata.quality import service as quality
from govdata.web import local_time, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
PORTAL_NAV = (
    ("/", "首页"),
    ("/datasets", "数据目录"),
    ("/organizations", "数据提供单位"),
    ("/demands", "开放需求"),
    ("/reuses", "应用成果"),
)
FACET_TITLES = {
    "provider_id": "数据提供单位",
    "classification": "主题分类",
    "open_type": "开放类型",
    "format": "数据格式",
    "update_cycle": "更新周期",
}
SORT_LABELS = {"relevance": "相关度", "updated": "最近更新", "published": "最新发布", "name": "名称"}
FORMATS = ("csv", "xlsx", "json")
PREVIEW_ROWS = 10
STAFF_ROLES = INTERNAL_ROLES | {Role.admin, Role.auditor}
DATA_TYPES = {
    "C": "字符型",
    "N": "数值型",
    "Y": "货币型",
    "D": "日期型",
    "T": "日期时间型",
    "L": "逻辑型",
    "M": "备注型",
    "G": "通用型",
    "B": "二进制",
    "I": "整数型",
    "F": "浮点型",
}


def _active(path: str) -> str:
    matches = [href for href, _ in PORTAL_NAV if path == href or (href != "/" and path.startswith(href))]
    return max(matches, key=len) if matches else ""


def page(request: Request, template: str, actor: Actor, status_code: int = 200, **context: Any) -> Response:
    """A portal page: its own layout and header, whoever the caller (internal staff get 工作台)."""
    return render(
        request,
        template,
        actor,
        status_code=status_code,
        portal_nav=PORTAL_NAV,
        portal_active=_active(request.url.path),
        is_internal=bool(actor.roles & STAFF_ROLES),
        label_of=_label_of,
        local_time=local_time,
        **context,
    )


def not_found(request: Request, actor: Actor, what: str) -> Response:
    return page(request, "portal/not_found.html", actor, status_code=404, what=what)


_ENUMS = {
    "open_type": OpenType,
    "format": ResourceFormat,
    "update_cycle": UpdateCycle,
    "method": Method,
    "incident_category": IncidentCategory,
}


def _label_of(field: str, value: Any) -> str:
    if field == "data_type":
        return DATA_TYPES.get(str(value), str(value))
    return label(_ENUMS.get(field), value)


# --- home ------------------------------------------------------------------------------------------


@router.get("/")
def home(request: Request, session: DbSession, actor: AnyActor) -> Response:
    """The portal's home (OPN-2, OPN-6): search, figures, emergency openings first, latest datasets."""
    everything = search_datasets(session, limit=0)
    emergencies = opening.open_datasets(session, emergency=True)
    latest = search_datasets(session, sort="updated", limit=8)
    totals = use_totals(session)
    figures = [
        ("开放数据集", everything.total),
        ("数据提供单位", len(everything.facets.get("provider_id", {}))),
        ("累计下载", totals[0]),
        ("接口调用", totals[1]),
    ]
    return page(
        request,
        "portal/home.html",
        actor,
        figures=figures,
        emergencies=emergencies,
        latest=latest.items,
        themes=_themes(session, everything),
    )


def _themes(session: Session, found: DatasetSearch) -> list[dict[str, Any]]:
    names = catalog.classification_labels(session)
    return [
        {
            "label": names.get(code, code),
            "count": count,
            "href": "/datasets?" + urlencode({"classification": code}),
        }
        for code, count in list(found.facets.get("classification", {}).items())[:12]
    ]


# --- search ----------------------------------------------------------------------------------------


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) <= 12 else None


@router.get("/datasets")
def datasets(
    request: Request,
    session: DbSession,
    actor: AnyActor,
    q: Annotated[str, Query(max_length=200)] = "",
    provider_id: Annotated[str, Query(max_length=12)] = "",
    classification: Annotated[str, Query(max_length=32)] = "",
    open_type: Annotated[str, Query(max_length=20)] = "",
    format: Annotated[str, Query(max_length=20)] = "",
    update_cycle: Annotated[str, Query(max_length=20)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> Response:
    """Search of the open catalog: keywords (two characters suffice), facets with counts, pages."""
    q = q.strip()
    filters = {
        "provider_id": str(_int(provider_id) or ""),
        "classification": classification.strip() if classification.strip().isalnum() else "",
        "open_type": open_type if open_type in OpenType.__members__ else "",
        "format": format if format in ResourceFormat.__members__ else "",
        "update_cycle": update_cycle if update_cycle in UpdateCycle.__members__ else "",
    }
    filters = {k: v for k, v in filters.items() if v}
    default_sort = "relevance" if q else "updated"
    sort = sort if sort in SORT_LABELS and sort != default_sort else ""
    found = search_datasets(
        session,
        q=q or None,
        provider_id=_int(filters.get("provider_id", "")),
        classification=filters.get("classification"),
        open_type=filters.get("open_type"),
        format=filters.get("format"),
        update_cycle=filters.get("update_cycle"),
        sort=sort or default_sort,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    providers = {int(v) for v in found.facets.get("provider_id", {}) if v.isdigit()}
    if "provider_id" in filters:
        providers.add(int(filters["provider_id"]))
    names = {
        "provider_id": {str(k): v for k, v in orgs.department_names(session, providers).items()},
        "classification": catalog.classification_labels(session),
    }
    state = {"q": q, **filters, "sort": sort}

    def link(**changes: Any) -> str:
        params = {**state, **changes}
        return "/datasets?" + urlencode({k: v for k, v in params.items() if v not in ("", None, 1)})

    def value_label(name: str, value: str) -> str:
        if name in names:
            return names[name].get(value, value)
        return _label_of(name, value)

    facets = []
    for name, title in FACET_TITLES.items():
        values = found.facets.get(name, {})
        if not values:
            continue
        entries = [
            {
                "label": value_label(name, value),
                "count": count,
                "active": filters.get(name) == value,
                "href": link(**{name: "" if filters.get(name) == value else value, "page": 1}),
            }
            for value, count in list(values.items())[:30]
        ]
        facets.append({"name": name, "title": title, "entries": entries})
    chips = [
        {
            "title": FACET_TITLES[name],
            "label": value_label(name, value),
            "href": link(**{name: "", "page": 1}),
        }
        for name, value in filters.items()
    ]
    if q:
        chips.insert(0, {"title": "关键词", "label": q, "href": link(q="", page=1)})
    pages = max(1, -(-found.total // PAGE_SIZE))
    sort_options = [("", f"{SORT_LABELS[default_sort]}（默认）")] + [
        (value, text) for value, text in SORT_LABELS.items() if value not in (default_sort, "relevance")
    ]
    return page(
        request,
        "portal/datasets.html",
        actor,
        q=q,
        filters=filters,
        sort=sort,
        sort_options=sort_options,
        results=found.items,
        total=found.total,
        facets=facets,
        chips=chips,
        classifications=names["classification"],
        page=page_number,
        pages=pages,
        prev_href=link(page=page_number - 1) if page_number > 1 else None,
        next_href=link(page=page_number + 1) if page_number < pages else None,
    )


# --- a dataset -------------------------------------------------------------------------------------


def reader_access(session: Session, actor: Actor, code: str) -> opening.OpenAccess:
    """How this caller reads dataset ``code``: a public account through its approved application (if
    any), anyone else as anyone."""
    if actor.is_authenticated and Role.public in actor.roles:
        return applications.access_for(session, actor, code)
    return opening.OpenAccess()


def _quality(session: Session, resource_id: int) -> dict[str, Any] | None:
    ref = catalog.resource_ref(session, id=resource_id)
    view = quality.current_view(session, ref) if ref is not None else None
    if view is None:
        return None
    return {
        "overall": view.overall,
        "computed_at": view.computed_at,
        "no_data": view.no_data,
        "dimensions": [(quality.LABELS[name], view.scores.get(name)) for name in quality.DIMENSIONS],
    }


def api_example(request: Request, code: str, conditional: bool) -> str:
    base = str(request.base_url).rstrip("/")
    command = f"curl '{base}/api/v1/open/datasets/{code}/records?limit=10&offset=0'"
    if conditional:
        command += " \\\n  -H 'Authorization: Bearer <API Key>'"
    return command


@router.get("/datasets/{code:rcode}")
def dataset_page(request: Request, session: DbSession, actor: AnyActor, code: str) -> Response:
    """A dataset: metadata, the items served (with their de-identification), a preview, quality,
    update history, downloads and the API call returning the same data (OPN-2); for a conditional
    dataset the way to apply (OPN-3)."""
    dataset = opening.open_dataset(session, code)
    if dataset is None:
        return not_found(request, actor, f"数据集 {code}")
    access = reader_access(session, actor, code)
    served = opening.served_items(dataset, access)
    served_codes = {item.code for item in served}
    preview = None
    if served:
        store = request.app.state.store
        preview = opening.read_open(
            session, store, code, access, limit=PREVIEW_ROWS, settings=request.app.state.settings
        )
    conditional = dataset.open_type == OpenType.conditional
    history = aggregation.batch_window(session, dataset.resource_id, 10)
    classifications = catalog.classification_labels(session)
    return page(
        request,
        "portal/dataset.html",
        actor,
        dataset=dataset,
        served=served,
        served_codes=served_codes,
        preview=preview,
        conditional=conditional,
        approved=access.application_id is not None,
        is_public_account=actor.is_authenticated and Role.public in actor.roles,
        quality=_quality(session, dataset.resource_id),
        history=history,
        classification_name=classifications.get(dataset.classification or "", dataset.classification),
        downloads=[(fmt.upper(), f"/datasets/{code}/download.{fmt}") for fmt in FORMATS] if served else [],
        api_call=api_example(request, code, conditional),
        apply_href=f"/datasets/{code}/apply",
    )


# --- providers -------------------------------------------------------------------------------------


@router.get("/organizations")
def organizations(request: Request, session: DbSession, actor: AnyActor) -> Response:
    """The departments that provide open data, with how many datasets each opens."""
    found = search_datasets(session, limit=0)
    counts = {int(k): v for k, v in found.facets.get("provider_id", {}).items() if k.isdigit()}
    names = orgs.department_names(session, set(counts))
    providers = sorted(
        ({"id": i, "name": names.get(i, str(i)), "count": n} for i, n in counts.items()),
        key=lambda p: (-p["count"], p["name"]),
    )
    return page(request, "portal/organizations.html", actor, providers=providers)


@router.get("/organizations/{provider_id}")
def organization(
    request: Request,
    session: DbSession,
    actor: AnyActor,
    provider_id: str,
    page_number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> Response:
    number = _int(provider_id)
    found = (
        search_datasets(
            session, provider_id=number, sort="updated", limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE
        )
        if number is not None
        else None
    )
    if found is None or found.total == 0:
        return not_found(request, actor, "数据提供单位")
    name = orgs.department_names(session, {number}).get(number, "")
    pages = max(1, -(-found.total // PAGE_SIZE))
    base = f"/organizations/{number}"
    return page(
        request,
        "portal/organization.html",
        actor,
        provider_name=name,
        provider_id=number,
        results=found.items,
        total=found.total,
        facets=found.facets,
        page=page_number,
        pages=pages,
        prev_href=f"{base}?page={page_number - 1}" if page_number > 1 else None,
        next_href=f"{base}?page={page_number + 1}" if page_number < pages else None,
    )
