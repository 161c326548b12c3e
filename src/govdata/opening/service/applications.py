"""Conditional opening (OPN-3): a public account applies for a conditional open dataset (purpose,
scenario, security commitments, period); the provider's catalog officer approves, approves in part or
refuses within the policy profile's ``conditional_open_decision`` deadline (the platform's own value,
not statutory: POL-1), counted in working days as core's tracked deadlines are; the applicant is told.

An approval lets the applicant download the dataset and make API keys (``keys``), limited to the
dataset, the granted items and the period: :func:`access_for` turns a caller into the
``OpenAccess`` every read, export and API answer starts from. Every download and API call of a public
account or a key is logged (:func:`record_use`: who, dataset, application, rows, time) and counted
(the core's ``count_use``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from govdata.core import audit, clock, policy
from govdata.core.auth import Actor, Role, require
from govdata.core.calendar import TrackedDeadline, WorkingCalendar, track_deadline
from govdata.core.db import hold, paginate, utcnow
from govdata.core.errors import Conflict, InvalidInput, NotFound, field_error
from govdata.notifications import service as notifications
from govdata.opening import service as core
from govdata.opening.public_auth import (
    APPLICATIONS_READ,
    APPLY,
    can_read_application,
    decide_refusal,
    is_authority,
)
from govdata.opening.public_models import OpenAccessLog, OpenApplication
from govdata.opening.public_schemas import ApplicationStatus, Decision, OpenApplicationIn, OpenDecisionIn

if TYPE_CHECKING:
    from govdata.opening.service import OpenAccess, OpenDataset

SUBJECT = "open_application"
PURPOSE = "conditional_open_decision"
APPROVED = (ApplicationStatus.approved.value, ApplicationStatus.partially_approved.value)
MAX_PERIOD_DAYS = 366 * 3


# --- reading -------------------------------------------------------------------------------------


def _readable(actor: Actor):
    if is_authority(actor):
        return OpenApplication.id.is_not(None)
    if Role.public in actor.roles:
        return OpenApplication.account_id == actor.user_id
    if actor.department_id is not None and actor.has_role(Role.dept_officer, Role.dept_head):
        return OpenApplication.provider_id == actor.department_id
    return OpenApplication.id.is_(None)


def get_application(session: Session, actor: Actor, application_id: int) -> OpenApplication:
    require(actor, APPLICATIONS_READ)
    application = session.get(OpenApplication, application_id)
    if application is None or not can_read_application(actor, application):
        raise NotFound(f"开放申请 {application_id} 不存在。")
    return application


def list_applications(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    dataset_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[OpenApplication], int]:
    """The applicant's own applications; the provider's staff those for their datasets; the authority all."""
    require(actor, APPLICATIONS_READ)
    stmt = select(OpenApplication).where(_readable(actor))
    if status:
        stmt = stmt.where(OpenApplication.status == status)
    if dataset_code:
        stmt = stmt.where(OpenApplication.dataset_code == dataset_code)
    return paginate(session, stmt, OpenApplication.id.desc(), limit=limit, offset=offset)


def deadline_of(session: Session, application: OpenApplication) -> TrackedDeadline | None:
    return session.get(TrackedDeadline, application.deadline_id) if application.deadline_id else None


def deadline_statutory(session: Session) -> bool:
    """Whether the decision deadline is set by a rule text: by default it is not (POL-1)."""
    return policy.active_policy(session).deadlines.conditional_open_decision.statutory


def working_days_left(session: Session, application: OpenApplication) -> int | None:
    """Working days from today to the decision deadline (negative when past), while it is pending."""
    deadline = deadline_of(session, application)
    if deadline is None or application.status != ApplicationStatus.pending:
        return None
    return WorkingCalendar.load(session).working_days_between(clock.today(), deadline.due_date)


def application_view(session: Session, application: OpenApplication) -> dict[str, Any]:
    deadline = deadline_of(session, application)
    return {
        "id": application.id,
        "dataset_code": application.dataset_code,
        "dataset_name": application.dataset_name,
        "provider_id": application.provider_id,
        "applicant_name": application.applicant_name,
        "items": list(application.items or []),
        "purpose": application.purpose,
        "scenario": application.scenario,
        "commitments": application.commitments,
        "period_start": application.period_start,
        "period_end": application.period_end,
        "status": application.status,
        "status_label": ApplicationStatus(application.status).label,
        "submitted_at": application.submitted_at,
        "deadline": deadline.due_date if deadline else None,
        "deadline_provisional": bool(deadline and deadline.provisional),
        "deadline_statutory": deadline_statutory(session),
        "working_days_left": working_days_left(session, application),
        "decision": application.decision,
        "decided_items": list(application.decided_items) if application.decided_items is not None else None,
        "decided_period_end": application.decided_period_end,
        "reason": application.reason,
        "decided_at": application.decided_at,
        "late": application.late,
    }


# --- applying ------------------------------------------------------------------------------------


def applicable_items(dataset: OpenDataset) -> list[str]:
    """The items an approved applicant could be given: those the core serves to an application that
    names every item (never level 4, levels 2–3 only de-identified)."""
    every = frozenset(i.code for i in dataset.items)
    probe = core.OpenAccess(account_id=0, application_id=0, items=every)
    return [i.code for i in core.served_items(dataset, probe)]


def conditional_dataset(session: Session, code: str) -> OpenDataset:
    """The conditional open dataset ``code``: 404 when it is not open, 409 when it is open to all."""
    dataset = core.open_dataset(session, (code or "").strip())
    if dataset is None:
        raise NotFound(f"开放数据集 {code} 不存在。")
    if dataset.open_type != "conditional":
        raise Conflict("该数据集无条件开放，无需申请，可直接下载或调用。", slug="unconditional-dataset")
    return dataset


def _check_items(codes: list[str] | None, known: list[str], field: str) -> list[str]:
    if not codes:
        return list(known)
    seen: list[str] = []
    for code in codes:
        key = code.strip().lower()
        if key not in known:
            raise field_error(field, f"“{code}”不是该数据集可申请的信息项")
        if key not in seen:
            seen.append(key)
    return seen


def apply(session: Session, actor: Actor, data: OpenApplicationIn) -> OpenApplication:
    require(actor, APPLY)
    dataset = conditional_dataset(session, data.dataset_code)
    known = [c.lower() for c in applicable_items(dataset)]
    if not known:
        raise Conflict("该数据集暂无可申请的信息项。", slug="nothing-to-apply")
    items = _check_items(data.items, known, "items")
    texts = {f: (getattr(data, f) or "").strip() for f in ("purpose", "scenario", "commitments")}
    for field, text in texts.items():
        if not text:
            raise field_error(field, "不能为空")
    today = clock.today()
    if data.period_end < today:
        raise field_error("period_end", "使用期限不能早于今天")
    if data.period_end > today + timedelta(days=MAX_PERIOD_DAYS):
        raise field_error("period_end", "使用期限最长三年")
    application = OpenApplication(
        account_id=actor.user_id,
        applicant_name=actor.display_name or actor.username or "",
        dataset_code=dataset.code,
        dataset_name=dataset.name,
        provider_id=dataset.provider_id,
        items=items,
        purpose=texts["purpose"],
        scenario=texts["scenario"],
        commitments=texts["commitments"],
        period_start=today,
        period_end=data.period_end,
        status=ApplicationStatus.pending.value,
        submitted_at=utcnow(),
    )
    session.add(application)
    session.flush()
    rule = policy.active_policy(session).deadlines.conditional_open_decision
    row = track_deadline(
        session, WorkingCalendar.load(session), SUBJECT, application.id, PURPOSE, today, rule.working_days
    )
    application.deadline_id = row.id
    notifications.notify(
        session,
        kind="opening.application.received",
        title=f"收到有条件开放申请：{dataset.name}",
        body=f"申请 {application.id}（{application.applicant_name}），请于 {row.due_date.isoformat()} 前决定"
        f"（平台设定期限，非法定）。",
        link=f"/opening/applications/{application.id}",
        object_type=SUBJECT,
        object_id=application.id,
        department_id=dataset.provider_id,
        role=Role.dept_officer,
    )
    audit.record(
        session,
        actor,
        "opening.application.submitted",
        SUBJECT,
        application.id,
        details={"dataset_code": dataset.code, "items": items, "period_end": data.period_end.isoformat()},
    )
    return application


# --- the provider's decision ---------------------------------------------------------------------


def decide(session: Session, actor: Actor, application_id: int, data: OpenDecisionIn) -> OpenApplication:
    application = get_application(session, actor, application_id)
    hold(session, application, lambda: decide_refusal(actor, application))
    deadline = deadline_of(session, application)
    reason = (data.reason or "").strip() or None
    if data.decision == Decision.refuse:
        if not reason:
            raise field_error("reason", "不予同意必须说明理由")
        application.status = ApplicationStatus.refused.value
        body = f"理由：{reason}"
    else:
        items, period_end = _granted(application, data, partial=data.decision == Decision.partial)
        application.decided_items = items
        application.decided_period_end = period_end
        application.status = (
            ApplicationStatus.partially_approved.value
            if data.decision == Decision.partial
            else ApplicationStatus.approved.value
        )
        body = (
            f"获准 {len(items)} 个信息项，期限至 {period_end.isoformat()}。可在“我的账号”下载数据或创建接口密钥。"
            + (f"说明：{reason}" if reason else "")
        )
    application.decision = data.decision.value
    application.reason = reason
    application.decided_at = utcnow()
    application.decided_by = actor.name
    application.decided_by_name = actor.display_name
    application.late = bool(deadline and clock.today() > deadline.due_date)
    notifications.notify(
        session,
        kind="opening.application.decided",
        title=f"有条件开放申请{ApplicationStatus(application.status).label}：{application.dataset_name}",
        body=body,
        link="/account",
        object_type=SUBJECT,
        object_id=application.id,
        user_id=application.account_id,
    )
    audit.record(
        session,
        actor,
        "opening.application.decided",
        SUBJECT,
        application.id,
        details={
            "decision": application.decision,
            "items": application.decided_items,
            "period_end": application.decided_period_end.isoformat()
            if application.decided_period_end
            else None,
            "reason": reason,
            "late": application.late,
        },
    )
    return application


def _granted(application: OpenApplication, data: OpenDecisionIn, *, partial: bool) -> tuple[list[str], date]:
    requested = list(application.items or [])
    items = list(dict.fromkeys(c.strip().lower() for c in data.items)) if data.items else requested
    extra = [c for c in items if c not in requested]
    if extra:
        raise field_error("items", f"只能在所申请的信息项中选择（{'、'.join(extra)} 未申请）")
    if not items:
        raise field_error("items", "至少提供一个信息项；不提供请选择不予同意")
    period_end = data.period_end or application.period_end
    if period_end > application.period_end or period_end < application.period_start:
        raise field_error("period_end", "使用期限只能在所申请的期限内缩短")
    narrower = len(items) < len(requested) or period_end < application.period_end
    if partial and not narrower:
        raise InvalidInput(
            "部分同意应减少信息项或缩短期限；全部同意请选择“同意”。",
            errors=[{"field": "decision", "message": "部分同意没有任何限制"}],
        )
    if not partial and narrower:
        raise InvalidInput(
            "同意即按申请提供；减少信息项或缩短期限请选择“部分同意”。",
            errors=[{"field": "decision", "message": "同意不能缩小申请的范围"}],
        )
    return items, period_end


# --- access for reads (the contract with the portal, downloads and interfaces) -----------------------


def active_application(session: Session, account_id: int, code: str) -> OpenApplication | None:
    """The account's approved application for ``code`` whose period has not ended (the latest)."""
    return session.scalar(
        select(OpenApplication)
        .where(
            OpenApplication.account_id == account_id,
            OpenApplication.dataset_code == code,
            OpenApplication.status.in_(APPROVED),
            OpenApplication.decided_period_end >= clock.today(),
            OpenApplication.period_start <= clock.today(),
        )
        .order_by(OpenApplication.decided_at.desc(), OpenApplication.id.desc())
        .limit(1)
    )


def grant_access(application: OpenApplication) -> OpenAccess:
    return core.OpenAccess(
        account_id=application.account_id,
        application_id=application.id,
        items=frozenset(application.decided_items or []),
    )


def access_for(session: Session, actor_or_key: Actor | str | None, code: str) -> OpenAccess:
    """How the caller reads open dataset ``code``: an approved, current application's items, or as
    anyone (``OpenAccess(account_id=…)`` for a public account, ``OpenAccess()`` for nobody).

    ``actor_or_key`` is the caller (``Actor``) or an API key (a string, see ``keys.resolve_key``); a
    key of another dataset, or a revoked or expired one, reads as anyone. Actor-free in the sense
    that it only says what the caller's own application grants."""
    if isinstance(actor_or_key, str):
        from govdata.opening.service import keys

        resolved = keys.resolve_key(session, actor_or_key)
        if resolved is None or resolved.application_id is None:
            return core.OpenAccess()
        application = session.get(OpenApplication, resolved.application_id)
        if application is None or application.dataset_code != code:
            return core.OpenAccess(account_id=resolved.account_id)
        return resolved
    actor = actor_or_key
    if actor is None or actor.user_id is None or Role.public not in actor.roles:
        return core.OpenAccess()
    application = active_application(session, actor.user_id, code)
    if application is None:
        return core.OpenAccess(account_id=actor.user_id)
    return grant_access(application)


def record_use(
    session: Session,
    access: OpenAccess,
    code: str,
    kind: str,
    *,
    rows: int | None = None,
    detail: str | None = None,
    key_id: int | None = None,
) -> None:
    """Log one download (``kind`` download) or API call (api_call) of a public account or a key, and
    count it on the dataset. Anonymous uses are only counted."""
    if access.account_id is not None or access.application_id is not None:
        session.add(
            OpenAccessLog(
                at=utcnow(),
                account_id=access.account_id,
                application_id=access.application_id,
                key_id=key_id,
                dataset_code=code,
                kind=kind,
                rows=rows,
                detail=(detail or None) and detail[:100],
            )
        )
        session.flush()
    core.count_use(session, code, kind, account_id=access.account_id, application_id=access.application_id)


def uses(
    session: Session, actor: Actor, *, dataset_code: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[OpenAccessLog], int]:
    """The use log a caller may read: a public account its own uses; a provider's staff the uses of
    its open datasets; the authority all."""
    require(actor, APPLICATIONS_READ)
    stmt = select(OpenAccessLog)
    if is_authority(actor):
        pass
    elif Role.public in actor.roles:
        stmt = stmt.where(OpenAccessLog.account_id == actor.user_id)
    elif actor.department_id is not None:
        own = [d.code for d in core.open_datasets(session) if d.provider_id == actor.department_id]
        stmt = stmt.where(
            or_(
                OpenAccessLog.dataset_code.in_(own),
                OpenAccessLog.application_id.in_(
                    select(OpenApplication.id).where(OpenApplication.provider_id == actor.department_id)
                ),
            )
        )
    else:
        stmt = stmt.where(OpenAccessLog.id.is_(None))
    if dataset_code:
        stmt = stmt.where(OpenAccessLog.dataset_code == dataset_code)
    return paginate(session, stmt, OpenAccessLog.id.desc(), limit=limit, offset=offset)
