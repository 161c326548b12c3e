"""Rate limits on every endpoint (SEC-6), with the ``limits`` library's moving window.

Each caller is counted by its credential (a digest of the bearer token or session cookie) or, when
anonymous, by its address; logins are also counted per address with a lower limit, against password
spraying across accounts (the per-account lockout handles guessing one password). Counters live in
the server process, which is right for the embedded single-process deployment; several workers
behind PostgreSQL would point ``limits`` at a shared storage such as Redis.
"""

from __future__ import annotations

import hashlib
import json

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from govdata.core.auth import SESSION_COOKIE
from govdata.core.errors import PROBLEM_MEDIA_TYPE, TooManyRequests

EXEMPT_PREFIXES = ("/healthz", "/metrics", "/static/")
LOGIN_PATHS = {("POST", "/api/v1/auth/token"), ("POST", "/login")}


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, per_minute: int, login_per_minute: int) -> None:
        self.app = app
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.general = RateLimitItemPerMinute(per_minute)
        self.login = RateLimitItemPerMinute(login_per_minute)

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
        if not self.limiter.hit(self.general, "caller", _caller_key(scope, address)):
            await self._refuse(send, self.general, "请求过于频繁，请稍后再试。")
            return
        await self.app(scope, receive, send)

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


def _caller_key(scope: Scope, address: str) -> str:
    headers = dict(scope.get("headers") or [])
    credential = headers.get(b"authorization", b"")
    if not credential:
        cookies = headers.get(b"cookie", b"").decode("latin-1")
        for part in cookies.split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE:
                credential = value.encode()
    if credential:
        return "token:" + hashlib.sha256(credential).hexdigest()[:24]
    return "address:" + address
