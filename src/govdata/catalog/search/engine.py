"""A search over the facet columns (``columns.py``) and the text index's matches (``index.py``).

The index gives the ids that hold the words (all ids when there are none); the columns then keep
the visible, filtered ones, count the eight facets (one ``bincount`` or ``unique`` each) and order
the page: relevance puts the resources whose name holds every word first, then the others, the most
recently registered first within each (BM25 or ``ts_rank`` would score every match, which is what
made a common word slow); the other orders read their keys from the columns, or, for name and code,
the ranks the database gave. Only the first ``offset + limit`` are ordered in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from govdata.catalog.search import index
from govdata.catalog.search.columns import ENUMS, POSITIONS, View
from govdata.catalog.search.text import Alternatives

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


@dataclass(frozen=True)
class Condition:
    """One test of a resource: its column compared with a value (``==``, ``!=``, ``in`` a tuple),
    ``set`` (``published_version`` not null), ``prefix`` (the classification code starts with the
    value) or ``admitted`` (the restriction's table admits it). The visibility grants of
    ``catalog.auth`` have the same shape (column, op, value)."""

    column: str
    op: str
    value: object = None


def _values(view: View, column: str, ids: np.ndarray) -> tuple[np.ndarray, dict]:
    """The column's values at ``ids`` and how a given value is written in it."""
    if column == "provider_id":
        return view.arrays["provider"][ids], {}
    found = view.open_type(ids) if column == "open_type" else view.arrays[column][ids]
    return found, POSITIONS[column]


def _holds(view: View, ids: np.ndarray, condition: Condition) -> np.ndarray:
    column, op, value = condition.column, condition.op, condition.value
    if op == "set":  # published_version
        return view.arrays["published"][ids]
    if op == "admitted":  # the restriction's table admits the resource
        return view.entries["admitted"][ids] if view.entries is not None else np.zeros(len(ids), bool)
    if op == "prefix":
        classes = view.columns.classes
        admitted = np.array([code.startswith(str(value)) for code in classes] or [False], dtype=bool)
        return admitted[view.arrays["classification"][ids]]
    found, coded = _values(view, column, ids)
    if op == "in":
        wanted = [coded[v] for v in value if v in coded] if coded else list(value)
        return np.isin(found, np.array(wanted, dtype=found.dtype))
    code = coded.get(value) if coded else value
    if code is None:  # a value the column never holds: == finds nothing, != everything set
        return np.zeros(len(ids), bool) if op == "==" else found >= 0
    return found == code if op == "==" else (found != code) & (found >= 0 if coded else True)


def _kept(view: View, ids: np.ndarray, conditions: Sequence[Condition]) -> np.ndarray:
    for condition in conditions:
        if not len(ids):
            break
        ids = ids[_holds(view, ids, condition)]
    return ids


def _visible(view: View, ids: np.ndarray, grants: list[tuple[Condition, ...]] | None) -> np.ndarray:
    """Those of ``ids`` some grant admits (each grant a conjunction); None: every one."""
    if grants is None or not len(ids):
        return ids
    admitted = np.zeros(len(ids), dtype=bool)
    for grant in grants:
        holds = np.ones(len(ids), dtype=bool)
        for condition in grant:
            holds &= _holds(view, ids, condition)
        admitted |= holds
    return ids[admitted]


def _by_count(values: dict[str, int]) -> dict[str, int]:
    return dict(sorted(values.items(), key=lambda item: (-item[1], item[0])))


def _facets(view: View, ids: np.ndarray) -> dict[str, dict[str, int]]:
    arrays = view.arrays
    out: dict[str, dict[str, int]] = {}
    providers, counts = np.unique(arrays["provider"][ids], return_counts=True)
    out["provider_id"] = {str(p): int(c) for p, c in zip(providers, counts, strict=True)}
    prefixes: dict[str, int] = {}
    classes, counts = np.unique(arrays["classification"][ids], return_counts=True)
    for position, count in zip(classes, counts, strict=True):
        prefix = view.columns.classes[position][:3]
        if prefix:
            prefixes[prefix] = prefixes.get(prefix, 0) + int(count)
    out["classification"] = prefixes
    for name, values in ENUMS.items():
        found = view.open_type(ids) if name == "open_type" else arrays[name][ids]
        counts = np.bincount(found.astype(np.int64) + 1, minlength=len(values) + 1)
        out[name] = {value: int(count) for value, count in zip(values, counts[1:], strict=True) if count}
    return {name: _by_count(out[name]) for name in FACETS}


def _first(ids: np.ndarray, keys: list[np.ndarray], count: int) -> np.ndarray:
    """The first ``count`` of ``ids`` in the ascending order of ``keys`` (the first key first)."""
    if count <= 0 or not len(ids):
        return ids[:0]
    if len(ids) > 4 * count + 1024:  # keep only what can be among the first, then sort those
        kth = np.partition(keys[0], count - 1)[count - 1]
        near = keys[0] <= kth
        ids, keys = ids[near], [key[near] for key in keys]
    order = np.lexsort(tuple(reversed(keys)))
    return ids[order[:count]]


def _descending(values: np.ndarray) -> np.ndarray:
    return ~values  # -x - 1: reverses the order of int64 without overflow


def _page_keys(session: Session, view: View, ids: np.ndarray, sort: str, named: np.ndarray | None) -> list:
    arrays = view.arrays
    newest = _descending(ids)
    if sort == "relevance":
        return [(~np.isin(ids, named, assume_unique=True)).astype(np.int8), newest]
    if sort == "updated":
        return [_descending(arrays["updated"][ids]), newest]
    if sort == "published":
        return [_descending(arrays["published_at"][ids]), newest]
    order = "name, id" if sort == "name" else "code"
    return [view.columns.ranks(session, order, view.own)[ids]]


def run(
    session: Session,
    view: View,
    phrases: list[Alternatives],
    conditions: Sequence[Condition],
    grants: list[tuple] | None,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[list[int], int, dict[str, dict[str, int]]]:
    """(the page's ids, the total, the facets) of the resources holding ``phrases`` that meet every
    condition and some grant (each a conjunction of conditions; None: no grant needed)."""
    exists = view.arrays["exists"]
    if phrases:
        ids = index.match(session, phrases)
        ids = ids[ids < len(exists)]
        ids = ids[exists[ids]]
    else:
        ids = np.flatnonzero(exists)
    if view.entries is not None:  # a restricted search: the restriction's table must hold the id
        ids = ids[ids < view.entries.size]
    ids = _visible(view, _kept(view, ids, conditions), grants)
    named = index.match(session, phrases, in_name=True) if sort == "relevance" and len(ids) else None
    keys = _page_keys(session, view, ids, sort, named)
    page = _first(ids, keys, offset + limit)[offset:]
    return [int(i) for i in page], len(ids), _facets(view, ids)
