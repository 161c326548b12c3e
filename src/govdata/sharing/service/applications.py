"""Share applications (SHR-2 … SHR-4): apply, the authority's compliance check, the provider's receipt
and decision under working-day deadlines, escalation, disputes and the authority's coordination.

The share-reply clock starts as POL-1's switch says: at submission, at the provider's receipt, or
after the authority's compliance check (which has its own deadline). Deadlines are core's tracked
deadlines, so importing a year's schedule recounts the provisional ones (CAL-2).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.catalog.enums import REFUSAL_BASES, LegalBasisKind, ShareType
from govdata.core import audit, clock, policy
from govdata.core.auth import SYSTEM_ACTOR, Actor, Role, enforce, require
from govdata.core.calendar import TrackedDeadline, WorkingCalendar, track_deadline
from govdata.core.db import claim, hold, paginate, utcnow
from govdata.core.errors import Conflict, InvalidInput, NotFound, field_error
from govdata.core.policy import RefusalWithoutBasis, ShareReplyClockStart
from govdata.notifications import service as notifications
from govdata.orgs import service as orgs
from govdata.sharing.auth import (
    READ,
    apply_refusal,
    apply_resource_refusal,
    can_read_application,
    check_refusal,
    coordinate_refusal,
    decide_refusal,
    dispute_refusal,
    is_authority,
    receive_refusal,
)
from govdata.sharing.enums import (
    ApplicationStatus,
    CoordinationOutcome,
    CoordinationStep,
    Decision,
    GrantStatus,
    Phase,
)
from govdata.sharing.models import Application, Grant
from govdata.sharing.schemas import ApplicationIn, CheckIn, CoordinateIn, DecisionIn
from govdata.sharing.service.grants import DEFAULT_RATE_LIMIT, issue_grant
from govdata.supervision import service as supervision

SUBJECT = "share_application"
OPEN_PHASES = (Phase.compliance_check, Phase.awaiting_receipt, Phase.awaiting_decision)


# --- reading -------------------------------------------------------------------------------------


def _readable(actor: Actor):
    if is_authority(actor):
        return Application.id.is_not(None)
    return or_(
        Application.consumer_department_id == actor.department_id,
        Application.provider_id == actor.department_id,
    )


def get_application(session: Session, actor: Actor, application_id: int) -> Application:
    require(actor, READ)
    application = session.get(Application, application_id)
    if application is None or not can_read_application(actor, application):
        raise NotFound(f"共享申请 {application_id} 不存在。")
    return application


def list_applications(
    session: Session,
    actor: Actor,
    *,
    role: str | None = None,
    status: str | None = None,
    phase: str | None = None,
    resource_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Application], int]:
    """The caller's department's applications as consumer and as provider (the authority: all)."""
    require(actor, READ)
    stmt = select(Application).where(_readable(actor))
    if role == "consumer":
        stmt = stmt.where(Application.consumer_department_id == actor.department_id)
    elif role == "provider":
        stmt = stmt.where(Application.provider_id == actor.department_id)
    if status:
        stmt = stmt.where(Application.status == status)
    if phase:
        stmt = stmt.where(Application.phase == phase)
    if resource_code:
        stmt = stmt.where(Application.resource_code == resource_code)
    return paginate(session, stmt, Application.id.desc(), limit=limit, offset=offset)


def _take(session: Session, actor: Actor, application_id: int, refusal_of) -> Application:
    """The application, held for the caller's change once ``refusal_of`` allows it. Of two changes at
    once (two officers deciding, a decision and a dispute, the sweep's escalation) one wins; the
    other is judged again on the state the first left: usually ``refusal_of``'s 409."""
    application = get_application(session, actor, application_id)
    hold(session, application, lambda: refusal_of(actor, application), "status", "phase")
    return application


def deadline_of(session: Session, application: Application) -> TrackedDeadline | None:
    return session.get(TrackedDeadline, application.deadline_id) if application.deadline_id else None


def working_days_left(session: Session, application: Application) -> int | None:
    """Working days from today to the running deadline (negative when past), for the countdown."""
    deadline = deadline_of(session, application)
    if deadline is None or application.phase not in OPEN_PHASES:
        return None
    return WorkingCalendar.load(session).working_days_between(clock.today(), deadline.due_date)


# --- applying ------------------------------------------------------------------------------------


def _effective_share_type(item: dict[str, Any], body: dict[str, Any]) -> str:
    return item.get("share_type") or body.get("share_type") or ShareType.none


def _check_items(codes: list[str], known: dict[str, dict], field: str) -> list[str]:
    seen: list[str] = []
    for code in codes:
        key = code.strip().lower()
        if key not in known:
            raise field_error(field, f"“{code}”不是该资源的信息项")
        if key in seen:
            raise field_error(field, f"信息项“{code}”重复")
        seen.append(key)
    return seen


def apply(session: Session, actor: Actor, data: ApplicationIn) -> Application:
    """A consumer department's application for items of a published resource (SHR-2, SHR-3)."""
    system = orgs.system_ref(session, data.system_id)
    enforce(apply_refusal(actor, system.department_id if system else actor.department_id))
    if system is None or not system.active:
        raise field_error("system_id", "应用系统不存在或已停用")
    resource = catalog.find_resource(session, actor, data.resource_code)
    enforce(apply_resource_refusal(actor, resource))
    body = catalog.version_body(session, resource.id) or {}
    known = {i["code"].lower(): i for i in body.get("items", [])}
    items = _check_items(data.items, known, "items")
    masked = _check_items(data.masked_items, known, "masked_items")
    if not set(masked) <= set(items):
        raise field_error("masked_items", "脱敏提供的信息项必须是所申请的信息项")
    purpose, scenario = data.purpose.strip(), data.scenario.strip()
    if not purpose:
        raise field_error("purpose", "必须写明使用目的")
    if not scenario:
        raise field_error("scenario", "必须写明具体应用场景")
    if data.period_end < data.period_start:
        raise field_error("period_end", "使用期限止不能早于起始日")
    if data.period_end < clock.today():
        raise field_error("period_end", "使用期限已过")
    modes = list(dict.fromkeys(m.value for m in data.modes))
    types = {_effective_share_type(known[c], body) for c in items}
    withheld = resource.share_type == ShareType.none or ShareType.none in types
    refused_modes = [m for m in modes if m not in set(body.get("share_modes") or [])]
    if refused_modes and not withheld:  # a withheld resource offers no modes: coordination decides
        raise field_error("modes", f"该资源不提供以下服务方式：{'、'.join(refused_modes)}")
    if withheld and not data.request_coordination:
        raise Conflict(
            "所申请的资源或信息项为不予共享，不能直接申请；如确有需要，可请求主管部门协调"
            "（request_coordination: true）。",
            slug="not-shareable",
        )
    application = Application(
        resource_id=resource.id,
        resource_code=resource.code,
        resource_name=resource.name,
        catalog_version=resource.published_version,
        share_type=resource.share_type,
        provider_id=resource.provider_id,
        consumer_department_id=system.department_id,
        system_id=system.id,
        applicant=actor.name,
        applicant_name=actor.display_name,
        items=items,
        masked_items=masked,
        purpose=purpose,
        scenario=scenario,
        legal_basis=(data.legal_basis or "").strip() or None,
        period_start=data.period_start,
        period_end=data.period_end,
        modes=modes,
        rate_limit=data.rate_limit or DEFAULT_RATE_LIMIT,
        usage_requirements=body.get("usage_requirements"),
        status=ApplicationStatus.pending,
        phase=Phase.awaiting_decision,
        coordination=[],
        submitted_at=utcnow(),
    )
    session.add(application)
    session.flush()
    if withheld:
        _open_coordination(session, application, "请求协调不予共享的数据", data.scenario)
    elif types == {ShareType.unconditional}:
        _grant_at_once(session, application)
    else:
        _start_clock(session, application)
    audit.record(
        session,
        actor,
        "sharing.application.submitted",
        "application",
        application.id,
        details={"resource": resource.code, "items": items, "modes": modes, "status": application.status},
    )
    return application


def _grant_at_once(session: Session, application: Application) -> None:
    """Unconditional items (base items included, CAT-13) are granted on submission (SHR-3)."""
    application.status = ApplicationStatus.approved
    application.phase = Phase.decided
    application.decision = Decision.approve
    application.decided_at = utcnow()
    application.decided_working_days = 0
    application.decided_by = "govdata"
    application.decided_by_name = "平台（无条件共享自动授权）"
    application.decided_items = [
        {"code": c, "masked": c in application.masked_items} for c in application.items
    ]
    application.decided_period_end = application.period_end
    issue_grant(
        session,
        application,
        items=application.decided_items,
        period_end=application.period_end,
        conditions=None,
        rate_limit=min(application.rate_limit, DEFAULT_RATE_LIMIT),  # nobody decided a higher one
    )
    _tell_provider(
        session, application, "sharing.granted", f"无条件共享已自动授权：{application.resource_name}"
    )


def _start_clock(session: Session, application: Application) -> None:
    profile = policy.active_policy(session)
    start = profile.switches.share_reply_clock_start
    if start == ShareReplyClockStart.authority_check:
        application.phase = Phase.compliance_check
        rule = profile.deadlines.compliance_check
        _track(session, application, "compliance_check", rule.working_days if rule else 2)
        notifications.notify(
            session,
            kind="application.check",
            title=f"共享申请待合规审查：{application.resource_name}",
            body=f"申请 {application.id} 待主管部门进行合规审查。",
            link=f"/sharing/applications/{application.id}",
            object_type="application",
            object_id=application.id,
            role=Role.authority,
        )
        return
    if start == ShareReplyClockStart.provider_receipt:
        # until the provider signs, the same allowance runs from submission: an application nobody
        # signs for is escalated like one nobody answers
        application.phase = Phase.awaiting_receipt
        _track(session, application, "share_receipt", profile.deadlines.share_reply.working_days)
    else:
        _track(session, application, "share_reply", profile.deadlines.share_reply.working_days)
    _tell_provider(session, application, "application.received", f"收到共享申请：{application.resource_name}")


def _track(session: Session, application: Application, purpose: str, working_days: int) -> None:
    row = track_deadline(
        session, WorkingCalendar.load(session), SUBJECT, application.id, purpose, clock.today(), working_days
    )
    application.deadline_id = row.id


def _tell_provider(session: Session, application: Application, kind: str, title: str) -> None:
    deadline = deadline_of(session, application)
    due = f"，请于 {deadline.due_date.isoformat()} 前答复" if deadline else ""
    notifications.notify(
        session,
        kind=kind,
        title=title,
        body=f"申请 {application.id}（{application.applicant_name or application.applicant}）{due}。",
        link=f"/sharing/applications/{application.id}",
        object_type="application",
        object_id=application.id,
        department_id=application.provider_id,
    )


def _tell_consumer(session: Session, application: Application, kind: str, title: str, body: str) -> None:
    notifications.notify(
        session,
        kind=kind,
        title=title,
        body=body,
        link=f"/sharing/applications/{application.id}",
        object_type="application",
        object_id=application.id,
        department_id=application.consumer_department_id,
    )


# --- the compliance check and the provider's receipt --------------------------------------------


def check(session: Session, actor: Actor, application_id: int, data: CheckIn) -> Application:
    """The authority's compliance check (符合性审查), when the profile puts it before the provider."""
    application = _take(session, actor, application_id, check_refusal)
    note = (data.note or "").strip() or None
    application.checked_at = utcnow()
    application.checked_by = actor.name
    application.check_note = note
    if data.passed:
        _track(
            session,
            application,
            "share_reply",
            policy.active_policy(session).deadlines.share_reply.working_days,
        )
        application.phase = Phase.awaiting_decision
        application.status = ApplicationStatus.pending
        _tell_provider(
            session, application, "application.received", f"收到共享申请：{application.resource_name}"
        )
    else:
        if not note:
            raise field_error("note", "合规审查不通过时必须写明意见")
        application.status = ApplicationStatus.refused
        application.phase = Phase.closed
        application.reason = f"合规审查未通过：{note}"
        _tell_consumer(
            session,
            application,
            "application.decided",
            f"共享申请未通过合规审查：{application.resource_name}",
            note,
        )
    audit.record(
        session,
        actor,
        "sharing.application.checked",
        "application",
        application.id,
        details={"passed": data.passed, "note": note},
    )
    return application


def receive(session: Session, actor: Actor, application_id: int) -> Application:
    """The provider signs for an application; under the ``provider_receipt`` switch its clock starts."""
    application = _take(session, actor, application_id, receive_refusal)
    _mark_received(session, actor, application)
    return application


def _mark_received(session: Session, actor: Actor, application: Application) -> None:
    application.received_at = utcnow()
    application.received_by = actor.name
    application.phase = Phase.awaiting_decision
    _track(
        session, application, "share_reply", policy.active_policy(session).deadlines.share_reply.working_days
    )
    audit.record(session, actor, "sharing.application.received", "application", application.id)


# --- the decision --------------------------------------------------------------------------------


def _catalog_basis(session: Session, application: Application) -> LegalBasisKind | None:
    """The kind of basis the catalog names for the resource's conditional sharing (SHR-1), in the
    version applied for: a refusal that names none stands on it."""
    body = catalog.version_body(session, application.resource_id, application.catalog_version) or {}
    kind = body.get("legal_basis_kind")
    return LegalBasisKind(kind) if kind in LegalBasisKind.__members__ else None


def _refusal_basis(session: Session, application: Application, data: DecisionIn) -> None:
    """A refusal stands on a law, an administrative regulation or a central policy (seeds 002, 003):
    the kind the decision names, or else the one the catalog gives for the resource's conditions."""
    kind = data.basis_kind or _catalog_basis(session, application)
    valid = kind is not None and kind in REFUSAL_BASES
    if valid:
        application.refusal_basis_kind = kind.value
        return
    switch = policy.active_policy(session).switches.refusal_without_basis
    if switch == RefusalWithoutBasis.refused:
        given = f"“{LegalBasisKind(kind).label}”" if kind else "未写明依据类别"
        raise field_error("basis_kind", f"不予共享须以法律、行政法规或党中央、国务院政策为依据（{given}）")
    application.refusal_basis_kind = kind.value if kind else None
    application.refusal_flagged = True
    supervision.record_violation(
        session,
        kind="refusal_without_basis",
        department_id=application.provider_id,
        object_type="application",
        object_id=str(application.id),
        evidence={
            "application_id": application.id,
            "resource_code": application.resource_code,
            "refused_at": clock.now().isoformat(),
            "basis_kind": kind.value if kind else None,
            "reason": application.reason,
        },
    )


def decide(session: Session, actor: Actor, application_id: int, data: DecisionIn) -> Application:
    """The provider approves, approves in part or refuses (SHR-3); a decision after the deadline is late."""
    application = _take(session, actor, application_id, decide_refusal)
    if application.phase == Phase.awaiting_receipt:
        _mark_received(session, actor, application)
    deadline = deadline_of(session, application)
    application.late = bool(deadline and clock.today() > deadline.due_date)
    application.reason = (data.reason or "").strip() or None
    application.conditions = (data.conditions or "").strip() or None
    application.decision = data.decision.value
    application.decided_at = utcnow()
    application.decided_working_days = WorkingCalendar.load(session).working_days_between(
        clock.china_date(application.submitted_at), clock.today()
    )
    application.decided_by = actor.name
    application.decided_by_name = actor.display_name
    application.phase = Phase.decided
    if data.decision == Decision.refuse:
        if not application.reason:
            raise field_error("reason", "不予共享必须说明理由")
        _refusal_basis(session, application, data)
        application.status = ApplicationStatus.refused
        _tell_consumer(
            session,
            application,
            "application.decided",
            f"共享申请不予同意：{application.resource_name}",
            f"理由：{application.reason}",
        )
    else:
        items, masked, period_end = _granted(application, data, partial=data.decision == Decision.partial)
        application.status = (
            ApplicationStatus.partially_approved
            if data.decision == Decision.partial
            else ApplicationStatus.approved
        )
        application.decided_items = [{"code": c, "masked": c in masked} for c in items]
        application.decided_period_end = period_end
        issue_grant(
            session,
            application,
            items=application.decided_items,
            period_end=period_end,
            conditions=application.conditions,
            rate_limit=data.rate_limit or application.rate_limit,
        )
        _tell_consumer(
            session,
            application,
            "application.decided",
            f"共享申请{ApplicationStatus(application.status).label}：{application.resource_name}",
            f"提供 {len(items)} 个信息项，期限至 {period_end.isoformat()}。"
            + (f"附加条件：{application.conditions}" if application.conditions else ""),
        )
    audit.record(
        session,
        actor,
        "sharing.application.decided",
        "application",
        application.id,
        details={
            "decision": application.decision,
            "items": application.decided_items,
            "period_end": application.decided_period_end.isoformat()
            if application.decided_period_end
            else None,
            "late": application.late,
            "reason": application.reason,
        },
    )
    return application


def _granted(application: Application, data: Any, *, partial: bool) -> tuple[list[str], set[str], date]:
    """Items, masked items and end of period of an approval: the application's, narrowed in part."""
    requested = list(application.items)
    items = list(dict.fromkeys(c.strip().lower() for c in data.items)) if data.items else requested
    extra = [c for c in items if c not in requested]
    if extra:
        raise field_error("items", f"只能在所申请的信息项中选择（{'、'.join(extra)} 未申请）")
    if not items:
        raise field_error("items", "至少提供一个信息项；不提供请选择不予共享")
    masked = (
        {c.strip().lower() for c in data.masked} if data.masked is not None else set(application.masked_items)
    )
    if not masked <= set(items):
        raise field_error("masked", "脱敏提供的信息项必须是提供的信息项")
    period_end = data.period_end or application.period_end
    if period_end > application.period_end or period_end < application.period_start:
        raise field_error("period_end", "使用期限只能在所申请的期限内缩短")
    if partial:
        narrower = (
            len(items) < len(requested)
            or period_end < application.period_end
            or masked - set(application.masked_items)
            or (getattr(data, "conditions", None) or "").strip()
        )
        if not narrower:
            raise InvalidInput(
                "部分同意应减少信息项、缩短期限、增加脱敏项或附加条件；全部同意请选择“同意”。",
                errors=[{"field": "decision", "message": "部分同意没有任何限制"}],
            )
    elif (
        len(items) < len(requested)
        or period_end < application.period_end
        or masked - set(application.masked_items)
    ):
        raise InvalidInput(
            "同意即按申请提供；减少信息项、缩短期限或增加脱敏项请选择“部分同意”。",
            errors=[{"field": "decision", "message": "同意不能缩小申请的范围"}],
        )
    return items, masked, period_end


# --- disputes and coordination (SHR-4) -----------------------------------------------------------


def dispute(session: Session, actor: Actor, application_id: int, reason: str) -> Application:
    """A refused (or partly refused) consumer disputes; the authority coordinates."""
    application = _take(session, actor, application_id, dispute_refusal)
    reason = reason.strip()
    if not reason:
        raise field_error("reason", "必须说明异议理由")
    application.status = ApplicationStatus.disputed
    application.disputed_at = utcnow()
    application.dispute_reason = reason
    _open_coordination(session, application, "共享申请异议", reason)
    audit.record(
        session,
        actor,
        "sharing.application.disputed",
        "application",
        application.id,
        details={"reason": reason},
    )
    return application


def _open_coordination(session: Session, application: Application, title: str, reason: str) -> None:
    application.status = ApplicationStatus.disputed
    application.phase = Phase.coordination
    if application.disputed_at is None:
        application.disputed_at = utcnow()
        application.dispute_reason = reason
    notifications.notify(
        session,
        kind="application.disputed",
        title=f"{title}待协调：{application.resource_name}",
        body=f"申请 {application.id}：{reason}",
        link=f"/sharing/applications/{application.id}",
        object_type="application",
        object_id=application.id,
        role=Role.authority,
    )
    _tell_provider(
        session,
        application,
        "application.disputed",
        f"{title}已提交主管部门协调：{application.resource_name}",
    )


def coordinate(session: Session, actor: Actor, application_id: int, data: CoordinateIn) -> Application:
    """The authority records a negotiation (协商) or its binding coordination (协调), which may order a grant."""
    application = _take(session, actor, application_id, coordinate_refusal)
    note = data.note.strip()
    if not note:
        raise field_error("note", "必须写明协商或协调意见")
    entry: dict[str, Any] = {
        "step": data.step.value,
        "note": note,
        "by": actor.name,
        "by_name": actor.display_name,
        "at": utcnow().isoformat(),
    }
    if data.step == CoordinationStep.decide:
        if data.outcome is None:
            raise field_error("outcome", "协调决定须写明结果：责令提供（grant）或维持不予共享（refuse）")
        entry["outcome"] = data.outcome.value
        application.outcome = data.outcome.value
        application.status = ApplicationStatus.coordinated
        application.phase = Phase.closed
        application.coordinated_at = utcnow()
        if data.outcome == CoordinationOutcome.grant:
            items, masked, period_end = _ordered(application, data)
            _replace_grant(session, application, actor)
            application.decided_items = [{"code": c, "masked": c in masked} for c in items]
            application.decided_period_end = period_end
            issue_grant(
                session,
                application,
                items=application.decided_items,
                period_end=period_end,
                conditions=application.conditions,
                rate_limit=application.rate_limit,
            )
    application.coordination = [*application.coordination, entry]
    for department_id in (application.consumer_department_id, application.provider_id):
        notifications.notify(
            session,
            kind="application.coordinated",
            title=f"主管部门{data.step.label}：{application.resource_name}",
            body=note,
            link=f"/sharing/applications/{application.id}",
            object_type="application",
            object_id=application.id,
            department_id=department_id,
        )
    audit.record(
        session, actor, f"sharing.application.{data.step.value}", "application", application.id, details=entry
    )
    return application


def _ordered(application: Application, data: CoordinateIn) -> tuple[list[str], set[str], date]:
    requested = list(application.items)
    items = list(dict.fromkeys(c.strip().lower() for c in data.items)) if data.items else requested
    extra = [c for c in items if c not in requested]
    if extra or not items:
        raise field_error("items", "责令提供的信息项须在所申请的信息项之中")
    masked = (
        {c.strip().lower() for c in data.masked} if data.masked is not None else set(application.masked_items)
    )
    period_end = data.period_end or application.period_end
    if period_end > application.period_end:
        raise field_error("period_end", "期限不能超过所申请的期限")
    return items, masked & set(items), period_end


def _replace_grant(session: Session, application: Application, actor: Actor) -> None:
    """A coordination that orders a grant supersedes a partial one given before."""
    if application.grant_id is None:
        return
    grant = session.get(Grant, application.grant_id)
    if grant is not None and grant.status in (GrantStatus.active, GrantStatus.suspended):
        grant.status = GrantStatus.revoked
        grant.status_reason = "经主管部门协调，由新的授权替代"
        grant.status_by = actor.name
        grant.status_at = utcnow()


# --- the sweep (escalations) --------------------------------------------------------------------


def escalate_overdue(session: Session) -> int:
    """Undecided applications past their deadline go to the authority and are violations (SHR-3)."""
    today = clock.today()
    rows = session.execute(
        select(Application, TrackedDeadline)
        .join(TrackedDeadline, TrackedDeadline.id == Application.deadline_id)
        .where(
            Application.status == ApplicationStatus.pending,
            Application.phase.in_([Phase.compliance_check, Phase.awaiting_receipt, Phase.awaiting_decision]),
            TrackedDeadline.due_date < today,
        )
    ).all()
    escalated = 0
    for application, deadline in rows:
        if not claim(
            session, Application, application.id, status=ApplicationStatus.pending, phase=application.phase
        ):
            continue  # decided (or received) meanwhile
        escalated += 1
        application.status = ApplicationStatus.escalated
        application.escalated_at = utcnow()
        stage = {
            Phase.compliance_check: "合规审查",
            Phase.awaiting_receipt: "提供部门签收",
        }.get(application.phase, "提供部门答复")
        if application.phase != Phase.compliance_check:
            supervision.record_violation(
                session,
                kind="application_overdue",
                department_id=application.provider_id,
                object_type="application",
                object_id=str(application.id),
                evidence={
                    "application_id": application.id,
                    "resource_code": application.resource_code,
                    "submitted_at": application.submitted_at.isoformat(),
                    "deadline": deadline.due_date.isoformat(),
                    "deadline_provisional": deadline.provisional,
                    "detected_on": today.isoformat(),
                },
            )
            _tell_provider(
                session,
                application,
                "application.escalated",
                f"共享申请已超期并报主管部门：{application.resource_name}",
            )
        notifications.notify(
            session,
            kind="application.escalated",
            title=f"共享申请{stage}超期：{application.resource_name}",
            body=f"申请 {application.id} 的{stage}期限为 {deadline.due_date.isoformat()}，已超期未办结。",
            link=f"/sharing/applications/{application.id}",
            object_type="application",
            object_id=application.id,
            role=Role.authority,
        )
        audit.record(
            session,
            SYSTEM_ACTOR,
            "sharing.application.escalated",
            "application",
            application.id,
            details={"deadline": deadline.due_date.isoformat(), "stage": application.phase},
        )
    return escalated
