"""The sharing services (SHR-6): verification, query, export and changes, under a grant or as the
provider's own staff, masked as the grant says (SEC-4), logged (SHR-7), rate-limited per grant and
signed (SHR-9).

Every use case starts from ``grants.access_for`` (401/403/404 as SPEC §15 says), then:

* **rate limit** — a call beyond the grant's ``rate_limit`` within the last 60 seconds is refused with
  429 and ``Retry-After`` (the seconds until the oldest call in the window leaves it). The window is
  kept in this process's memory, per grant: with several server processes (PostgreSQL) each counts
  its own calls, so a grant may make up to ``rate_limit`` calls per minute *per process*. Counting in
  the metadata database would cost a write per call on the request path, which the usage log avoids
  by design. The provider's own staff have no grant and no grant limit (the platform's limit per
  caller, ``core.ratelimit``, still applies to everyone);
* **items** — only the granted items are answered, by code; a filter, a verified value or a query on
  an item outside the grant is 403 ``item-not-granted``, on an item the resource does not have 422.
  A filter on an item served masked is 403 ``item-masked`` too: filtering on clear values would tell
  them (use verification, if granted);
* **keys** — a key that is a 公民身份号码 or 统一社会信用代码 and fails its check (GB 11643, GB 32100) is
  422; keys are compared as the store keeps them (trimmed, identifiers upper-case);
* **masking** — items the grant serves masked are masked (``sharing.masking``); the provider's own
  staff see clear values;
* every answer carries ``under_review`` (the keys of returned records under review: the objections
  capability registers its lookup with :func:`register_under_review`), ``freshness`` (aggregation's
  ``last_batch_at``, ``next_due``, ``overdue``) and ``receipt`` (signed over the answer, ``receipts``).

A key in an answer (``under_review``, a change's ``key``) is shown as the grant shows the key item:
in clear when it is granted in clear (or when the caller sent that key itself), masked when it is
served masked, and as asterisks when the key item is not granted.

**Verification** answers ``{match, items: {item: bool}}`` and never a stored value. A key that does
not exist answers exactly as a key whose values all differ (every item false), through the same
code path (the record is looked up and every value compared either way), so answers never tell
whether a key exists. For the same reason ``under_review`` stays empty unless some value matched,
and the usage log counts one row for every verification.

**Query** takes keys (``key``, repeatable) or filters (``item=value``, exact text); a grant holder
must give one of them (bulk reading is exchange), the provider's own staff may page through all.
``as_of_batch`` / ``as_of`` read the records as they were (AGG-6).

**Export** (数据交换：批量导出) is in :mod:`.export`.

**Changes** answer ``{changes: [{op: upsert|delete, key, record?}], cursor, more}`` in the order of
the batches that made them: every key a later batch wrote (its current record) or deleted. The
cursor is opaque; the caller keeps it and sends it back. A first call without a cursor answers every
current record as an upsert (page after page, ``more``), and from there on the changes; deletions
before that first call are not reported. After a batch the caller already received is rolled back,
the records it had changed are not replayed: call again without a cursor (or export) to start over.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cachetools import LRUCache, TTLCache
from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.core import clock, ids
from govdata.core.auth import Actor, require
from govdata.core.config import Settings
from govdata.core.errors import PermissionDenied, Problem, TooManyRequests, field_error
from govdata.core.observability import log
from govdata.core.signing import node_key
from govdata.core.values import agree, json_value
from govdata.sharing import masking, receipts, sealing, usage
from govdata.sharing.auth import USE
from govdata.sharing.service.grants import Access, access_for
from govdata.store.base import TableSpec
from govdata.store.sql import SqlStore

VERIFY, QUERY, EXCHANGE = "verify", "query", "exchange"
MAX_KEYS = 50  # keys of one query: each counts against the grant's rate limit
MAX_VERIFY_ITEMS = 100
CHANGES_LIMIT = 1000
CHANGES_MAX = 10_000
RATE_WINDOW_SECONDS = 60.0


# --- "under review" (COR-3): the objections capability registers its lookup ------------------------

UnderReview = Callable[[Session, int, Collection[str] | None], Collection[str]]
"""``fn(session, resource_id, keys)``: which of ``keys`` (store keys) are under review; ``keys`` None
asks for every key of the resource under review (an export)."""

_under_review: list[UnderReview] = []


def register_under_review(fn: UnderReview) -> UnderReview:
    """Add a lookup of keys under review (usable as a decorator); every answer asks each one."""
    _under_review.append(fn)
    return fn


def keys_under_review(session: Session, resource_id: int, keys: Collection[str] | None) -> set[str]:
    """The keys (of ``keys``, or all when None) of the resource that some lookup says are under review."""
    if keys is not None and not keys:
        return set()
    found: set[str] = set()
    for fn in _under_review:
        found |= set(fn(session, resource_id, keys))
    return found if keys is None else found & set(keys)


# --- rate limits per grant ----------------------------------------------------------------------------


class GrantLimiter:
    """The calls of each grant in the last minute (a sliding window, in this process's memory)."""

    def __init__(self, window: float = RATE_WINDOW_SECONDS) -> None:
        self.window = window
        self._calls: dict[tuple[str, int], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: tuple[str, int], limit: int, cost: int = 1) -> float | None:
        """Count a call worth ``cost`` calls (a query of n keys costs n); None when it is within
        ``limit``, else the seconds until it would be (the call is then not counted)."""
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - self.window:
                calls.popleft()
            if len(calls) + cost > limit:
                if cost > limit:
                    return self.window
                return calls[len(calls) + cost - limit - 1] + self.window - now
            calls.extend([now] * cost)
            return None


limiter = GrantLimiter()


@functools.lru_cache(maxsize=64)
def _database(url: Any) -> str:
    return url.render_as_string(hide_password=True)


def _check_rate(session: Session, access: Access, cost: int = 1) -> None:
    if access.own or access.grant_id is None or not access.rate_limit:
        return
    database = _database(session.get_bind().url)
    wait = limiter.hit((database, access.grant_id), access.rate_limit, cost)
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise TooManyRequests(
            f"超出共享授权的调用频率限制（每分钟 {access.rate_limit} 次），请 {seconds} 秒后再试。",
            headers={"Retry-After": str(seconds)},
            limit=f"{access.rate_limit}/分钟",
            grant_id=access.grant_id,
        )


# --- one call: its usage record whatever happens ---------------------------------------------------------


@dataclass
class _Call:
    """A service call being made: logged when it ends, answered or refused (SHR-7)."""

    session: Session
    actor: Actor
    code: str
    mode: str
    grant_id: int | None = None  # the one grant the caller names (a grant's page), else any usable
    started: float = field(default_factory=time.perf_counter)
    at: datetime = field(default_factory=clock.now)
    access: Access | None = None
    items: tuple[str, ...] = ()
    rows: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def __enter__(self) -> _Call:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if exc is None:
            status = 200
        elif isinstance(exc, Problem):
            status = exc.status
        else:
            status = 500
        if status == 401:
            return
        try:
            self._log(status)
        except Exception:
            if exc is None:
                raise
            log.exception("sharing.usage.not_logged", code=self.code)

    def _log(self, status: int) -> None:
        access = self.access
        if access is not None:
            resource, provider_id = access.resource.code, access.resource.provider_id
        else:  # refused before access was known: logged when the caller may see the resource
            try:
                ref = catalog.find_resource(self.session, self.actor, self.code)
            except Problem:
                return
            resource, provider_id = ref.code, ref.provider_id
        entry = usage.Entry(
            at=self.at,
            actor=self.actor,
            resource_code=resource,
            mode=self.mode,
            status_code=status,
            latency_ms=usage.elapsed_ms(self.started),
            provider_id=provider_id,
            consumer_department_id=(access.consumer_department_id if access else None)
            or self.actor.department_id,
            grant_id=access.grant_id if access else None,
            application_id=access.application_id if access else None,
            purpose=access.purpose if access else None,
            items=self.items,
            rows=self.rows if status == 200 else 0,
            details=self.details if status == 200 else {},
        )
        usage.submit(self.session, entry)


def _open(call: _Call, mode: str, needs: Collection[str] = ()) -> Access:
    """The caller's access through ``mode`` under the grant holding the items it ``needs``, within
    that grant's rate limit."""
    call.access = access_for(call.session, call.actor, call.code, mode, grant_id=call.grant_id, needs=needs)
    _check_rate(call.session, call.access)
    return call.access


# --- what every answer needs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    spec: TableSpec
    key_kind: str | None  # ric | uscc when the key is one such identifier
    key_items: tuple[str, ...]
    kinds: dict[str, str]  # item code → its mask


# What a published version's answers need is worked out once per process (a published version never
# changes): its table (made or migrated to the version on first use), key rules and masks.
_tables: LRUCache[tuple[Any, ...], _Table] = LRUCache(maxsize=512)
_tables_lock = threading.Lock()


def _table(session: Session, store: SqlStore, access: Access) -> _Table:
    resource = access.resource
    made = (store.url, resource.id, resource.published_version, resource.published_at)
    with _tables_lock:
        table = _tables.get(made)
    if table is None or resource.version != resource.published_version:
        spec, rules = aggregation.table_of(session, resource)
        store.ensure_table(spec)
        keys = [r for r in rules if r.key]
        key_kind = keys[0].key_kind if len(keys) == 1 and keys[0].key_kind in ("ric", "uscc") else None
        kinds = masking.kinds_for(session, resource.id, resource.published_version)
        table = _Table(spec, key_kind, tuple(r.code for r in keys), kinds)
        if resource.version == resource.published_version:
            with _tables_lock:
                _tables[made] = table
    store.ensure_key_index(table.spec)  # once per table, unless a batch altered it since
    return table


def _granted(access: Access, table: _Table) -> list[str]:
    return [c for c in access.items if c in table.spec.codes]


def _check_items(
    access: Access, table: _Table, codes: Collection[str], field_name: str, *, clear: bool
) -> None:
    """Items named by the caller: 422 for one the resource lacks, 403 for one outside the grant (or,
    with ``clear``, served masked)."""
    for code in codes:
        if code not in table.spec.codes:
            raise field_error(f"{field_name}.{code}" if field_name else code, "不是该资源的信息项")
    outside = [c for c in codes if c not in access.items]
    if outside:
        raise PermissionDenied(
            f"信息项 {'、'.join(outside)} 不在共享授权范围内。", slug="item-not-granted", items=outside
        )
    if clear:
        masked = [c for c in codes if c in access.masked]
        if masked:
            raise PermissionDenied(
                f"信息项 {'、'.join(masked)} 按授权脱敏提供，不能作为筛选条件（可申请比对验证）。",
                slug="item-masked",
                items=masked,
            )


def _normal_key(table: _Table, key: Any, field_name: str = "key") -> str:
    if not isinstance(key, str):
        key = "" if key is None else str(key)
    key = key.strip()
    if not key:
        raise field_error(field_name, "关键标识不能为空")
    if table.key_kind is None:
        return key
    key = key.upper()
    problem = ids.ric_problem(key) if table.key_kind == "ric" else ids.uscc_problem(key)
    if problem:
        label = "公民身份号码" if table.key_kind == "ric" else "统一社会信用代码"
        raise field_error(field_name, f"不是有效的{label}：{problem}")
    return key


# An answer's freshness may be a second old: reading it anew for every lookup would cost as much as
# the lookup itself.
_freshness_of: TTLCache[tuple[Any, ...], dict[str, Any]] = TTLCache(maxsize=4096, ttl=1.0)
_freshness_lock = threading.Lock()


def _freshness(session: Session, access: Access) -> dict[str, Any]:
    key = (session.get_bind().url, access.resource.id, access.resource.published_at)
    with _freshness_lock:
        known = _freshness_of.get(key)
    if known is not None:
        return dict(known)
    found = aggregation.freshness(session, access.resource)
    known = {
        "last_batch_at": _instant(found.get("last_batch_at")),
        "next_due": _instant(found.get("next_due")),
        "overdue": bool(found.get("overdue")),
    }
    with _freshness_lock:
        _freshness_of[key] = known
    return dict(known)


def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _records(access: Access, table: _Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as the caller receives them: the granted items by code, masked as granted."""
    codes = _granted(access, table)
    columns: dict[str, list[Any]] = {}
    for code in codes:
        values = [row.get(code) for row in rows]
        if code in access.masked:
            columns[code] = masking.mask_values(table.kinds.get(code, masking.GENERIC), values)
        else:
            columns[code] = [json_value(v) for v in values]
    return [{code: columns[code][i] for code in codes} for i in range(len(rows))]


def _key_shown(access: Access, table: _Table, keys: list[str], known: Collection[str] = ()) -> list[str]:
    """Store keys as the caller may see them (see the module's docstring)."""
    key_items = table.key_items
    if access.own or (
        key_items
        and all(k in access.items for k in key_items)
        and not any(k in access.masked for k in key_items)
    ):
        return list(keys)
    if len(key_items) == 1 and key_items[0] in access.masked:
        masked = masking.mask_values(table.kinds.get(key_items[0], masking.GENERIC), keys)
        return [k if k in known else m for k, m in zip(keys, masked, strict=True)]
    return [k if k in known else "*" * len(k) for k in keys]


def _sign(settings: Settings, access: Access, answer: dict[str, Any]) -> dict[str, Any]:
    answer["receipt"] = receipts.issue(
        node_key(settings),
        answer,
        grant_id=access.grant_id,
        resource_code=access.resource.code,
        at=clock.now(),
        direct_evidence=access.direct_evidence,
    )
    return answer


# --- verification (比对验证) -------------------------------------------------------------------------


def verify(
    session: Session,
    actor: Actor,
    store: SqlStore,
    settings: Settings,
    code: str,
    key: Any,
    values: Mapping[str, Any],
    *,
    grant_id: int | None = None,
) -> dict[str, Any]:
    """Whether the claimed ``values`` agree with the record of ``key``, item by item, never a value."""
    require(actor, USE)
    with _Call(session, actor, code, VERIFY, grant_id) as call:
        claimed = {str(c).strip().lower(): v for c, v in values.items()}
        access = _open(call, VERIFY, needs=claimed)
        table = _table(session, store, access)
        if len(values) > MAX_VERIFY_ITEMS:
            raise field_error("values", f"一次最多比对 {MAX_VERIFY_ITEMS} 个信息项")
        if not claimed:
            raise field_error("values", "请给出要比对的信息项及其值")
        _check_items(access, table, list(claimed), "values", clear=False)
        call.items = tuple(claimed)
        if set(claimed) & set(table.key_items):
            # comparing the key with itself would tell whether the record exists
            raise field_error("values", "关键标识本身不能作为比对项，请比对其他信息项")
        normal = _normal_key(table, key)
        found = store.query(table.spec, keys=[normal], limit=1, offset=0).rows
        stored = found[0] if found else {}  # a missing key compares as all-different, the same way
        items = {c: agree(json_value(stored.get(c)), v) is True for c, v in claimed.items()}
        match = all(items.values())
        review = keys_under_review(session, access.resource.id, [normal]) if any(items.values()) else set()
        call.rows = 1
        answer = {
            "match": match,
            "items": items,
            "under_review": [normal] if review else [],
            "freshness": _freshness(session, access),
            # what was verified, so that the receipt cannot be shown for another person or value
            "request": {
                "key": normal,
                "items": sorted(claimed),
                "values_sm3": receipts.digest({"values": {c: json_value(v) for c, v in claimed.items()}}),
            },
        }
        return _sign(settings, access, answer)


# --- query (检索查询) -----------------------------------------------------------------------------------


def query(
    session: Session,
    actor: Actor,
    store: SqlStore,
    settings: Settings,
    code: str,
    *,
    keys: list[str] | None = None,
    filters: Mapping[str, str] | None = None,
    limit: int = 50,
    offset: int = 0,
    as_of_batch: int | None = None,
    as_of: datetime | None = None,
    grant_id: int | None = None,
) -> dict[str, Any]:
    """Records by key or by filters on granted items, a page at a time, masked as granted."""
    require(actor, USE)
    with _Call(session, actor, code, QUERY, grant_id) as call:
        filters = {str(c).strip().lower(): v for c, v in (filters or {}).items()}
        access = _open(call, QUERY, needs=filters)
        table = _table(session, store, access)
        call.items = tuple(_granted(access, table))
        _check_items(access, table, list(filters), "", clear=True)
        if keys and len(keys) > MAX_KEYS:
            raise field_error("key", f"一次最多查询 {MAX_KEYS} 个关键标识")
        normal = [_normal_key(table, k) for k in keys] if keys else None
        if normal and len(normal) > 1:
            _check_rate(session, access, len(normal) - 1)  # every key counts as a call
        if not access.own and not normal and not filters:
            raise field_error("key", "请给出关键标识（key）或按已授权信息项筛选；批量获取请使用数据交换")
        result = store.query(
            table.spec,
            keys=normal,
            filters=filters,
            as_of_batch=as_of_batch,
            as_of_time=as_of.astimezone(UTC).replace(tzinfo=None) if as_of else None,
            limit=limit,
            offset=offset,
        )
        returned = [row["_key"] for row in result.rows]
        review = keys_under_review(session, access.resource.id, returned)
        call.rows = len(result.rows)
        call.details = {"keys": len(normal or []), "filters": sorted(filters)}
        answer = {
            "items": _records(access, table, result.rows),
            "total": result.total,
            "under_review": _key_shown(access, table, [k for k in returned if k in review], normal or ()),
            "freshness": _freshness(session, access),
            "request": {"keys": normal or [], "filters": dict(sorted(filters.items())), "offset": offset},
        }
        return _sign(settings, access, answer)


# --- changes since a cursor (数据交换：增量) ------------------------------------------------------------


def _cursor(settings: Settings, access: Access, batch: int, key: str | None, floor: int) -> str:
    """The opaque cursor of a position: sealed (AES-GCM, the node's key) for this resource, so that it
    neither shows the key it stopped at (which the grant may mask or withhold) nor can be forged."""
    raw = json.dumps([batch, key, floor], ensure_ascii=False, separators=(",", ":"))
    sealed = sealing.seal(settings, raw, f"changes:{access.resource.code}")
    return base64.urlsafe_b64encode(sealed.encode("ascii")).decode("ascii").rstrip("=")


def _read_cursor(settings: Settings, access: Access, cursor: str) -> tuple[int, str | None, int]:
    invalid = field_error("cursor", "游标无效：应原样使用上一次答复中的 cursor")
    try:
        sealed = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        raw = sealing.unseal(settings, sealed, f"changes:{access.resource.code}")
        batch, key, floor = json.loads(raw)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, sealing.SealError) as exc:
        raise invalid from exc
    if (
        not isinstance(batch, int)
        or not isinstance(floor, int)
        or isinstance(batch, bool)
        or isinstance(floor, bool)
        or batch < 0
        or floor < 0
        or not (key is None or isinstance(key, str))
    ):
        raise invalid
    return batch, key, floor


def changes(
    session: Session,
    actor: Actor,
    store: SqlStore,
    settings: Settings,
    code: str,
    *,
    cursor: str | None = None,
    limit: int = CHANGES_LIMIT,
) -> dict[str, Any]:
    """The changes since ``cursor`` (every current record first, without one), at most ``limit``."""
    require(actor, USE)
    with _Call(session, actor, code, EXCHANGE) as call:
        access = _open(call, EXCHANGE)
        table = _table(session, store, access)
        codes = _granted(access, table)
        call.items = tuple(codes)
        if cursor:
            batch, key, floor = _read_cursor(settings, access, cursor)
        else:
            batch, key, floor = 0, None, store.latest_batch(table.spec)
        found = store.changes_since(
            table.spec, batch, limit + 1, after_key=key, deletions_after=floor, codes=codes
        )
        more, page = len(found) > limit, found[:limit]
        upserts = [c for c in page if c.op == "upsert"]
        records = iter(_records(access, table, [c.row or {} for c in upserts]))
        keys = _key_shown(access, table, [c.key for c in page])
        shown = dict(zip([c.key for c in page], keys, strict=True))
        review = keys_under_review(session, access.resource.id, [c.key for c in upserts])
        items = []
        for change in page:
            entry: dict[str, Any] = {"op": change.op, "key": shown[change.key]}
            if change.op == "upsert":
                entry["record"] = next(records)
            items.append(entry)
        last = page[-1] if page else None
        call.rows = len(page)
        call.details = {"cursor": cursor is not None, "deletions": len(page) - len(upserts)}
        answer = {
            "changes": items,
            "cursor": _cursor(settings, access, last.batch, last.key, floor)
            if last
            else _cursor(settings, access, batch, key, floor),
            "more": more,
            "under_review": [shown[c.key] for c in upserts if c.key in review],
            "freshness": _freshness(session, access),
        }
        return _sign(settings, access, answer)
