"""HTTP routes of share applications and grants (SPEC §15). Thin: parse, call the service, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from govdata.core import policy
from govdata.core.auth import DbSession
from govdata.core.errors import PayloadTooLarge, problem_responses
from govdata.core.schemas import ApiRoute, Page, PagingParams
from govdata.sharing import service
from govdata.sharing.auth import (
    Applicant,
    Checker,
    Coordinator,
    Decider,
    EvidenceMarker,
    GrantManager,
    Reader,
    Sweeper,
)
from govdata.sharing.models import Application
from govdata.sharing.schemas import (
    ApplicationIn,
    ApplicationOut,
    AttachmentOut,
    CheckIn,
    CoordinateIn,
    DecisionIn,
    DemandAnswerIn,
    DemandAssignIn,
    DemandIn,
    DemandOut,
    DisputeIn,
    EvidenceIn,
    GrantOut,
    ReasonIn,
)

router = APIRouter(prefix="/api/v1", tags=["数据共享"], route_class=ApiRoute)


def application_out(session: Session, application: Application) -> ApplicationOut:
    deadline = service.deadline_of(session, application)
    out = ApplicationOut.model_validate(application)
    out.deadline = deadline.due_date if deadline else None
    out.deadline_provisional = bool(deadline and deadline.provisional)
    if deadline is not None:
        rule = getattr(policy.active_policy(session).deadlines, deadline.purpose, None)
        out.deadline_statutory = bool(rule and rule.statutory)
    out.attachments = [AttachmentOut.model_validate(a) for a in service.attachments_of(session, application)]
    return out


@router.post("/applications", status_code=201, response_model=ApplicationOut, summary="提出共享申请")
def apply(session: DbSession, actor: Applicant, data: ApplicationIn) -> ApplicationOut:
    return application_out(session, service.apply(session, actor, data))


@router.get(
    "/applications", response_model=Page[ApplicationOut], summary="本部门的共享申请（作为申请方和提供方）"
)
def list_applications(
    session: DbSession,
    actor: Reader,
    paging: PagingParams,
    role: Annotated[
        str | None, Query(pattern="^(consumer|provider)$", description="consumer 或 provider")
    ] = None,
    status: str | None = None,
    phase: str | None = None,
    resource_code: str | None = None,
) -> dict:
    rows, total = service.list_applications(
        session,
        actor,
        role=role,
        status=status,
        phase=phase,
        resource_code=resource_code,
        limit=paging.limit,
        offset=paging.offset,
    )
    return {"items": [application_out(session, a) for a in rows], "total": total}


@router.get("/applications/{application_id}", response_model=ApplicationOut, summary="共享申请详情")
def get_application(session: DbSession, actor: Reader, application_id: int) -> ApplicationOut:
    return application_out(session, service.get_application(session, actor, application_id))


@router.post(
    "/applications/{application_id}/check", response_model=ApplicationOut, summary="主管部门合规审查"
)
def check(session: DbSession, actor: Checker, application_id: int, data: CheckIn) -> ApplicationOut:
    return application_out(session, service.check(session, actor, application_id, data))


@router.post(
    "/applications/{application_id}/receive", response_model=ApplicationOut, summary="提供部门签收申请"
)
def receive(session: DbSession, actor: Decider, application_id: int) -> ApplicationOut:
    return application_out(session, service.receive(session, actor, application_id))


@router.post(
    "/applications/{application_id}/decision",
    response_model=ApplicationOut,
    summary="提供部门答复：同意、部分同意或不予共享",
)
def decide(session: DbSession, actor: Decider, application_id: int, data: DecisionIn) -> ApplicationOut:
    return application_out(session, service.decide(session, actor, application_id, data))


@router.post(
    "/applications/{application_id}/dispute", response_model=ApplicationOut, summary="对答复提出异议"
)
def dispute(session: DbSession, actor: Applicant, application_id: int, data: DisputeIn) -> ApplicationOut:
    return application_out(session, service.dispute(session, actor, application_id, data.reason))


@router.post(
    "/applications/{application_id}/coordinate", response_model=ApplicationOut, summary="主管部门协商、协调"
)
def coordinate(
    session: DbSession, actor: Coordinator, application_id: int, data: CoordinateIn
) -> ApplicationOut:
    return application_out(session, service.coordinate(session, actor, application_id, data))


@router.post(
    "/applications/{application_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    summary="上传申请材料",
    responses=problem_responses(413),
)
def add_attachment(
    request: Request, session: DbSession, actor: Applicant, application_id: int, file: UploadFile
) -> AttachmentOut:
    # a plain def: FastAPI runs it in a worker thread, so reading, checking and storing the file
    # (and the database work) never stall the event loop
    data = file.file.read(service.attachments.MAX_BYTES + 1)
    if len(data) > service.attachments.MAX_BYTES:
        raise PayloadTooLarge("附件不能超过 10 MB。")
    attachment = service.add_attachment(
        session, actor, request.app.state.settings.data_dir, application_id, file.filename, data
    )
    return AttachmentOut.model_validate(attachment)


@router.get("/applications/{application_id}/attachments/{attachment_id}", summary="下载申请材料")
def read_attachment(
    request: Request, session: DbSession, actor: Reader, application_id: int, attachment_id: int
) -> FileResponse:
    attachment, path = service.read_attachment(
        session, actor, request.app.state.settings.data_dir, application_id, attachment_id
    )
    return FileResponse(path, media_type=attachment.content_type, filename=attachment.filename)


@router.get("/grants", response_model=Page[GrantOut], summary="本部门的共享授权（作为使用方和提供方）")
def list_grants(
    session: DbSession,
    actor: Reader,
    paging: PagingParams,
    role: Annotated[str | None, Query(pattern="^(consumer|provider)$")] = None,
    status: str | None = None,
    resource_code: str | None = None,
) -> dict:
    rows, total = service.list_grants(
        session,
        actor,
        role=role,
        status=status,
        resource_code=resource_code,
        limit=paging.limit,
        offset=paging.offset,
    )
    return {"items": rows, "total": total}


@router.get("/grants/{grant_id}", response_model=GrantOut, summary="共享授权详情")
def get_grant(session: DbSession, actor: Reader, grant_id: int):
    return service.get_grant(session, actor, grant_id)


@router.post("/grants/{grant_id}/suspend", response_model=GrantOut, summary="暂停授权（须说明理由）")
def suspend(session: DbSession, actor: GrantManager, grant_id: int, data: ReasonIn):
    return service.change_grant(session, actor, grant_id, "suspend", data.reason)


@router.post("/grants/{grant_id}/resume", response_model=GrantOut, summary="恢复已暂停的授权")
def resume(session: DbSession, actor: GrantManager, grant_id: int, data: ReasonIn | None = None):
    return service.change_grant(session, actor, grant_id, "resume", data.reason if data else None)


@router.post("/grants/{grant_id}/revoke", response_model=GrantOut, summary="撤销授权（须说明理由）")
def revoke(session: DbSession, actor: GrantManager, grant_id: int, data: ReasonIn):
    return service.change_grant(session, actor, grant_id, "revoke", data.reason)


@router.put("/share/{code:rcode}/evidence", summary="标记共享数据可直接采信（主管部门）")
def set_evidence(session: DbSession, actor: EvidenceMarker, code: str, data: EvidenceIn) -> dict:
    return {"direct_evidence": service.set_direct_evidence(session, actor, code, data.direct_evidence)}


@router.post("/sharing/sweep", summary="立即运行共享期限巡检（超期督办、授权到期）")
def run_sweep(session: DbSession, actor: Sweeper) -> dict:
    return service.tick(session, actor)


def demand_out(session: Session, demand) -> DemandOut:
    out = DemandOut.model_validate(demand)
    deadline = service.demand_deadline(session, demand)
    out.deadline = deadline.due_date if deadline else None
    out.deadline_provisional = bool(deadline and deadline.provisional)
    out.deadline_statutory = policy.active_policy(session).deadlines.share_demand_answer.statutory
    return out


@router.post(
    "/share-demands", status_code=201, response_model=DemandOut, summary="提出共享需求（目录未列出的数据）"
)
def create_demand(session: DbSession, actor: Applicant, data: DemandIn) -> DemandOut:
    return demand_out(session, service.create_demand(session, actor, data))


@router.get(
    "/share-demands",
    response_model=Page[DemandOut],
    summary="共享需求（本部门提出的、指定本部门的；主管部门：全部）",
)
def list_demands(session: DbSession, actor: Reader, paging: PagingParams, status: str | None = None) -> dict:
    rows, total = service.list_demands(
        session, actor, status=status, limit=paging.limit, offset=paging.offset
    )
    return {"items": [demand_out(session, d) for d in rows], "total": total}


@router.get("/share-demands/{demand_id}", response_model=DemandOut, summary="共享需求详情")
def get_demand(session: DbSession, actor: Reader, demand_id: int) -> DemandOut:
    return demand_out(session, service.get_demand(session, actor, demand_id))


@router.post("/share-demands/{demand_id}/assign", response_model=DemandOut, summary="主管部门指定提供部门")
def assign_demand(session: DbSession, actor: Coordinator, demand_id: int, data: DemandAssignIn) -> DemandOut:
    return demand_out(session, service.assign_demand(session, actor, demand_id, data))


@router.post(
    "/share-demands/{demand_id}/answer", response_model=DemandOut, summary="提供部门答复：编目提供或说明理由"
)
def answer_demand(session: DbSession, actor: Decider, demand_id: int, data: DemandAnswerIn) -> DemandOut:
    return demand_out(session, service.answer_demand(session, actor, demand_id, data))
