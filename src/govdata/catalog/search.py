"""Catalog search (CAT-11): Chinese keywords, facets, filters, sorting.

SQLite FTS5's trigram tokenizer and PostgreSQL's pg_trgm need three characters, so a
two-character word (人口, 社保) could not use their index. Instead each resource's text is indexed as
overlapping character bigrams of its Chinese runs plus its single Chinese characters and its Latin
words, the way Lucene's CJK analyzer does: "人口基础信息" → 人口 口基 基础 础信 信息 人 口 基 础 信 息. A query
term becomes the phrase of its bigrams (adjacent, in order), so "人口信息" does not match a text
that merely holds 人口 and 信息 apart. SQLite keeps the grams in an FTS5 table, PostgreSQL in a
``tsvector`` with a GIN index; both are created by the migration (``catalog_fts``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, func, literal_column, or_, select, table, text
from sqlalchemy.orm import Session

from govdata.catalog.enums import OpenType, ResourceStatus
from govdata.catalog.models import Resource
from govdata.core.auth import INTERNAL_ROLES, Actor, Role

FACETS = (
    "provider_id",
    "classification",
    "share_type",
    "open_type",
    "format",
    "update_cycle",
    "grade",
    "status",
)
SORTS = {"relevance", "updated", "name", "published", "code"}
_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[0-9a-z]+")


def _normalise(value: str) -> str:
    return unicodedata.normalize("NFKC", value).lower()


def _is_cjk(token: str) -> bool:
    return "\u3400" <= token[0] <= "\u9fff" or "\uf900" <= token[0] <= "\ufaff"


def grams(value: str) -> list[str]:
    """Index tokens of a text: bigrams of each Chinese run, then its single characters, Latin words."""
    out: list[str] = []
    singles: list[str] = []
    for run in _TOKEN.findall(_normalise(value)):
        if _is_cjk(run):
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
            singles.extend(run)
        else:
            out.append(run)
    return out + singles


def query_terms(q: str) -> list[list[str]]:
    """Each term of a query as the phrase of tokens that must occur adjacent, in order."""
    terms = []
    for run in _TOKEN.findall(_normalise(q)):
        if _is_cjk(run) and len(run) > 1:
            terms.append([run[i : i + 2] for i in range(len(run) - 1)])
        else:
            terms.append([run])
    return terms


def index_text(resource: Resource, body: dict[str, Any]) -> str:
    parts = [
        body.get("name", ""),
        body.get("summary", ""),
        resource.code.replace("/", " "),
        resource.provider.name if resource.provider else "",
    ]
    for item in body.get("items", []):
        parts += [item.get("name", ""), item.get("code", ""), item.get("element") or ""]
    return " ".join(grams(" ".join(parts)))


def index_resource(session: Session, resource: Resource, body: dict[str, Any]) -> None:
    document = index_text(resource, body)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM catalog_fts WHERE rowid = :id"), {"id": resource.id})
        session.execute(
            text("INSERT INTO catalog_fts (rowid, grams) VALUES (:id, :g)"),
            {"id": resource.id, "g": document},
        )
    else:
        session.execute(
            text(
                "INSERT INTO catalog_fts (resource_id, grams) VALUES (:id, :g) "
                "ON CONFLICT (resource_id) DO UPDATE SET grams = excluded.grams"
            ),
            {"id": resource.id, "g": document},
        )


@dataclass
class SearchQuery:
    q: str | None = None
    provider_id: int | None = None
    classification: str | None = None
    share_type: str | None = None
    open_type: str | None = None
    format: str | None = None
    update_cycle: str | None = None
    grade: str | None = None
    status: str | None = None
    sort: str | None = None
    limit: int = 20
    offset: int = 0


@dataclass
class SearchResult:
    items: list[Resource]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def _match(session: Session, terms: list[list[str]]):
    """A subquery (id, rank) of resources matching every term; a lower rank is a better match."""
    if session.get_bind().dialect.name == "sqlite":
        expression = " AND ".join('"' + " ".join(term) + '"' for term in terms)
        return (
            select(literal_column("rowid").label("id"), literal_column("bm25(catalog_fts)").label("rank"))
            .select_from(table("catalog_fts"))
            .where(text("catalog_fts MATCH :m").bindparams(m=expression))
            .subquery("m")
        )
    expression = " & ".join("(" + " <-> ".join(term) + ")" for term in terms)
    vector = func.to_tsvector("simple", literal_column("grams"))
    query = func.to_tsquery("simple", expression)
    return (
        select(literal_column("resource_id").label("id"), (-func.ts_rank(vector, query)).label("rank"))
        .select_from(table("catalog_fts"))
        .where(vector.op("@@")(query))
        .subquery("m")
    )


def _visibility(actor: Actor):
    if Role.authority in actor.roles:
        return None
    published = Resource.published_version.is_not(None)
    if actor.roles & (INTERNAL_ROLES | {Role.admin, Role.app}):
        own = Resource.provider_id == actor.department_id if actor.department_id else None
        return or_(published, own) if own is not None else published
    return and_(Resource.status == ResourceStatus.published, Resource.open_type != OpenType.none)


def _filtered(actor: Actor, query: SearchQuery, exclude: str | None = None) -> list:
    clauses = []
    visible = _visibility(actor)
    if visible is not None:
        clauses.append(visible)
    if query.status:
        clauses.append(Resource.status == query.status)
    elif exclude != "status":
        clauses.append(Resource.status != ResourceStatus.retired)
    for name in ("provider_id", "share_type", "open_type", "format", "update_cycle", "grade"):
        value = getattr(query, name)
        if value is not None and name != exclude:
            clauses.append(getattr(Resource, name) == value)
    if query.classification:
        clauses.append(Resource.classification.startswith(query.classification, autoescape=True))
    return clauses


def search(session: Session, actor: Actor, query: SearchQuery) -> SearchResult:
    terms = query_terms(query.q) if query.q else []
    base: Select = select(Resource.id)
    match = None
    if terms:
        match = _match(session, terms)
        base = base.join(match, match.c.id == Resource.id)
    base = base.where(*_filtered(actor, query))
    ids = base.subquery("ids")
    total = session.scalar(select(func.count()).select_from(ids)) or 0

    sort = query.sort if query.sort in SORTS else ("relevance" if terms else "updated")
    stmt = select(Resource).join(ids, ids.c.id == Resource.id)
    if sort == "relevance" and match is not None:
        stmt = stmt.join(match, match.c.id == Resource.id).order_by(match.c.rank, Resource.id)
    elif sort == "name":
        stmt = stmt.order_by(Resource.name, Resource.id)
    elif sort == "published":
        stmt = stmt.order_by(Resource.published_at.desc().nulls_last(), Resource.id.desc())
    elif sort == "code":
        stmt = stmt.order_by(Resource.code)
    else:
        stmt = stmt.order_by(Resource.updated_at.desc(), Resource.id.desc())
    items = list(session.scalars(stmt.limit(query.limit).offset(query.offset)))

    facets: dict[str, dict[str, int]] = {}
    for name in FACETS:
        column = (
            func.substr(Resource.classification, 1, 3)
            if name == "classification"
            else getattr(Resource, name)
        )
        rows = session.execute(
            select(column, func.count()).join(ids, ids.c.id == Resource.id).group_by(column)
        ).all()
        facets[name] = {
            str(value): count for value, count in sorted(rows, key=lambda r: -r[1]) if value is not None
        }
    return SearchResult(items, total, facets)
