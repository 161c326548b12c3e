"""Security headers on every response: no framing, no content sniffing, no referrer across origins,
and a Content Security Policy the pages keep to.

Pages load scripts only from this server (``/static/*.js``, no inline script and no inline event
handler), so ``script-src 'self'``. Styles allow ``'unsafe-inline'``: pages colour scores and size
progress bars with ``style`` attributes computed on the server and some templates carry a ``<style>``
block; no user text reaches either (Jinja escapes it), and scripts stay locked down. The API
documentation (Swagger UI at ``/docs``, ReDoc at ``/redoc``) starts itself with an inline script, so
those pages may run inline script, still only from this server.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "worker-src 'self' blob:",  # ReDoc searches in a worker it starts from its own script
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)
DOCS_PREFIXES = ("/docs", "/redoc")

_COMMON = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def security_headers(path: str) -> dict[str, str]:
    """The headers every response to ``path`` carries."""
    policy = DOCS_POLICY if path.startswith(DOCS_PREFIXES) else PAGE_POLICY
    return {**_COMMON, "Content-Security-Policy": policy}


class SecurityHeadersMiddleware:
    """Adds :func:`security_headers` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
