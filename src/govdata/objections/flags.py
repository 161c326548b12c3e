"""The "under review" flag (COR-3) on every sharing answer, without a query per answer.

Sharing asks :func:`under_review` on every verification, query, export and changes answer (registered
with ``sharing.service.data.register_under_review``), so it sits on the lookup path, which must stay
within about a millisecond. It never reads the database on that path: each process keeps, per
metadata database, a map resource id → frozenset of the store keys under review, rebuilt from the
table (one query over the open objections, on the asking session's own connection: taking a second
connection from the pool while holding one would let a burst of cold requests exhaust the pool and
wait on each other) when it is older than :data:`REFRESH_SECONDS`, and dropped at once in this process after a
commit that opens or closes an objection (:func:`invalidate_after_commit`). Other processes (several
servers on PostgreSQL) see the change within :data:`REFRESH_SECONDS`.

With no objection open on a resource the answer costs a dict lookup. A stale map is rebuilt by one
request while the others keep answering from the old one; a dropped map is rebuilt before answering.
The flag informs: it never refuses, delays or blocks anything (复核期间不得拒绝、推诿办理).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from govdata.core import db
from govdata.objections.enums import ObjectionStatus
from govdata.objections.models import Objection
from govdata.sharing.service.data import register_under_review

REFRESH_SECONDS = 2.0
NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _Map:
    built: float  # time.monotonic() when it was read
    keys: Mapping[int, frozenset[str]]


class ReviewFlags:
    """Per metadata database (its engine's URL): the keys under review of each resource."""

    def __init__(self, refresh: float = REFRESH_SECONDS) -> None:
        self.refresh = refresh
        self._maps: dict[object, _Map] = {}
        self._generations: dict[object, int] = {}
        self._lock = threading.Lock()
        self._rebuilding = threading.Lock()

    def keys_of(self, session: Session, resource_id: int) -> frozenset[str]:
        """The keys of ``resource_id`` under review (empty when none is)."""
        url = _engine(session).url
        found = self._maps.get(url)
        if found is None:
            with self._rebuilding:  # one request reads; those that came meanwhile use its map
                found = self._maps.get(url) or self._rebuild(session, url)
        elif time.monotonic() - found.built >= self.refresh and self._rebuilding.acquire(blocking=False):
            try:  # one request reads afresh; the others answer from the old map meanwhile
                found = self._rebuild(session, url)
            finally:
                self._rebuilding.release()
        return found.keys.get(resource_id, NONE)

    def invalidate(self, url: object) -> None:
        """Forget the map of this database: the next answer reads the table again."""
        with self._lock:
            self._generations[url] = self._generations.get(url, 0) + 1
            self._maps.pop(url, None)

    def _rebuild(self, session: Session, url: object) -> _Map:
        with self._lock:
            generation = self._generations.get(url, 0)
        built = time.monotonic()
        grouped: dict[int, set[str]] = {}
        rows = session.execute(
            select(Objection.resource_id, Objection.record_key).where(
                Objection.status == ObjectionStatus.under_review
            )
        )
        for resource_id, key in rows:
            grouped.setdefault(resource_id, set()).add(key)
        found = _Map(built, {resource_id: frozenset(keys) for resource_id, keys in grouped.items()})
        with self._lock:
            # an objection opened or closed while this was read: keep the answer, not the map
            if self._generations.get(url, 0) == generation:
                self._maps[url] = found
        return found


flags = ReviewFlags()


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return getattr(bind, "engine", bind)


@register_under_review
def under_review(session: Session, resource_id: int, keys: Collection[str] | None) -> Collection[str]:
    """Which of ``keys`` (store keys; all when None) of the resource are under review."""
    reviewed = flags.keys_of(session, resource_id)
    if not reviewed or keys is None:
        return reviewed
    return [key for key in keys if key in reviewed]


def keys_under_review(session: Session, resource_id: int) -> frozenset[str]:
    """Every key of the resource under review (for pages of this capability)."""
    return flags.keys_of(session, resource_id)


def invalidate_after_commit(session: Session) -> None:
    """Drop this process's map once the caller's transaction, which opened or closed an objection,
    commits (nothing happens if it rolls back)."""
    url = _engine(session).url
    db.after_commit(session, lambda: flags.invalidate(url))
