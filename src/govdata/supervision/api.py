"""Routes of the violations register and the rectification notices (SPEC §15 supervision, SUP-2)."""

from __future__ import annotations

from fastapi import APIRouter

from govdata.core.auth import DbSession
from govdata.core.schemas import ApiRoute, Page, PagingParams
from govdata.supervision import notices, service
from govdata.supervision.auth import (
    NoticeAnswerer,
    NoticeDecider,
    NoticeReader,
    Sweeper,
    ViolationContester,
    ViolationDecider,
    ViolationReader,
)
from govdata.supervision.enums import NoticeStatus, ViolationKind, ViolationStatus
from govdata.supervision.schemas import AnswerIn, ConfirmIn, NoticeOut, ReasonIn, ViolationOut

router = APIRouter(prefix="/api/v1", tags=["监督考核"], route_class=ApiRoute)


def _one(session, violation) -> ViolationOut:
    return ViolationOut(**service.violation_views(session, [violation])[0])


@router.get("/violations", response_model=Page[ViolationOut], summary="违规记录（部门只看本部门的）")
def list_violations(
    session: DbSession,
    actor: ViolationReader,
    paging: PagingParams,
    kind: ViolationKind | None = None,
    department_id: int | None = None,
    status: ViolationStatus | None = None,
) -> Page[ViolationOut]:
    items, total = service.list_violations(
        session,
        actor,
        kind=kind,
        department_id=department_id,
        status=status,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page(items=[ViolationOut(**v) for v in service.violation_views(session, items)], total=total)


@router.get("/violations/{violation_id}", response_model=ViolationOut, summary="违规记录详情")
def read_violation(session: DbSession, actor: ViolationReader, violation_id: int) -> ViolationOut:
    return _one(session, service.get_violation(session, actor, violation_id))


@router.post(
    "/violations/{violation_id}/confirm", response_model=ViolationOut, summary="确认违规（主管部门）"
)
def confirm_violation(
    session: DbSession, actor: ViolationDecider, violation_id: int, body: ConfirmIn | None = None
) -> ViolationOut:
    reason = body.reason if body else None
    return _one(session, service.confirm(session, actor, violation_id, reason))


@router.post(
    "/violations/{violation_id}/withdraw", response_model=ViolationOut, summary="撤销违规记录（主管部门）"
)
def withdraw_violation(
    session: DbSession, actor: ViolationDecider, violation_id: int, body: ReasonIn
) -> ViolationOut:
    return _one(session, service.withdraw(session, actor, violation_id, body.reason))


@router.post(
    "/violations/{violation_id}/contest",
    response_model=ViolationOut,
    summary="对本部门的违规记录提出异议（部门目录管理员、部门负责人）",
)
def contest_violation(
    session: DbSession, actor: ViolationContester, violation_id: int, body: ReasonIn
) -> ViolationOut:
    return _one(session, service.contest(session, actor, violation_id, body.reason))


# --- rectification notices (通知整改) -----------------------------------------------------------------


def _notice(session, notice) -> NoticeOut:
    return NoticeOut(**notices.notice_views(session, [notice], timeline=True)[0])


@router.get("/notices", response_model=Page[NoticeOut], summary="整改通知（部门只看本部门的）")
def list_notices(
    session: DbSession,
    actor: NoticeReader,
    paging: PagingParams,
    status: NoticeStatus | None = None,
    department_id: int | None = None,
) -> Page[NoticeOut]:
    items, total = notices.list_notices(
        session, actor, status=status, department_id=department_id, limit=paging.limit, offset=paging.offset
    )
    return Page(items=[NoticeOut(**n) for n in notices.notice_views(session, items)], total=total)


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="整改通知详情与办理经过")
def read_notice(session: DbSession, actor: NoticeReader, notice_id: int) -> NoticeOut:
    return _notice(session, notices.get_notice(session, actor, notice_id))


@router.post(
    "/notices/{notice_id}/answer",
    response_model=NoticeOut,
    summary="答复整改通知（本部门目录管理员、部门负责人）",
)
def answer_notice(session: DbSession, actor: NoticeAnswerer, notice_id: int, body: AnswerIn) -> NoticeOut:
    return _notice(session, notices.answer(session, actor, notice_id, body.text))


@router.post("/notices/{notice_id}/accept", response_model=NoticeOut, summary="验收整改（主管部门）")
def accept_notice(
    session: DbSession, actor: NoticeDecider, notice_id: int, body: ConfirmIn | None = None
) -> NoticeOut:
    return _notice(session, notices.accept(session, actor, notice_id, body.reason if body else None))


@router.post("/notices/{notice_id}/reopen", response_model=NoticeOut, summary="退回重新整改（主管部门）")
def reopen_notice(session: DbSession, actor: NoticeDecider, notice_id: int, body: ReasonIn) -> NoticeOut:
    return _notice(session, notices.reopen(session, actor, notice_id, body.reason))


@router.post("/notices/{notice_id}/escalate", response_model=NoticeOut, summary="升级督办（主管部门）")
def escalate_notice(session: DbSession, actor: NoticeDecider, notice_id: int, body: ReasonIn) -> NoticeOut:
    return _notice(session, notices.escalate(session, actor, notice_id, body.reason))


@router.post("/supervision/sweep", summary="立即运行监督巡检（检测违规、整改通知超期升级）")
def run_sweep(session: DbSession, actor: Sweeper) -> dict[str, int]:
    """What the hourly sweep does, now (``govdata tick`` does the same): counts by part."""
    return notices.tick(session, actor)
