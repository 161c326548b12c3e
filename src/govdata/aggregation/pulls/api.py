"""Routes of scheduled database pulls (AGG-2): define, list, change, disable and run a pull.

A change to a pull reaches the scheduler only once the request's transaction has committed it
(``core.db.after_commit``): the scheduler never follows a change that was rolled back.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from govdata.aggregation.auth import PULL_MANAGE, PULL_READ
from govdata.aggregation.pulls import runner, service
from govdata.aggregation.pulls.schemas import PullIn, PullOut, PullPatch, PullRunOut
from govdata.aggregation.pulls.source import PullEnv
from govdata.core.auth import Actor, Authenticator, DbSession
from govdata.core.db import after_commit, unit_of_work
from govdata.core.schemas import ApiRoute, Page, PagingParams

router = APIRouter(prefix="/api/v1", tags=["数据归集"], route_class=ApiRoute)

PullManager = Annotated[Actor, Depends(Authenticator(PULL_MANAGE))]
PullReader = Annotated[Actor, Depends(Authenticator(PULL_READ))]


def _env(request: Request) -> PullEnv:
    scheduler = getattr(request.app.state, "pull_scheduler", None)
    if scheduler is not None:
        return scheduler.env
    return PullEnv.from_settings(request.app.state.settings, request.app.state.secret_key)


def _follow(request: Request, session: Session, pull_id: int) -> None:
    """Once the request's transaction commits, the pull's scheduled job follows its row."""
    scheduler = getattr(request.app.state, "pull_scheduler", None)
    if scheduler is not None:
        after_commit(session, partial(scheduler.sync, pull_id))


@router.post(
    "/resources/{code:rcode}/pulls",
    response_model=PullOut,
    status_code=201,
    summary="设置从本部门数据库定时拉取（表或 SELECT 查询，全量或按水位列增量）",
)
def create_pull(request: Request, session: DbSession, actor: PullManager, code: str, body: PullIn) -> PullOut:
    pull = service.create_pull(session, actor, _env(request), code, body)
    _follow(request, session, pull.id)
    return service.pull_out(session, pull)


@router.get("/resources/{code:rcode}/pulls", response_model=Page[PullOut], summary="资源的数据库拉取")
def list_pulls(session: DbSession, actor: PullReader, code: str) -> Page[PullOut]:
    items = service.list_pulls(session, actor, code)
    return Page(items=[service.pull_out(session, p) for p in items], total=len(items))


@router.get("/pulls/{pull_id}", response_model=PullOut, summary="数据库拉取的设置与最近一次运行")
def read_pull(session: DbSession, actor: PullReader, pull_id: int) -> PullOut:
    return service.pull_out(session, service.get_pull(session, actor, pull_id))


@router.patch("/pulls/{pull_id}", response_model=PullOut, summary="修改数据库拉取（enabled=false 停用）")
def update_pull(
    request: Request, session: DbSession, actor: PullManager, pull_id: int, body: PullPatch
) -> PullOut:
    pull = service.update_pull(session, actor, _env(request), pull_id, body)
    _follow(request, session, pull.id)
    return service.pull_out(session, pull)


@router.delete("/pulls/{pull_id}", response_model=PullOut, summary="停用数据库拉取（保留设置与运行记录）")
def disable_pull(request: Request, session: DbSession, actor: PullManager, pull_id: int) -> PullOut:
    pull = service.disable_pull(session, actor, pull_id)
    _follow(request, session, pull.id)
    return service.pull_out(session, pull)


@router.get("/pulls/{pull_id}/runs", response_model=Page[PullRunOut], summary="数据库拉取的运行记录")
def list_runs(session: DbSession, actor: PullReader, pull_id: int, paging: PagingParams) -> Page[PullRunOut]:
    runs, total = service.list_runs(session, actor, pull_id, limit=paging.limit, offset=paging.offset)
    return Page(items=[service.run_out(session, r) for r in runs], total=total)


@router.post(
    "/pulls/{pull_id}/run",
    response_model=PullRunOut,
    status_code=201,
    summary="立即运行一次（在时间窗口内）；wait=false 时在后台运行并立即返回 202",
    responses={202: {"model": PullRunOut, "description": "已在后台开始运行（wait=false）"}},
)
async def run_pull(
    request: Request,
    actor: PullManager,
    pull_id: int,
    wait: Annotated[bool, Query(description="等待拉取和批次处理完成")] = True,
) -> JSONResponse:
    """The run is claimed in a unit of work of its own, which checks the caller; it then reads the
    source and waits for its batch in a worker thread, off the event loop. With ``wait`` (the default)
    the answer is 201 with how the run ended; otherwise the run goes on in the background and the
    answer is 202 at once."""
    env, factory = _env(request), request.app.state.sessionmaker
    started = await run_in_threadpool(runner.start_run, factory, env, pull_id, trigger="manual", actor=actor)
    if wait:
        run_id = await run_in_threadpool(runner.execute_run, factory, env, started, actor=actor)
        status = 201
    else:
        request.app.state.pull_scheduler.submit(started, actor)
        run_id, status = started.run_id, 202

    def answer() -> dict:
        with unit_of_work(factory) as session:
            return service.run_out_by_id(session, run_id).model_dump(mode="json")

    return JSONResponse(await run_in_threadpool(answer), status_code=status)
