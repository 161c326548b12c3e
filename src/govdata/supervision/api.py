"""Routes of the violations register (SPEC §15 supervision, SUP-2)."""

from __future__ import annotations

from fastapi import APIRouter

from govdata.core.auth import DbSession
from govdata.core.schemas import ApiRoute, Page, PagingParams
from govdata.supervision import service
from govdata.supervision.auth import ViolationContester, ViolationDecider, ViolationReader
from govdata.supervision.enums import ViolationKind, ViolationStatus
from govdata.supervision.schemas import ConfirmIn, ReasonIn, ViolationOut

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
