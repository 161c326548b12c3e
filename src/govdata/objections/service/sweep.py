"""The objections sweep: overdue reviews go to the authority and are violations (COR-4, SUP-2), and
queued corrections whose batch has finished are settled. Scheduled hourly (one job per hour, however
many processes fire it) and run by ``govdata tick``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.core import audit, clock, jobs
from govdata.core.auth import SYSTEM_ACTOR, Actor, Role, require
from govdata.core.calendar import TrackedDeadline
from govdata.core.db import unit_of_work, utcnow
from govdata.notifications import service as notifications
from govdata.objections.auth import SWEEP as SWEEP_PERMISSION
from govdata.objections.enums import ObjectionStatus
from govdata.objections.models import Objection
from govdata.objections.service.filing import objection_href
from govdata.objections.service.review import settle_pending
from govdata.supervision import service as supervision

SWEEP = "objections.sweep"


def escalate_overdue(session: Session) -> int:
    """Reviews past their deadline, not answered: the authority is told, the provider's violation
    recorded (``objection_overdue``), once. The provider can still answer (late)."""
    today = clock.today()
    rows = session.execute(
        select(Objection, TrackedDeadline)
        .join(TrackedDeadline, TrackedDeadline.id == Objection.deadline_id)
        .where(
            Objection.status == ObjectionStatus.under_review,
            Objection.escalated_at.is_(None),
            Objection.correction_batch_id.is_(None),
            TrackedDeadline.due_date < today,
        )
    ).all()
    for objection, deadline in rows:
        objection.escalated_at = utcnow()
        supervision.record_violation(
            session,
            kind="objection_overdue",
            department_id=objection.provider_id,
            object_type="objection",
            object_id=str(objection.id),
            evidence={
                "objection_id": objection.id,
                "resource_code": objection.resource_code,
                "received_on": objection.received_on.isoformat(),
                "deadline": deadline.due_date.isoformat(),
                "deadline_provisional": deadline.provisional,
                "extended": objection.extended,
                "detected_on": today.isoformat(),
            },
        )
        text = f"疑义 {objection.id}（{objection.resource_name}）的复核期限为 {deadline.due_date.isoformat()}，已超期未反馈。"
        notifications.notify(
            session,
            kind="objection.escalated",
            title=f"疑义复核超期：{objection.resource_name}",
            body=text,
            link=objection_href(objection.id),
            object_type="objection",
            object_id=objection.id,
            role=Role.authority,
        )
        notifications.notify(
            session,
            kind="objection.escalated",
            title=f"疑义复核已超期并报主管部门：{objection.resource_name}",
            body=text,
            link=objection_href(objection.id),
            object_type="objection",
            object_id=objection.id,
            department_id=objection.provider_id,
        )
        audit.record(
            session,
            SYSTEM_ACTOR,
            "objections.objection.escalated",
            "objection",
            objection.id,
            details={"deadline": deadline.due_date.isoformat(), "extended": objection.extended},
        )
    return len(rows)


def sweep(session: Session) -> dict[str, int]:
    """One pass; idempotent (an escalated review is not escalated twice)."""
    return {"settled": settle_pending(session), "escalated": escalate_overdue(session)}


def tick(session: Session, actor: Actor) -> dict[str, int]:
    """The sweep on demand (``govdata tick``, an administrator or the authority)."""
    require(actor, SWEEP_PERMISSION)
    return sweep(session)


@jobs.handler(SWEEP)
def run_sweep(context: jobs.JobContext, payload: dict) -> None:
    with unit_of_work(context.factory) as session:
        sweep(session)
