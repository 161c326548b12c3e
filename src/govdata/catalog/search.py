"""Catalog search (CAT-11): Chinese keywords, facets, filters, sorting.

SQLite FTS5's trigram tokenizer and PostgreSQL's pg_trgm need three characters, so a
two-character word (人口, 社保) could not use their index. Instead each resource's text is indexed as
overlapping character bigrams of its Chinese runs plus its single Chinese characters and its Latin
words, the way Lucene's CJK analyzer does: "人口基础信息" → 人口 口基 基础 础信 信息 人 口 基 础 信 息. A query
term becomes the phrase of its bigrams (adjacent, in order), so "人口信息" does not match a text
that merely holds 人口 and 信息 apart. SQLite keeps the grams in an FTS5 table, PostgreSQL in a
``tsvector`` with a GIN index; both are created by the migration (``catalog_fts``).

How a search runs (measured by ``benchmarks/catalog_search.py``; 100,000 resources):

* Words are NFKC-normalised and lower-cased (ＡＢＣ = abc); anything that is neither a Chinese run
  nor a Latin/digit word (quotes, ``*``, ``-``, ``:``, emoji, SQL) only separates words, so a query
  can never carry index syntax. A query with text but no searchable word finds nothing.
* The match is evaluated once per statement, as the driving table of a single join with
  ``catalog_resources`` (a second join of the match made SQLite re-run the MATCH for every row).
* The page is chosen by ids only and the 20 or so resources are loaded afterwards, so the
  provider join of the ORM entity is not paid for every match.
* Relevance: resources whose *name* holds more of the words come first, then BM25 (SQLite) or the
  most recently updated (PostgreSQL, where ``ts_rank`` would re-parse every matching document: the
  index is an expression index, there is no stored ``tsvector`` to rank on).
* Total and all eight facets come from one aggregate statement: grouped by provider and
  classification prefix, with the enum-valued facets counted in the same pass as packed sums
  (SQLite, which has no hash aggregation) or by ``GROUPING SETS`` (PostgreSQL). The total is the
  sum of the groups' counts.
* On PostgreSQL a phrase is matched as the AND of its bigrams, which the GIN index answers without
  a recheck, plus a substring test on the stored grams (the bigrams of a phrase stand next to each
  other there); a ``<->`` phrase query would make PostgreSQL re-run ``to_tsvector`` on every
  candidate row.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    and_,
    case,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from govdata.catalog.enums import (
    Grade,
    OpenType,
    ResourceFormat,
    ResourceStatus,
    ShareType,
    UpdateCycle,
)
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
# Chinese runs (CJK Unified Ideographs, Extension A, compatibility ideographs) or Latin/digit words.
# U+4DC0–4DFF (Yijing hexagram symbols) sits between Extension A and the unified block: not letters.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}]+|[0-9a-z]+")
# More words than anyone types; bounds the work a long hostile query can cause.
MAX_WORDS = 16
# Enum-valued facets and their values, counted in one pass (see _facet_counts).
ENUM_FACETS: dict[str, tuple[str, ...]] = {
    "share_type": tuple(ShareType),
    "open_type": tuple(OpenType),
    "format": tuple(ResourceFormat),
    "update_cycle": tuple(UpdateCycle),
    "grade": tuple(Grade),
    "status": tuple(ResourceStatus),
}
_FIELD_BITS = 21  # three counters of up to 2,097,151 rows per 64-bit sum
_FIELDS_PER_SUM = 3


def _normalise(value: str) -> str:
    return unicodedata.normalize("NFKC", value).lower()


def _is_cjk(token: str) -> bool:
    return bool(re.match(f"[{_CJK}]", token))


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


def _words(q: str | None) -> list[str]:
    """The searchable words of a query: normalised Chinese runs and Latin/digit words."""
    return _TOKEN.findall(_normalise(q))[:MAX_WORDS] if q else []


def _phrase(word: str) -> list[str]:
    if _is_cjk(word) and len(word) > 1:
        return [word[i : i + 2] for i in range(len(word) - 1)]
    return [word]


def query_terms(q: str) -> list[list[str]]:
    """Each term of a query as the phrase of tokens that must occur adjacent, in order."""
    return [_phrase(word) for word in _words(q)]


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


@dataclass
class _Match:
    """Where matching rows come from, the condition that selects them, and a rank (lower is better)."""

    source: FromClause
    condition: ColumnElement[bool] | None = None
    rank: ColumnElement | None = None


def _match(dialect: str, words: list[str]) -> _Match:
    if not words:
        return _Match(Resource.__table__)
    phrases = [_phrase(word) for word in words]
    if dialect == "sqlite":
        fts = table("catalog_fts", column("rowid", Integer))
        # tokens are Chinese characters, letters and digits only: quoting them is all FTS5 needs
        expression = " AND ".join('"' + " ".join(phrase) + '"' for phrase in phrases)
        return _Match(
            # the FTS table drives the join: SQLite runs the MATCH once, then looks rows up by id
            fts.join(Resource.__table__, Resource.id == fts.c.rowid),
            text("catalog_fts MATCH :match").bindparams(match=expression),
            literal_column("bm25(catalog_fts)"),
        )
    fts = table("catalog_fts", column("resource_id", Integer), column("grams"))
    lexemes = sorted({token for phrase in phrases for token in phrase})
    # 'simple' inline (not a bound parameter), so that the planner matches the GIN expression index
    vector = literal_column("to_tsvector('simple', catalog_fts.grams)")
    condition = vector.op("@@")(func.to_tsquery(literal_column("'simple'"), " & ".join(lexemes)))
    padded = literal_column("' ' || catalog_fts.grams || ' '")
    adjacent = [padded.contains(" " + " ".join(p) + " ", autoescape=True) for p in phrases if len(p) > 1]
    return _Match(
        fts.join(Resource.__table__, Resource.id == fts.c.resource_id),
        and_(condition, *adjacent) if adjacent else condition,
    )


def _visibility(actor: Actor):
    if Role.authority in actor.roles:
        return None
    published = Resource.published_version.is_not(None)
    if actor.roles & (INTERNAL_ROLES | {Role.admin, Role.app}):
        own = Resource.provider_id == actor.department_id if actor.department_id else None
        return or_(published, own) if own is not None else published
    return and_(Resource.status == ResourceStatus.published, Resource.open_type != OpenType.none)


def _filtered(actor: Actor, query: SearchQuery) -> list:
    clauses = []
    visible = _visibility(actor)
    if visible is not None:
        clauses.append(visible)
    if query.status:
        clauses.append(Resource.status == query.status)
    else:
        clauses.append(Resource.status != ResourceStatus.retired)
    for name in ("provider_id", "share_type", "open_type", "format", "update_cycle", "grade"):
        value = getattr(query, name)
        if value is not None:
            clauses.append(getattr(Resource, name) == value)
    if query.classification:
        clauses.append(Resource.classification.startswith(query.classification, autoescape=True))
    return clauses


def _order(dialect: str, sort: str, words: list[str], match: _Match) -> list:
    if sort == "relevance" and words:
        position = func.instr if dialect == "sqlite" else func.strpos
        name = func.lower(Resource.name)
        name_hits = sum(case((position(name, word) > 0, 1), else_=0) for word in words)
        then = [match.rank] if match.rank is not None else [Resource.updated_at.desc()]
        return [name_hits.desc(), *then, Resource.id.desc()]
    if sort == "name":
        return [Resource.name, Resource.id]
    if sort == "published":
        return [Resource.published_at.desc().nulls_last(), Resource.id.desc()]
    if sort == "code":
        return [Resource.code]
    return [Resource.updated_at.desc(), Resource.id.desc()]


def _facet_counts(
    session: Session, dialect: str, match: _Match, where: list
) -> tuple[int, dict[str, dict[str, int]]]:
    """(total, facets) of the matching, visible, filtered resources in one statement."""
    # literal arguments: PostgreSQL must see the same expression in SELECT and GROUP BY
    prefix = func.substr(Resource.classification, literal_column("1"), literal_column("3"))
    counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}

    def add(name: str, value: Any, count: int) -> None:
        if value is not None and count:
            key = str(value)
            counts[name][key] = counts[name].get(key, 0) + int(count)

    if dialect == "sqlite":
        # SQLite sorts to group; grouping by the eight facets one by one would sort the matches eight
        # times. So: one GROUP BY (provider, classification prefix) — few groups — and in the same pass
        # the enum facets as sums of CASEs, three 21-bit counters packed into each 64-bit sum.
        packed = []
        layout = []
        for name, values in ENUM_FACETS.items():
            for start in range(0, len(values), _FIELDS_PER_SUM):
                chunk = values[start : start + _FIELDS_PER_SUM]
                whens = [(getattr(Resource, name) == v, 1 << (_FIELD_BITS * i)) for i, v in enumerate(chunk)]
                packed.append(func.sum(case(*whens, else_=0)))
                layout.append((name, chunk))
        stmt = (
            select(Resource.provider_id, prefix, func.count(), *packed)
            .select_from(match.source)
            .where(*where)
            .group_by(Resource.provider_id, prefix)
        )
        mask = (1 << _FIELD_BITS) - 1
        total = 0
        for provider, classification, count, *sums in session.execute(stmt):
            total += count
            add("provider_id", provider, count)
            add("classification", classification, count)
            for (name, chunk), value in zip(layout, sums, strict=True):
                for i, v in enumerate(chunk):
                    add(name, v, (int(value) >> (_FIELD_BITS * i)) & mask)
    else:
        columns = [Resource.provider_id, prefix] + [getattr(Resource, name) for name in ENUM_FACETS]
        stmt = (
            select(*columns, func.count())
            .select_from(match.source)
            .where(*where)
            .group_by(func.grouping_sets(*[c for c in columns]))
        )
        total = 0
        for *values, count in session.execute(stmt):
            for name, value in zip(FACETS, values, strict=True):
                add(name, value, count)
            total += count if values[0] is not None else 0
    ordered = {
        name: dict(sorted(values.items(), key=lambda item: (-item[1], item[0])))
        for name, values in counts.items()
    }
    return total, ordered


def search(session: Session, actor: Actor, query: SearchQuery) -> SearchResult:
    words = _words(query.q)
    if query.q and query.q.strip() and not words:  # only punctuation, symbols, emoji: nothing to find
        return SearchResult([], 0, {name: {} for name in FACETS})
    dialect = session.get_bind().dialect.name
    match = _match(dialect, words)
    where = _filtered(actor, query)
    if match.condition is not None:
        where.append(match.condition)
    sort = query.sort if query.sort in SORTS else ("relevance" if words else "updated")

    page = select(Resource.id).select_from(match.source).where(*where)
    page = page.order_by(*_order(dialect, sort, words, match)).limit(query.limit).offset(query.offset)
    ids = list(session.scalars(page))
    loaded = {r.id: r for r in session.scalars(select(Resource).where(Resource.id.in_(ids)))} if ids else {}
    items = [loaded[i] for i in ids]

    total, facets = _facet_counts(session, dialect, match, where)
    return SearchResult(items, total, facets)
