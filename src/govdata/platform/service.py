"""Use cases over the platform's own records, with their permission checks (SEC-2, SEC-3, CAL, POL).

The mechanisms live in ``core`` (audit chain, working days, policy profiles); this layer decides who
may use them, so that API, CLI and pages share one rule.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govdata.core import audit, calendar, policy
from govdata.core.auth import Actor, require
from govdata.core.errors import field_error
from govdata.platform.auth import AUDIT_READ, CALENDAR_MANAGE, CALENDAR_READ, POLICY_MANAGE, POLICY_READ

MAX_WORKING_DAYS = 1000


def list_audit_events(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    offset: int,
    action: str | None = None,
    actor_name: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[audit.AuditEvent], int]:
    require(actor, AUDIT_READ)
    stmt = select(audit.AuditEvent)
    if action:
        stmt = stmt.where(audit.AuditEvent.action.startswith(action, autoescape=True))
    if actor_name:
        stmt = stmt.where(audit.AuditEvent.actor == actor_name)
    if object_type:
        stmt = stmt.where(audit.AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(audit.AuditEvent.object_id == object_id)
    if since:
        stmt = stmt.where(audit.AuditEvent.occurred_at >= since)
    if until:
        stmt = stmt.where(audit.AuditEvent.occurred_at < until)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(stmt.order_by(audit.AuditEvent.seq.desc()).limit(limit).offset(offset)).all()
    return list(items), total


def verify_audit(session: Session, actor: Actor) -> audit.Verification:
    require(actor, AUDIT_READ)
    return audit.verify_chain(session)


def deadline(session: Session, actor: Actor, start: date, working_days: int) -> calendar.Deadline:
    require(actor, CALENDAR_READ)
    if not 0 <= working_days <= MAX_WORKING_DAYS:
        raise field_error("working_days", f"工作日数应在 0 至 {MAX_WORKING_DAYS} 之间。")
    return calendar.WorkingCalendar.load(session).add_working_days(start, working_days)


def import_calendar_year(
    session: Session,
    actor: Actor,
    year: int,
    holidays: list[date],
    workdays: list[date],
    note: str | None = None,
):
    require(actor, CALENDAR_MANAGE)
    return calendar.import_year(session, actor, year, holidays, workdays, note)


def list_calendar_years(session: Session, actor: Actor):
    require(actor, CALENDAR_READ)
    return list(session.scalars(select(calendar.CalendarYear).order_by(calendar.CalendarYear.year)))


def active_policy(session: Session, actor: Actor) -> policy.PolicyProfile:
    require(actor, POLICY_READ)
    return policy.active_policy(session)


def list_policies(session: Session, actor: Actor):
    require(actor, POLICY_READ)
    return policy.list_profiles(session)


def save_policy(session: Session, actor: Actor, profile: policy.PolicyProfile, activate: bool = False):
    require(actor, POLICY_MANAGE)
    return policy.save_profile(session, actor, profile, activate=activate)


def activate_policy(session: Session, actor: Actor, name: str):
    require(actor, POLICY_MANAGE)
    return policy.activate_profile(session, actor, name)
