"""Conflicts between departments' data (QUA-3): recorded while fusing, negotiated, decided.

* Detection: a build records one conflict per library, key, element and set of values (resource →
  value) that do not agree (``core.values``: numbers as numbers, so "1.0" and "1" agree, else trimmed
  text). Rebuilding with the same disagreement only marks it seen again; a disagreement that is gone
  (the data now agree, or changed into another disagreement) closes the unsettled record as resolved
  by the platform, and a changed one opens a new record. The audit trail names who ran the build.
* Negotiation: the departments involved (their officers and heads) comment and propose values; each
  department confirms the value it agrees to, and the conflict is resolved once every department
  involved has confirmed the same value (one party alone cannot close it). The coordination deadline
  is the policy's ``deadlines.conflict_coordination`` (working days from detection), tracked by
  ``core.calendar``.
* Decision: an unresolved conflict is escalated to the authority by a department involved (the
  authority does not escalate to itself); the authority decides a value with a reason, recorded with
  who and when. Past the deadline the authority decides without an escalation.
* Visibility: the authority sees every conflict; a department sees those involving its resources
  (others get 404).

Who may do what to a conflict in which state is decided once, in ``auth`` (``*_refusal`` raised here,
``can_*`` asked by the pages).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from govdata.core import audit, calendar, clock, policy
from govdata.core.auth import SYSTEM_ACTOR, Actor, enforce, require
from govdata.core.db import paginate, utcnow
from govdata.core.errors import NotFound, PermissionDenied
from govdata.core.values import agree
from govdata.libraries.auth import (
    CONFLICT_COMMENT,
    CONFLICT_DECIDE,
    CONFLICT_ESCALATE,
    CONFLICT_READ,
    CONFLICT_RESOLVE,
    LIBRARY_MANAGE,
    can_see_conflict,
    comment_refusal,
    decide_refusal,
    escalate_refusal,
    resolve_refusal,
    sees_every_conflict,
)
from govdata.libraries.models import (
    CONFLICT_STATUS_LABELS,
    NEGOTIABLE,
    UNSETTLED,
    ConflictStatus,
    Library,
    LibraryConflict,
    LibraryConflictComment,
    LibraryConflictParty,
)
from govdata.libraries.schemas import CommentIn, DecideIn, EscalateIn, ResolveIn
from govdata.notifications import service as notifications
from govdata.orgs import service as orgs
from govdata.store.fusion import FusedField, FusionResult

DEADLINE_SUBJECT = "library_conflict"
DEADLINE_PURPOSE = "conflict_coordination"
AUTO_CLOSED = "重建基础库时该不一致已不存在（数据已一致或已变化），由平台自动关闭。"
# who closed a conflict that a rebuild no longer finds: the platform itself (a name, not a caller)
AUTO_CLOSED_BY = SYSTEM_ACTOR.name


# --- detection (while building) ----------------------------------------------------------------


@dataclass
class DetectionCounts:
    conflicts_new: int
    conflicts_still_open: int
    conflicts_closed: int


def digest(values: list[dict[str, Any]]) -> str:
    """What makes a conflict the same one on the next build: which resource holds which value."""
    canonical = json.dumps(
        sorted((v["resource_code"], v["value"]) for v in values), ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record_detected(
    session: Session,
    actor: Actor,
    library: Library,
    fields: list[FusedField],
    resources: dict[int, dict[str, Any]],
    result: FusionResult,
    *,
    complete: bool,
) -> DetectionCounts:
    """Turn the disagreeing observations of a build into conflict records (idempotent); ``actor``
    is who ran the build."""
    require(actor, LIBRARY_MANAGE)
    now = utcnow()
    detected: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for (key, index), group in groupby(result.observations, key=lambda o: (o[0], o[1])):
        field = fields[index]
        authoritative = field.source.resource_id if field.source else None
        values = []
        for _, _, resource_id, value, batch_id in group:
            resource = resources[resource_id]
            values.append(
                {
                    "resource_id": resource_id,
                    "resource_code": resource["resource_code"],
                    "resource_name": resource["resource_name"],
                    "department_id": resource["department_id"],
                    "department_name": resource["department_name"],
                    "value": value,
                    "batch_id": batch_id,
                    "authoritative": resource_id == authoritative,
                }
            )
        values.sort(key=lambda v: (not v["authoritative"], v["resource_code"]))
        detected[(key, field.name, digest(values))] = values
    existing = {
        (key, element, values_digest): (conflict_id, status)
        for conflict_id, key, element, values_digest, status in session.execute(
            select(
                LibraryConflict.id,
                LibraryConflict.key,
                LibraryConflict.element,
                LibraryConflict.values_digest,
                LibraryConflict.status,
            ).where(LibraryConflict.library_id == library.id)
        )
    }
    seen = [existing[k][0] for k in detected if k in existing]
    for start in range(0, len(seen), 500):
        session.execute(
            update(LibraryConflict)
            .where(LibraryConflict.id.in_(seen[start : start + 500]))
            .values(last_seen_at=now)
        )
    still_open = sum(1 for k in detected if k in existing and existing[k][1] in UNSETTLED)
    working_days = policy.active_policy(session).deadlines.conflict_coordination.working_days
    cal = calendar.WorkingCalendar.load(session)
    new_ids = []
    for (key, element, values_digest), values in detected.items():
        if (key, element, values_digest) in existing:
            continue
        conflict = LibraryConflict(
            library_id=library.id,
            key=key,
            element=element,
            values=values,
            values_digest=values_digest,
            status=ConflictStatus.open,
            detected_at=now,
            last_seen_at=now,
        )
        conflict.parties = [
            LibraryConflictParty(department_id=d) for d in sorted({v["department_id"] for v in values})
        ]
        session.add(conflict)
        session.flush()
        tracked = calendar.track_deadline(
            session, cal, DEADLINE_SUBJECT, conflict.id, DEADLINE_PURPOSE, clock.today(), working_days
        )
        conflict.tracked_deadline_id = tracked.id
        new_ids.append(conflict.id)
    closed_ids = []
    if complete:
        closed_ids = [
            conflict_id
            for k, (conflict_id, status) in existing.items()
            if status in UNSETTLED and k not in detected
        ]
        for start in range(0, len(closed_ids), 500):
            session.execute(
                update(LibraryConflict)
                .where(LibraryConflict.id.in_(closed_ids[start : start + 500]))
                .values(
                    status=ConflictStatus.resolved,
                    resolution=AUTO_CLOSED,
                    decided_by=AUTO_CLOSED_BY,
                    decided_at=now,
                )
            )
    session.flush()
    if new_ids:
        audit.record(
            session,
            actor,
            "library.conflicts.detected",
            "library",
            library.id,
            details={"conflicts": new_ids, "deadline_working_days": working_days},
        )
    if closed_ids:
        audit.record(
            session,
            actor,
            "library.conflicts.auto_closed",
            "library",
            library.id,
            details={"conflicts": closed_ids},
        )
    return DetectionCounts(len(new_ids), still_open, len(closed_ids))


# --- reading -----------------------------------------------------------------------------------------


def _visible(session: Session, actor: Actor, conflict_id: int) -> LibraryConflict:
    conflict = session.get(LibraryConflict, conflict_id)
    if conflict is None or not can_see_conflict(actor, conflict):
        raise NotFound(f"数据冲突 {conflict_id} 不存在。")
    return conflict


def get_conflict(session: Session, actor: Actor, conflict_id: int) -> LibraryConflict:
    require(actor, CONFLICT_READ)
    return _visible(session, actor, conflict_id)


def list_conflicts(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    library_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[LibraryConflict], int]:
    """The authority sees every conflict; a department those involving its resources."""
    require(actor, CONFLICT_READ)
    stmt = select(LibraryConflict)
    if not sees_every_conflict(actor):
        if actor.department_id is None:
            raise PermissionDenied("只有部门用户可以查看涉及本部门的数据冲突。")
        stmt = stmt.join(LibraryConflictParty, LibraryConflictParty.conflict_id == LibraryConflict.id).where(
            LibraryConflictParty.department_id == actor.department_id
        )
    if status:
        stmt = stmt.where(LibraryConflict.status == status)
    if library_id is not None:
        stmt = stmt.where(LibraryConflict.library_id == library_id)
    return paginate(session, stmt, LibraryConflict.id.desc(), limit=limit, offset=offset)


def is_overdue(conflict: LibraryConflict, on: dt.date | None = None) -> bool:
    """Past the coordination deadline (today in China, unless ``on`` says otherwise)."""
    return conflict.overdue_on(on or clock.today())


def conflict_view(conflict: LibraryConflict) -> dict[str, Any]:
    session = object_session(conflict)
    names = orgs.display_names(session, [conflict.escalated_by, conflict.decided_by]) if session else {}
    names[AUTO_CLOSED_BY] = "平台（重建基础库时自动关闭）"
    return {
        "id": conflict.id,
        "library_id": conflict.library_id,
        "library_name": conflict.library.name,
        "key": conflict.key,
        "element": conflict.element,
        "values": conflict.values,
        "department_ids": sorted(conflict.department_ids),
        "parties": [
            {
                "department_id": p.department_id,
                "department_name": p.department.name if p.department else None,
                "agreed_value": p.agreed_value,
                "agreed_by": p.agreed_by,
                "agreed_by_name": p.agreed_by_name,
                "agreed_at": p.agreed_at,
            }
            for p in sorted(conflict.parties, key=lambda p: p.department_id)
        ],
        "awaiting_department_ids": sorted(p.department_id for p in awaiting(conflict))
        if conflict.status in NEGOTIABLE
        else [],
        "status": conflict.status,
        "status_label": CONFLICT_STATUS_LABELS.get(conflict.status, conflict.status),
        "detected_at": conflict.detected_at,
        "last_seen_at": conflict.last_seen_at,
        "deadline": conflict.tracked.due_date if conflict.tracked else None,
        "deadline_provisional": bool(conflict.tracked and conflict.tracked.provisional),
        "overdue": is_overdue(conflict),
        "escalated_by": conflict.escalated_by,
        "escalated_by_name": names.get(conflict.escalated_by or ""),
        "escalated_at": conflict.escalated_at,
        "escalation_reason": conflict.escalation_reason,
        "resolution": conflict.resolution,
        "decided_value": conflict.decided_value,
        "decided_by": conflict.decided_by,
        "decided_by_name": names.get(conflict.decided_by or ""),
        "decided_at": conflict.decided_at,
        "comments": [
            {
                "id": c.id,
                "author": c.author,
                "author_name": c.author_name,
                "department_id": c.department_id,
                "department_name": c.department.name if c.department else None,
                "comment": c.comment,
                "proposed_value": c.proposed_value,
                "created_at": c.created_at,
            }
            for c in conflict.comments
        ],
    }


# --- negotiation and decision ------------------------------------------------------------------------
# Each use case checks the caller's right, then the object rule of ``auth`` (party, state), which
# the pages ask too.


def comment(session: Session, actor: Actor, conflict_id: int, data: CommentIn) -> LibraryConflict:
    require(actor, CONFLICT_COMMENT)
    conflict = _visible(session, actor, conflict_id)
    enforce(comment_refusal(actor, conflict))
    entry = LibraryConflictComment(
        conflict_id=conflict.id,
        author=actor.name,
        author_name=actor.display_name,
        department_id=actor.department_id,
        comment=data.comment,
        proposed_value=data.proposed_value or None,
    )
    session.add(entry)
    if conflict.status == ConflictStatus.open:
        conflict.status = ConflictStatus.negotiating
    session.flush()
    session.refresh(conflict)
    audit.record(
        session,
        actor,
        "library.conflict.commented",
        "library_conflict",
        conflict.id,
        details={"comment": data.comment, "proposed_value": data.proposed_value},
    )
    return conflict


def awaiting(conflict: LibraryConflict) -> list[LibraryConflictParty]:
    """The parties that have not confirmed the value the others agreed to (all of them until one has
    confirmed; every party when the confirmed values differ)."""
    confirmed = [p.agreed_value for p in conflict.parties if p.agreed_value is not None]
    if not confirmed or any(agree(v, confirmed[0]) is not True for v in confirmed):
        return [p for p in conflict.parties if p.agreed_value is None] or list(conflict.parties)
    return [p for p in conflict.parties if p.agreed_value is None]


def resolve(session: Session, actor: Actor, conflict_id: int, data: ResolveIn) -> LibraryConflict:
    """The caller's department confirms the value it agrees to. The conflict is resolved once every
    department involved has confirmed the same value: one party alone cannot close it (QUA-3, seed
    002: 不同部门提供同一类别的数据不一致时，相关部门应当及时协商形成一致意见)."""
    require(actor, CONFLICT_RESOLVE)
    conflict = _visible(session, actor, conflict_id)
    enforce(resolve_refusal(actor, conflict))
    now = utcnow()
    party = next(p for p in conflict.parties if p.department_id == actor.department_id)
    party.agreed_value = data.value
    party.agreed_by = actor.name
    party.agreed_by_name = actor.display_name
    party.agreed_at = now
    session.add(
        LibraryConflictComment(
            conflict_id=conflict.id,
            author=actor.name,
            author_name=actor.display_name,
            department_id=actor.department_id,
            comment=data.note or "确认同意采用该值。",
            proposed_value=data.value,
        )
    )
    if conflict.status == ConflictStatus.open:
        conflict.status = ConflictStatus.negotiating
    session.flush()
    session.refresh(conflict)
    waiting = awaiting(conflict)
    if not waiting:
        conflict.status = ConflictStatus.resolved
        conflict.decided_value = data.value
        conflict.resolution = data.note or "相关部门协商一致。"
        conflict.decided_by = actor.name
        conflict.decided_by_department_id = actor.department_id
        conflict.decided_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "library.conflict.resolved" if not waiting else "library.conflict.agreed",
        "library_conflict",
        conflict.id,
        details={
            "value": data.value,
            "note": data.note,
            "awaiting_departments": [p.department_id for p in waiting],
        },
    )
    for other in waiting:
        if other.department_id == actor.department_id:
            continue
        notifications.notify(
            session,
            kind="library.conflict.agreement_requested",
            title=f"请确认数据冲突 #{conflict.id} 的协商结果",
            body=(
                f"{actor.display_name or actor.name}（{party.department.name if party.department else ''}）"
                f"确认“{conflict.element}”采用值“{data.value}”。各相关部门都确认同一值后冲突方办结。"
            ),
            link=f"/conflicts/{conflict.id}",
            object_type="library_conflict",
            object_id=conflict.id,
            department_id=other.department_id,
        )
    return conflict


def escalate(session: Session, actor: Actor, conflict_id: int, data: EscalateIn) -> LibraryConflict:
    require(actor, CONFLICT_ESCALATE)
    conflict = _visible(session, actor, conflict_id)
    enforce(escalate_refusal(actor, conflict))
    conflict.status = ConflictStatus.escalated
    conflict.escalated_by = actor.name
    conflict.escalated_at = utcnow()
    conflict.escalation_reason = data.reason or None
    session.flush()
    audit.record(
        session,
        actor,
        "library.conflict.escalated",
        "library_conflict",
        conflict.id,
        details={"reason": data.reason, "overdue": is_overdue(conflict)},
    )
    return conflict


def decide(session: Session, actor: Actor, conflict_id: int, data: DecideIn) -> LibraryConflict:
    """The authority's decision on an escalated conflict (or one past its coordination deadline)."""
    require(actor, CONFLICT_DECIDE)
    conflict = _visible(session, actor, conflict_id)
    overdue = is_overdue(conflict)
    enforce(decide_refusal(actor, conflict))
    now = utcnow()
    if conflict.status != ConflictStatus.escalated:
        conflict.escalated_by = actor.name
        conflict.escalated_at = now
        conflict.escalation_reason = "协商期限届满，由主管部门直接裁决。"
    conflict.status = ConflictStatus.decided
    conflict.decided_value = data.value
    conflict.resolution = data.reason
    conflict.decided_by = actor.name
    conflict.decided_by_department_id = actor.department_id
    conflict.decided_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "library.conflict.decided",
        "library_conflict",
        conflict.id,
        details={"value": data.value, "reason": data.reason, "after_deadline": overdue},
    )
    return conflict
