"""The objections pages (COR-1 … COR-4), in Chinese, at desktop and phone width:

* ``/objections``: each role's lists as tabs — the provider's review queue with its working-day
  countdown, the head's extensions to approve, the filer's objections with their outcomes, the
  authority's overdue list;
* ``/objections/new``: file an objection on a record (opened from a query answer with the resource
  and key filled in), or — for the provider's officer, when the profile allows — enter one raised off
  the platform with the date it was received;
* ``/objections/{id}``: the objection, its timeline and evidence, and the forms of whoever may act on
  it now (asked of ``objections.auth``; the services check again).

A correction is posted like the API's ``/resolve``: queued in a unit of work of its own, then the page
waits for its batch off the event loop and settles it, so the officer sees the outcome.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.core import policy
from govdata.core.auth import Actor, DbSession
from govdata.core.calendar import WorkingCalendar
from govdata.core.db import unit_of_work
from govdata.core.errors import NotFound, PayloadTooLarge, Problem, field_error
from govdata.core.policy import ObjectionsOffPlatform
from govdata.objections import service
from govdata.objections.auth import (
    EXTEND,
    FILE,
    REVIEW,
    Extender,
    Filer,
    Reader,
    Reviewer,
    can_attach,
    can_extend,
    can_request_extension,
    can_resolve,
    in_department,
    is_authority,
    sees_record,
)
from govdata.objections.enums import Channel, ObjectionStatus, Outcome
from govdata.objections.schemas import ExtendIn, ObjectionIn, ResolveIn
from govdata.objections.web.common import (
    DONE_MESSAGES,
    HOME,
    form_errors,
    names_for,
    objection_href,
    objection_row,
    page,
    router,
)
from govdata.orgs import service as orgs
from govdata.web import check_same_origin, form_action, local_time, offset_links, parse_input, render_error

PAGE_SIZE = 30
QUEUE_MAX = 200  # the review queue is sorted by deadline: at most this many
WAIT_SECONDS = 120  # how long a correction's page waits for its batch


# --- the lists ----------------------------------------------------------------------------------------


def _tabs(actor: Actor) -> list[tuple[str, str]]:
    tabs: list[tuple[str, str]] = []
    if actor.department_id is not None:
        if actor.has(REVIEW):
            tabs.append(("queue", "待复核"))
        if actor.has(EXTEND):
            tabs.append(("approvals", "待批准延期"))
        if actor.has(REVIEW) or actor.has(EXTEND):
            tabs.append(("provided", "本部门数据的疑义"))
        if actor.has(FILE):
            tabs.append(("mine", "本部门提出的疑义"))
    if is_authority(actor):
        tabs += [("overdue", "超期督办"), ("all", "全部疑义")]
    return tabs


_FILTERS: dict[str, dict[str, Any]] = {
    "queue": {"role": "provider", "status": ObjectionStatus.under_review},
    "approvals": {"role": "provider", "extension_requested": True},
    "provided": {"role": "provider"},
    "mine": {"role": "filer"},
    "overdue": {"overdue": True},
    "all": {},
}


@router.get(HOME)
def objections_page(
    request: Request,
    session: DbSession,
    actor: Reader,
    tab: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    resource: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    tabs = _tabs(actor)
    names = [name for name, _ in tabs]
    tab = tab if tab in names else (names[0] if names else "")
    counts = {
        name: service.list_objections(session, actor, limit=1, **_FILTERS[name])[1]
        for name in names
        if name != "all"
    }
    rows: list = []
    total = 0
    if tab:
        filters = dict(_FILTERS[tab])
        if resource:
            filters["resource_code"] = resource
        if tab == "queue":
            rows, total = service.list_objections(session, actor, limit=QUEUE_MAX, offset=0, **filters)
        else:
            rows, total = service.list_objections(session, actor, limit=PAGE_SIZE, offset=offset, **filters)
    calendar = WorkingCalendar.load(session)
    departments = names_for(session, rows)
    items = [objection_row(session, actor, o, departments, calendar) for o in rows]
    if tab == "queue":
        items.sort(key=lambda r: (r["deadline"] or "9999-12-31", r["id"]))

    def link(new_offset: int) -> str:
        extra = f"&resource={resource}" if resource else ""
        return f"{HOME}?tab={tab}" + (f"&offset={new_offset}" if new_offset else "") + extra

    previous, following = (None, None) if tab == "queue" else offset_links(link, offset, PAGE_SIZE, total)
    return page(
        request,
        "objections/index.html",
        actor,
        tabs=tabs,
        tab=tab,
        counts=counts,
        rows=items,
        total=total,
        resource=resource,
        previous=previous,
        next=following,
        may_file=actor.has(FILE) and actor.department_id is not None,
        done=DONE_MESSAGES.get(request.query_params.get("done") or ""),
    )


# --- filing -------------------------------------------------------------------------------------------


def _new_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any],
    errors: list[str] | None = None,
    fields: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    code = (values.get("resource_code") or "").strip()
    resource, items, unseen = None, [], None
    if code:
        try:
            resource, items = service.objectable_items(session, actor, code)
        except Problem as exc:
            unseen = exc.detail
    profile = policy.active_policy(session)
    may_enter = bool(
        resource is not None
        and actor.has(REVIEW)
        and in_department(actor, resource.provider_id)
        and profile.switches.objections_off_platform == ObjectionsOffPlatform.allowed
    )
    return page(
        request,
        "objections/new.html",
        actor,
        status_code=status_code,
        resource=resource,
        items=items,
        unseen=unseen,
        values=values,
        errors=errors or [],
        fields=fields or {},
        may_enter=may_enter,
        departments=sorted(orgs.department_names(session).items(), key=lambda d: d[1]) if may_enter else [],
        review_days=profile.deadlines.correction_review.working_days,
    )


@router.get(f"{HOME}/new")
def new_form(
    request: Request,
    session: DbSession,
    actor: Filer,
    resource: Annotated[str, Query(max_length=64)] = "",
    key: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    return _new_page(request, session, actor, values={"resource_code": resource, "key": key, "claimed": {}})


def _date(value: str) -> date | str:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return value


@router.post(f"{HOME}/new")
def file_objection(
    request: Request,
    session: DbSession,
    actor: Filer,
    resource_code: Annotated[str, Form(max_length=64)] = "",
    key: Annotated[str, Form(max_length=500)] = "",
    item_code: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006  (one per item)
    item_value: Annotated[list[str], Form(max_length=2000)] = [],  # noqa: B006
    reason: Annotated[str, Form(max_length=4000)] = "",
    off_platform: Annotated[str, Form(max_length=1)] = "",
    received_on: Annotated[str, Form(max_length=20)] = "",
    filer_name: Annotated[str, Form(max_length=200)] = "",
    filer_department_id: Annotated[str, Form(max_length=12)] = "",
    filer_contact: Annotated[str, Form(max_length=200)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_same_origin(request)
    claimed = {c: v for c, v in zip(item_code, item_value, strict=False) if v.strip()}
    values = {
        "resource_code": resource_code,
        "key": key,
        "claimed": claimed,
        "reason": reason,
        "off_platform": off_platform,
        "received_on": received_on,
        "filer_name": filer_name,
        "filer_department_id": filer_department_id,
        "filer_contact": filer_contact,
    }
    state = request.app.state

    def run() -> str:
        if not claimed:
            raise field_error("items", "请至少填写一个信息项认为正确的值")
        data: dict[str, Any] = {
            "resource_code": resource_code,
            "key": key,
            "items": claimed,
            "reason": reason,
        }
        if off_platform == "1":
            data |= {
                "received_on": _date(received_on) if received_on.strip() else None,
                "filer_name": filer_name or None,
                "filer_department_id": int(filer_department_id) if filer_department_id.isdigit() else None,
                "filer_contact": filer_contact or None,
            }
            if data["received_on"] is None:
                raise field_error("received_on", "请填写提供部门实际收到疑义的日期")
        objection = service.file_objection(session, actor, state.store, parse_input(ObjectionIn, data))
        if file is not None and file.filename:
            content = file.file.read(service.MAX_ATTACHMENT_BYTES + 1)
            if len(content) > service.MAX_ATTACHMENT_BYTES:
                raise PayloadTooLarge("证明材料不能超过 10 MB。")
            service.add_attachment(
                session, actor, state.settings.data_dir, objection.id, file.filename, content
            )
        done = "entered" if objection.channel == Channel.off_platform else "filed"
        return objection_href(objection.id, f"?done={done}")

    def show_error(exc: Problem) -> Response:
        errors, fields = form_errors(exc)
        return _new_page(
            request, session, actor, values=values, errors=errors, fields=fields, status_code=exc.status
        )

    return form_action(request, session, run, show_error, gone=lambda exc: False)


# --- one objection ------------------------------------------------------------------------------------


def _timeline(session: Session, objection) -> list[dict[str, Any]]:
    people = orgs.display_names(
        session, [objection.entered_by, objection.extension_requested_by, objection.extended_by]
    )
    events = []
    if objection.channel == Channel.off_platform:
        events.append(
            {
                "at": objection.filed_at,
                "what": f"录入线下提出的疑义（{objection.received_on.isoformat()} 收到）",
                "who": people.get(objection.entered_by or "", objection.entered_by or ""),
                "note": None,
                "tone": "",
            }
        )
    else:
        events.append(
            {
                "at": objection.filed_at,
                "what": "提出疑义",
                "who": objection.filer_name,
                "note": None,
                "tone": "",
            }
        )
    if objection.extension_requested_at:
        events.append(
            {
                "at": objection.extension_requested_at,
                "what": f"申请延长复核期限 {objection.extension_request_days} 个工作日",
                "who": objection.extension_requested_by_name or objection.extension_requested_by,
                "note": objection.extension_request_reason,
                "tone": "",
            }
        )
    if objection.extended:
        events.append(
            {
                "at": objection.extended_at,
                "what": f"批准延长复核期限 {objection.extension_days} 个工作日",
                "who": objection.extended_by_name or objection.extended_by,
                "note": objection.extension_reason,
                "tone": "warn",
            }
        )
    if objection.escalated_at:
        events.append(
            {
                "at": objection.escalated_at,
                "what": "复核超期，已报主管部门督办",
                "who": "平台",
                "note": None,
                "tone": "error",
            }
        )
    if objection.resolved_at:
        pending = objection.status == ObjectionStatus.under_review
        what = (
            "决定更正数据，更正批次入库中"
            if pending
            else ("更正数据并反馈" if objection.status == ObjectionStatus.corrected else "维持原数据并反馈")
        )
        events.append(
            {
                "at": objection.resolved_at,
                "what": what + ("（逾期答复）" if objection.late else ""),
                "who": objection.resolved_by_name or objection.resolved_by,
                "note": objection.resolution_reason,
                "tone": "error" if objection.late else "",
            }
        )
    events.sort(key=lambda e: e["at"])
    for event in events:
        event["when"] = local_time(event["at"])
    return events


def _item_rows(session: Session, objection, visible: bool, provider: bool) -> list[dict[str, Any]]:
    """The objection's items: the claimed value (for whoever sees the record), the value stored when it
    was filed (for the provider, whose data it is) and the corrected one."""
    body = catalog.version_body(session, objection.resource_id) or {}
    names = {i["code"].lower(): i.get("name") or i["code"] for i in body.get("items", [])}
    corrected = objection.correction_values or {}
    rows = []
    for code, claimed in objection.items.items():
        rows.append(
            {
                "code": code,
                "name": names.get(code, code),
                "claimed": claimed if visible else None,
                "original": objection.original.get(code) if provider else None,
                "corrected": corrected.get(code)
                if visible and objection.status == ObjectionStatus.corrected
                else None,
            }
        )
    return rows


def _failed_batch(message: str | None) -> int | None:
    """The batch a failed correction names (``更正批次 #12 未能入库…``), for the link to its report."""
    found = re.search(r"#(\d+)", message or "")
    return int(found.group(1)) if found else None


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    objection_id: int,
    *,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    fields: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    objection = service.get_objection(session, actor, objection_id)
    visible = sees_record(actor, objection)
    provider = in_department(actor, objection.provider_id)
    calendar = WorkingCalendar.load(session)
    departments = names_for(session, [objection])
    row = objection_row(session, actor, objection, departments, calendar)
    profile = policy.active_policy(session)
    principal = service.principal_head_of(session, objection, profile)
    switch = profile.switches.review_extension_by
    original = service.original_deadline_of(session, objection)
    can = {
        "resolve": can_resolve(actor, objection),
        "request_extension": can_request_extension(actor, objection),
        "extend": can_extend(actor, objection, switch=switch, principal_head=principal),
        "attach": can_attach(actor, objection),
    }
    most = profile.deadlines.correction_extension_max.working_days
    return page(
        request,
        "objections/objection.html",
        actor,
        status_code=status_code,
        o=objection,
        row=row,
        items=_item_rows(session, objection, visible, provider),
        visible=visible,
        provider=provider,
        original_deadline=original.due_date.isoformat() if original else None,
        failed_batch=_failed_batch(objection.correction_error),
        timeline=_timeline(session, objection),
        attachments=service.attachments_of(session, objection) if visible else [],
        can=can,
        acting=any(can.values()),
        extension_days=list(range(1, most + 1)),
        extension_max=most,
        principal_head=principal,
        by_principal=switch == "principal_head",
        form=form,
        values=values or {},
        errors=errors or [],
        fields=fields or {},
        done=DONE_MESSAGES.get(request.query_params.get("done") or ""),
    )


@router.get(f"{HOME}/{{objection_id}}")
def objection_page(request: Request, session: DbSession, actor: Reader, objection_id: int) -> Response:
    try:
        return _detail_page(request, session, actor, objection_id)
    except Problem as exc:
        return render_error(request, exc)


def _act(
    request: Request,
    session: Session,
    actor: Actor,
    objection_id: int,
    form: str,
    run,
    values: dict[str, Any],
) -> Response:
    def action() -> str:
        return objection_href(objection_id, f"?done={run()}")

    def show_error(exc: Problem) -> Response:
        errors, fields = form_errors(exc)
        return _detail_page(
            request,
            session,
            actor,
            objection_id,
            form=form,
            values=values,
            errors=errors,
            fields=fields,
            status_code=exc.status,
        )

    return form_action(
        request,
        session,
        action,
        show_error,
        gone=lambda exc: isinstance(exc, NotFound) and exc.detail.startswith("疑义"),
    )


def _days(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise field_error("working_days", "应为整数")
    return int(value)


@router.post(f"{HOME}/{{objection_id}}/extension-request")
def request_extension(
    request: Request,
    session: DbSession,
    actor: Reviewer,
    objection_id: int,
    working_days: Annotated[str, Form(max_length=4)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> str:
        data = parse_input(ExtendIn, {"reason": reason, "working_days": _days(working_days)})
        service.request_extension(session, actor, objection_id, data)
        return "extension_requested"

    values = {"working_days": working_days, "reason": reason}
    return _act(request, session, actor, objection_id, "request_extension", run, values)


@router.post(f"{HOME}/{{objection_id}}/extend")
def extend(
    request: Request,
    session: DbSession,
    actor: Extender,
    objection_id: int,
    working_days: Annotated[str, Form(max_length=4)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> str:
        data = parse_input(ExtendIn, {"reason": reason, "working_days": _days(working_days)})
        service.extend(session, actor, objection_id, data)
        return "extended"

    values = {"working_days": working_days, "reason": reason}
    return _act(request, session, actor, objection_id, "extend", run, values)


@router.post(f"{HOME}/{{objection_id}}/attachments")
def attach(
    request: Request,
    session: DbSession,
    actor: Filer,
    objection_id: int,
    file: Annotated[UploadFile, File()],
) -> Response:
    check_same_origin(request)

    def run() -> str:
        content = file.file.read(service.MAX_ATTACHMENT_BYTES + 1)
        if len(content) > service.MAX_ATTACHMENT_BYTES:
            raise PayloadTooLarge("证明材料不能超过 10 MB。")
        service.add_attachment(
            session, actor, request.app.state.settings.data_dir, objection_id, file.filename, content
        )
        return "attached"

    return _act(request, session, actor, objection_id, "attach", run, {})


@router.post(f"{HOME}/{{objection_id}}/resolve")
async def resolve(
    request: Request,
    actor: Reviewer,
    objection_id: int,
    outcome: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    value_code: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006  (one per item)
    value: Annotated[list[str], Form(max_length=2000)] = [],  # noqa: B006
) -> Response:
    """Keep the data, or correct it: the correction's batch is waited for off the event loop."""
    check_same_origin(request)
    state = request.app.state
    factory = state.sessionmaker
    values = {"outcome": outcome, "reason": reason, "values": dict(zip(value_code, value, strict=False))}

    def show(exc: Problem) -> Response:
        with unit_of_work(factory) as session:
            errors, fields = form_errors(exc)
            try:
                return _detail_page(
                    request,
                    session,
                    actor,
                    objection_id,
                    form="resolve",
                    values=values,
                    errors=errors,
                    fields=fields,
                    status_code=exc.status,
                )
            except Problem as again:
                return render_error(request, again)

    def queue() -> int | None:
        given = {c: v for c, v in values["values"].items() if v.strip()}
        data = parse_input(
            ResolveIn,
            {
                "outcome": outcome or None,
                "reason": reason or None,
                "values": given if outcome == Outcome.corrected and given else None,
            },
        )
        with unit_of_work(factory) as session:
            objection = service.resolve(
                session, actor, state.store, state.settings.data_dir, objection_id, data
            )
            return objection.correction_batch_id if objection.status == ObjectionStatus.under_review else None

    try:
        batch_id = await run_in_threadpool(queue)
    except Problem as exc:
        return await run_in_threadpool(show, exc)
    if batch_id is None:
        return RedirectResponse(objection_href(objection_id, "?done=rejected"), status_code=303)
    status = await aggregation.wait_finished(factory, batch_id, WAIT_SECONDS)
    if status not in aggregation.FINISHED:
        return RedirectResponse(objection_href(objection_id, "?done=correcting"), status_code=303)

    def settle() -> Problem | None:
        with unit_of_work(factory) as session:
            objection = service.get_objection(session, actor, objection_id)
            service.settle(session, objection)
            if objection.status == ObjectionStatus.under_review and objection.correction_error:
                return field_error("values", objection.correction_error)
        return None

    failed = await run_in_threadpool(settle)
    if failed is not None:
        return await run_in_threadpool(show, failed)
    return RedirectResponse(objection_href(objection_id, "?done=corrected"), status_code=303)
