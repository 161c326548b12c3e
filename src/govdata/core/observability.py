"""Structured logs and Prometheus metrics (NF-6)."""

from __future__ import annotations

import logging
import sys
import time
import uuid

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_logs
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


log = structlog.get_logger("govdata")


class Metrics:
    """Per-app registry, so that several apps (tests) never collide in the global one."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "govdata_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "govdata_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )


class RequestLogMiddleware:
    """One log line and one metric sample per request, tagged with a request id (``X-Request-ID``:
    the caller's, else a new one, echoed on the answer).

    A plain ASGI middleware: it wraps ``send`` to learn the status and add the header, and does not
    run the rest of the app in a task of its own as Starlette's ``BaseHTTPMiddleware`` would (which
    costs more than a key lookup does on the sharing services' hot path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, b"x-request-id") or uuid.uuid4().hex[:16]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(elapsed)
            if log.is_enabled_for(logging.INFO):
                client = scope.get("client")
                log.info(
                    "request",
                    method=method,
                    path=scope["path"],
                    status=status,
                    ms=round(elapsed * 1000, 1),
                    client=client[0] if client else None,
                )
            structlog.contextvars.clear_contextvars()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")[:64] or None
    return None
