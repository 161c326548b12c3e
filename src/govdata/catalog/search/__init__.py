"""Catalog search (CAT-11): Chinese keywords, synonyms, facets, filters, sorting, behind one interface.

Callers use :func:`search` (a caller's catalog) and :func:`open_search` (what the public may find),
and the catalog writes with :func:`index_resource`. Behind them:

* ``text``: what a document holds (character bigrams, name twins, trigrams) and what a query asks;
* ``index``: the text index in the database (SQLite FTS5, PostgreSQL GIN) — documents in, ids out;
* ``columns``: the facet columns in memory, a cache the database keeps current;
* ``engine``: filters, visibility, facets and the page over those columns.

A capability above the catalog narrows the public search to what it serves with a
:class:`Restriction` (the opening capability's open catalog), without the catalog knowing its
table's meaning: the restriction's rows are cached beside the catalog's.

``docs/search.md`` says how it was measured and how it would move to OpenSearch: the same two
functions over a new ``index`` and ``engine``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Dialect, Table, case, literal, literal_column, select
from sqlalchemy.orm import Session

from govdata.catalog.auth import visibility_grants
from govdata.catalog.enums import OpenType, ResourceStatus
from govdata.catalog.models import Resource
from govdata.catalog.search import engine, index
from govdata.catalog.search.columns import POSITIONS, view
from govdata.catalog.search.engine import FACETS, Condition
from govdata.catalog.search.text import (
    alternatives,
    classification_names,
    grams,
    index_text,
    synonym_groups,
    words,
)
from govdata.core.auth import Actor

__all__ = [
    "FACETS",
    "OPEN_TYPES",
    "SORTS",
    "Restriction",
    "SearchQuery",
    "SearchResult",
    "grams",
    "index_resource",
    "index_text",
    "open_search",
    "search",
]

SORTS = {"relevance", "updated", "name", "published", "code"}
# What the public may find (OPN-1): published resources whose open type is not ``none``, the same
# rule as ``auth.readable`` gives a public account, without a caller.
OPEN_TYPES = (OpenType.unconditional.value, OpenType.conditional.value)


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


@dataclass(frozen=True, eq=False)
class Restriction:
    """How a capability above the catalog narrows the public search to what it serves (OPN-1): its
    ``table`` holds at most one row per resource (``resource_id``) and carries the catalog's stamp
    (``search_seq``; on PostgreSQL ``search_xid``), written by the same trigger as the catalog's
    rows, so that the search keeps it in memory as it keeps the catalog; ``admitted()`` says which
    rows count. Its ``open_type`` column, where set, is the open type filtered and counted;
    elsewhere ``fallback(registered open type)`` is."""

    table: Table
    admitted: Callable[[], ColumnElement[bool]]
    open_type: str | None = None
    fallback: Callable[[str], str] = str
    resource_id: str = "resource_id"

    def rows_sql(self, dialect: Dialect) -> str:
        """``SELECT`` resource id, stamp, admitted (1/0), open type position (-1: none)."""
        columns = self.table.c
        position = literal(-1)
        if self.open_type:
            position = case(POSITIONS["open_type"], value=columns[self.open_type], else_=-1)
        stmt = select(
            columns[self.resource_id],
            literal_column("search_seq"),
            case((self.admitted(), 1), else_=0),
            position,
        )
        return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


@dataclass
class SearchResult:
    items: list[Resource]
    total: int
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def index_resource(session: Session, resource: Resource, body: dict[str, Any]) -> None:
    """Index the version of ``resource`` the catalog shows (``body``)."""
    names = classification_names(session, body.get("classification"))
    index.write(session, [(resource.id, index_text(resource, body, names))])


_FILTERS = ("provider_id", "share_type", "open_type", "format", "update_cycle", "grade")


def _conditions(query: SearchQuery, *, public: bool, restricted: bool = False) -> list[Condition]:
    conditions = []
    if public:
        conditions.append(Condition("status", "==", ResourceStatus.published.value))
        if restricted:
            conditions.append(Condition("restriction", "admitted"))
        else:
            conditions.append(Condition("open_type", "in", OPEN_TYPES))
    elif query.status:
        conditions.append(Condition("status", "==", query.status))
    else:
        conditions.append(Condition("status", "!=", ResourceStatus.retired.value))
    for name in _FILTERS:
        value = getattr(query, name)
        if value is not None and not (public and name == "share_type"):
            conditions.append(Condition(name, "==", value))
    if query.classification:
        conditions.append(Condition("classification", "prefix", query.classification))
    return conditions


def search(session: Session, actor: Actor, query: SearchQuery) -> SearchResult:
    """The resources ``actor`` may see that match ``query``: a page, the total and the facets."""
    return _run(session, query, _conditions(query, public=False), visibility_grants(actor))


def open_search(session: Session, query: SearchQuery, restriction: Restriction | None = None) -> SearchResult:
    """The public's search (the portal, OPN-2): :func:`search` over published resources, for no
    caller, with the same index, relevance order and facets: those whose open type is unconditional
    or conditional, or those ``restriction`` admits (the open catalog)."""
    conditions = _conditions(query, public=True, restricted=restriction is not None)
    return _run(session, query, conditions, None, restriction)


def _run(
    session: Session,
    query: SearchQuery,
    conditions: list[Condition],
    grants: list | None,
    restriction: Restriction | None = None,
) -> SearchResult:
    found = words(query.q)
    if query.q and query.q.strip() and not found:  # only punctuation, symbols, emoji: nothing to find
        return SearchResult([], 0, {name: {} for name in FACETS})
    phrases = alternatives(found, synonym_groups(session) if found else {})
    sort = query.sort if query.sort in SORTS else "relevance"
    if sort == "relevance" and not found:
        sort = "updated"
    if restriction is None:
        columns = view(session)
    else:
        columns = view(session, restriction, restriction.rows_sql, restriction.fallback)
    ids, total, facets = engine.run(
        session, columns, phrases, conditions, grants, sort, query.limit, query.offset
    )
    loaded = {r.id: r for r in session.scalars(select(Resource).where(Resource.id.in_(ids)))} if ids else {}
    return SearchResult([loaded[i] for i in ids], total, facets)
