"""Rectification notices (通知整改, SUP-2): what follows a confirmed violation.

* Opening: confirming a violation opens one notice to its department (:func:`open_notice`,
  idempotent), with a deadline of the policy profile's ``rectification`` working days. No rule text
  sets that number (the profile says so, and so do the answers and pages); it is counted on the
  working calendar and tracked like sharing's and objections' deadlines, so it is provisional while
  it crosses a year whose holiday schedule is not published, and recomputed when it is.
* Answering: the department's catalog officer or head says what it did (required), attachments
  optional.
* Deciding: the authority accepts the answer (the violation becomes ``rectified``, the notice is
  closed) or reopens the notice with a reason and a new deadline.
* Escalating: a notice not rectified in time escalates in the steps of seed 002 (《安徽省政务数据资源
  管理办法（草案征求意见稿）》第四十条): 报告本级人民政府, then 责令限期改正, then 通报批评. The authority
  escalates an open notice (with a reason), and the hourly sweep escalates an open notice past its
  deadline; each step sets a new deadline, is recorded on the timeline (who, when, step, reason) and
  is told to the department and its principal head.

Who may do what in which state is decided once, in ``auth``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.core import attachments, audit, clock, jobs
from govdata.core.auth import SYSTEM_ACTOR, Actor, Role, enforce, require
from govdata.core.calendar import TrackedDeadline, WorkingCalendar, track_deadline
from govdata.core.db import claim, hold, paginate, unit_of_work, utcnow
from govdata.core.errors import InvalidInput, NotFound
from govdata.core.observability import log
from govdata.core.policy import active_policy
from govdata.notifications import service as notifications
from govdata.orgs import service as orgs
from govdata.supervision.auth import (
    NOTICE_ANSWER,
    NOTICE_DECIDE,
    NOTICE_READ,
    accept_refusal,
    answer_refusal,
    escalate_refusal,
    notice_read_refusal,
    readable_notices,
)
from govdata.supervision.auth import (
    SWEEP as SWEEP_PERMISSION,
)
from govdata.supervision.enums import (
    ESCALATION_STEPS,
    EscalationStep,
    NoticeAction,
    NoticeStatus,
    ViolationKind,
    ViolationStatus,
)
from govdata.supervision.models import Notice, NoticeEvent, Violation

PAGE = "/supervision/notices"
SUBJECT = "rectification_notice"
SWEEP = "supervision.sweep"
OVERDUE_REASON = "逾期未完成整改"
MAX_ATTACHMENTS = 5

_SWEEP_PARTS: list[tuple[str, Any]] = []


def notice_href(notice_id: int) -> str:
    return f"{PAGE}/{notice_id}"


def _required(value: str | None, field: str, label: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{label}：必填", errors=[{"field": field, "label": label, "message": "必填"}])
    return text


def _track(session: Session, notice: Notice, start: dt.date) -> TrackedDeadline:
    days = active_policy(session).deadlines.rectification.working_days
    row = track_deadline(
        session, WorkingCalendar.load(session), SUBJECT, notice.id, "rectification", start, days
    )
    notice.deadline_id = row.id
    return row


def _event(
    session: Session,
    notice: Notice,
    action: NoticeAction,
    actor: Actor,
    *,
    text: str | None = None,
    step: EscalationStep | None = None,
    deadline: dt.date | None = None,
    files: list[dict[str, Any]] | None = None,
) -> None:
    session.add(
        NoticeEvent(
            notice_id=notice.id,
            action=action.value,
            step=step.value if step else None,
            actor=actor.name,
            at=utcnow(),
            text=text,
            attachments=files or [],
            deadline=deadline,
        )
    )
    session.flush()


def _principal_user(session: Session, department_id: int) -> str | None:
    """The username of the department's principal head (主要负责人, ORG-2), found by the registered
    name among the department's people, or None."""
    name = orgs.principal_head(session, department_id)
    if not name:
        return None
    for member in orgs.department_members(session, department_id):
        if member.active and member.display_name.strip() == name:
            return member.username
    return None


def _tell_department(session: Session, notice: Notice, kind: str, title: str, body: str) -> None:
    """The department's staff, and its principal head in person (else its heads)."""
    common = {"kind": kind, "title": title, "body": body, "link": notice_href(notice.id)}
    common |= {"object_type": "notice", "object_id": notice.id}
    notifications.notify(session, department_id=notice.department_id, **common)
    username = _principal_user(session, notice.department_id)
    user_id = None
    if username:
        user_id = orgs.actor_named(session, username).user_id
    if user_id is not None:
        notifications.notify(session, user_id=user_id, **common)
    else:
        notifications.notify(session, department_id=notice.department_id, role=Role.dept_head, **common)


def _kind_label(session: Session, notice: Notice) -> str:
    violation = session.get(Violation, notice.violation_id)
    return ViolationKind(violation.kind).label if violation else ""


# --- opening (inside the confirming use case) -------------------------------------------------------


def open_notice(session: Session, violation: Violation, opened_by: Actor) -> Notice:
    """The notice of a confirmed violation, opened now unless it already is (then nothing changes).
    Called by the confirming use case, which checked ``opened_by`` (the authority)."""
    existing = session.scalar(select(Notice).where(Notice.violation_id == violation.id))
    if existing is not None:
        return existing
    # the notice points at its deadline, the deadline names the notice: count it first
    days = active_policy(session).deadlines.rectification.working_days
    calendar = WorkingCalendar.load(session)
    row = track_deadline(session, calendar, SUBJECT, "", "rectification", clock.today(), days)
    notice = Notice(
        violation_id=violation.id,
        department_id=violation.department_id,
        status=NoticeStatus.open.value,
        step=0,
        deadline_id=row.id,
        opened_at=utcnow(),
    )
    session.add(notice)
    session.flush()
    row.subject_id = str(notice.id)
    _event(session, notice, NoticeAction.opened, opened_by, deadline=row.due_date)
    audit.record(
        session,
        opened_by,
        "notice.opened",
        "notice",
        notice.id,
        details={"violation_id": violation.id, "deadline": row.due_date.isoformat()},
    )
    kind = ViolationKind(violation.kind).label
    _tell_department(
        session,
        notice,
        "notice.opened",
        f"整改通知：{kind}",
        f"请于 {row.due_date.isoformat()} 前完成整改并在整改通知页面答复"
        f"（整改期限为平台默认值，非法定期限{'；期限暂按周末推算' if row.provisional else ''}）。",
    )
    return notice


# --- use cases ------------------------------------------------------------------------------------


def list_notices(
    session: Session,
    actor: Actor,
    *,
    status: NoticeStatus | str | None = None,
    department_id: int | None = None,
    violation_id: int | None = None,
    overdue: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Notice], int]:
    """The notices the caller may see, newest first, and how many there are; ``overdue``: the open
    ones past their deadline (a China date before today)."""
    require(actor, NOTICE_READ)
    stmt = select(Notice).where(readable_notices(actor))
    if status:
        stmt = stmt.where(Notice.status == NoticeStatus(status).value)
    if overdue:
        stmt = stmt.join(TrackedDeadline, TrackedDeadline.id == Notice.deadline_id).where(
            Notice.status == NoticeStatus.open.value, TrackedDeadline.due_date < clock.today()
        )
    if department_id is not None:
        stmt = stmt.where(Notice.department_id == department_id)
    if violation_id is not None:
        stmt = stmt.where(Notice.violation_id == violation_id)
    return paginate(session, stmt, Notice.opened_at.desc(), Notice.id.desc(), limit=limit, offset=offset)


def _notice(session: Session, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(f"整改通知 {notice_id} 不存在。")
    return notice


def get_notice(session: Session, actor: Actor, notice_id: int) -> Notice:
    require(actor, NOTICE_READ)
    notice = _notice(session, notice_id)
    enforce(notice_read_refusal(actor, notice))
    return notice


def notice_of_violation(session: Session, actor: Actor, violation_id: int) -> Notice | None:
    """The notice a violation opened, if the caller may see it."""
    require(actor, NOTICE_READ)
    notice = session.scalar(select(Notice).where(Notice.violation_id == violation_id))
    if notice is None or notice_read_refusal(actor, notice) is not None:
        return None
    return notice


def answer(
    session: Session,
    actor: Actor,
    notice_id: int,
    text: str,
    *,
    files: Sequence[tuple[str | None, bytes]] = (),
    data_dir: Path | None = None,
) -> Notice:
    """The department says what it did; files (PDF, images, office documents) are kept with it."""
    require(actor, NOTICE_ANSWER)
    notice = _notice(session, notice_id)
    hold(session, notice, lambda: answer_refusal(actor, notice))
    text = _required(text, "text", "整改情况")
    kept: list[dict[str, Any]] = []
    files = [f for f in files if f[1]]
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(f"附件最多 {MAX_ATTACHMENTS} 个。")
    if files and data_dir is None:
        raise ValueError("attachments need the data directory")
    for name, data in files:
        stored = attachments.store(data, data_dir / "notices" / str(notice.id), what="整改材料")
        kept.append(
            {
                "name": attachments.clean_name(name, "整改材料"),
                "content_type": stored.content_type,
                "size": stored.size,
                "sha256": stored.sha256,
                "stored_as": f"notices/{stored.stored_as}",
            }
        )
    notice.status = NoticeStatus.answered.value
    _event(session, notice, NoticeAction.answered, actor, text=text, files=kept)
    audit.record(
        session,
        actor,
        "notice.answered",
        "notice",
        notice.id,
        details={"text": text, "attachments": len(kept)},
    )
    department = orgs.department_names(session, [notice.department_id]).get(notice.department_id, "")
    notifications.notify(
        session,
        kind="notice.answered",
        title=f"{department}已答复整改通知：{_kind_label(session, notice)}",
        body=text[:500],
        link=notice_href(notice.id),
        object_type="notice",
        object_id=notice.id,
        role=Role.authority,
    )
    return notice


def accept(session: Session, actor: Actor, notice_id: int, comment: str | None = None) -> Notice:
    """The authority accepts the answer: the notice is closed and the violation rectified."""
    require(actor, NOTICE_DECIDE)
    notice = _notice(session, notice_id)
    hold(session, notice, lambda: accept_refusal(actor, notice))
    comment = (comment or "").strip() or None
    notice.status = NoticeStatus.closed.value
    notice.closed_at = utcnow()
    violation = session.get(Violation, notice.violation_id)
    violation.status = ViolationStatus.rectified.value
    _event(session, notice, NoticeAction.accepted, actor, text=comment)
    audit.record(session, actor, "notice.accepted", "notice", notice.id, details={"comment": comment})
    audit.record(
        session, actor, "violation.rectified", "violation", violation.id, details={"notice_id": notice.id}
    )
    _tell_department(
        session,
        notice,
        "notice.accepted",
        f"整改已验收通过：{ViolationKind(violation.kind).label}",
        "主管部门已验收整改情况，整改通知销号。" + (f"意见：{comment}" if comment else ""),
    )
    return notice


def _new_deadline(session: Session, notice: Notice) -> TrackedDeadline:
    return _track(session, notice, clock.today())


def reopen(session: Session, actor: Actor, notice_id: int, reason: str) -> Notice:
    """The authority sends the answer back: the department rectifies again, by a new deadline."""
    require(actor, NOTICE_DECIDE)
    notice = _notice(session, notice_id)
    hold(session, notice, lambda: accept_refusal(actor, notice))
    reason = _required(reason, "reason", "理由")
    notice.status = NoticeStatus.open.value
    row = _new_deadline(session, notice)
    _event(session, notice, NoticeAction.reopened, actor, text=reason, deadline=row.due_date)
    audit.record(
        session,
        actor,
        "notice.reopened",
        "notice",
        notice.id,
        details={"reason": reason, "deadline": row.due_date.isoformat()},
    )
    _tell_department(
        session,
        notice,
        "notice.reopened",
        f"整改未通过验收，请重新整改：{_kind_label(session, notice)}",
        f"理由：{reason}。请于 {row.due_date.isoformat()} 前重新整改并答复。",
    )
    return notice


def _escalate(session: Session, notice: Notice, actor: Actor, reason: str) -> Notice:
    step = ESCALATION_STEPS[notice.step]
    notice.step += 1
    row = _new_deadline(session, notice)
    _event(session, notice, NoticeAction.escalated, actor, text=reason, step=step, deadline=row.due_date)
    audit.record(
        session,
        actor,
        "notice.escalated",
        "notice",
        notice.id,
        details={"step": step.value, "reason": reason, "deadline": row.due_date.isoformat()},
    )
    kind = _kind_label(session, notice)
    body = (
        f"整改通知升级督办：{step.label}。理由：{reason}。请于 {row.due_date.isoformat()} 前完成整改并答复。"
    )
    _tell_department(session, notice, "notice.escalated", f"整改通知升级督办（{step.label}）：{kind}", body)
    if actor is SYSTEM_ACTOR:
        notifications.notify(
            session,
            kind="notice.escalated",
            title=f"整改通知逾期，已升级督办（{step.label}）：{kind}",
            body=body,
            link=notice_href(notice.id),
            object_type="notice",
            object_id=notice.id,
            role=Role.authority,
        )
    return notice


def escalate(session: Session, actor: Actor, notice_id: int, reason: str) -> Notice:
    """The authority escalates an open notice one step (seed 002, art. 40), saying why."""
    require(actor, NOTICE_DECIDE)
    notice = _notice(session, notice_id)
    hold(session, notice, lambda: escalate_refusal(actor, notice), "status", "step")
    return _escalate(session, notice, actor, _required(reason, "reason", "理由"))


def escalate_overdue(session: Session) -> int:
    """Open notices past their deadline escalate one step (each step sets a new deadline, so a notice
    climbs one step per missed deadline); idempotent within a deadline."""
    today = clock.today()
    rows = session.scalars(
        select(Notice)
        .join(TrackedDeadline, TrackedDeadline.id == Notice.deadline_id)
        .where(
            Notice.status == NoticeStatus.open.value,
            Notice.step < len(ESCALATION_STEPS),
            TrackedDeadline.due_date < today,
        )
        .order_by(Notice.id)
    ).all()
    escalated = 0
    for notice in rows:
        if claim(session, Notice, notice.id, status=NoticeStatus.open.value, step=notice.step):
            escalated += 1  # else answered or escalated by hand meanwhile
            _escalate(session, notice, SYSTEM_ACTOR, OVERDUE_REASON)
    return escalated


# --- the sweep ------------------------------------------------------------------------------------


def register_sweep_part(name: str, part: Any) -> None:
    """A package above supervision adds ``part(session) -> int`` to the hourly sweep (the violation
    detectors that need facts of the capabilities above it); registering a name again replaces it."""
    _SWEEP_PARTS[:] = [(n, p) for n, p in _SWEEP_PARTS if n != name]
    _SWEEP_PARTS.append((name, part))


def sweep(session: Session) -> dict[str, int]:
    """One pass: the registered detectors, then overdue notices escalated."""
    done: dict[str, int] = {}
    for name, part in _SWEEP_PARTS:
        try:  # one failing detector leaves the others and the escalations their turn
            with session.begin_nested():
                done[name] = part(session)
        except Exception:
            log.exception("supervision.sweep.part_failed", part=name)
            done[name] = 0
    done["escalated"] = escalate_overdue(session)
    return done


def tick(session: Session, actor: Actor) -> dict[str, int]:
    """The sweep on demand (``govdata tick``, an administrator or the authority)."""
    require(actor, SWEEP_PERMISSION)
    return sweep(session)


@jobs.handler(SWEEP)
def run_sweep(context: jobs.JobContext, payload: dict) -> None:
    with unit_of_work(context.factory) as session:
        sweep(session)


# --- views ------------------------------------------------------------------------------------------


def notice_views(session: Session, notices: list[Notice], *, timeline: bool = False) -> list[dict[str, Any]]:
    """Notices as the API and the pages show them."""
    if not notices:
        return []
    names = orgs.department_names(session, {n.department_id for n in notices})
    violations = {
        v.id: v
        for v in session.scalars(select(Violation).where(Violation.id.in_([n.violation_id for n in notices])))
    }
    deadlines = {
        d.id: d
        for d in session.scalars(
            select(TrackedDeadline).where(TrackedDeadline.id.in_([n.deadline_id for n in notices]))
        )
    }
    events: dict[int, list[NoticeEvent]] = {}
    if timeline:
        for event in session.scalars(
            select(NoticeEvent)
            .where(NoticeEvent.notice_id.in_([n.id for n in notices]))
            .order_by(NoticeEvent.at, NoticeEvent.id)
        ):
            events.setdefault(event.notice_id, []).append(event)
    people = orgs.display_names(session, (e.actor for group in events.values() for e in group))
    people[SYSTEM_ACTOR.name] = "平台"
    rule = active_policy(session).deadlines.rectification
    today = clock.today()
    views = []
    for n in notices:
        violation = violations[n.violation_id]
        deadline = deadlines[n.deadline_id]
        step = ESCALATION_STEPS[n.step - 1] if n.step else None
        view: dict[str, Any] = {
            "id": n.id,
            "violation_id": n.violation_id,
            "violation_kind": violation.kind,
            "violation_kind_label": ViolationKind(violation.kind).label,
            "department_id": n.department_id,
            "department_name": names.get(n.department_id),
            "status": n.status,
            "status_label": NoticeStatus(n.status).label,
            "step": step.value if step else None,
            "step_label": step.label if step else None,
            "deadline": deadline.due_date,
            "deadline_provisional": deadline.provisional,
            "deadline_statutory": rule.statutory,
            "deadline_source": rule.source,
            "overdue": n.status == NoticeStatus.open and deadline.due_date < today,
            "opened_at": n.opened_at,
            "closed_at": n.closed_at,
        }
        if timeline:
            view["timeline"] = [
                {
                    "action": e.action,
                    "action_label": NoticeAction(e.action).label,
                    "step": e.step,
                    "step_label": EscalationStep(e.step).label if e.step else None,
                    "actor": e.actor,
                    "actor_name": people.get(e.actor, e.actor),
                    "at": e.at,
                    "text": e.text,
                    "deadline": e.deadline,
                    "attachments": [
                        {k: a[k] for k in ("name", "content_type", "size", "sha256")}
                        for a in e.attachments or []
                    ],
                }
                for e in events.get(n.id, [])
            ]
        views.append(view)
    return views
