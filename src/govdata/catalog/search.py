"""Catalog search (CAT-11): Chinese keywords, facets, filters, sorting.

SQLite FTS5's trigram tokenizer and PostgreSQL's pg_trgm need three characters, so a
two-character word (人口, 社保) could not use their index. Instead each resource's text is indexed as
overlapping character bigrams of its Chinese runs plus its single Chinese characters and its Latin
words, the way Lucene's CJK analyzer does: "人口基础信息" → 人口 口基 基础 础信 信息 人 口 基 础 信 息. A query
term becomes the phrase of its bigrams (adjacent, in order), so "人口信息" does not match a text
that merely holds 人口 and 信息 apart. SQLite keeps the grams in an FTS5 table, PostgreSQL in a
``tsvector`` with a GIN index; both are created by the migration (``catalog_fts``).

Synonyms come from the data element dictionary (CAT-4, #13 item 21): a query word that is an
element's name or one of its synonyms matches any of them (身份证号 finds 公民身份号码), as an OR of the
alternatives' phrases, read from the dictionary at query time so that an edited dictionary needs no
re-indexing. Classification names (人口, 法人单位, 社会保障; not the top classes' 基础/主题/部门信息资源, which
every resource would share) are indexed with each resource, so that 人口 finds every resource of
class 101 whatever its name.

Words are NFKC-normalised and lower-cased (ＡＢＣ = abc). Anything that is neither a Chinese run nor
a Latin/digit word (quotes, ``*``, ``-``, ``:``, emoji, SQL) only separates words, so a query never
carries index syntax; a query with text but no searchable word finds nothing. Words are ANDed.

Relevance: the resources whose *name* holds every word come first, then the others, the most
recently registered first within each (the same order on both stores). The name's grams are
indexed a second time as marked twins (x人口, 名gis) so that "in the name" is an index query too.
BM25 or ``ts_rank`` would have to score every match, which is what makes a common word slow.

How a search runs, and why (``benchmarks/catalog_search.py``, 100,000 resources):

* SQLite: the FTS5 table drives one join with ``catalog_resources`` (forced with ``CROSS JOIN``; the
  first version joined the match twice and SQLite re-ran the MATCH for every row, seconds per
  query). The relevance page is read in the FTS index's own rowid order and stops after ``limit``
  rows. Total and all eight facets come from one ungrouped aggregate over the matches.
* PostgreSQL: one statement. The matching ids come from the GIN index alone (a materialised CTE:
  any plan that tests ``to_tsvector(grams) @@ …`` row by row re-parses each document), then their
  resources, then the page and the facets (``GROUPING SETS``) from that one set. A phrase is the
  AND of its bigrams plus a substring test on the stored grams: a ``<->`` query is rechecked by
  re-running ``to_tsvector`` on every candidate, 50 times slower.
* The page's resources are loaded by id afterwards, so the ORM's provider join touches 20 rows.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    column,
    func,
    literal_column,
    null,
    or_,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Join

from govdata.catalog.auth import readable
from govdata.catalog.enums import (
    Grade,
    OpenType,
    ResourceFormat,
    ResourceStatus,
    ShareType,
    UpdateCycle,
)
from govdata.catalog.models import Classification, DataElement, Resource
from govdata.core.auth import Actor

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
# Enum-valued facets and their values, counted in one pass (see _sqlite_facets).
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


# A query word as the phrases that may stand for it: itself first, then its synonyms.
Alternatives = list[list[str]]
MAX_ALTERNATIVES = 8


def synonym_groups(session: Session) -> dict[str, list[str]]:
    """Each searchable form of a data element (its name, its synonyms) → every form of that element,
    itself first: 身份证号 → 身份证号, 公民身份号码, 身份证号码 … Forms that are not one word are left out."""
    groups: dict[str, list[str]] = {}
    for name, synonyms in session.execute(select(DataElement.name, DataElement.synonyms)):
        forms: list[str] = []
        for form in [name, *(synonyms or [])]:
            found = _words(form) if isinstance(form, str) else []
            if len(found) == 1 and found[0] not in forms:
                forms.append(found[0])
        for form in forms:
            known = groups.setdefault(form, [form])
            known.extend(f for f in forms if f not in known)
    return groups


def _alternatives(words: list[str], groups: dict[str, list[str]]) -> list[Alternatives]:
    return [[_phrase(form) for form in groups.get(word, [word])[:MAX_ALTERNATIVES]] for word in words]


def _named(words: list[Alternatives]) -> list[Alternatives]:
    return [[_name_phrase(phrase) for phrase in alternatives] for alternatives in words]


def index_text(resource: Resource, body: dict[str, Any], classification_names: tuple[str, ...] = ()) -> str:
    """The indexed text of a resource: its name's marked twins, then the grams of its name, summary,
    code, provider, items and the names of its classification and the classes above it."""
    parts = [
        body.get("name", ""),
        body.get("summary", ""),
        resource.code.replace("/", " "),
        resource.provider.name if resource.provider else "",
    ]
    for item in body.get("items", []):
        parts += [item.get("name", ""), item.get("code", ""), item.get("element") or ""]
    parts += classification_names
    named = [_name_token(token) for token in grams(body.get("name", ""))]
    return " ".join(named + grams(" ".join(parts)))


def classification_names(session: Session, code: str | None) -> tuple[str, ...]:
    """The names of a classification and of the classes above it (CAT-1a), but for the three top
    classes (基础/主题/部门信息资源), whose words every resource would share: 10101 → its own name, 人口."""
    names: list[str] = []
    seen: set[str] = set()
    while code and len(code) > 1 and code not in seen:
        seen.add(code)
        found = session.get(Classification, code)
        if found is None:
            break
        names.append(found.name)
        code = found.parent_code
    return tuple(names)


def index_resource(session: Session, resource: Resource, body: dict[str, Any]) -> None:
    document = index_text(resource, body, classification_names(session, body.get("classification")))
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


class _JoinAfter(Join):
    """A restriction's join (``Restriction``), which SQLite must run after the joins before it: left
    to choose, with statistics saying the restricting table is small to scan by its status, it would
    start from that table and run the MATCH once per row."""

    inherit_cache = True


@compiles(_JoinAfter, "sqlite")
def _join_after(element: _JoinAfter, compiler, **kw) -> str:
    head, _, tail = compiler.visit_join(element, **kw).rpartition(" JOIN ")
    return f"{head} CROSS JOIN {tail}"


def _name_phrase(phrase: list[str]) -> list[str]:
    return [_name_token(token) for token in phrase]


def _fts5_match(expression: str) -> ColumnElement[bool]:
    return text("catalog_fts MATCH :match").bindparams(match=expression)


def _fts5(words: list[Alternatives]) -> str:
    """An FTS5 query for rows holding, for every word, one of its phrases; tokens are letters, digits
    and Chinese only."""
    parts = []
    for alternatives in words:
        quoted = ['"' + " ".join(phrase) + '"' for phrase in alternatives]
        parts.append(quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")")
    return " AND ".join(parts)


def _tsquery(grams_column, words: list[Alternatives]) -> ColumnElement[bool]:
    """PostgreSQL: every phrase's grams (the GIN index answers this without a recheck), and each
    phrase's grams side by side in the indexed text (a substring test, far cheaper than the ``<->``
    recheck, which re-runs ``to_tsvector`` on every candidate row). A word with synonyms is the OR
    of its phrases, in both parts."""
    vector = func.to_tsvector(literal_column("'simple'"), grams_column)
    phrases = [alternatives[0] for alternatives in words if len(alternatives) == 1]
    groups = [
        "(" + " | ".join("(" + " & ".join(sorted(set(p))) + ")" for p in alternatives) + ")"
        for alternatives in words
        if len(alternatives) > 1
    ]
    lexemes = " & ".join([*sorted({token for phrase in phrases for token in phrase}), *groups])
    # 'simple' inline, so that the planner matches the GIN expression index; the words inline too
    # (rendered as quoted literals), so that a prepared statement's generic plan, made without
    # knowing how common the words are, never replaces a plan made for them
    query = func.to_tsquery(
        literal_column("'simple'"), bindparam(None, lexemes, String, literal_execute=True)
    )
    padded = literal_column("' '", String) + grams_column + literal_column("' '", String)

    def present(phrase: list[str]) -> ColumnElement[bool]:
        return (
            func.strpos(padded, bindparam(None, " " + " ".join(phrase) + " ", String, literal_execute=True))
            > 0
        )

    adjacent = [present(p) for p in phrases if len(p) > 1]
    adjacent += [or_(*[present(p) for p in alternatives]) for alternatives in words if len(alternatives) > 1]
    return and_(vector.op("@@")(query), *adjacent)


def _filtered(actor: Actor, query: SearchQuery) -> list:
    clauses = []
    visible = readable(actor)
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


# each sort's keys: (column, descending); the relevance order is built in search()
SORT_KEYS: dict[str, list[tuple[str, bool]]] = {
    "updated": [("updated_at", True), ("id", True)],
    "name": [("name", False), ("id", False)],
    "published": [("published_at", True), ("id", True)],
    "code": [("code", False)],
}


def _direction(expression, descending: bool):
    return expression.desc().nulls_last() if descending else expression.asc()


def _packed_sums(columns: dict[str, Any] | None = None) -> tuple[list, list[tuple[str, tuple[str, ...]]]]:
    """SQLite: the enum facets as sums of CASEs, three 21-bit counters packed into each 64-bit sum
    (``columns`` replaces a facet's column, as a restricted search does for the open type)."""
    sums, layout = [], []
    for name, values in ENUM_FACETS.items():
        for start in range(0, len(values), _FIELDS_PER_SUM):
            chunk = tuple(str(v) for v in values[start : start + _FIELDS_PER_SUM])
            shifts = {value: 1 << (_FIELD_BITS * i) for i, value in enumerate(chunk)}
            value_of = (columns or {}).get(name, getattr(Resource, name))
            sums.append(func.sum(case(shifts, value=value_of)))
            layout.append((name, chunk))
    return sums, layout


# Built once: building these expressions anew would cost more than running the statement on a small
# catalog. PostgreSQL must see the same expression in SELECT and GROUP BY, hence literal arguments.
_PREFIX = func.substr(Resource.classification, literal_column("1"), literal_column("3"))
_PACKED, _PACKED_LAYOUT = _packed_sums()
_PAIRS = func.group_concat(
    literal_column("catalog_resources.provider_id || '/' || substr(catalog_resources.classification, 1, 3)")
)
_SQLITE_FACETS = select(func.count(), _PAIRS, *_PACKED)
_GROUPED = [Resource.provider_id, _PREFIX] + [getattr(Resource, name) for name in ENUM_FACETS]
_MASK = (1 << _FIELD_BITS) - 1


class _Counts:
    """Facet counts as they are gathered; the most frequent value first when done."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}

    def add(self, name: str, value: Any, count: int) -> None:
        if value is not None and count:
            values = self.counts[name]
            values[str(value)] = values.get(str(value), 0) + count

    def done(self) -> dict[str, dict[str, int]]:
        return {
            name: dict(sorted(values.items(), key=lambda item: (-item[1], item[0])))
            for name, values in self.counts.items()
        }


_REPLACED: dict[int, tuple[dict[str, Any], Select, list, list]] = {}


def _replaced_facets(columns: dict[str, Any]) -> tuple[Select, list, list]:
    """The facet statement with some columns replaced, built once per (cached) set of columns."""
    found = _REPLACED.get(id(columns))
    if found is None or found[0] is not columns:
        packed, layout = _packed_sums(columns)
        grouped = [columns.get(name, column) for name, column in zip(FACETS, _GROUPED, strict=True)]
        found = _REPLACED[id(columns)] = (columns, select(func.count(), _PAIRS, *packed), layout, grouped)
    return found[1], found[2], found[3]


def _sqlite_facets(
    session: Session, source, where: list, columns: dict[str, Any] | None = None
) -> tuple[int, dict[str, dict[str, int]]]:
    """(total, facets) of the matching, visible, filtered resources, in one pass over them.

    SQLite groups by sorting, so grouping the matches by each facet in turn would sort them eight
    times, and even one GROUP BY (provider, classification prefix) costs a third of the time. So one
    ungrouped aggregate counts the enum facets as packed sums and hands the (provider, prefix) pairs
    to Python as one string, counted there.
    """
    counts = _Counts()
    statement, layout, grouped_columns = _SQLITE_FACETS, _PACKED_LAYOUT, _GROUPED
    if columns:
        statement, layout, grouped_columns = _replaced_facets(columns)
    total, pairs, *sums = session.execute(statement.select_from(source).where(*where)).one()
    if total > _MASK:  # more matches than a packed counter holds: count facet by facet
        for name, grouped in zip(FACETS, grouped_columns, strict=True):
            stmt = select(grouped, func.count()).select_from(source).where(*where).group_by(grouped)
            for value, count in session.execute(stmt):
                counts.add(name, value, count)
        return total, counts.done()
    for pair, count in Counter(pairs.split(",") if pairs else ()).items():
        provider, prefix = pair.split("/", 1)
        counts.add("provider_id", provider, count)
        counts.add("classification", prefix, count)
    for (name, values), packed in zip(layout, sums, strict=True):
        for i, value in enumerate(values):
            counts.add(name, value, ((packed or 0) >> (_FIELD_BITS * i)) & _MASK)
    return total, counts.done()


def _sqlite_relevance_page(
    session: Session, matching, phrases: list[Alternatives], limit: int, offset: int
) -> list[int]:
    """The page's ids in relevance order: resources whose name holds every word, then the others,
    the most recently registered first within each.

    Both parts are read in the FTS index's rowid order, which FTS5 walks natively (newest first),
    and stop at the end of the page: a word that matches half the catalog costs no sort of its
    matches (nor a BM25 score for each of them).
    """
    anywhere = _fts5(phrases)
    in_name = _fts5(_named(phrases))
    named = matching(f"({anywhere}) AND ({in_name})")
    ids = list(session.scalars(named.limit(limit).offset(offset)))
    if len(ids) == limit:
        return ids
    if ids or not offset:
        skip = 0  # the page began among the name matches, or at the very start
    else:
        skip = offset - (
            session.scalar(select(func.count()).select_from(named.order_by(None).subquery())) or 0
        )
    others = matching(f"({anywhere}) NOT ({in_name})")
    return ids + list(session.scalars(others.limit(limit - len(ids)).offset(skip)))


def _search_sqlite(
    session: Session,
    filters: list,
    phrases: list[Alternatives],
    sort: str,
    limit: int,
    offset: int,
    columns: dict[str, Any] | None = None,
    joined: tuple[Any, Any] | None = None,
) -> tuple[list[int], int, dict[str, dict[str, int]]]:
    if not phrases:
        source, where = Resource.__table__, filters
    else:
        fts = table("catalog_fts", column("rowid", Integer))
        source = _CrossJoin(fts, Resource.__table__, Resource.id == fts.c.rowid)
        where = [*filters, _fts5_match(_fts5(phrases))]
    if joined is not None:
        source = _JoinAfter(source, *joined)
    if sort == "relevance":

        def matching(expression: str) -> Select:
            stmt = select(Resource.id).select_from(source).where(*filters, _fts5_match(expression))
            return stmt.order_by(fts.c.rowid.desc())

        ids = _sqlite_relevance_page(session, matching, phrases, limit, offset)
    else:
        order = [_direction(getattr(Resource, name), desc) for name, desc in SORT_KEYS[sort]]
        page = select(Resource.id).select_from(source).where(*where).order_by(*order)
        ids = list(session.scalars(page.limit(limit).offset(offset)))
    total, facets = _sqlite_facets(session, source, where, columns)
    return ids, total, facets


def _search_postgres(
    session: Session,
    filters: list,
    phrases: list[Alternatives],
    sort: str,
    limit: int,
    offset: int,
    columns: dict[str, Any] | None = None,
    joined: tuple[Any, Any] | None = None,
) -> tuple[list[int], int, dict[str, dict[str, int]]]:
    """One statement: the matching ids first (GIN), then their resources, the page and the facets.

    The index is only ever asked through its GIN index (materialised CTEs): a plan that probes
    ``catalog_fts`` row by row would re-run ``to_tsvector`` on each row it tries, a hundred times
    dearer than the whole search. The page comes back as an ordered array beside the facet rows.
    """
    fts = table("catalog_fts", column("resource_id", Integer), column("grams", String))
    facet_columns = [Resource.provider_id, _PREFIX.label("prefix")] + [
        (columns or {}).get(name, getattr(Resource, name)).label(name) for name in ENUM_FACETS
    ]
    sort_columns = (
        [] if sort == "relevance" else [getattr(Resource, n) for n, _ in SORT_KEYS[sort] if n != "id"]
    )
    hits = select(Resource.id, *facet_columns, *sort_columns).where(*filters)
    if phrases:
        matched = (
            select(fts.c.resource_id)
            .where(_tsquery(fts.c.grams, phrases))
            .cte("matched")
            .prefix_with("MATERIALIZED")
        )
        source = matched.join(Resource.__table__, Resource.id == matched.c.resource_id)
        hits = hits.select_from(source.join(*joined) if joined is not None else source)
    elif joined is not None:
        hits = hits.select_from(Resource.__table__.join(*joined))
    hits = hits.cte("hits").prefix_with("MATERIALIZED")

    if sort == "relevance":
        names = fts.alias("names")
        named = (
            select(names.c.resource_id)
            .where(_tsquery(names.c.grams, _named(phrases)))
            .cte("named")
            .prefix_with("MATERIALIZED")
        )
        keys = [(hits.c.id.in_(select(named.c.resource_id)), True), (hits.c.id, True)]
    else:
        keys = [(hits.c[name], desc) for name, desc in SORT_KEYS[sort]]
    labelled = [expression.label(f"k{i}") for i, (expression, _) in enumerate(keys)]
    page = (
        select(hits.c.id, *labelled)
        .order_by(*[_direction(expression, desc) for expression, desc in keys])
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    in_order = [_direction(page.c[f"k{i}"], desc) for i, (_, desc) in enumerate(keys)]
    page_row = select(
        literal_column("0"),
        func.array_agg(aggregate_order_by(page.c.id, *in_order)),
        *[null() for _ in FACETS],
        null(),
    )
    grouped = [hits.c.provider_id, hits.c.prefix] + [hits.c[name] for name in ENUM_FACETS]
    facet_rows = select(literal_column("1"), null(), *grouped, func.count()).group_by(
        func.grouping_sets(*grouped)
    )

    ids: list[int] = []
    total = 0
    counts = _Counts()
    for part, page_ids, *values, count in session.execute(union_all(page_row, facet_rows)):
        if part == 0:
            ids = list(page_ids or [])
            continue
        for name, value in zip(FACETS, values, strict=True):
            counts.add(name, value, count)
        total += count if values[0] is not None else 0
    return ids, total, counts.done()


# What the public may find (OPN-1): published resources whose open type is not ``none``, the same
# rule as ``auth.readable`` gives a public account, without a caller.
OPEN_TYPES = (OpenType.unconditional.value, OpenType.conditional.value)


@dataclass(frozen=True)
class Restriction:
    """How a capability above the catalog narrows the public search to what it serves, without the
    catalog knowing its tables: the search joins ``table`` (at most one row per resource, matched by
    ``on(resource_id)``), keeps the rows ``where()`` admits, and counts and filters the open type
    ``open_type(registered_open_type)`` gives instead of the catalog's. A join, not a correlated
    ``EXISTS`` or scalar subquery: SQLite runs those as a sub-program per match, which made a common
    word's search half again as slow (``benchmarks/portal.py``); an ``IN`` over the whole list would
    be built anew by every statement."""

    table: Any
    on: Callable[[Any], ColumnElement[bool]]
    where: Callable[[], tuple[ColumnElement[bool], ...]] = tuple
    open_type: Callable[[Any], ColumnElement[str]] | None = None


_RESTRICTIONS: dict[Restriction, tuple[tuple[Any, Any], tuple, dict[str, Any]]] = {}


def _restricted(restriction: Restriction) -> tuple[tuple[Any, Any], tuple, dict[str, Any]]:
    """The restriction's join, conditions and columns, built once: building them (and the facet
    statement over them) anew would cost a small catalog more than its search."""
    found = _RESTRICTIONS.get(restriction)
    if found is None:
        columns = {}
        if restriction.open_type is not None:
            columns["open_type"] = restriction.open_type(Resource.open_type)
        joined = (restriction.table, restriction.on(Resource.id))
        found = _RESTRICTIONS[restriction] = (joined, tuple(restriction.where()), columns)
    return found


def _open_filtered(query: SearchQuery, columns: dict[str, Any]) -> list:
    clauses: list = [Resource.status == ResourceStatus.published]
    for name in ("provider_id", "open_type", "format", "update_cycle", "grade"):
        value = getattr(query, name)
        if value is not None:
            clauses.append(columns.get(name, getattr(Resource, name)) == value)
    if query.classification:
        clauses.append(Resource.classification.startswith(query.classification, autoescape=True))
    return clauses


def open_search(session: Session, query: SearchQuery, restriction: Restriction | None = None) -> SearchResult:
    """The public's search (the portal, OPN-2): :func:`search` over published resources, for no
    caller, with the same index, relevance order and facets: those whose open type is unconditional
    or conditional, or those ``restriction`` admits (the open catalog)."""
    if restriction is None:
        filters = [*_open_filtered(query, {}), Resource.open_type.in_(OPEN_TYPES)]
        return _run(session, filters, query)
    joined, conditions, columns = _restricted(restriction)
    return _run(session, [*_open_filtered(query, columns), *conditions], query, columns, joined)


def search(session: Session, actor: Actor, query: SearchQuery) -> SearchResult:
    return _run(session, _filtered(actor, query), query)


def _run(
    session: Session,
    filters: list,
    query: SearchQuery,
    columns: dict[str, Any] | None = None,
    joined: tuple[Any, Any] | None = None,
) -> SearchResult:
    words = _words(query.q)
    if query.q and query.q.strip() and not words:  # only punctuation, symbols, emoji: nothing to find
        return SearchResult([], 0, {name: {} for name in FACETS})
    phrases = _alternatives(words, synonym_groups(session) if words else {})
    sort = query.sort if query.sort in SORTS else "relevance"
    if sort == "relevance" and not words:
        sort = "updated"
    run = _search_sqlite if session.get_bind().dialect.name == "sqlite" else _search_postgres
    ids, total, facets = run(session, filters, phrases, sort, query.limit, query.offset, columns, joined)
    loaded = {r.id: r for r in session.scalars(select(Resource).where(Resource.id.in_(ids)))} if ids else {}
    return SearchResult([loaded[i] for i in ids], total, facets)
