"""The catalog's text index: writing a resource's document, and finding the resources a query matches.

SQLite keeps the documents in an FTS5 table (``catalog_fts``, rowid = resource id), which answers
phrases itself. PostgreSQL keeps them in ``catalog_fts`` too, with each document's terms
(``text.lexemes``: tokens and the trigrams of adjacent bigrams) as a position-free ``tsvector``
under a GIN index; the table is narrow on disk (its wide columns live in TOAST), so collecting the
ids of a hundred thousand matches reads a few thousand small pages and never a document.

Both return the matching ids as one string (``group_concat`` / ``string_agg``), which numpy parses
in one call: a row per match would cost more than the search itself.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from govdata.catalog.search.text import Alternatives, fts5, lexemes, named, tsquery

_SQLITE_WRITE = (
    text("DELETE FROM catalog_fts WHERE rowid = :id"),
    text("INSERT INTO catalog_fts (rowid, grams) VALUES (:id, :grams)"),
)
_POSTGRES_WRITE = text(
    "INSERT INTO catalog_fts (resource_id, grams, terms) "
    "VALUES (:id, :grams, array_to_tsvector(CAST(:terms AS text[]))) "
    "ON CONFLICT (resource_id) DO UPDATE SET grams = excluded.grams, terms = excluded.terms"
)


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def write(session: Session, documents: list[tuple[int, str]]) -> None:
    """Store (or replace) the indexed documents of resources: ``(resource id, text.index_text(…))``."""
    if not documents:
        return
    if _sqlite(session):
        delete, insert = _SQLITE_WRITE
        session.execute(delete, [{"id": rid} for rid, _ in documents])
        session.execute(insert, [{"id": rid, "grams": doc} for rid, doc in documents])
        return
    session.execute(
        _POSTGRES_WRITE,
        [{"id": rid, "grams": doc, "terms": lexemes(doc)} for rid, doc in documents],
    )


_SQLITE_MATCH = text("SELECT group_concat(rowid) FROM catalog_fts WHERE catalog_fts MATCH :match")
_POSTGRES_MATCH = text(
    "SELECT string_agg(resource_id::text, ',') FROM catalog_fts WHERE terms @@ CAST(:match AS tsquery)"
)


def _ids(found: str | None) -> np.ndarray:
    if not found:
        return np.empty(0, dtype=np.int64)
    return np.sort(np.fromstring(found, dtype=np.int64, sep=","))


def match(session: Session, phrases: list[Alternatives], *, in_name: bool = False) -> np.ndarray:
    """The sorted ids of the resources holding every word (``in_name``: in their name)."""
    if in_name:
        phrases = named(phrases)
    if _sqlite(session):
        return _ids(session.scalar(_SQLITE_MATCH, {"match": fts5(phrases)}))
    return _ids(session.scalar(_POSTGRES_MATCH, {"match": tsquery(phrases)}))
