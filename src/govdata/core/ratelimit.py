"""Rate limits on every endpoint (SEC-6), with the ``limits`` library's moving window (its items, and a
window of our own kept without a timer thread: :class:`MovingWindow`), and the
failed-login counter of names that are not accounts.

Each caller is counted by who it is, not by the text it sends: a bearer token or session cookie
that resolves to a user counts against that user, one of an application system against the system,
whatever the header's case or spacing and however many tokens the caller holds. A request without a
credential, or with one that resolves to nobody (a random cookie), counts against its address. The
address is the peer's: forwarding headers are honoured (by the server, before the app) only from the
proxies ``GOVDATA_TRUSTED_PROXIES`` lists. Logins are also counted per address with a lower limit,
against password spraying across accounts (the per-account lockout handles guessing one password).

Resolving a credential costs one indexed query, so the middleware keeps what it learnt for a short
while (:class:`CallerCache`); the request itself still resolves its token in its own unit of work,
so a revoked token is refused at once, it only keeps counting against its owner a little longer.

Counters live in the server process, which is right for the embedded single-process deployment;
several workers behind PostgreSQL would point ``limits`` at a shared storage such as Redis.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime, timedelta

from limits import RateLimitItem, RateLimitItemPerMinute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from govdata.core.auth import SESSION_COOKIE, presented_token
from govdata.core.errors import PROBLEM_MEDIA_TYPE, TooManyRequests
from govdata.core.observability import log

EXEMPT_PREFIXES = ("/healthz", "/metrics", "/static/")
# registrations of public accounts count with the logins: per address, at the lower limit (ORG-4)
LOGIN_PATHS = {
    ("POST", "/api/v1/auth/token"),
    ("POST", "/login"),
    ("POST", "/api/v1/public/accounts"),
    ("POST", "/register"),
}

CALLER_TTL_SECONDS = 30.0
CALLER_CACHE_SIZE = 10_000

Identify = Callable[[object, str], str | None]
"""``identify(app, token)``: whom a token belongs to (``user:7``, ``system:2``), or None."""


def identify_caller(app, token: str) -> str | None:
    """Resolve ``token`` as the app does (``app.state.resolve_token``) in a throwaway session."""
    session = app.state.sessionmaker()
    try:
        with session.no_autoflush:  # resolving may touch a credential's last use: the request records it
            actor = app.state.resolve_token(session, token, None)
    finally:
        session.rollback()
        session.close()
    if actor is None:
        return None
    if actor.kind == "system":
        return f"system:{actor.system_id}"
    return f"user:{actor.user_id}"


class CallerCache:
    """Token digest → whom it belongs to (or nobody), for ``ttl`` seconds, at most ``size`` tokens
    (the least recently used are forgotten first)."""

    def __init__(self, ttl: float = CALLER_TTL_SECONDS, size: int = CALLER_CACHE_SIZE) -> None:
        self.ttl, self.size = ttl, size
        self._entries: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

    def get(self, digest: str) -> tuple[bool, str | None]:
        entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        self._entries.move_to_end(digest)
        return True, entry[1]

    def put(self, digest: str, caller: str | None) -> None:
        self._entries[digest] = (time.monotonic() + self.ttl, caller)
        self._entries.move_to_end(digest)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


class MovingWindow:
    """The moving window of ``limits`` (a hit counts when fewer than ``amount`` hits of the same
    identifiers fell within the item's period before it), kept as one deque of hit times per key.

    ``limits``' own memory storage inserts every hit at the front of a list and starts a timer thread
    every 10 ms to drop the old ones, which costs more with every hit in the window; here a hit
    drops what left the window from the deque's old end: amortised constant time, no thread. Every
    :data:`SWEEP_EVERY` hits, the keys whose last hit is an hour old (longer than any period counted
    here) are forgotten."""

    SWEEP_EVERY = 10_000

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._count = 0

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        now = time.monotonic()
        expiry = item.get_expiry()
        key = item.key_for(*identifiers)
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque()
            while hits and hits[0] <= now - expiry:
                hits.popleft()
            self._count += 1
            if self._count % self.SWEEP_EVERY == 0:
                self._sweep(now)
            if len(hits) >= item.amount:
                return False
            hits.append(now)
            return True

    def _sweep(self, now: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - 3600]:
            del self._hits[key]


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        per_minute: int,
        login_per_minute: int,
        identify: Identify = identify_caller,
    ) -> None:
        self.app = app
        self.limiter = MovingWindow()
        self.general = RateLimitItemPerMinute(per_minute)
        self.login = RateLimitItemPerMinute(login_per_minute)
        self.identify = identify
        self.callers = CallerCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        address = scope["client"][0] if scope.get("client") else "unknown"
        if (scope["method"], scope["path"]) in LOGIN_PATHS and not self.limiter.hit(
            self.login, "login", address
        ):
            await self._refuse(send, self.login, "登录尝试过于频繁，请一分钟后再试。")
            return
        caller = await self._caller(scope)
        if not self.limiter.hit(self.general, "caller", caller or "address:" + address):
            await self._refuse(send, self.general, "请求过于频繁，请稍后再试。")
            return
        await self.app(scope, receive, send)

    async def _caller(self, scope: Scope) -> str | None:
        """Whom the request's credential belongs to; None without one or when it resolves to nobody."""
        headers = Headers(scope=scope)
        cookie = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
        token = presented_token(headers.get("authorization"), cookie)
        if not token:
            return None
        digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
        known, caller = self.callers.get(digest)
        if known:
            return caller
        try:
            caller = await run_in_threadpool(self.identify, scope["app"], token)
        except Exception:  # the store is unreachable: count by address, the request itself will fail
            log.warning("ratelimit.identify_failed", exc_info=True)
            return None
        self.callers.put(digest, caller)
        return caller

    async def _refuse(self, send: Send, item, detail: str) -> None:
        problem = TooManyRequests(detail, limit=f"{item.amount}/分钟")
        body = json.dumps(problem.to_dict(), ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", b"60"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class LoginFailures:
    """Failed logins of names that are no account, counted as an account counts its own
    (``users.failed_logins``, ``locked_until``): after ``max_failures`` the name is "locked" for
    ``lock_minutes`` and answered exactly as a locked account is, so the answers never tell which
    names exist. Kept in memory per server process, at most ``size`` names (the least recently
    failed are forgotten first); a name that is no account has nothing worth keeping longer.
    """

    def __init__(self, size: int = CALLER_CACHE_SIZE) -> None:
        self.size = size
        self._names: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()
        self._lock = threading.Lock()  # logins run in the server's thread pool

    def locked_until(self, name: str, now: datetime) -> datetime | None:
        with self._lock:
            _, until = self._names.get(name, (0, None))
            return until if until and until > now else None

    def fail(self, name: str, now: datetime, *, max_failures: int, lock_minutes: int) -> datetime | None:
        """Count one failure; the end of the lock when this failure locks the name, else None."""
        with self._lock:
            failures, previous = self._names.pop(name, (0, None))
            failures += 1
            locked = None
            if failures >= max_failures:
                failures, locked = 0, now + timedelta(minutes=lock_minutes)
            self._names[name] = (failures, locked or previous)
            while len(self._names) > self.size:
                self._names.popitem(last=False)
            return locked
