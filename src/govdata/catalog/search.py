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
    Integer,
    Select,
    String,
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
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Join

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
_NAME_MARK_CJK = "x"
_NAME_MARK_WORD = "名"
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


def _name_token(token: str) -> str:
    """The token's twin that marks it as part of the resource's name: x人口, 名gis.

    A Latin letter glued to Chinese characters (or a Chinese character glued to a Latin word) is one
    token to FTS5 and to PostgreSQL's parser, yet no text or query ever yields one, since grams()
    splits Chinese runs from Latin words; so these twins match only what was indexed as a name.
    """
    return (_NAME_MARK_CJK if _is_cjk(token) else _NAME_MARK_WORD) + token


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
    named = [_name_token(token) for token in grams(body.get("name", ""))]
    return " ".join(named + grams(" ".join(parts)))


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


class _CrossJoin(Join):
    """An inner join that SQLite must run in the written order (``CROSS JOIN``): the index first.

    Left to itself, and without statistics, SQLite may start from an index of ``catalog_resources``
    (provider and status, say) and re-run the MATCH for every row it finds, which is slower by orders
    of magnitude than one pass over the index's matches.
    """

    inherit_cache = True


@compiles(_CrossJoin, "sqlite")
def _cross_join(element: _CrossJoin, compiler, **kw) -> str:
    return compiler.visit_join(element, **kw).replace(" JOIN ", " CROSS JOIN ", 1)


def _name_phrase(phrase: list[str]) -> list[str]:
    return [_name_token(token) for token in phrase]


def _fts5(phrases: list[list[str]]) -> str:
    """An FTS5 query for rows holding every phrase; tokens are letters, digits and Chinese only."""
    return " AND ".join('"' + " ".join(phrase) + '"' for phrase in phrases)


def _tsquery(grams_column, phrases: list[list[str]]) -> ColumnElement[bool]:
    """PostgreSQL: every phrase's grams (the GIN index answers this without a recheck), and each
    phrase's grams side by side in the indexed text (a substring test, far cheaper than the ``<->``
    recheck, which re-runs ``to_tsvector`` on every candidate row)."""
    vector = func.to_tsvector(literal_column("'simple'"), grams_column)
    lexemes = sorted({token for phrase in phrases for token in phrase})
    # 'simple' inline, not a bound parameter, so that the planner matches the GIN expression index
    condition = vector.op("@@")(func.to_tsquery(literal_column("'simple'"), " & ".join(lexemes)))
    padded = literal_column("' '", String) + grams_column + literal_column("' '", String)
    adjacent = [padded.contains(" " + " ".join(p) + " ", autoescape=True) for p in phrases if len(p) > 1]
    return and_(condition, *adjacent)


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


def _order(sort: str) -> list:
    if sort == "name":
        return [Resource.name, Resource.id]
    if sort == "published":
        return [Resource.published_at.desc().nulls_last(), Resource.id.desc()]
    if sort == "code":
        return [Resource.code]
    return [Resource.updated_at.desc(), Resource.id.desc()]


def _packed_sums() -> tuple[list, list[tuple[str, tuple[str, ...]]]]:
    """SQLite: the enum facets as sums of CASEs, three 21-bit counters packed into each 64-bit sum."""
    sums, layout = [], []
    for name, values in ENUM_FACETS.items():
        for start in range(0, len(values), _FIELDS_PER_SUM):
            chunk = values[start : start + _FIELDS_PER_SUM]
            whens = [(getattr(Resource, name) == v, 1 << (_FIELD_BITS * i)) for i, v in enumerate(chunk)]
            sums.append(func.sum(case(*whens, else_=0)))
            layout.append((name, tuple(str(v) for v in chunk)))
    return sums, layout


# built once: building these expressions costs more than running the statement on a small catalog
# (literal arguments: PostgreSQL must see the same expression in SELECT and GROUP BY)
_PREFIX = func.substr(Resource.classification, literal_column("1"), literal_column("3")).label("prefix")
_PACKED, _PACKED_LAYOUT = _packed_sums()
_SQLITE_FACETS = select(Resource.provider_id, _PREFIX, func.count(), *_PACKED).group_by(
    Resource.provider_id, _PREFIX
)
_GROUPED = [Resource.provider_id, _PREFIX.element] + [getattr(Resource, name) for name in ENUM_FACETS]
_POSTGRES_FACETS = select(*_GROUPED, func.count()).group_by(func.grouping_sets(*_GROUPED))


def _facet_counts(
    session: Session, dialect: str, source, where: list
) -> tuple[int, dict[str, dict[str, int]]]:
    """(total, facets) of the matching, visible, filtered resources, in one statement.

    SQLite groups by sorting, so grouping the matches by each facet in turn would sort them eight
    times: instead one GROUP BY provider and classification prefix (few groups) counts the enum
    facets in the same pass, as packed sums. PostgreSQL hashes ``GROUPING SETS`` in one pass.
    """
    counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}

    def add(name: str, value: Any, count: int) -> None:
        if value is not None and count:
            key = str(value)
            counts[name][key] = counts[name].get(key, 0) + count

    total = 0
    if dialect == "sqlite":
        mask = (1 << _FIELD_BITS) - 1
        for provider, classification, count, *sums in session.execute(
            _SQLITE_FACETS.select_from(source).where(*where)
        ):
            total += count
            add("provider_id", provider, count)
            add("classification", classification, count)
            for (name, values), packed in zip(_PACKED_LAYOUT, sums, strict=True):
                for i, value in enumerate(values):
                    add(name, value, (packed >> (_FIELD_BITS * i)) & mask)
    else:
        for *values, count in session.execute(_POSTGRES_FACETS.select_from(source).where(*where)):
            for name, value in zip(FACETS, values, strict=True):
                add(name, value, count)
            total += count if values[0] is not None else 0
    ordered = {
        name: dict(sorted(values.items(), key=lambda item: (-item[1], item[0])))
        for name, values in counts.items()
    }
    return total, ordered


def _sqlite_relevance_page(session: Session, matching, rowid, phrases, limit: int, offset: int) -> list[int]:
    """Resources whose name holds every word, then the others; the newest registered first in each.

    Both lists are walked in the FTS index's own rowid order and stop at the page's end, so a word
    that matches half the catalog costs no sort of its matches (and no BM25 score for each).
    """
    anywhere = _fts5(phrases)
    named = _fts5([_name_phrase(p) for p in phrases])
    first = f"({anywhere}) AND ({named})"
    ids = list(session.scalars(matching(first).order_by(rowid.desc()).limit(limit).offset(offset)))
    if len(ids) == limit:
        return ids
    if ids or not offset:
        skip = 0  # the page began among the name matches, or at the very start
    else:
        skip = offset - (session.scalar(select(func.count()).select_from(matching(first).subquery())) or 0)
    rest = matching(f"({anywhere}) NOT ({named})").order_by(rowid.desc())
    return ids + list(session.scalars(rest.limit(limit - len(ids)).offset(skip)))


def search(session: Session, actor: Actor, query: SearchQuery) -> SearchResult:
    words = _words(query.q)
    if query.q and query.q.strip() and not words:  # only punctuation, symbols, emoji: nothing to find
        return SearchResult([], 0, {name: {} for name in FACETS})
    dialect = session.get_bind().dialect.name
    phrases = [_phrase(word) for word in words]
    sort = query.sort if query.sort in SORTS else ("relevance" if words else "updated")
    if sort == "relevance" and not words:
        sort = "updated"
    where = _filtered(actor, query)
    limit, offset = query.limit, query.offset

    if not words:
        source = Resource.__table__
        page = select(Resource.id).where(*where).order_by(*_order(sort)).limit(limit).offset(offset)
        ids = list(session.scalars(page))
    elif dialect == "sqlite":
        fts = table("catalog_fts", column("rowid", Integer))
        source = _CrossJoin(fts, Resource.__table__, Resource.id == fts.c.rowid)

        def matching(expression: str) -> Select:
            condition = text("catalog_fts MATCH :match").bindparams(match=expression)
            return select(Resource.id).select_from(source).where(*where, condition)

        if sort == "relevance":
            ids = _sqlite_relevance_page(session, matching, fts.c.rowid, phrases, limit, offset)
        else:
            page = matching(_fts5(phrases)).order_by(*_order(sort)).limit(limit).offset(offset)
            ids = list(session.scalars(page))
        where = [*where, text("catalog_fts MATCH :match").bindparams(match=_fts5(phrases))]
    else:
        fts = table("catalog_fts", column("resource_id", Integer), column("grams", String))
        source = fts.join(Resource.__table__, Resource.id == fts.c.resource_id)
        where = [*where, _tsquery(fts.c.grams, phrases)]
        if sort == "relevance":
            names = table("catalog_fts", column("resource_id", Integer), column("grams", String)).alias(
                "names"
            )
            in_name = Resource.id.in_(
                select(names.c.resource_id).where(_tsquery(names.c.grams, [_name_phrase(p) for p in phrases]))
            )
            order = [in_name.desc(), Resource.id.desc()]
        else:
            order = _order(sort)
        page = (
            select(Resource.id).select_from(source).where(*where).order_by(*order).limit(limit).offset(offset)
        )
        ids = list(session.scalars(page))

    loaded = {r.id: r for r in session.scalars(select(Resource).where(Resource.id.in_(ids)))} if ids else {}
    total, facets = _facet_counts(session, dialect, source, where)
    return SearchResult([loaded[i] for i in ids], total, facets)
