"""The provider's review (COR-2, COR-4): one head-approved extension, and the outcome.

* **Extension.** The review deadline (``deadlines.correction_review``, 10 working days) may be
  extended once, by the number of working days the head chooses — at most
  ``deadlines.correction_extension_max`` (10), which is also what an unsaid number means — counted
  from the original deadline. Who approves is POL-1's ``review_extension_by``: any ``dept_head`` of
  the provider, or its principal head (主要负责人, ``orgs.principal_head``). The officer may ask
  first (the head then approves on the page); the head may extend directly (``/extend``). The
  extended deadline is a tracked deadline of its own (start and working days of the original plus
  the extension: the same day, and recounted when a year's schedule is imported). A second
  extension is 409, as is one after the deadline has passed.
* **Outcome.** ``rejected`` keeps the data and needs a reason. ``corrected`` applies the new values
  (the claimed ones unless others are given) as a batch of aggregation's (``create_batch``, upsert,
  strict, as the provider's officer): history, as-of reads, rollback and audit as any batch. The
  objection stays under review until the batch is applied (``settle``: the route waits for it, and
  the ``batch_applied`` handler and the sweep settle it too); a batch that is refused leaves the
  objection under review with the reason, so the officer can correct again. Either outcome is sent
  to the filer (the message centre) and clears the flag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.core import audit, clock, policy
from govdata.core.auth import SYSTEM_ACTOR, Actor, Role, enforce, require
from govdata.core.calendar import WorkingCalendar, track_deadline
from govdata.core.db import utcnow
from govdata.core.errors import Conflict, field_error
from govdata.core.policy import PolicyProfile, ReviewExtensionBy
from govdata.notifications import service as notifications
from govdata.objections import flags
from govdata.objections.auth import (
    EXTEND,
    extend_refusal,
    request_extension_refusal,
    resolve_refusal,
)
from govdata.objections.enums import ObjectionStatus, Outcome
from govdata.objections.models import Objection
from govdata.objections.schemas import ExtendIn, ResolveIn
from govdata.objections.service.filing import objection_href
from govdata.objections.service.reading import (
    SUBJECT,
    deadline_of,
    get_objection,
    original_deadline_of,
)
from govdata.objections.service.records import stored_record
from govdata.orgs import service as orgs
from govdata.store.sql import SqlStore

APPLIED = "applied"


# --- the extension (COR-2) ----------------------------------------------------------------------------


def _extension_days(profile: PolicyProfile, asked: int | None) -> int:
    most = profile.deadlines.correction_extension_max.working_days
    if asked is None:
        return most
    if asked < 1 or asked > most:
        raise field_error("working_days", f"延长的工作日数应为 1 至 {most}（策略规定的上限）")
    return asked


def _before_deadline(session: Session, objection: Objection) -> None:
    deadline = deadline_of(session, objection)
    if deadline is not None and clock.today() > deadline.due_date:
        raise Conflict(
            f"复核期限（{deadline.due_date.isoformat()}）已过，不能再延长；请尽快复核并反馈。",
            slug="deadline-passed",
        )


def request_extension(session: Session, actor: Actor, objection_id: int, data: ExtendIn) -> Objection:
    """The provider's officer asks the head to extend the review once (the head approves on the page)."""
    objection = get_objection(session, actor, objection_id)
    enforce(request_extension_refusal(actor, objection))
    days = _extension_days(policy.active_policy(session), data.working_days)
    reason = data.reason.strip()
    if not reason:
        raise field_error("reason", "请写明需要延长复核期限的理由")
    _before_deadline(session, objection)
    objection.extension_requested_at = utcnow()
    objection.extension_requested_by = actor.name
    objection.extension_requested_by_name = actor.display_name
    objection.extension_request_reason = reason
    objection.extension_request_days = days
    notifications.notify(
        session,
        kind="objection.extension_requested",
        title=f"疑义复核申请延期，待您批准：{objection.resource_name}",
        body=f"疑义 {objection.id}：申请延长 {days} 个工作日。理由：{reason}",
        link=objection_href(objection.id),
        object_type="objection",
        object_id=objection.id,
        department_id=objection.provider_id,
        role=Role.dept_head,
    )
    audit.record(
        session,
        actor,
        "objections.objection.extension_requested",
        "objection",
        objection.id,
        details={"working_days": days, "reason": reason},
    )
    return objection


def principal_head_of(session: Session, objection: Objection, profile: PolicyProfile) -> str | None:
    """The provider's principal head when the profile says only they extend (else None: any head)."""
    if profile.switches.review_extension_by != ReviewExtensionBy.principal_head:
        return None
    return orgs.principal_head(session, objection.provider_id)


def extend(session: Session, actor: Actor, objection_id: int, data: ExtendIn) -> Objection:
    """The provider's head extends the review once, ``working_days`` past the original deadline."""
    require(actor, EXTEND)
    objection = get_objection(session, actor, objection_id)
    profile = policy.active_policy(session)
    enforce(
        extend_refusal(
            actor,
            objection,
            switch=profile.switches.review_extension_by,
            principal_head=principal_head_of(session, objection, profile),
        )
    )
    days = _extension_days(profile, data.working_days)
    reason = data.reason.strip()
    if not reason:
        raise field_error("reason", "请写明延长复核期限的理由")
    _before_deadline(session, objection)
    _claim(
        session,
        objection,
        Objection.extended.is_(False),
        Conflict("复核期限已延长过一次，不能再次延长。", slug="already-extended"),
        extended=True,
    )
    original = original_deadline_of(session, objection)
    row = track_deadline(
        session,
        WorkingCalendar.load(session),
        SUBJECT,
        objection.id,
        "correction_extension",
        original.start_date,
        original.working_days + days,
    )
    objection.deadline_id = row.id
    objection.extended = True
    objection.extended_at = utcnow()
    objection.extended_by = actor.name
    objection.extended_by_name = actor.display_name
    objection.extension_reason = reason
    objection.extension_days = days
    text = (
        f"复核期限由 {original.due_date.isoformat()} 延长 {days} 个工作日至 {row.due_date.isoformat()}"
        + ("（暂定）" if row.provisional else "")
        + f"，经 {actor.display_name or actor.name} 批准。理由：{reason}"
    )
    _tell_filer(
        session, objection, "objection.extended", f"疑义复核期限已延长：{objection.resource_name}", text
    )
    notifications.notify(
        session,
        kind="objection.extended",
        title=f"疑义复核期限已延长：{objection.resource_name}",
        body=text,
        link=objection_href(objection.id),
        object_type="objection",
        object_id=objection.id,
        department_id=objection.provider_id,
    )
    audit.record(
        session,
        actor,
        "objections.objection.extended",
        "objection",
        objection.id,
        details={
            "working_days": days,
            "reason": reason,
            "original_deadline": original.due_date.isoformat(),
            "deadline": row.due_date.isoformat(),
            "deadline_provisional": row.provisional,
            "requested_by": objection.extension_requested_by,
        },
    )
    return objection


# --- the outcome (COR-4) -------------------------------------------------------------------------------


def _claim(session: Session, objection: Objection, condition, refused: Conflict, **values: Any) -> None:
    """Change the row only if it is still open and ``condition`` holds in the database, not only in
    this session's copy: of two heads extending (or two officers resolving) at once, one wins and the
    other gets the 409 the refusal predicates give once the first has committed."""
    changed = session.execute(
        update(Objection)
        .where(Objection.id == objection.id, Objection.status == ObjectionStatus.under_review, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise refused


def _tell_filer(session: Session, objection: Objection, kind: str, title: str, body: str) -> None:
    """The filer (its user, else its department) hears through the message centre; one raised off the
    platform by someone without an account reads the answer where the provider records it."""
    recipient: dict[str, Any]
    if objection.filer_user_id is not None:
        recipient = {"user_id": objection.filer_user_id}
    elif objection.filer_department_id is not None:
        recipient = {"department_id": objection.filer_department_id}
    else:
        return
    notifications.notify(
        session,
        kind=kind,
        title=title,
        body=body,
        link=objection_href(objection.id),
        object_type="objection",
        object_id=objection.id,
        **recipient,
    )


def _late(session: Session, objection: Objection) -> bool:
    deadline = deadline_of(session, objection)
    return bool(deadline and clock.today() > deadline.due_date)


def _values(objection: Objection, given: dict[str, Any] | None) -> dict[str, Any]:
    """The corrected values: the claimed ones, or those given for the objection's items."""
    if not given:
        return dict(objection.items)
    values: dict[str, Any] = {}
    for raw, value in given.items():
        code = str(raw).strip().lower()
        if code not in objection.items:
            raise field_error(f"values.{raw}", "只能更正疑义涉及的信息项")
        values[code] = value.strip() if isinstance(value, str) else value
    return values


def resolve(
    session: Session,
    actor: Actor,
    store: SqlStore | None,
    data_dir: Path,
    objection_id: int,
    data: ResolveIn,
) -> Objection:
    """Keep the data (``rejected``, with a reason) or queue the correction batch (``corrected``); the
    correction's outcome is settled when its batch finishes (:func:`settle`)."""
    objection = get_objection(session, actor, objection_id)
    enforce(resolve_refusal(actor, objection))
    reason = (data.reason or "").strip() or None
    _claim(
        session,
        objection,
        Objection.correction_batch_id.is_(None),
        Conflict("该疑义已复核办结，或更正数据正在入库。", slug="invalid-state"),
        resolved_at=utcnow(),
    )
    if data.outcome == Outcome.rejected:
        if data.values:
            raise field_error("values", "维持原数据时不更正任何值")
        if not reason:
            raise field_error("reason", "维持原数据必须说明理由")
        objection.status = ObjectionStatus.rejected
        objection.outcome = Outcome.rejected
        objection.resolution_reason = reason
        _mark_resolved(session, actor, objection)
        _tell_filer(
            session,
            objection,
            "objection.resolved",
            f"疑义复核结果：维持原数据（{objection.resource_name}）",
            f"疑义 {objection.id} 经复核维持原数据。理由：{reason}",
        )
        audit.record(
            session,
            actor,
            "objections.objection.rejected",
            "objection",
            objection.id,
            details={"reason": reason, "late": objection.late},
        )
        flags.invalidate_after_commit(session)
        return objection
    values = _values(objection, data.values)
    if store is None:
        raise ValueError("a correction reads the record in the data store")
    record = stored_record(session, store, objection.resource_id, objection.record_key)
    if record is None:
        raise Conflict(
            "该记录已不在数据中（可能已被删除），无法更正；请维持原数据并说明情况。", slug="record-gone"
        )
    row = {code: record.values.get(code) for code in (*record.key_items, *record.required)}
    row.update(values)
    batch = aggregation.create_batch(
        session,
        actor,
        data_dir,
        objection.resource_code,
        mode="upsert",
        policy="strict",
        records=[row],
    )
    objection.correction_batch_id = batch.id
    objection.correction_values = values
    objection.correction_error = None
    objection.resolution_reason = reason
    _mark_resolved(session, actor, objection)
    audit.record(
        session,
        actor,
        "objections.objection.correction_queued",
        "objection",
        objection.id,
        details={"batch": batch.id, "items": sorted(values), "reason": reason},
    )
    return objection


def _mark_resolved(session: Session, actor: Actor, objection: Objection) -> None:
    objection.resolved_at = utcnow()
    objection.resolved_by = actor.name
    objection.resolved_by_name = actor.display_name
    objection.late = _late(session, objection)


def settle(session: Session, objection: Objection) -> str | None:
    """Finish a queued correction once its batch has finished: ``corrected`` when it was applied,
    back under review with the reason when it was not; None while it runs. Safe to call from several
    places at once (the first to change the row does the rest)."""
    batch_id = objection.correction_batch_id
    if batch_id is None or objection.status != ObjectionStatus.under_review:
        return None
    facts = aggregation.batch_facts(session, batch_id)
    if facts is None or facts.status not in aggregation.FINISHED:
        return None
    same = (
        Objection.id == objection.id,
        Objection.status == ObjectionStatus.under_review,
        Objection.correction_batch_id == batch_id,
    )
    if facts.status == APPLIED:
        changed = session.execute(
            update(Objection)
            .where(*same)
            .values(status=ObjectionStatus.corrected, outcome=Outcome.corrected)
            .execution_options(synchronize_session=False)
        ).rowcount
        session.refresh(objection)  # settled meanwhile by another caller, or now by this one
        if not changed:
            return None
        values = "；".join(
            f"{code} 更正为 {value}" for code, value in (objection.correction_values or {}).items()
        )
        _tell_filer(
            session,
            objection,
            "objection.resolved",
            f"疑义复核结果：已更正（{objection.resource_name}）",
            f"疑义 {objection.id} 经复核已更正数据：{values}。"
            + (f"复核意见：{objection.resolution_reason}" if objection.resolution_reason else ""),
        )
        audit.record(
            session,
            SYSTEM_ACTOR,
            "objections.objection.corrected",
            "objection",
            objection.id,
            details={"batch": batch_id, "by": objection.resolved_by, "late": objection.late},
        )
        flags.invalidate_after_commit(session)
        return ObjectionStatus.corrected
    message = f"更正批次 #{batch_id} 未能入库（{facts.status}），数据未改变；请查看批次报告后重新更正。"
    changed = session.execute(
        update(Objection)
        .where(*same)
        .values(
            correction_batch_id=None,
            correction_error=message,
            resolved_at=None,
            resolved_by=None,
            resolved_by_name=None,
            late=False,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(objection)
    if not changed:
        return None
    notifications.notify(
        session,
        kind="objection.correction_failed",
        title=f"疑义更正未能入库：{objection.resource_name}",
        body=f"疑义 {objection.id}：{message}",
        link=objection_href(objection.id),
        object_type="objection",
        object_id=objection.id,
        department_id=objection.provider_id,
    )
    audit.record(
        session,
        SYSTEM_ACTOR,
        "objections.objection.correction_failed",
        "objection",
        objection.id,
        details={"batch": batch_id, "status": facts.status},
    )
    return ObjectionStatus.under_review


def settle_batch(session: Session, batch_id: int) -> int:
    """Settle the objections corrected by a batch (after ``aggregation.batch_applied``)."""
    settled = 0
    for objection in session.scalars(
        select(Objection).where(
            Objection.correction_batch_id == batch_id, Objection.status == ObjectionStatus.under_review
        )
    ):
        settled += settle(session, objection) is not None
    return settled


def settle_pending(session: Session) -> int:
    """Settle every queued correction whose batch has finished (the sweep's fallback)."""
    settled = 0
    for objection in session.scalars(
        select(Objection).where(
            Objection.correction_batch_id.is_not(None), Objection.status == ObjectionStatus.under_review
        )
    ):
        settled += settle(session, objection) is not None
    return settled
