"""Routes of scheduled database pulls (AGG-2): define, list, change, disable and run a pull."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from govdata.aggregation import pulls
from govdata.aggregation.pull_models import PullRun
from govdata.aggregation.pulls import PullIn, PullOut, PullPatch, PullRunOut
from govdata.core.auth import Actor, Authenticator, DbSession
from govdata.core.db import unit_of_work
from govdata.core.schemas import Page, PagingParams

router = APIRouter(prefix="/api/v1", tags=["数据归集"])

PullManager = Annotated[Actor, Depends(Authenticator(pulls.PULL_MANAGE))]
PullReader = Annotated[Actor, Depends(Authenticator(pulls.PULL_READ))]


def _env(request: Request) -> pulls.PullEnv:
    scheduler = getattr(request.app.state, "pull_scheduler", None)
    if scheduler is not None:
        return scheduler.env
    return pulls.PullEnv.from_settings(request.app.state.settings, request.app.state.secret_key)


def _sync(request: Request, pull_id: int) -> None:
    scheduler = getattr(request.app.state, "pull_scheduler", None)
    if scheduler is not None:
        scheduler.sync(pull_id)


@router.post(
    "/resources/{code:rcode}/pulls",
    response_model=PullOut,
    status_code=201,
    summary="设置从本部门数据库定时拉取（表或 SELECT 查询，全量或按水位列增量）",
)
def create_pull(request: Request, session: DbSession, actor: PullManager, code: str, body: PullIn) -> PullOut:
    pull = pulls.create_pull(session, actor, _env(request), code, body)
    session.commit()  # the scheduler reads the pull in its own transaction
    _sync(request, pull.id)
    return pulls.pull_out(session, pull)


@router.get("/resources/{code:rcode}/pulls", response_model=Page[PullOut], summary="资源的数据库拉取")
def list_pulls(session: DbSession, actor: PullReader, code: str) -> Page[PullOut]:
    items = pulls.list_pulls(session, actor, code)
    return Page(items=[pulls.pull_out(session, p) for p in items], total=len(items))


@router.get("/pulls/{pull_id}", response_model=PullOut, summary="数据库拉取的设置与最近一次运行")
def read_pull(session: DbSession, actor: PullReader, pull_id: int) -> PullOut:
    return pulls.pull_out(session, pulls.get_pull(session, actor, pull_id))


@router.patch("/pulls/{pull_id}", response_model=PullOut, summary="修改数据库拉取（enabled=false 停用）")
def update_pull(
    request: Request, session: DbSession, actor: PullManager, pull_id: int, body: PullPatch
) -> PullOut:
    pull = pulls.update_pull(session, actor, _env(request), pull_id, body)
    session.commit()
    _sync(request, pull.id)
    return pulls.pull_out(session, pull)


@router.delete("/pulls/{pull_id}", response_model=PullOut, summary="停用数据库拉取（保留设置与运行记录）")
def disable_pull(request: Request, session: DbSession, actor: PullManager, pull_id: int) -> PullOut:
    pull = pulls.disable_pull(session, actor, pull_id)
    session.commit()
    _sync(request, pull.id)
    return pulls.pull_out(session, pull)


@router.get("/pulls/{pull_id}/runs", response_model=Page[PullRunOut], summary="数据库拉取的运行记录")
def list_runs(session: DbSession, actor: PullReader, pull_id: int, paging: PagingParams) -> Page[PullRunOut]:
    runs, total = pulls.list_runs(session, actor, pull_id, limit=paging.limit, offset=paging.offset)
    return Page(items=[pulls.run_out(session, r) for r in runs], total=total)


@router.post(
    "/pulls/{pull_id}/run",
    response_model=PullRunOut,
    status_code=201,
    summary="立即运行一次（在时间窗口内）；wait=false 时在后台运行并立即返回 202",
)
def run_pull(
    request: Request,
    session: DbSession,
    actor: PullManager,
    pull_id: int,
    wait: Annotated[bool, Query(description="等待拉取和批次处理完成")] = True,
) -> JSONResponse:
    pulls.check_can_run(session, actor, pull_id)
    session.commit()  # the run works in transactions of its own
    env = _env(request)
    factory = request.app.state.sessionmaker
    started = pulls.start_run(factory, env, pull_id, trigger="manual", actor=actor)
    if wait:
        run_id = pulls.execute_run(factory, env, started, actor=actor)
        status = 201
    else:
        scheduler = request.app.state.pull_scheduler
        scheduler.submit(started, actor)
        run_id, status = started.run_id, 202
    with unit_of_work(factory) as fresh:
        out = pulls.run_out(fresh, fresh.get(PullRun, run_id))
    return JSONResponse(out.model_dump(mode="json"), status_code=status)
