"""Reading objections: who sees which, their deadlines and working-day countdowns."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from govdata.core import clock
from govdata.core.auth import Actor, require
from govdata.core.calendar import TrackedDeadline, WorkingCalendar
from govdata.core.db import paginate
from govdata.core.errors import NotFound
from govdata.objections.auth import READ, can_read, is_authority
from govdata.objections.enums import ObjectionStatus
from govdata.objections.models import Objection, ObjectionAttachment

SUBJECT = "objection"


def _readable(actor: Actor):
    if is_authority(actor):
        return Objection.id.is_not(None)
    return or_(
        Objection.filer_department_id == actor.department_id,
        Objection.provider_id == actor.department_id,
    )


def get_objection(session: Session, actor: Actor, objection_id: int) -> Objection:
    """The objection, when the caller may see it (404 otherwise)."""
    require(actor, READ)
    objection = session.get(Objection, objection_id)
    if objection is None or not can_read(actor, objection):
        raise NotFound(f"疑义 {objection_id} 不存在。")
    return objection


def list_objections(
    session: Session,
    actor: Actor,
    *,
    role: str | None = None,
    status: str | None = None,
    overdue: bool = False,
    extension_requested: bool = False,
    resource_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Objection], int]:
    """The caller's department's objections as filer and as provider (the authority: all).
    ``overdue``: those past their deadline, still under review or answered late;
    ``extension_requested``: those under review whose extension waits for the head's approval."""
    require(actor, READ)
    stmt = select(Objection).where(_readable(actor))
    if role == "filer":
        stmt = stmt.where(Objection.filer_department_id == actor.department_id)
    elif role == "provider":
        stmt = stmt.where(Objection.provider_id == actor.department_id)
    if status:
        stmt = stmt.where(Objection.status == status)
    if resource_code:
        stmt = stmt.where(Objection.resource_code == resource_code)
    if extension_requested:
        stmt = stmt.where(
            Objection.status == ObjectionStatus.under_review,
            Objection.extension_requested_at.is_not(None),
            Objection.extended.is_(False),
        )
    if overdue:
        stmt = stmt.join(TrackedDeadline, TrackedDeadline.id == Objection.deadline_id).where(
            or_(
                and_(
                    Objection.status == ObjectionStatus.under_review,
                    TrackedDeadline.due_date < clock.today(),
                ),
                Objection.late.is_(True),
                Objection.escalated_at.is_not(None),
            )
        )
    return paginate(session, stmt, Objection.id.desc(), limit=limit, offset=offset)


def deadline_of(session: Session, objection: Objection) -> TrackedDeadline | None:
    """The deadline that runs now (the extended one after an extension)."""
    return session.get(TrackedDeadline, objection.deadline_id) if objection.deadline_id else None


def original_deadline_of(session: Session, objection: Objection) -> TrackedDeadline | None:
    if objection.original_deadline_id is None:
        return None
    return session.get(TrackedDeadline, objection.original_deadline_id)


def working_days_left(
    session: Session, objection: Objection, calendar: WorkingCalendar | None = None
) -> int | None:
    """Working days from today to the deadline (negative when past) while under review."""
    deadline = deadline_of(session, objection)
    if deadline is None or objection.status != ObjectionStatus.under_review:
        return None
    calendar = calendar or WorkingCalendar.load(session)
    return calendar.working_days_between(clock.today(), deadline.due_date)


def attachments_of(session: Session, objection: Objection) -> list[ObjectionAttachment]:
    return list(
        session.scalars(
            select(ObjectionAttachment)
            .where(ObjectionAttachment.objection_id == objection.id)
            .order_by(ObjectionAttachment.id)
        )
    )
