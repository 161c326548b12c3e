"""Errors as RFC 9457 problem details (NF-4).

Services raise ``Problem`` subclasses; the app turns them into ``application/problem+json`` with a
stable ``type``, an English ``title`` and a Chinese ``detail``. Nothing else reaches a caller: an
unexpected exception becomes a 500 problem without a stack trace (it is logged instead).
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "urn:govdata:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if slug:
            self.slug = slug
        if title:
            self.title = title
        self.headers = headers or {}
        self.extra = extra

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class NotAuthenticated(Problem):
    status, slug, title = 401, "not-authenticated", "Authentication required"

    def __init__(self, detail: str = "需要登录或有效的访问令牌。", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class PermissionDenied(Problem):
    status, slug, title = 403, "forbidden", "Permission denied"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict with the current state"


class InvalidInput(Problem):
    status, slug, title = 422, "invalid-input", "Invalid input"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **kw: Any) -> None:
        if errors is not None:
            kw["errors"] = errors
        super().__init__(detail, **kw)


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class TooManyRequests(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests"


def field_error(field: str, message: str) -> InvalidInput:
    """A 422 naming one field, for rules a schema cannot express."""
    return InvalidInput(f"{field}：{message}", errors=[{"field": field, "message": message}])
