"""The CKAN Action API's read side over the open catalog (OPN-8): what CKAN's ``package_*``,
``organization_*``, ``resource_show``, ``datastore_search`` and ``status_show`` answer, built from
opening's facts so that a CKAN harvester or the ``ckanapi`` client reads this node as a CKAN site.

How a dataset becomes a CKAN package (``docs/opening-interop.md`` has the table):

* ``id`` and ``name`` are the dataset's code (``101/002000001``): CKAN names are slugs, but the
  clients treat them as opaque strings, and the code is what every other interface names;
* ``organization`` is the providing department, named ``dept-<id>``;
* ``tags`` are the theme; ``license_id`` is the open type;
* ``extras`` carry the open type, update cycle, grade, emergency flag and incident category;
* ``resources`` are one per download format (id ``<code>.csv`` …) and the datastore resource (id
  ``<code>``, ``datastore_active``) that ``datastore_search`` reads.

Only the open catalog is ever read. A conditional dataset lists its metadata like any other; its
records need an API key of an approved application (or the approved applicant's own login).

Errors are raised as :class:`CkanError` with CKAN's ``__type`` and HTTP status; the routes
(``ckan_api``) wrap answers and errors in CKAN's envelope.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.opening import service as opening
from govdata.opening.enums import OpenType, UseKind
from govdata.opening.interop import links
from govdata.opening.service import applications, keys
from govdata.opening.service import search as public_search
from govdata.orgs import service as orgs

CKAN_VERSION = "2.10.4"  # the API generation this answers as (clients read it from status_show)
API_VERSION = 3
ROWS_DEFAULT, ROWS_MAX = 10, 1000
DATASTORE_LIMIT_DEFAULT, DATASTORE_LIMIT_MAX = 100, 1000
FACET_LIMIT_DEFAULT = 50
INTEGER_MAX = 100_000_000  # the largest rows, start, limit or offset taken (as the records route)
ORG_PREFIX = "dept-"

NOT_FOUND = (404, "Not Found Error")
VALIDATION = (409, "Validation Error")
AUTHORIZATION = (403, "Authorization Error")
SEARCH_QUERY = (409, "Search Query Error")
BAD_REQUEST = (400, "Bad Request")


class CkanError(Exception):
    """An action's refusal, answered as CKAN answers it: ``{__type, message, <field>: [..]}``."""

    def __init__(self, kind: tuple[int, str], message: str, **fields: list[str]) -> None:
        super().__init__(message)
        self.status, self.type = kind
        self.message = message
        self.fields = fields

    def error(self) -> dict[str, Any]:
        return {"__type": self.type, "message": self.message, **self.fields}


def not_found(what: str) -> CkanError:
    return CkanError(NOT_FOUND, f"Not found: {what}")


def invalid(name: str, message: str) -> CkanError:
    return CkanError(VALIDATION, f"{name}: {message}", **{name: [message]})


# --- the caller -----------------------------------------------------------------------------------

CredentialResolver = Callable[[str], "opening.OpenAccess | None"]
"""Turns the credential a call presented into the access it gives to one dataset (None: refused)."""


@dataclass
class Call:
    """One action call: its parameters (query string and body merged) and what it may read."""

    session: Session
    store: Any
    base: str
    params: dict[str, Any]
    credential: str | None = None
    access_to: Callable[[str], opening.OpenAccess | None] = field(default=lambda code: opening.OpenAccess())

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name, default)
        if value is None:
            return None
        if isinstance(value, list | dict):
            raise invalid(name, "应为字符串")
        return str(value)

    def integer(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON body's Infinity
            raise invalid(name, "应为整数") from None
        if number < minimum:
            raise invalid(name, f"不能小于 {minimum}")
        if number > INTEGER_MAX:  # past it the stores' 64-bit offsets overflow
            raise invalid(name, f"不能大于 {INTEGER_MAX}")
        return min(number, maximum) if maximum is not None else number

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise invalid(name, "应为 true 或 false")

    def json_value(self, name: str) -> Any:
        """A parameter CKAN takes as JSON: already decoded in a JSON body, a JSON string in a query."""
        value = self.params.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise invalid(name, "不是合法的 JSON") from None
        return value

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            raise invalid(name, "缺少必填参数")
        return value


# --- mapping ----------------------------------------------------------------------------------------


def org_name(provider_id: int) -> str:
    return f"{ORG_PREFIX}{provider_id}"


def _provider_of(name: str) -> int | None:
    if name.startswith(ORG_PREFIX) and name[len(ORG_PREFIX) :].isdigit():
        return int(name[len(ORG_PREFIX) :])
    return None


def _instant(value: datetime | None) -> str | None:
    """CKAN's timestamps: ISO 8601 in UTC without an offset."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


RESOURCE_FORMATS = [links.FORMAT_LABELS[f] for f in links.DOWNLOAD_FORMATS] + ["API"]


def tags_of(dataset: opening.OpenDataset) -> list[str]:
    """A package's tags: its theme (the name of its classification's top class)."""
    return [dataset.theme] if dataset.theme else []


def organization_of(base: str, provider_id: int, provider_name: str, count: int | None = None) -> dict:
    name = org_name(provider_id)
    org = {
        "id": name,
        "name": name,
        "title": provider_name,
        "display_name": provider_name,
        "description": "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "image_display_url": "",
        "url": links.organization_page(base, provider_id),
    }
    if count is not None:
        org["package_count"] = count
    return org


def resources_of(base: str, dataset: opening.OpenDataset) -> list[dict]:
    modified = _instant(dataset.last_batch_at or dataset.published_at)
    created = _instant(dataset.published_at)
    common = {
        "package_id": dataset.code,
        "state": "active",
        "created": created,
        "last_modified": modified,
        "metadata_modified": modified,
        "url_type": None,
        "restricted": dataset.open_type == OpenType.conditional.value,
    }
    found = []
    for position, fmt in enumerate(links.DOWNLOAD_FORMATS):
        found.append(
            {
                **common,
                "id": f"{dataset.code}.{fmt}",
                "name": f"{dataset.name}（{links.FORMAT_LABELS[fmt]}）",
                "description": f"下载全部开放数据，{links.FORMAT_LABELS[fmt]} 格式（已按脱敏方案处理）",
                "format": links.FORMAT_LABELS[fmt],
                "mimetype": links.MEDIA_TYPES[fmt],
                "url": links.download(base, dataset.code, fmt),
                "datastore_active": False,
                "position": position,
            }
        )
    found.append(
        {
            **common,
            "id": dataset.code,
            "name": f"{dataset.name}（数据接口）",
            "description": "按条件查询开放数据：datastore_search（resource_id 即数据集代码）",
            "format": "API",
            "mimetype": "application/json",
            "url": links.datastore_search(base, dataset.code),
            "datastore_active": True,
            "position": len(links.DOWNLOAD_FORMATS),
        }
    )
    return found


def package_of(base: str, dataset: opening.OpenDataset) -> dict:
    """A dataset as a CKAN package."""
    open_type = OpenType(dataset.open_type)
    resources = resources_of(base, dataset)
    tags = [
        {"name": t, "display_name": t, "state": "active", "vocabulary_id": None} for t in tags_of(dataset)
    ]
    extras = {
        "open_type": dataset.open_type,
        "open_type_label": open_type.label,
        "update_cycle": dataset.update_cycle,
        "grade": dataset.grade,
        "format": dataset.format,
        "classification": dataset.classification or "",
        "theme": dataset.theme or "",
        "emergency": "true" if dataset.emergency else "false",
        "incident_category": dataset.incident_category or "",
        "downloads": str(dataset.downloads),
        "api_calls": str(dataset.api_calls),
        "last_batch_at": _instant(dataset.last_batch_at) or "",
    }
    return {
        "id": dataset.code,
        "name": dataset.code,
        "title": dataset.name,
        "notes": dataset.summary or "",
        "type": "dataset",
        "state": "active",
        "private": False,
        "isopen": open_type is OpenType.unconditional,
        "license_id": dataset.open_type,
        "license_title": open_type.label,
        "url": links.dataset_page(base, dataset.code),
        "author": dataset.provider_name,
        "maintainer": dataset.provider_name,
        "version": None,
        "metadata_created": _instant(dataset.published_at),
        "metadata_modified": _instant(dataset.last_batch_at or dataset.published_at),
        "owner_org": org_name(dataset.provider_id),
        "organization": organization_of(base, dataset.provider_id, dataset.provider_name),
        "tags": tags,
        "num_tags": len(tags),
        "groups": [],
        "resources": resources,
        "num_resources": len(resources),
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
    }


# --- search ----------------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?P<sign>[+-]?)(?P<field>[A-Za-z_][\w.]*):(?P<value>"(?:[^"\\]|\\.)*"|[^\s"]+)\s*')
_AND = re.compile(r"\s*(?:AND|&&)\s*")

# fq field → what of a dataset it names (strings compared as given, formats without case)
FILTERS: dict[str, Callable[[opening.OpenDataset], Iterable[str]]] = {
    "organization": lambda d: [org_name(d.provider_id)],
    "owner_org": lambda d: [org_name(d.provider_id)],
    "tags": tags_of,
    "theme": tags_of,
    "res_format": lambda d: [f.lower() for f in RESOURCE_FORMATS],
    "license_id": lambda d: [d.open_type],
    "open_type": lambda d: [d.open_type],
    "name": lambda d: [d.code],
    "id": lambda d: [d.code],
    "update_cycle": lambda d: [d.update_cycle],
    "classification": lambda d: [d.classification] if d.classification else [],
    "grade": lambda d: [d.grade],
    "emergency": lambda d: ["true" if d.emergency else "false"],
    "incident_category": lambda d: [d.incident_category] if d.incident_category else [],
    "capacity": lambda d: ["public"],
    "dataset_type": lambda d: ["dataset"],
    "type": lambda d: ["dataset"],
    "state": lambda d: ["active"],
}
FACETS = ("organization", "tags", "res_format", "license_id", "groups", "update_cycle")
# the fields the search runs in SQL, and the ones that hold for every open dataset
_SEARCH_FILTERS = {
    "organization": "provider_id",
    "owner_org": "provider_id",
    "license_id": "open_type",
    "open_type": "open_type",
    "update_cycle": "update_cycle",
    "classification": "classification",
    "tags": "classification",
    "theme": "classification",
}
_CONSTANT = {"res_format", "capacity", "dataset_type", "type", "state"}
_SEARCH_SORTS = {
    ("metadata_modified", True): "updated",
    ("metadata_created", True): "published",
    ("title_string", False): "name",
    ("title", False): "name",
}


@dataclass(frozen=True)
class Condition:
    field: str
    value: str
    negated: bool = False

    def holds(self, dataset: opening.OpenDataset) -> bool:
        values = list(FILTERS[self.field](dataset))
        value = self.value.lower() if self.field == "res_format" else self.value
        found = value == "*" or value in values
        return found != self.negated


def parse_query(text: str | None, name: str) -> list[Condition]:
    """``field:value`` terms joined by spaces or AND (CKAN's Solr syntax, the part harvesters use);
    a value may be quoted. Anything else is a Search Query Error, not silently ignored."""
    conditions: list[Condition] = []
    rest = (text or "").strip()
    while rest:
        joined = _AND.match(rest)
        if joined and joined.end() and conditions:
            rest = rest[joined.end() :]
        match = _TOKEN.match(rest)
        if match is None:
            raise CkanError(SEARCH_QUERY, f"{name} 无法解析：{rest[:80]}（支持 字段:值，以空格或 AND 连接）")
        fieldname = match.group("field")
        if fieldname not in FILTERS:
            raise CkanError(
                SEARCH_QUERY, f"{name} 不支持的字段：{fieldname}（可用：{'、'.join(sorted(FILTERS))}）"
            )
        value = match.group("value")
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        conditions.append(Condition(fieldname, value, match.group("sign") == "-"))
        rest = rest[match.end() :]
    return conditions


_SORTS: dict[str, Callable[[opening.OpenDataset], Any]] = {
    "metadata_modified": lambda d: _aware(d.last_batch_at or d.published_at),
    "metadata_created": lambda d: _aware(d.published_at),
    "name": lambda d: d.code,
    "title_string": lambda d: d.name,
    "title": lambda d: d.name,
    "views_recent": lambda d: d.downloads + d.api_calls,
    "views_total": lambda d: d.downloads + d.api_calls,
}


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_sort(text: str | None) -> list[tuple[str, bool]]:
    """``field asc|desc`` terms, comma separated; ``score`` (relevance) keeps the search's order."""
    keys: list[tuple[str, bool]] = []
    for term in (text or "score desc, metadata_modified desc").split(","):
        parts = term.split()
        if not parts:
            continue
        if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
            raise CkanError(SEARCH_QUERY, f"sort 无法解析：{term.strip()}")
        name, descending = parts[0], len(parts) == 2 and parts[1].lower() == "desc"
        if name != "score" and name not in _SORTS:
            raise CkanError(SEARCH_QUERY, f"sort 不支持的字段：{name}")
        keys.append((name, descending))
    return keys


@dataclass
class SearchRequest:
    q: str | None
    conditions: list[Condition]
    keys: list[tuple[str, bool]]
    rows: int
    start: int
    facet_fields: list[str]
    facet_limit: int
    mincount: int


def search_request(call: Call) -> SearchRequest:
    conditions = parse_query(call.text("fq"), "fq")
    q = (call.text("q") or "").strip()
    if q == "*:*" or not q:
        q = None
    elif _TOKEN.fullmatch(q) or all(_TOKEN.fullmatch(part) for part in q.split()):
        conditions += parse_query(q, "q")
        q = None
    facet_fields = call.json_value("facet.field") or []
    if not isinstance(facet_fields, list) or not all(isinstance(f, str) for f in facet_fields):
        raise invalid("facet.field", "应为字段名的 JSON 列表")
    unknown = [f for f in facet_fields if f not in FACETS]
    if unknown:
        raise CkanError(
            SEARCH_QUERY, f"facet.field 不支持的字段：{'、'.join(unknown)}（可用：{'、'.join(FACETS)}）"
        )
    return SearchRequest(
        q=q,
        conditions=conditions,
        keys=parse_sort(call.text("sort")),
        rows=call.integer("rows", ROWS_DEFAULT, maximum=ROWS_MAX),
        start=call.integer("start", 0),
        facet_fields=facet_fields,
        facet_limit=call.integer("facet.limit", FACET_LIMIT_DEFAULT, minimum=-1),
        mincount=call.integer("facet.mincount", 1),
    )


def _answer(
    call: Call,
    request: SearchRequest,
    count: int,
    page: list[opening.OpenDataset],
    counted: dict[str, Counter],
) -> dict:
    facets: dict[str, dict[str, int]] = {}
    search_facets: dict[str, dict] = {}
    titles = dict(counted.pop("_titles", {}))
    for name in request.facet_fields:
        top = [(v, n) for v, n in counted.get(name, Counter()).most_common() if n >= request.mincount]
        if request.facet_limit >= 0:
            top = top[: request.facet_limit]
        facets[name] = dict(top)
        search_facets[name] = {
            "title": name,
            "items": [{"name": v, "display_name": titles.get((name, v), v), "count": n} for v, n in top],
        }
    return {
        "count": count,
        "results": [package_of(call.base, d) for d in page],
        "facets": facets,
        "search_facets": search_facets,
        "sort": ", ".join(f"{n} {'desc' if d else 'asc'}" for n, d in request.keys),
    }


def _search_filters(session: Session, conditions: list[Condition]) -> dict[str, Any] | None:
    """The conditions as the public search's filters; None when one has no such filter (a negation,
    two values of one filter, a field the search does not filter by); {"": None} when none can hold."""
    filters: dict[str, Any] = {}
    themes: dict[str, list[str]] | None = None
    for condition in conditions:
        if condition.negated or condition.value == "*":
            return None
        if condition.field in _CONSTANT:
            if condition.value.lower() not in [v.lower() for v in FILTERS[condition.field](None)]:  # type: ignore[arg-type]
                return {"": None}
            continue
        target = _SEARCH_FILTERS.get(condition.field)
        if target is None:
            return None
        value: Any = condition.value
        if target == "provider_id":
            value = _provider_of(value)
            if value is None:
                return {"": None}
        elif condition.field in ("tags", "theme"):
            if themes is None:
                themes = {}
                for code, label in catalog.classification_labels(session).items():
                    if len(code) == 3:
                        themes.setdefault(label, []).append(code)
            prefixes = themes.get(value, [])
            if len(prefixes) != 1:
                return None if prefixes else {"": None}
            value = prefixes[0]
        if target in filters and filters[target] != value:
            return None
        filters[target] = value
    return filters


def _search_sort(request: SearchRequest) -> str | None:
    """The public search's order for the CKAN sort, or None when it has none."""
    keys = list(request.keys)
    if keys and keys[0][0] == "score":
        if request.q:
            return "relevance"
        keys = keys[1:]
    if not keys:
        return "updated"
    return _SEARCH_SORTS.get(keys[0])


def _sql_search(call: Call, request: SearchRequest, filters: dict[str, Any], sort: str) -> dict:
    if "" in filters:
        return _answer(call, request, 0, [], {})
    found = public_search.search_datasets(
        call.session, q=request.q, sort=sort, limit=request.rows, offset=request.start, **filters
    )
    page = [d for d in (opening.open_dataset(call.session, hit.code) for hit in found.items) if d is not None]
    counted: dict[str, Any] = {}
    wanted = set(request.facet_fields)
    titles: dict[tuple[str, str], str] = {}
    if "organization" in wanted:
        providers = found.facets.get("provider_id", {})
        names = orgs.department_names(call.session, [int(p) for p in providers])
        counted["organization"] = Counter({org_name(int(p)): n for p, n in providers.items()})
        titles.update({("organization", org_name(int(p))): names.get(int(p), str(p)) for p in providers})
    if "tags" in wanted:
        labels = catalog.classification_labels(call.session)
        tags: Counter[str] = Counter()
        for prefix, n in found.facets.get("classification", {}).items():
            if label := labels.get(prefix):
                tags[label] += n
        counted["tags"] = tags
    if "res_format" in wanted:
        counted["res_format"] = Counter({f: found.total for f in RESOURCE_FORMATS} if found.total else {})
    if "license_id" in wanted:
        counted["license_id"] = Counter(found.facets.get("open_type", {}))
        titles.update({("license_id", t.value): t.label for t in OpenType})
    if "update_cycle" in wanted:
        counted["update_cycle"] = Counter(found.facets.get("update_cycle", {}))
    counted["_titles"] = titles
    return _answer(call, request, found.total, page, counted)


def _memory_search(call: Call, request: SearchRequest) -> dict:
    datasets = opening.open_datasets(call.session)
    if request.q is not None:
        found = public_search.search_datasets(
            call.session, q=request.q, sort="relevance", limit=ROWS_MAX * 100
        )
        by_code = {d.code: d for d in datasets}
        datasets = [by_code[hit.code] for hit in found.items if hit.code in by_code]
    matched = [d for d in datasets if all(c.holds(d) for c in request.conditions)]
    for name, descending in reversed(request.keys):
        if name != "score":
            matched.sort(key=_SORTS[name], reverse=descending)
    counted: dict[str, Any] = {}
    titles: dict[tuple[str, str], str] = {}
    for name in request.facet_fields:
        if name == "groups":
            continue
        counted[name] = Counter(
            v for d in matched for v in (RESOURCE_FORMATS if name == "res_format" else FILTERS[name](d))
        )
    titles.update({("organization", org_name(d.provider_id)): d.provider_name for d in matched})
    titles.update({("license_id", t.value): t.label for t in OpenType})
    counted["_titles"] = titles
    return _answer(
        call, request, len(matched), matched[request.start : request.start + request.rows], counted
    )


def package_search(call: Call) -> dict:
    """CKAN's package_search: the public search (its index, two-character words, relevance) does
    the work whenever the filters and order are ones it has; other queries (negations, fields it
    does not filter by) are answered over the open catalog in memory."""
    request = search_request(call)
    filters = _search_filters(call.session, request.conditions)
    sort = _search_sort(request)
    if filters is not None and sort is not None:
        return _sql_search(call, request, filters, sort)
    return _memory_search(call, request)


# --- the actions -------------------------------------------------------------------------------------


def _dataset(call: Call, code: str) -> opening.OpenDataset:
    dataset = opening.open_dataset(call.session, code)
    if dataset is None:
        raise not_found("数据集不存在或未开放")
    return dataset


def package_list(call: Call) -> list[str]:
    limit = call.integer("limit", 0, maximum=None)
    offset = call.integer("offset", 0)
    codes = sorted(d.code for d in opening.open_datasets(call.session))
    return codes[offset : offset + limit] if limit else codes[offset:]


def package_show(call: Call) -> dict:
    return package_of(call.base, _dataset(call, call.required("id")))


def _organizations(call: Call) -> list[dict]:
    counts: Counter[int] = Counter()
    names: dict[int, str] = {}
    for dataset in opening.open_datasets(call.session):
        counts[dataset.provider_id] += 1
        names[dataset.provider_id] = dataset.provider_name
    return [organization_of(call.base, pid, names[pid], counts[pid]) for pid in counts]


def organization_list(call: Call) -> list:
    orgs = _organizations(call)
    sort = (call.text("sort") or "title asc").split()
    key = {"title": "title", "name": "name", "package_count": "package_count"}.get(sort[0] if sort else "")
    if key is None or (len(sort) > 1 and sort[1].lower() not in ("asc", "desc")):
        raise invalid("sort", "支持 title、name、package_count，加 asc 或 desc")
    orgs.sort(key=lambda o: o[key], reverse=len(sort) > 1 and sort[1].lower() == "desc")
    offset = call.integer("offset", 0)
    limit = call.integer("limit", 0)
    orgs = orgs[offset : offset + limit] if limit else orgs[offset:]
    if call.boolean("all_fields"):
        return orgs
    return [o["name"] for o in orgs]


def organization_show(call: Call) -> dict:
    wanted = call.required("id")
    provider = _provider_of(wanted)
    datasets = [d for d in opening.open_datasets(call.session) if d.provider_id == provider]
    if provider is None or not datasets:
        raise not_found("组织不存在或没有开放数据")
    org = organization_of(call.base, provider, datasets[0].provider_name, len(datasets))
    if call.boolean("include_datasets"):
        org["packages"] = [package_of(call.base, d) for d in sorted(datasets, key=lambda d: d.code)]
    return org


def resource_show(call: Call) -> dict:
    wanted = call.required("id")
    code, _, fmt = wanted.rpartition(".") if wanted.endswith(links.DOWNLOAD_FORMATS) else (wanted, "", "")
    code = code if fmt else wanted
    dataset = opening.open_dataset(call.session, code)
    if dataset is None:
        raise not_found("资源不存在或未开放")
    for resource in resources_of(call.base, dataset):
        if resource["id"] == wanted:
            return resource
    raise not_found("资源不存在或未开放")


# CKAN datastore types of the catalog's letters; an item served de-identified is text
DATASTORE_TYPES = {
    "C": "text",
    "M": "text",
    "G": "text",
    "N": "numeric",
    "Y": "numeric",
    "B": "float8",
    "F": "float8",
    "I": "int8",
    "D": "date",
    "T": "timestamp",
    "L": "bool",
}


def datastore_type(item: opening.OpenItem) -> str:
    if item.method != "keep":
        return "text"
    return DATASTORE_TYPES.get(item.data_type, "text")


def _filters(call: Call, served: dict[str, opening.OpenItem]) -> dict[str, str] | None:
    filters = call.json_value("filters")
    if filters in (None, ""):
        return None
    if not isinstance(filters, dict):
        raise invalid("filters", "应为 {信息项代码: 值} 的 JSON 对象")
    clean: dict[str, str] = {}
    for key, value in filters.items():
        if key not in served:
            raise invalid("filters", f"字段 {key} 不在该资源的开放字段中")
        if isinstance(value, list | dict):
            raise invalid("filters", f"字段 {key} 的值应为单个值")
        clean[key] = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return clean


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep="T")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is not None and type(value).__name__ == "Decimal":
        return float(value) if value % 1 else int(value)
    return value


def datastore_search(call: Call) -> dict:
    code = call.required("resource_id")
    dataset = opening.open_dataset(call.session, code)
    if dataset is None:
        raise not_found("资源不存在或未开放")
    access = call.access_to(code)
    if access is None:
        raise CkanError(AUTHORIZATION, "Access denied: API 密钥无效、已过期或不适用于该数据集")
    served = {item.code: item for item in opening.served_items(dataset, access)}
    if not served:
        raise CkanError(
            AUTHORIZATION,
            "Access denied: 该数据集为有条件开放，须提交申请并获批准后以 API 密钥（Authorization 头）调用",
        )
    filters = _filters(call, served)
    limit = call.integer("limit", DATASTORE_LIMIT_DEFAULT, maximum=DATASTORE_LIMIT_MAX)
    offset = call.integer("offset", 0)
    q = call.params.get("q")
    if isinstance(q, dict):
        raise invalid("q", "按字段的全文查询请改用 filters")
    if isinstance(q, list):
        raise invalid("q", "应为字符串")
    answer = opening.read_open(
        call.session,
        call.store,
        code,
        access,
        filters=filters,
        q=(str(q) if q else None),
        limit=limit,
        offset=offset,
    )
    applications.record_use(
        call.session,
        access,
        code,
        UseKind.api_call.value,
        rows=len(answer["items"]),
        detail="datastore_search",
        key_id=keys.key_id_of(call.session, call.credential) if keys.is_key(call.credential) else None,
    )
    records = [{k: _json_value(v) for k, v in record.items() if k in served} for record in answer["items"]]
    fields = [
        {"id": item.code, "type": datastore_type(item), "info": {"label": item.name, "notes": ""}}
        for item in served.values()
    ]
    here = f"/api/3/action/datastore_search?resource_id={code}"
    links_out = {"start": here}
    if offset + limit < answer["total"]:
        links_out["next"] = f"{here}&offset={offset + limit}&limit={limit}"
    return {
        "resource_id": code,
        "fields": fields,
        "records": records,
        "total": answer["total"],
        "total_was_estimated": False,
        "limit": limit,
        "offset": offset,
        "records_format": "objects",
        "include_total": True,
        "_links": links_out,
        **({"filters": filters} if filters else {}),
        **({"q": str(q)} if q else {}),
    }


def status_show(call: Call) -> dict:
    return {
        "site_title": "政务数据开放平台",
        "site_description": "政府数据开放门户：无条件开放数据可直接下载和调用，有条件开放数据经申请批准后使用。",
        "site_url": call.base,
        "ckan_version": CKAN_VERSION,
        "api_version": API_VERSION,
        "error_emails_to": None,
        "locale_default": "zh_Hans_CN",
        "extensions": ["datastore", "dcat", "frictionless"],
    }


ACTIONS: dict[str, Callable[[Call], Any]] = {
    "package_list": package_list,
    "package_show": package_show,
    "package_search": package_search,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "resource_show": resource_show,
    "datastore_search": datastore_search,
    "status_show": status_show,
}
