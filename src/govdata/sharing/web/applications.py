"""The apply form and the application page (SHR-2 … SHR-4).

The apply form shows the resource's items (level and share type, level-4 items marked), the
consumer's application systems, the modes the resource offers, its usage requirements and required
materials; a resource of share type ``none`` gets a request for the authority's coordination instead.
The application page shows everything about an application, its timeline, deadline and attachments,
and the forms of whoever may act on it now (asked of ``sharing.auth``; the services check again).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.catalog.enums import LegalBasisKind, ShareType
from govdata.core import clock
from govdata.core.auth import Actor, DbSession, enforce
from govdata.core.errors import NotFound, PayloadTooLarge, Problem, field_error
from govdata.core.labels import label
from govdata.orgs import service as orgs
from govdata.sharing import service
from govdata.sharing.auth import (
    Applicant,
    Checker,
    Coordinator,
    Decider,
    Reader,
    apply_refusal,
    apply_resource_refusal,
    attach_refusal,
    can_attach,
    can_check,
    can_coordinate,
    can_decide,
    can_dispute,
    can_receive,
    in_department,
)
from govdata.sharing.enums import (
    ApplicationStatus,
    CoordinationOutcome,
    CoordinationStep,
    Decision,
)
from govdata.sharing.schemas import ApplicationIn, CheckIn, CoordinateIn, DecisionIn
from govdata.sharing.web.common import (
    DONE_MESSAGES,
    HOME,
    application_href,
    application_row,
    form_errors,
    item_facts,
    names_for,
    page,
    parse_date,
    router,
    safe_back,
    with_done,
)
from govdata.web import check_same_origin, form_action, local_time, parse_input, render_error

DEFAULT_PERIOD_DAYS = 365


# --- the apply form ----------------------------------------------------------------------------------


def _apply_context(session: Session, actor: Actor, code: str) -> dict[str, Any]:
    """The resource as the apply form shows it, and why the caller cannot apply, if so."""
    resource = catalog.find_resource(session, actor, code)
    body, items = item_facts(session, resource.id, resource.published_version)
    refusal = apply_refusal(actor, actor.department_id) or apply_resource_refusal(actor, resource)
    blocked = refusal.detail if refusal is not None else None
    systems = orgs.department_systems(session, actor.department_id) if actor.department_id else []
    withheld = resource.share_type == ShareType.none
    return {
        "resource": resource,
        "body": body,
        "items": items,
        "systems": systems,
        "offered_modes": list(body.get("share_modes") or []),
        "materials": list(body.get("materials") or []),
        "withheld": withheld,
        "has_withheld_items": any(i["share_type"] == ShareType.none for i in items),
        "blocked": blocked,
    }


def _apply_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    fields: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = _apply_context(session, actor, code)
    today = clock.today()
    defaults = {
        "items": [],
        "masked_items": [],
        "modes": ["query"] if "query" in context["offered_modes"] else context["offered_modes"][:1],
        "period_start": today.isoformat(),
        "period_end": (today + timedelta(days=DEFAULT_PERIOD_DAYS)).isoformat(),
        "system_id": str(context["systems"][0].id) if len(context["systems"]) == 1 else "",
    }
    return page(
        request,
        "sharing/apply.html",
        actor,
        status_code=status_code,
        values={**defaults, **(values or {})},
        errors=errors or [],
        fields=fields or {},
        section="overview",
        **context,
    )


def _no_resource_page(request: Request, actor: Actor) -> Response:
    return page(request, "sharing/apply.html", actor, resource=None, section="overview")


@router.get(f"{HOME}/apply")
def apply_form(
    request: Request,
    session: DbSession,
    actor: Applicant,
    resource: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    if not resource.strip():
        return _no_resource_page(request, actor)
    try:
        return _apply_page(request, session, actor, resource.strip())
    except Problem as exc:
        return render_error(request, exc)


@router.post(f"{HOME}/apply")
def apply(
    request: Request,
    session: DbSession,
    actor: Applicant,
    resource: Annotated[str, Form(max_length=64)] = "",
    system_id: Annotated[str, Form(max_length=12)] = "",
    items: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006  (a form's repeated field)
    masked_items: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006
    modes: Annotated[list[str], Form(max_length=16)] = [],  # noqa: B006
    purpose: Annotated[str, Form(max_length=2000)] = "",
    scenario: Annotated[str, Form(max_length=4000)] = "",
    legal_basis: Annotated[str, Form(max_length=2000)] = "",
    period_start: Annotated[str, Form(max_length=10)] = "",
    period_end: Annotated[str, Form(max_length=10)] = "",
    rate_limit: Annotated[str, Form(max_length=10)] = "",
    request_coordination: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    check_same_origin(request)
    code = resource.strip()
    values = {
        "system_id": system_id,
        "items": items,
        "masked_items": masked_items,
        "modes": modes,
        "purpose": purpose,
        "scenario": scenario,
        "legal_basis": legal_basis,
        "period_start": period_start,
        "period_end": period_end,
        "rate_limit": rate_limit,
    }

    def run() -> str:
        if not system_id.strip():
            raise field_error("system_id", "请选择使用数据的应用系统")
        if not items:
            raise field_error("items", "请至少选择一个信息项")
        data = parse_input(
            ApplicationIn,
            {
                "resource_code": code,
                "system_id": system_id.strip(),
                "items": items,
                "masked_items": masked_items,
                "purpose": purpose,
                "scenario": scenario,
                "legal_basis": legal_basis or None,
                "period_start": parse_date(period_start),
                "period_end": parse_date(period_end),
                "modes": modes,
                "rate_limit": rate_limit.strip() or None,
                "request_coordination": request_coordination == "1",
            },
            prefix="申请填写有误",
        )
        application = service.apply(session, actor, data)
        done = "coordination" if data.request_coordination else "submitted"
        return application_href(application.id, f"?done={done}")

    def show_error(exc: Problem) -> Response:
        errors, fields = form_errors(exc)
        return _apply_page(
            request, session, actor, code, values=values, errors=errors, fields=fields, status_code=exc.status
        )

    return form_action(request, session, run, show_error)


# --- the application page ----------------------------------------------------------------------------


def _timeline(session: Session, application) -> list[dict[str, Any]]:
    """What happened to the application, in order: (when, what, who, note, tone)."""
    people = orgs.display_names(session, [application.checked_by, application.received_by])
    events: list[dict[str, Any]] = [
        {
            "at": application.submitted_at,
            "what": "提出申请",
            "who": application.applicant_name or application.applicant,
            "note": None,
            "tone": "",
        }
    ]
    if application.checked_at:
        passed = not (application.status == ApplicationStatus.refused and application.decision is None)
        events.append(
            {
                "at": application.checked_at,
                "what": "主管部门合规审查" + ("通过" if passed else "未通过"),
                "who": people.get(application.checked_by or "", application.checked_by),
                "note": application.check_note,
                "tone": "" if passed else "error",
            }
        )
    if application.received_at:
        events.append(
            {
                "at": application.received_at,
                "what": "提供部门签收",
                "who": people.get(application.received_by or "", application.received_by),
                "note": None,
                "tone": "",
            }
        )
    if application.escalated_at:
        events.append(
            {
                "at": application.escalated_at,
                "what": "超期未办结，已报主管部门督办",
                "who": "平台",
                "note": None,
                "tone": "error",
            }
        )
    if application.decided_at and application.decision:
        notes = [
            f"理由：{application.reason}" if application.reason else "",
            f"附加条件：{application.conditions}" if application.conditions else "",
            f"依据类别：{label(LegalBasisKind, application.refusal_basis_kind)}"
            if application.refusal_basis_kind
            else "",
        ]
        events.append(
            {
                "at": application.decided_at,
                "what": f"答复：{label(Decision, application.decision)}"
                + ("（逾期答复）" if application.late else ""),
                "who": application.decided_by_name or application.decided_by,
                "note": "；".join(n for n in notes if n) or None,
                "tone": "warn" if application.late else "",
            }
        )
    if application.disputed_at:
        events.append(
            {
                "at": application.disputed_at,
                "what": "提出异议" if application.decision else "请求主管部门协调",
                "who": application.applicant_name or application.applicant,
                "note": application.dispute_reason,
                "tone": "warn",
            }
        )
    for entry in application.coordination or []:
        what = "主管部门" + label(CoordinationStep, entry.get("step"))
        if entry.get("outcome"):
            what += "：" + label(CoordinationOutcome, entry["outcome"])
        events.append(
            {
                "at": entry.get("at"),
                "what": what,
                "who": entry.get("by_name") or entry.get("by"),
                "note": entry.get("note"),
                "tone": "",
            }
        )
    events.sort(key=lambda e: local_time(e["at"], seconds=True))
    for event in events:
        event["when"] = local_time(event["at"])
    return events


def _application_page(
    request: Request,
    session: Session,
    actor: Actor,
    application_id: int,
    *,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    fields: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    application = service.get_application(session, actor, application_id)
    names = names_for(session, applications=[application])
    row = application_row(session, application, names)
    _, items = item_facts(session, application.resource_id, application.catalog_version)
    by_code = {i["code"]: i for i in items}

    def item(code: str, masked: bool) -> dict[str, Any]:
        known = by_code.get(code) or {
            "code": code,
            "name": code,
            "level": 1,
            "level_label": "",
            "share_type": "",
        }
        return {**known, "masked": masked}

    requested = [item(c, c in (application.masked_items or [])) for c in application.items]
    decided = [item(d["code"], bool(d.get("masked"))) for d in application.decided_items or []]
    can = {
        "check": can_check(actor, application),
        "receive": can_receive(actor, application),
        "decide": can_decide(actor, application),
        "dispute": can_dispute(actor, application),
        "attach": can_attach(actor, application),
        "coordinate": can_coordinate(actor, application),
    }
    return page(
        request,
        "sharing/application.html",
        actor,
        status_code=status_code,
        a=application,
        row=row,
        requested=requested,
        decided=decided,
        given={d["code"]: d["masked"] for d in decided},
        timeline=_timeline(session, application),
        attachments=service.attachments_of(session, application),
        can=can,
        acting=any(can.values()),
        form=form,
        values=values or {},
        errors=errors or [],
        fields=fields or {},
        done=DONE_MESSAGES.get(request.query_params.get("done") or ""),
        is_consumer=in_department(actor, application.consumer_department_id),
        section="overview",
        withheld=application.decision is None and application.status == ApplicationStatus.disputed,
    )


@router.get(f"{HOME}/applications/{{application_id}}")
def application_page(request: Request, session: DbSession, actor: Reader, application_id: int) -> Response:
    try:
        return _application_page(request, session, actor, application_id)
    except Problem as exc:
        return render_error(request, exc)


def _act(
    request: Request,
    session: Session,
    actor: Actor,
    application_id: int,
    form: str,
    run,
    *,
    values: dict[str, Any] | None = None,
    back: str = "",
) -> Response:
    """Run an action on the application; go back (or to its page) with ``done``, or show its page
    again with the errors at the form that was posted."""

    def action() -> str:
        done = run()
        return with_done(safe_back(back, application_href(application_id)), done)

    def show_error(exc: Problem) -> Response:
        errors, fields = form_errors(exc)
        return _application_page(
            request,
            session,
            actor,
            application_id,
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
        gone=lambda exc: isinstance(exc, NotFound) and exc.detail.startswith("共享申请"),
    )


@router.post(f"{HOME}/applications/{{application_id}}/check")
def check(
    request: Request,
    session: DbSession,
    actor: Checker,
    application_id: int,
    passed: Annotated[str, Form(max_length=1)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> str:
        if passed not in ("1", "0"):
            raise field_error("passed", "请选择通过或不通过")
        service.check(session, actor, application_id, CheckIn(passed=passed == "1", note=note or None))
        return "checked"

    return _act(
        request, session, actor, application_id, "check", run, values={"passed": passed, "note": note}
    )


@router.post(f"{HOME}/applications/{{application_id}}/receive")
def receive(request: Request, session: DbSession, actor: Decider, application_id: int) -> Response:
    check_same_origin(request)

    def run() -> str:
        service.receive(session, actor, application_id)
        return "received"

    return _act(request, session, actor, application_id, "receive", run)


@router.post(f"{HOME}/applications/{{application_id}}/decision")
def decide(
    request: Request,
    session: DbSession,
    actor: Decider,
    application_id: int,
    decision: Annotated[str, Form(max_length=16)] = "",
    items: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006
    masked: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006
    period_end: Annotated[str, Form(max_length=10)] = "",
    conditions: Annotated[str, Form(max_length=4000)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
    basis_kind: Annotated[str, Form(max_length=40)] = "",
    basis: Annotated[str, Form(max_length=2000)] = "",
    rate_limit: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_same_origin(request)
    values = {
        "decision": decision,
        "items": items,
        "masked": masked,
        "period_end": period_end,
        "conditions": conditions,
        "reason": reason,
        "basis_kind": basis_kind,
        "basis": basis,
        "rate_limit": rate_limit,
    }

    def run() -> str:
        if decision not in Decision.__members__:
            raise field_error("decision", "请选择同意、部分同意或不予共享")
        granting = decision != Decision.refuse
        if granting and not items:
            raise field_error("items", "至少提供一个信息项；不提供请选择不予共享")
        data = parse_input(
            DecisionIn,
            {
                "decision": decision,
                "items": items if granting else None,
                "masked": masked if granting else None,
                "period_end": (parse_date(period_end) if period_end.strip() else None) if granting else None,
                "conditions": conditions or None,
                "reason": reason or None,
                "basis_kind": basis_kind or None,
                "basis": basis or None,
                "rate_limit": rate_limit.strip() or None,
            },
            prefix="答复填写有误",
        )
        service.decide(session, actor, application_id, data)
        return "decided"

    return _act(request, session, actor, application_id, "decide", run, values=values)


@router.post(f"{HOME}/applications/{{application_id}}/dispute")
def dispute(
    request: Request,
    session: DbSession,
    actor: Applicant,
    application_id: int,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> str:
        service.dispute(session, actor, application_id, reason)
        return "disputed"

    return _act(request, session, actor, application_id, "dispute", run, values={"reason": reason})


@router.post(f"{HOME}/applications/{{application_id}}/coordinate")
def coordinate(
    request: Request,
    session: DbSession,
    actor: Coordinator,
    application_id: int,
    step: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    outcome: Annotated[str, Form(max_length=16)] = "",
    items: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006
    masked: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006
    period_end: Annotated[str, Form(max_length=10)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_same_origin(request)
    values = {"step": step, "note": note, "outcome": outcome, "items": items, "masked": masked}
    values["period_end"] = period_end

    def run() -> str:
        if step not in CoordinationStep.__members__:
            raise field_error("step", "请选择协商或协调决定")
        data = parse_input(
            CoordinateIn,
            {
                "step": step,
                "note": note,
                "outcome": outcome or None,
                "items": items or None,
                "masked": masked,
                "period_end": parse_date(period_end) if period_end.strip() else None,
            },
            prefix="协调填写有误",
        )
        service.coordinate(session, actor, application_id, data)
        return step

    return _act(request, session, actor, application_id, "coordinate", run, values=values, back=back)


@router.post(f"{HOME}/applications/{{application_id}}/attachments")
def attach(
    request: Request,
    session: DbSession,
    actor: Applicant,
    application_id: int,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_same_origin(request)

    def run() -> str:
        application = service.get_application(session, actor, application_id)
        enforce(attach_refusal(actor, application))  # before reading the upload; the service checks again
        if file is None or not file.filename:
            raise field_error("file", "请选择要上传的文件")
        data = file.file.read(service.attachments.MAX_BYTES + 1)
        if len(data) > service.attachments.MAX_BYTES:
            raise PayloadTooLarge("附件不能超过 10 MB。")
        service.add_attachment(
            session, actor, request.app.state.settings.data_dir, application_id, file.filename, data
        )
        return "attached"

    return _act(request, session, actor, application_id, "attach", run)
