"""The FastAPI application factory: mounts every capability's routes, the pages and operations."""

from __future__ import annotations

import json
import re
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from govdata import capabilities
from govdata.aggregation.scheduler import PullScheduler
from govdata.core import audit
from govdata.core.config import Settings, get_settings
from govdata.core.db import make_engine, make_sessionmaker
from govdata.core.errors import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_REF,
    PROBLEM_SCHEMA,
    InvalidInput,
    MalformedBody,
    NotFound,
    Problem,
    unreadable_body,
    validation_problem,
)
from govdata.core.headers import SecurityHeadersMiddleware, security_headers
from govdata.core.observability import Metrics, RequestLogMiddleware, configure_logging, log
from govdata.core.ratelimit import LoginFailures, RateLimitMiddleware
from govdata.core.scheduler import Scheduler
from govdata.core.schemas import BEARER, BEARER_SCHEME
from govdata.opening.service.keys import resolving_keys
from govdata.orgs.service import resolve_token
from govdata.sharing import usage
from govdata.store import open_store
from govdata.web import render_error, templates

STATIC_DIR = Path(__file__).parent / "static"


def _http_problem(request: Request, exc: StarletteHTTPException) -> Problem:
    if exc.status_code == 404:
        return _misnamed_object(request) or NotFound("请求的地址不存在。")
    if exc.status_code == 400:  # the framework could not read the body
        return unreadable_body(
            str(exc.detail), exc.__cause__ or exc.__context__, json_body=_sent_json(request)
        )
    if exc.status_code == 405:
        allowed = ", ".join(_allowed_methods(request)) or (exc.headers or {}).get("Allow", "")
        problem = Problem(
            "该地址不支持此请求方法。",
            slug="method-not-allowed",
            title="Method not allowed",
            headers={"Allow": allowed},
        )
    else:
        problem = Problem(str(exc.detail), slug="http-error", title="HTTP error", headers=exc.headers)
    problem.status = exc.status_code
    return problem


_PARAMETER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::[A-Za-z_][A-Za-z0-9_]*)?}")


def _misnamed_object(request: Request) -> Problem | None:
    """A path that would reach a route but for the form of an object's code in it (a resource code
    without its slash: ``/resources/abc/submit``) names an object that does not exist."""
    path = request.url.path
    for route in iter_route_contexts(request.app.routes):
        convertors = getattr(route, "param_convertors", None) or {}
        labels = {name: getattr(c, "label", None) for name, c in convertors.items()}
        if not any(labels.values()):
            continue
        parts, last = [], 0
        for found in _PARAMETER.finditer(route.path):
            name = found.group(1)
            parts.append(re.escape(route.path[last : found.start()]))
            parts.append(f"(?P<{name}>[^/]+)" if labels.get(name) else f"(?:{convertors[name].regex})")
            last = found.end()
        parts.append(re.escape(route.path[last:]))
        match = re.fullmatch("".join(parts), path)
        if match:
            name = next(n for n in match.groupdict() if labels.get(n))
            return NotFound(f"{labels[name]} {match.group(name)} 不存在。")
    return None


def _sent_json(request: Request) -> bool:
    """Whether the body was sent as JSON (or without a content type, which the API reads as JSON)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return not media_type or media_type == "application/json" or media_type.endswith("+json")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this path: the routes of one path are often several."""
    path = request.url.path
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex, route_methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and route_methods and regex.match(path):
            methods |= set(route_methods)
    return sorted(methods)


def _problem_response(request: Request, problem: Problem) -> Response:
    if _wants_html(request):
        return render_error(request, problem)
    return JSONResponse(
        problem.to_dict(instance=request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path in ("/healthz", "/metrics"):
        return False
    return "text/html" in request.headers.get("accept", "")


DOCS_ASSETS = "/docs/assets"


def _serve_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` and ReDoc at ``/redoc``, their scripts and styles served by this server
    from a registry package, so that both work without internet and under the documentation's CSP
    (``core.headers.DOCS_POLICY``: scripts only from this server, besides their inline start)."""
    app.mount(DOCS_ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")
    title = f"{app.title} · 接口文档"

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=title,
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
        )

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=title,
            redoc_js_url=f"{root}{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    app.add_route("/docs", swagger_ui, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)


def _own_convertor(convertor: Convertor | None) -> bool:
    """A path convertor of the platform's (``rcode``), not one the framework documents by type."""
    return convertor is not None and not type(convertor).__module__.startswith("starlette.")


def _complete_openapi(app: FastAPI, schema: dict) -> None:
    """What the framework leaves out of the OpenAPI document: the problem body every error shares,
    the bearer token, and path parameters with a convertor of their own (a resource code holds a
    slash) as strings with the convertor's pattern."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components.setdefault("securitySchemes", {})[BEARER] = BEARER_SCHEME
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        operations = schema.get("paths", {}).get(route.path_format, {})
        for method in route.methods:
            operation = operations.get(method.lower())
            if operation is None:
                continue
            for parameter in operation.get("parameters", []):
                convertor = route.param_convertors.get(parameter["name"])
                if parameter["in"] == "path" and _own_convertor(convertor):
                    parameter["schema"] = {"type": "string", "pattern": f"^{convertor.regex}$"}
                    if examples := getattr(convertor, "examples", None):
                        parameter["schema"]["examples"] = examples
                        label = getattr(convertor, "label", "")
                        parameter["description"] = f"{label}代码，形如 {examples[0]}，原样写在路径中"
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                framework = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                if framework.endswith("/HTTPValidationError"):  # our 422s are problems
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}
    if "HTTPValidationError" not in json.dumps(schema.get("paths", {})):
        components["schemas"].pop("HTTPValidationError", None)
        components["schemas"].pop("ValidationError", None)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    engine = make_engine(settings.resolved_database_url())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store = app.state.store
        if settings.job_worker:
            # the embedded store has one writer, this process: what a previous one left running is ours
            app.state.jobs.start(reclaim_all=store.dialect == "duckdb")
        app.state.scheduler = Scheduler(app.state.sessionmaker)  # the one scheduler of this process
        app.state.pull_scheduler = PullScheduler.for_app(app)
        app.state.pull_scheduler.start()
        app.state.scheduler.start()
        try:
            yield
        finally:
            app.state.pull_scheduler.shutdown()  # running pulls stop reading before the scheduler waits
            app.state.scheduler.shutdown()
            app.state.jobs.stop()
            usage.close(app.state.engine)  # the sharing calls still queued for the usage log
            store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="GovData Hub 政务数据资源管理平台",
        version="0.1.0",
        description="目录、归集、共享、开放、质量、安全与考核。错误以 application/problem+json 返回。",
        docs_url=None,  # served by _serve_docs, from this server
        redoc_url=None,
    )
    generated = FastAPI.openapi

    def openapi() -> dict:
        schema = generated(app)
        if not schema.get("components", {}).get("schemas", {}).get("Problem"):
            _complete_openapi(app, schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    # the server is the one process that writes the data store (DuckDB has a single writer)
    app.state.store = open_store(settings.resolved_store_url())
    app.state.store.initialise()
    app.state.jobs = capabilities.make_worker(settings, app.state.sessionmaker, app.state.store)
    app.state.resolve_token = resolving_keys(resolve_token)  # open-data API keys are nobody elsewhere
    app.state.secret_key = settings.resolved_secret_key()
    metrics = Metrics()
    app.state.metrics = metrics
    app.add_middleware(
        RateLimitMiddleware,
        per_minute=settings.rate_limit_per_minute,
        login_per_minute=settings.login_rate_limit_per_minute,
    )
    app.add_middleware(RequestLogMiddleware, metrics=metrics)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: 429s and logged answers carry them too
    app.state.login_failures = LoginFailures()  # names that are no account lock like accounts

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        actor = getattr(request.state, "actor", None)
        if exc.status in (403, 404) and actor is not None and actor.is_authenticated:
            # SEC-3: a refusal is a data access too; audited apart, the request's transaction is gone
            await run_in_threadpool(
                audit.record_refusal,
                app.state.sessionmaker,
                actor,
                method=request.method,
                path=request.url.path,
                raw_path=request.scope.get("raw_path", b"").split(b"?")[0].decode("latin-1")
                or request.url.path,
                status=exc.status,
                problem_type=exc.slug,
            )
        if exc.status == 401 and _wants_html(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return _problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return _problem_response(request, validation_problem(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _problem_response(request, _http_problem(request, exc))

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        # a number or text the database cannot hold (an id beyond its integer range, say)
        problem = InvalidInput("输入的数值超出范围或格式不被接受。", slug="out-of-range")
        return _problem_response(request, problem)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        # the client went away while sending its body (an upload cancelled): nobody reads the answer
        log.info("client disconnected", path=request.url.path)
        return _problem_response(request, MalformedBody("客户端在请求体发送完之前断开了连接。"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled", path=request.url.path)
        problem = Problem(
            "服务器内部错误，已记录日志，请稍后重试或联系平台管理员。",
            slug="internal-error",
            title="Internal error",
        )
        problem.status = 500
        response = _problem_response(request, problem)
        response.headers.update(security_headers(request.url.path))  # sent outside the middleware
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    capabilities.mount(app)

    async def favicon(request: Request) -> Response:
        # browsers ask for /favicon.ico by themselves; the pages name /static/favicon.svg
        return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon")

    app.add_route("/favicon.ico", favicon, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _serve_docs(app)
    app.state.templates = templates
    return app
