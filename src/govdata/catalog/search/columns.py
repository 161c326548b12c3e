"""The catalog's facet columns in memory: per resource id, the values that search filters, counts
and orders by, as numpy arrays, so that counting eight facets over a hundred thousand matches is
eight ``bincount`` calls instead of reading a hundred thousand rows.

The database stays the only source of truth; these arrays are a cache, one per engine and process,
kept current by a stamp the database itself writes: a trigger gives every inserted or updated
resource row a new ``search_seq`` (SQLite: one more than the largest, which is safe because SQLite
writes one transaction at a time; PostgreSQL: a sequence, and the writing transaction's id in
``search_xid``). Before each search the cache reads, through the search's own session, the rows
stamped after what it holds:

* none: the cache is current (one indexed query, the usual case);
* some: the cache first catches up on what is committed, through a connection of its own (so that
  nothing a transaction later rolls back ever enters it), and the rows still newer than the cache
  are the session's own uncommitted changes, applied to a copy for this search only.

PostgreSQL hands out sequence numbers in the order transactions ask, not in the order they commit:
a transaction holding a lower number may commit after the cache has read a higher one. So the cache
also keeps the oldest transaction its snapshot still saw running (``pg_snapshot_xmin``) and reads
again every row stamped by that transaction or a later one; re-reading a row already held changes
nothing.

Names and codes are ordered by the database (its collation, not Python's): their ranks are read
once with ``ORDER BY`` and read again after a change.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Dialect, Engine, text
from sqlalchemy.orm import Session

from govdata.catalog.enums import Grade, OpenType, ResourceFormat, ResourceStatus, ShareType, UpdateCycle

# Enum-valued facets and their values; a column holds each value's position (-1: none of them).
ENUMS: dict[str, tuple[str, ...]] = {
    "share_type": tuple(map(str, ShareType)),
    "open_type": tuple(map(str, OpenType)),
    "format": tuple(map(str, ResourceFormat)),
    "update_cycle": tuple(map(str, UpdateCycle)),
    "grade": tuple(map(str, Grade)),
    "status": tuple(map(str, ResourceStatus)),
}
# each enum value's position in its column
POSITIONS: dict[str, dict[str, int]] = {
    name: {v: i for i, v in enumerate(values)} for name, values in ENUMS.items()
}
NULL_TIME = np.iinfo(np.int64).min  # a missing time: the last in a descending order


# The columns a search reads, the enums as their positions (computed by the database), the times as
# microseconds: SQLite hands back its text and numpy parses it in one call.
def _position(name: str) -> str:
    cases = " ".join(f"WHEN '{value}' THEN {i}" for value, i in POSITIONS[name].items())
    return f"CASE {name} {cases} ELSE -1 END"


_MICROS = "coalesce(CAST(extract(epoch FROM {0}) * 1000000 AS bigint), -9223372036854775808)"
# rows stamped after the cache's stamp (PostgreSQL: or by a transaction the cache may have missed)
STAMP_CLAUSE = {
    "sqlite": "search_seq > ?",
    "postgresql": "search_seq > %s OR search_xid >= CAST(CAST(%s AS text) AS xid8)",
}
_SELECT = (
    "SELECT id, search_seq, provider_id, classification, "
    "CASE WHEN published_version IS NULL THEN 0 ELSE 1 END, {updated}, {published}, "
    + ", ".join(_position(name) for name in ENUMS)
    + " FROM catalog_resources WHERE "
)
_RESOURCES_SQL = {
    "sqlite": _SELECT.format(updated="updated_at", published="published_at") + STAMP_CLAUSE["sqlite"],
    "postgresql": _SELECT.format(
        updated=_MICROS.format("updated_at"), published=_MICROS.format("published_at")
    )
    + STAMP_CLAUSE["postgresql"],
}


def _micros(values: Sequence[Any], dialect: str) -> np.ndarray:
    if dialect == "sqlite":
        return np.array(values, dtype="datetime64[us]").astype(np.int64)  # None: NaT, the smallest
    return np.array(values, dtype=np.int64)


class Arrays(dict):
    """Named columns indexed by resource id; ``exists`` is False where no row has that id."""

    def __init__(self, spec: dict[str, tuple[Any, Any]], size: int) -> None:
        super().__init__({name: np.full(size, fill, dtype=dtype) for name, (dtype, fill) in spec.items()})
        self.spec = spec

    @property
    def size(self) -> int:
        return len(self["exists"])

    def grown(self, size: int) -> Arrays:
        """The same columns in arrays of at least ``size`` (a copy when they must grow)."""
        if size <= self.size:
            return self
        bigger = Arrays(self.spec, max(size, self.size * 2, 1024))
        for name, values in self.items():
            bigger[name][: self.size] = values
        return bigger

    def copy(self) -> Arrays:
        copied = Arrays(self.spec, 0)
        copied.update({name: values.copy() for name, values in self.items()})
        return copied


_STAMPED = {"exists": (bool, False), "seq": (np.int64, 0)}


class Stamped:
    """A cache of a stamped table's rows (see the module's docstring): ``_SQL`` selects the id and
    the stamp first, ``_apply`` writes the rest of a batch of rows into the arrays."""

    _SQL: dict[str, str]
    _SPEC: dict[str, tuple[Any, Any]]

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.arrays = Arrays(_STAMPED | self._SPEC, 0)
        self.seq = -1  # the highest stamp applied; -1: nothing read yet
        self.xmin: int | None = None  # PostgreSQL: the oldest transaction the last read saw running
        self._lock = threading.Lock()

    def _newer(self, connection: Connection) -> list[tuple]:
        """The rows stamped after what the cache holds (PostgreSQL: or by a transaction it may have
        missed), as ``connection`` sees them; read with the driver's own cursor, for speed."""
        params: tuple = (self.seq,) if self.dialect == "sqlite" else (self.seq, self.xmin or 0)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(self._SQL[self.dialect], params)
            return cursor.fetchall()
        finally:
            cursor.close()

    def _apply(self, arrays: Arrays, columns: list[tuple], ids: np.ndarray) -> None:
        raise NotImplementedError

    def _applied(self, arrays: Arrays, rows: list[tuple]) -> Arrays:
        if not rows:
            return arrays
        rid, seq, *columns = zip(*rows, strict=True)
        ids = np.array(rid, dtype=np.int64)
        arrays = arrays.grown(int(ids.max()) + 1)
        arrays["exists"][ids] = True
        arrays["seq"][ids] = seq
        self._apply(arrays, columns, ids)
        return arrays

    def _changed(self) -> None:
        """Called after the cache took new rows."""

    def _catch_up(self, engine: Engine) -> None:
        """Apply what is committed and newer than the cache, read on a connection of its own."""
        with engine.connect() as connection:
            xmin = None
            if self.dialect != "sqlite":
                xmin = connection.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
            rows = self._newer(connection)
            connection.rollback()
        if rows:
            self.arrays = self._applied(self.arrays, rows)
            self.seq = max(self.seq, max(row[1] for row in rows))
            self._changed()
        self.seq = max(self.seq, 0)
        self.xmin = xmin

    def _holds(self, row: tuple) -> bool:
        rid, seq = row[0], row[1]
        return rid < self.arrays.size and self.arrays["exists"][rid] and self.arrays["seq"][rid] == seq

    def view(self, session: Session) -> tuple[Arrays, bool]:
        """(the columns as ``session`` sees them, whether they hold changes it has not committed): the
        committed cache, or a copy with the session's own changes applied."""
        bind = session.get_bind()
        engine = getattr(bind, "engine", bind)
        if self.seq < 0:  # the first search: read everything committed
            with self._lock:
                if self.seq < 0:
                    self._catch_up(engine)
        connection = session.connection()
        pending = [row for row in self._newer(connection) if not self._holds(row)]
        if pending:
            with self._lock:
                self._catch_up(engine)
            pending = [row for row in self._newer(connection) if not self._holds(row)]
        if not pending:
            return self.arrays, False
        return self._applied(self.arrays.copy(), pending), True


class ResourceColumns(Stamped):
    """The catalog's resources: what the search filters, counts and orders by."""

    _SQL = _RESOURCES_SQL
    _SPEC = {
        "provider": (np.int64, 0),
        "classification": (np.int32, 0),  # position in ``classes``
        "published": (bool, False),  # ever published (``published_version`` set)
        "updated": (np.int64, NULL_TIME),  # microseconds since 1970
        "published_at": (np.int64, NULL_TIME),
        **{name: (np.int8, -1) for name in ENUMS},
    }

    def __init__(self, dialect: str) -> None:
        super().__init__(dialect)
        self.classes: list[str] = []  # classification codes, by position
        self._class_index: dict[str, int] = {}
        self._ranks: dict[str, np.ndarray] = {}

    def _class(self, code: str) -> int:
        found = self._class_index.get(code)
        if found is None:
            found = self._class_index[code] = len(self.classes)
            self.classes.append(code)
        return found

    def _apply(self, arrays: Arrays, columns: list[tuple], ids: np.ndarray) -> None:
        provider, classification, published, updated, published_at, *enums = columns
        arrays["provider"][ids] = provider
        arrays["classification"][ids] = [self._class(code or "") for code in classification]
        arrays["published"][ids] = np.array(published, dtype=bool)
        arrays["updated"][ids] = _micros(updated, self.dialect)
        arrays["published_at"][ids] = _micros(published_at, self.dialect)
        for name, values in zip(ENUMS, enums, strict=True):
            arrays[name][ids] = values

    def _changed(self) -> None:
        self._ranks = {}

    def ranks(self, connection: Connection | Session, order: str, own: bool) -> np.ndarray:
        """Each resource's position in ``ORDER BY order`` (``name, id`` or ``code``); ``own``: read
        through the session, which has changes of its own, and not kept."""
        found = None if own else self._ranks.get(order)
        if found is None:
            ids = [
                row[0]
                for row in connection.execute(text(f"SELECT id FROM catalog_resources ORDER BY {order}"))
            ]
            found = np.zeros(max(ids, default=0) + 1, dtype=np.int64)
            found[np.array(ids, dtype=np.int64)] = np.arange(len(ids), dtype=np.int64)
            if not own:
                self._ranks[order] = found
        return found


class EntryColumns(Stamped):
    """A restriction's table (``search.Restriction``): per resource, whether the table admits it
    and the open type it gives (-1: none, the registered one stands)."""

    _SPEC = {"admitted": (bool, False), "open_type": (np.int8, -1)}

    def __init__(self, dialect: str, select_sql: str) -> None:
        stamp = STAMP_CLAUSE[dialect]
        self._SQL = {dialect: f"{select_sql} WHERE {stamp}"}
        super().__init__(dialect)

    def _apply(self, arrays: Arrays, columns: list[tuple], ids: np.ndarray) -> None:
        admitted, open_type = columns
        arrays["admitted"][ids] = np.array(admitted, dtype=bool)
        arrays["open_type"][ids] = open_type


@dataclass(frozen=True)
class View:
    """What a search reads: the resources' columns and, for a restricted search, the restriction's."""

    columns: ResourceColumns
    arrays: Arrays
    own: bool  # holds changes the session has not committed
    entries: Arrays | None = None
    fallback: np.ndarray | None = None  # registered open type's position + 1 → the one that stands

    def open_type(self, ids: np.ndarray) -> np.ndarray:
        """The open type at ``ids``: unrestricted, the registered one; restricted, the restriction's
        where it gives one, else what its rule makes of the registered one (``fallback``)."""
        registered = self.arrays["open_type"][ids]
        if self.entries is None or self.fallback is None:
            return registered
        own = self.entries["open_type"][ids]
        return np.where(own >= 0, own, self.fallback[registered.astype(np.int64) + 1]).astype(np.int8)


_CACHES: weakref.WeakKeyDictionary[Engine, dict[Any, Stamped]] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache(session: Session, key: Any, make: Callable[[Dialect], Stamped]) -> Stamped:
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    with _CACHES_LOCK:
        caches = _CACHES.setdefault(engine, {})
        found = caches.get(key)
        if found is None:
            found = caches[key] = make(engine.dialect)
        return found


def view(
    session: Session,
    restriction: Any = None,
    entries_sql: Callable[[Dialect], str] | None = None,
    fallback: Callable[[str], str] | None = None,
) -> View:
    """The columns as ``session`` sees them (made on first use, one cache per engine and table).

    A restricted search names its ``restriction`` (the cache's key), ``entries_sql(dialect)``, the
    ``SELECT`` of its table's rows (resource id, stamp, admitted, open type position) to which the
    stamp's ``WHERE`` is added, and ``fallback``, which open type stands for a registered one when
    the restriction gives none."""
    columns = _cache(session, "resources", lambda dialect: ResourceColumns(dialect.name))
    arrays, own = columns.view(session)
    entries = None
    if restriction is not None and entries_sql is not None:

        def make(dialect: Dialect) -> Stamped:
            return EntryColumns(dialect.name, entries_sql(dialect))

        cache = _cache(session, restriction, make)
        entries, own_entries = cache.view(session)
        own = own or own_entries
    lut = None
    if fallback is not None:
        types = ENUMS["open_type"]
        lut = np.array([-1, *(POSITIONS["open_type"][fallback(t)] for t in types)], dtype=np.int8)
    return View(columns, arrays, own, entries, lut)
