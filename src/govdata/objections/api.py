"""HTTP routes of objections (SPEC §15: ``POST /api/v1/objections``, ``/{id}/extend``, ``/{id}/resolve``).
Thin: parse, call the service, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from govdata.aggregation import service as aggregation
from govdata.core import policy
from govdata.core.auth import Actor, DbSession
from govdata.core.db import unit_of_work
from govdata.core.errors import InvalidInput, PayloadTooLarge, problem_responses
from govdata.core.schemas import ApiRoute, Page, PagingParams
from govdata.objections import service
from govdata.objections.auth import Extender, Filer, Reader, Reviewer, Sweeper, sees_record
from govdata.objections.enums import ObjectionStatus
from govdata.objections.models import Objection
from govdata.objections.schemas import AttachmentOut, ExtendIn, ObjectionIn, ObjectionOut, ResolveIn

router = APIRouter(prefix="/api/v1", tags=["疑义与复核"], route_class=ApiRoute)

WAIT_SECONDS = 120  # how long ``/resolve`` waits for a correction's batch before answering 202


def objection_out(session: Session, actor: Actor, objection: Objection) -> ObjectionOut:
    """The objection as the caller may see it: the authority sees neither the key nor the values."""
    deadline = service.deadline_of(session, objection)
    original = service.original_deadline_of(session, objection)
    deadlines = policy.active_policy(session).deadlines
    rule = deadlines.correction_extension_max if objection.extended else deadlines.correction_review
    visible = sees_record(actor, objection)
    corrected = objection.correction_values if objection.status == ObjectionStatus.corrected else None
    return ObjectionOut(
        id=objection.id,
        resource_code=objection.resource_code,
        resource_name=objection.resource_name,
        provider_id=objection.provider_id,
        key=service.shown_key(objection.record_key) if visible else None,
        items=dict(objection.items) if visible else dict.fromkeys(objection.items),
        reason=objection.reason,
        status=objection.status,
        deadline=deadline.due_date if deadline else None,
        deadline_provisional=bool(deadline and deadline.provisional),
        deadline_statutory=rule.statutory,
        original_deadline=original.due_date if original else None,
        extended=objection.extended,
        extension_days=objection.extension_days,
        extension_reason=objection.extension_reason,
        extended_by=objection.extended_by,
        extended_at=objection.extended_at,
        extension_requested_at=objection.extension_requested_at,
        extension_request_days=objection.extension_request_days,
        extension_request_reason=objection.extension_request_reason,
        channel=objection.channel,
        filer_kind=objection.filer_kind,
        filer_name=objection.filer_name,
        filer_department_id=objection.filer_department_id,
        received_on=objection.received_on,
        filed_at=objection.filed_at,
        escalated_at=objection.escalated_at,
        outcome=objection.outcome,
        resolved_at=objection.resolved_at,
        resolved_by=objection.resolved_by,
        resolution_reason=objection.resolution_reason,
        corrected_values=(corrected if visible else None),
        correction_batch_id=objection.correction_batch_id,
        correction_error=objection.correction_error,
        late=objection.late,
        attachments=[AttachmentOut.model_validate(a) for a in service.attachments_of(session, objection)]
        if visible
        else [],
    )


@router.post(
    "/objections", status_code=201, response_model=ObjectionOut, summary="提出疑义（或录入线下提出的疑义）"
)
def file_objection(request: Request, session: DbSession, actor: Filer, data: ObjectionIn) -> ObjectionOut:
    objection = service.file_objection(session, actor, request.app.state.store, data)
    return objection_out(session, actor, objection)


@router.get(
    "/objections",
    response_model=Page[ObjectionOut],
    summary="本部门的疑义（作为提出方和提供方；主管部门：全部）",
)
def list_objections(
    session: DbSession,
    actor: Reader,
    paging: PagingParams,
    role: Annotated[str | None, Query(pattern="^(filer|provider)$", description="filer 或 provider")] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    overdue: Annotated[bool, Query(description="只列超期的（复核中已过期限，或逾期答复）")] = False,
    resource_code: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    rows, total = service.list_objections(
        session,
        actor,
        role=role,
        status=status,
        overdue=overdue,
        resource_code=resource_code,
        limit=paging.limit,
        offset=paging.offset,
    )
    return {"items": [objection_out(session, actor, o) for o in rows], "total": total}


@router.get("/objections/{objection_id}", response_model=ObjectionOut, summary="疑义详情")
def get_objection(session: DbSession, actor: Reader, objection_id: int) -> ObjectionOut:
    return objection_out(session, actor, service.get_objection(session, actor, objection_id))


@router.post(
    "/objections/{objection_id}/extend",
    response_model=ObjectionOut,
    summary="提供部门负责人批准延长复核期限（仅一次，自原期限起算）",
)
def extend(session: DbSession, actor: Extender, objection_id: int, data: ExtendIn) -> ObjectionOut:
    return objection_out(session, actor, service.extend(session, actor, objection_id, data))


@router.post(
    "/objections/{objection_id}/extension-request",
    response_model=ObjectionOut,
    summary="提供部门申请延长复核期限（待负责人批准）",
)
def request_extension(session: DbSession, actor: Reviewer, objection_id: int, data: ExtendIn) -> ObjectionOut:
    return objection_out(session, actor, service.request_extension(session, actor, objection_id, data))


@router.post(
    "/objections/{objection_id}/resolve",
    response_model=ObjectionOut,
    summary="复核结果：更正数据（以批次入库）或维持原数据（须说明理由）",
    responses={202: {"model": ObjectionOut, "description": "更正批次仍在入库（超过等待时间）"}},
)
async def resolve(request: Request, actor: Reviewer, objection_id: int, data: ResolveIn) -> Response:
    """A correction is queued in a unit of work of its own, so that its batch can start on commit; the
    answer waits for the batch off the event loop and settles the objection (201 is not used: 200 when
    it is settled, 202 while the batch still runs, 422 when the batch was refused)."""
    state = request.app.state
    factory = state.sessionmaker

    def queue() -> int | None:
        with unit_of_work(factory) as session:
            objection = service.resolve(
                session, actor, state.store, state.settings.data_dir, objection_id, data
            )
            return objection.correction_batch_id if objection.status == ObjectionStatus.under_review else None

    batch_id = await run_in_threadpool(queue)
    status = None
    if batch_id is not None:
        status = await aggregation.wait_finished(factory, batch_id, WAIT_SECONDS)

    def answer() -> dict:
        settled = batch_id is not None and status in aggregation.FINISHED
        with unit_of_work(factory) as session:  # the settlement commits, even when it says the batch failed
            objection = service.get_objection(session, actor, objection_id)
            if settled:
                service.settle(session, objection)
            failed = (
                settled
                and objection.status == ObjectionStatus.under_review
                and objection.correction_batch_id is None
            )
            body, message = (
                objection_out(session, actor, objection).model_dump(mode="json"),
                objection.correction_error,
            )
        if failed:
            raise InvalidInput(message or "更正未能入库。", slug="correction-failed", batch_id=batch_id)
        return body

    body = await run_in_threadpool(answer)
    return JSONResponse(
        body, status_code=202 if batch_id is not None and status not in aggregation.FINISHED else 200
    )


@router.post(
    "/objections/{objection_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    summary="上传疑义的证明材料（PDF、图片或 Office 文件，10 MB 以内）",
    responses=problem_responses(413),
)
def add_attachment(
    request: Request, session: DbSession, actor: Filer, objection_id: int, file: UploadFile
) -> AttachmentOut:
    data = file.file.read(service.MAX_ATTACHMENT_BYTES + 1)
    if len(data) > service.MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge("证明材料不能超过 10 MB。")
    attachment = service.add_attachment(
        session, actor, request.app.state.settings.data_dir, objection_id, file.filename, data
    )
    return AttachmentOut.model_validate(attachment)


@router.get("/objections/{objection_id}/attachments/{attachment_id}", summary="下载疑义的证明材料")
def read_attachment(
    request: Request, session: DbSession, actor: Reader, objection_id: int, attachment_id: int
) -> FileResponse:
    attachment, path = service.read_attachment(
        session, actor, request.app.state.settings.data_dir, objection_id, attachment_id
    )
    return FileResponse(path, media_type=attachment.content_type, filename=attachment.filename)


@router.post("/objections/sweep", summary="立即运行疑义复核期限巡检（超期报主管部门督办）")
def run_sweep(session: DbSession, actor: Sweeper) -> dict:
    return service.tick(session, actor)
