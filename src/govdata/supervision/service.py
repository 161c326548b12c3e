"""The violations register (SUP-2): detected violations, contested by departments, decided by the
authority.

* Recording: :func:`record_violation` is actor-free and runs inside the detecting capability's
  transaction (a share application found overdue, a refusal without legal basis). A violation is
  named by ``(kind, object_type, object_id)``: recording it again returns the same id and changes
  nothing. The platform records it in its own name (the audit trail says ``govdata``), and the
  department is told in its message centre.
* Contesting: the department's catalog officer or head contests a violation just detected, with a
  reason; the authority is told.
* Deciding: the authority confirms or withdraws a violation detected or contested (withdrawing needs
  a reason); the department is told.
* Rectification: a confirmed violation opens a rectification notice (``notices``), whose acceptance
  makes the violation ``rectified``.
* Visibility: the authority, the administrator and the auditor see every violation, a department's
  staff their department's.

Who may do what in which state is decided once, in ``auth``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govdata.core import audit
from govdata.core.auth import SYSTEM_ACTOR, Actor, Role, enforce, require
from govdata.core.db import hold, paginate, utcnow
from govdata.core.errors import InvalidInput, NotFound
from govdata.notifications import service as notifications
from govdata.orgs import service as orgs
from govdata.supervision import notices
from govdata.supervision.auth import (
    VIOLATION_CONTEST,
    VIOLATION_DECIDE,
    VIOLATION_READ,
    contest_refusal,
    decide_refusal,
    read_refusal,
    readable,
)
from govdata.supervision.enums import OBJECT_TYPE_LABELS, ViolationKind, ViolationStatus
from govdata.supervision.figures import (  # noqa: F401  (facts for the scorecards, re-exported)
    SupervisionFigures,
    awaiting_rectification,
    supervision_figures,
)
from govdata.supervision.models import Notice, Violation

PAGE = "/supervision/violations"


def _link(violation_id: int) -> str:
    return f"{PAGE}?id={violation_id}"


def _object_text(violation: Violation) -> str:
    return f"{OBJECT_TYPE_LABELS.get(violation.object_type, violation.object_type)} {violation.object_id}"


# --- recording (actor-free, inside the detector's transaction) -----------------------------------


def _find(session: Session, kind: str, object_type: str, object_id: str) -> int | None:
    return session.scalar(
        select(Violation.id).where(
            Violation.kind == kind, Violation.object_type == object_type, Violation.object_id == object_id
        )
    )


def record_violation(
    session: Session,
    *,
    kind: ViolationKind | str,
    department_id: int,
    object_type: str,
    object_id: object,
    evidence: dict[str, Any],
) -> int:
    """Record that ``department_id`` committed a violation of ``kind`` about one object; the id of
    the violation, new or already recorded (then nothing changes). ``evidence`` names the objects and
    dates that prove it (dates may be given as dates: they are kept as ISO text)."""
    kind = ViolationKind(kind)
    object_id = str(object_id)
    existing = _find(session, kind, object_type, object_id)
    if existing is not None:
        return existing
    violation = Violation(
        kind=kind.value,
        department_id=department_id,
        object_type=object_type,
        object_id=object_id,
        detected_at=utcnow(),
        evidence=json.loads(json.dumps(evidence or {}, ensure_ascii=False, default=str)),
        status=ViolationStatus.detected.value,
    )
    try:
        # a concurrent detector may record the same fact first: a savepoint keeps the caller's work
        with session.begin_nested():
            session.add(violation)
            session.flush()
    except IntegrityError:
        existing = _find(session, kind, object_type, object_id)
        if existing is None:
            raise
        return existing
    audit.record(
        session,
        SYSTEM_ACTOR,
        "violation.recorded",
        "violation",
        violation.id,
        details={
            "kind": kind.value,
            "department_id": department_id,
            "object_type": object_type,
            "object_id": object_id,
            "evidence": violation.evidence,
        },
    )
    notifications.notify(
        session,
        kind="violation.recorded",
        title=f"本部门有一条违规记录：{kind.label}",
        body=f"{_object_text(violation)}。如有异议，请在违规记录页面提出。",
        link=_link(violation.id),
        object_type="violation",
        object_id=violation.id,
        department_id=department_id,
    )
    return violation.id


# --- use cases ------------------------------------------------------------------------------------


def list_violations(
    session: Session,
    actor: Actor,
    *,
    kind: ViolationKind | str | None = None,
    department_id: int | None = None,
    status: ViolationStatus | str | None = None,
    violation_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Violation], int]:
    """The violations the caller may see, newest first, and how many there are."""
    require(actor, VIOLATION_READ)
    stmt = select(Violation).where(readable(actor))
    if kind:
        stmt = stmt.where(Violation.kind == ViolationKind(kind).value)
    if status:
        stmt = stmt.where(Violation.status == ViolationStatus(status).value)
    if department_id is not None:
        stmt = stmt.where(Violation.department_id == department_id)
    if violation_id is not None:
        stmt = stmt.where(Violation.id == violation_id)
    return paginate(
        session, stmt, Violation.detected_at.desc(), Violation.id.desc(), limit=limit, offset=offset
    )


def _violation(session: Session, violation_id: int) -> Violation:
    violation = session.get(Violation, violation_id)
    if violation is None:
        raise NotFound(f"违规记录 {violation_id} 不存在。")
    return violation


def get_violation(session: Session, actor: Actor, violation_id: int) -> Violation:
    require(actor, VIOLATION_READ)
    violation = _violation(session, violation_id)
    enforce(read_refusal(actor, violation))
    return violation


def _required_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        # named here: "reason" is labelled 修订原因 by the catalog for every schema
        raise InvalidInput("理由：必填", errors=[{"field": "reason", "label": "理由", "message": "必填"}])
    return text


def _decide(
    session: Session,
    actor: Actor,
    violation_id: int,
    status: ViolationStatus,
    reason: str | None,
    *,
    reason_required: bool,
) -> Violation:
    require(actor, VIOLATION_DECIDE)
    violation = _violation(session, violation_id)
    hold(session, violation, lambda: decide_refusal(actor, violation))
    reason = _required_reason(reason) if reason_required else (reason or "").strip() or None
    before = violation.status
    violation.status = status.value
    violation.decided_by = actor.name
    violation.decided_at = utcnow()
    violation.reason = reason
    session.flush()
    audit.record(
        session,
        actor,
        f"violation.{status.value}",
        "violation",
        violation.id,
        details={"from": before, "reason": reason},
    )
    kind = ViolationKind(violation.kind)
    notifications.notify(
        session,
        kind=f"violation.{status.value}",
        title=f"违规记录{status.label}：{kind.label}",
        body=f"{_object_text(violation)}。" + (f"理由：{reason}" if reason else ""),
        link=_link(violation.id),
        object_type="violation",
        object_id=violation.id,
        department_id=violation.department_id,
    )
    if status is ViolationStatus.confirmed:
        notices.open_notice(session, violation, actor)  # 通知整改: one notice per violation
    return violation


def confirm(session: Session, actor: Actor, violation_id: int, reason: str | None = None) -> Violation:
    """The authority confirms a violation detected or contested."""
    return _decide(session, actor, violation_id, ViolationStatus.confirmed, reason, reason_required=False)


def withdraw(session: Session, actor: Actor, violation_id: int, reason: str) -> Violation:
    """The authority withdraws a violation detected or contested, saying why."""
    return _decide(session, actor, violation_id, ViolationStatus.withdrawn, reason, reason_required=True)


def contest(session: Session, actor: Actor, violation_id: int, reason: str) -> Violation:
    """The department's officer or head contests a violation just detected, saying why."""
    require(actor, VIOLATION_CONTEST)
    violation = _violation(session, violation_id)
    hold(session, violation, lambda: contest_refusal(actor, violation))
    violation.contest_reason = _required_reason(reason)
    violation.contested_by = actor.name
    violation.contested_at = utcnow()
    violation.status = ViolationStatus.contested.value
    session.flush()
    audit.record(
        session,
        actor,
        "violation.contested",
        "violation",
        violation.id,
        details={"reason": violation.contest_reason},
    )
    department = orgs.department_names(session, [violation.department_id]).get(violation.department_id, "")
    kind = ViolationKind(violation.kind)
    notifications.notify(
        session,
        kind="violation.contested",
        title=f"{department}对违规记录提出异议：{kind.label}",
        body=f"{_object_text(violation)}。异议理由：{violation.contest_reason}",
        link=_link(violation.id),
        object_type="violation",
        object_id=violation.id,
        role=Role.authority,
    )
    return violation


def violation_views(session: Session, violations: list[Violation]) -> list[dict[str, Any]]:
    """Violations as the API and the pages show them (department names looked up once)."""
    names = orgs.department_names(session, {v.department_id for v in violations})
    return [
        {
            "id": v.id,
            "kind": v.kind,
            "kind_label": ViolationKind(v.kind).label,
            "department_id": v.department_id,
            "department_name": names.get(v.department_id),
            "object_type": v.object_type,
            "object_type_label": OBJECT_TYPE_LABELS.get(v.object_type, v.object_type),
            "object_id": v.object_id,
            "detected_at": v.detected_at,
            "evidence": v.evidence or {},
            "status": v.status,
            "status_label": ViolationStatus(v.status).label,
            "contest_reason": v.contest_reason,
            "contested_by": v.contested_by,
            "contested_at": v.contested_at,
            "decided_by": v.decided_by,
            "decided_at": v.decided_at,
            "reason": v.reason,
        }
        for v in violations
    ]


# --- facts for other capabilities --------------------------------------------------------------


@dataclass(frozen=True)
class ViolationRef:
    id: int
    kind: str
    department_id: int
    object_type: str
    object_id: str
    status: str
    detected_at: datetime


def violations_about(session: Session, object_type: str, object_id: object) -> list[ViolationRef]:
    """The violations recorded about one object (a share application, say), oldest first."""
    rows = session.scalars(
        select(Violation)
        .where(Violation.object_type == object_type, Violation.object_id == str(object_id))
        .order_by(Violation.id)
    )
    return [
        ViolationRef(v.id, v.kind, v.department_id, v.object_type, v.object_id, v.status, v.detected_at)
        for v in rows
    ]


@dataclass(frozen=True)
class ViolationYearFact:
    """A violation detected in a span, with its rectification notice as it stands (for the annual
    report): the notice's status, the escalation step reached (0: none) and when it was closed."""

    id: int
    kind: str
    department_id: int
    status: str
    detected_at: datetime
    notice_status: str | None
    notice_step: int
    notice_closed_at: datetime | None


def violations_detected(session: Session, start: datetime, end: datetime) -> list[ViolationYearFact]:
    """The violations detected in ``[start, end)`` (UTC instants) with their notices, oldest first."""
    rows = session.execute(
        select(Violation, Notice.status, Notice.step, Notice.closed_at)
        .outerjoin(Notice, Notice.violation_id == Violation.id)
        .where(Violation.detected_at >= start, Violation.detected_at < end)
        .order_by(Violation.detected_at, Violation.id)
    )
    return [
        ViolationYearFact(
            v.id, v.kind, v.department_id, v.status, v.detected_at, notice_status, step or 0, closed_at
        )
        for v, notice_status, step, closed_at in rows
    ]
