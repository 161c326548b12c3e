"""Routes of data quality (SPEC §15 ``GET /resources/{code}/quality``; QUA-2 problems)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

import govdata.catalog.codes  # noqa: F401  (registers the {code:rcode} path convertor)
from govdata.core.auth import DbSession
from govdata.core.schemas import ApiRoute, Page, PagingParams
from govdata.quality import service
from govdata.quality.auth import (
    DepartmentQualityReader,
    ProblemAnswerer,
    ProblemReader,
    ProblemReporter,
    QualityComputer,
    QualityReader,
)
from govdata.quality.schemas import AnswerIn, DepartmentQualityOut, ProblemIn, ProblemOut, QualityOut

router = APIRouter(prefix="/api/v1", tags=["数据质量"], route_class=ApiRoute)

StatusFilter = Annotated[
    str | None,
    Query(
        pattern="^(open|confirmed|fixed|rejected|unresolved)$",
        description="open 待答复 | confirmed 整改中 | fixed 已整改 | rejected 已驳回 | unresolved 未解决",
    ),
]


def _context(request: Request) -> dict:
    return {"data_dir": request.app.state.settings.data_dir}


@router.get(
    "/resources/{code:rcode}/quality",
    response_model=QualityOut,
    summary="资源的数据质量评分：各维度得分、评分规则、综合得分、历史与质量问题数",
)
def resource_quality(session: DbSession, actor: QualityReader, code: str) -> dict:
    return service.resource_quality(session, actor, code)


@router.post(
    "/resources/{code:rcode}/quality/compute",
    response_model=QualityOut,
    summary="立即重新计算资源的数据质量评分（提供部门、主管部门）",
)
def recompute_quality(request: Request, session: DbSession, actor: QualityComputer, code: str) -> dict:
    return service.recompute(session, actor, request.app.state.store, code, **_context(request))


@router.get(
    "/departments/{department_id}/quality",
    response_model=DepartmentQualityOut,
    summary="部门的数据质量评分：其有数据的资源的平均，含历史",
)
def department_quality(session: DbSession, actor: DepartmentQualityReader, department_id: int) -> dict:
    return service.department_quality(session, actor, department_id)


@router.post(
    "/resources/{code:rcode}/quality-problems",
    response_model=ProblemOut,
    status_code=201,
    summary="反馈数据质量问题（针对资源或某条记录）",
)
def report_problem(session: DbSession, actor: ProblemReporter, code: str, body: ProblemIn) -> dict:
    problem = service.report_problem(session, actor, code, body)
    return service.problem_view(session, actor, problem)


@router.get(
    "/resources/{code:rcode}/quality-problems",
    response_model=Page[ProblemOut],
    summary="资源的数据质量问题",
)
def list_problems(
    session: DbSession, actor: ProblemReader, code: str, paging: PagingParams, status: StatusFilter = None
) -> Page[ProblemOut]:
    items, total = service.list_problems(
        session, actor, code, status=status, limit=paging.limit, offset=paging.offset
    )
    return Page(items=[ProblemOut(**v) for v in service.problem_views(session, actor, items)], total=total)


@router.get(
    "/quality-problems",
    response_model=Page[ProblemOut],
    summary="本部门反馈的（side=reported）和收到的（side=received）数据质量问题",
)
def department_problems(
    session: DbSession,
    actor: ProblemReader,
    paging: PagingParams,
    status: StatusFilter = None,
    side: Annotated[str | None, Query(pattern="^(reported|received)$")] = None,
) -> Page[ProblemOut]:
    items, total = service.department_problems(
        session, actor, side=side, status=status, limit=paging.limit, offset=paging.offset
    )
    return Page(items=[ProblemOut(**v) for v in service.problem_views(session, actor, items)], total=total)


@router.get("/quality-problems/{problem_id}", response_model=ProblemOut, summary="数据质量问题及其答复")
def read_problem(session: DbSession, actor: ProblemReader, problem_id: int) -> dict:
    return service.problem_view(session, actor, service.get_problem(session, actor, problem_id))


@router.post(
    "/quality-problems/{problem_id}/answer",
    response_model=ProblemOut,
    summary="提供部门答复：confirm 确认 | fix 已整改 | reject 驳回（须说明理由）",
)
def answer_problem(session: DbSession, actor: ProblemAnswerer, problem_id: int, body: AnswerIn) -> dict:
    return service.problem_view(session, actor, service.answer_problem(session, actor, problem_id, body))
