"""The FastAPI application factory: mounts every capability's routes, the pages and operations."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from govdata import capabilities
from govdata.aggregation.scheduler import PullScheduler
from govdata.core import audit
from govdata.core.config import Settings, get_settings
from govdata.core.db import make_engine, make_sessionmaker
from govdata.core.errors import PROBLEM_MEDIA_TYPE, InvalidInput, NotFound, Problem, validation_problem
from govdata.core.headers import SecurityHeadersMiddleware, security_headers
from govdata.core.observability import Metrics, RequestLogMiddleware, configure_logging, log
from govdata.core.ratelimit import LoginFailures, RateLimitMiddleware
from govdata.core.scheduler import Scheduler
from govdata.orgs.service import resolve_token
from govdata.store import open_store
from govdata.web import render_error, templates

STATIC_DIR = Path(__file__).parent / "static"


def _http_problem(exc: StarletteHTTPException) -> Problem:
    if exc.status_code == 404:
        return NotFound("请求的地址不存在。")
    if exc.status_code == 405:
        problem = Problem("该地址不支持此请求方法。", slug="method-not-allowed", title="Method not allowed")
    else:
        problem = Problem(str(exc.detail), slug="http-error", title="HTTP error")
    problem.status = exc.status_code
    return problem


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
            store.close()

    app = FastAPI(
        lifespan=lifespan,
        title="GovData Hub 政务数据资源管理平台",
        version="0.1.0",
        description="目录、归集、共享、开放、质量、安全与考核。错误以 application/problem+json 返回。",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    # the server is the one process that writes the data store (DuckDB has a single writer)
    app.state.store = open_store(settings.resolved_store_url())
    app.state.store.initialise()
    app.state.jobs = capabilities.make_worker(settings, app.state.sessionmaker, app.state.store)
    app.state.resolve_token = resolve_token
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
        return _problem_response(request, _http_problem(exc))

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        # a number or text the database cannot hold (an id beyond its integer range, say)
        problem = InvalidInput("输入的数值超出范围或格式不被接受。", slug="out-of-range")
        return _problem_response(request, problem)

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
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.templates = templates
    return app
