"""Share demands (共享需求): a consumer asks for data the catalog does not list; the authority assigns a
provider with a deadline (the profile's ``share_demand_answer``, not statutory); the provider answers
with a catalog entry (a published resource of its own) or a reasoned refusal. Overdue answers are
marked late; supervision counts them."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.core import audit, clock, policy
from govdata.core.auth import Actor, Role, enforce, require
from govdata.core.calendar import TrackedDeadline, WorkingCalendar, track_deadline
from govdata.core.db import hold, paginate, utcnow
from govdata.core.errors import NotFound, field_error
from govdata.notifications import service as notifications
from govdata.orgs import service as orgs
from govdata.sharing.auth import (
    READ,
    demand_answer_refusal,
    demand_assign_refusal,
    demand_refusal,
    is_authority,
)
from govdata.sharing.enums import DemandStatus
from govdata.sharing.models import Demand
from govdata.sharing.schemas import DemandAnswerIn, DemandAssignIn, DemandIn


def _readable(actor: Actor):
    if is_authority(actor):
        return Demand.id.is_not(None)
    return or_(
        Demand.consumer_department_id == actor.department_id, Demand.provider_id == actor.department_id
    )


def create_demand(session: Session, actor: Actor, data: DemandIn) -> Demand:
    enforce(demand_refusal(actor))
    title, description, purpose = data.title.strip(), data.description.strip(), data.purpose.strip()
    for field, value in (("title", title), ("description", description), ("purpose", purpose)):
        if not value:
            raise field_error(field, "必填")
    demand = Demand(
        title=title,
        description=description,
        purpose=purpose,
        legal_basis=(data.legal_basis or "").strip() or None,
        consumer_department_id=actor.department_id,
        requester=actor.name,
        requester_name=actor.display_name,
        status=DemandStatus.submitted,
    )
    session.add(demand)
    session.flush()
    notifications.notify(
        session,
        kind="demand.submitted",
        title=f"新的共享需求：{title}",
        body=f"{description[:200]}",
        link=f"/sharing/demands/{demand.id}",
        object_type="demand",
        object_id=demand.id,
        role=Role.authority,
    )
    audit.record(session, actor, "sharing.demand.submitted", "demand", demand.id, details={"title": title})
    return demand


def get_demand(session: Session, actor: Actor, demand_id: int) -> Demand:
    require(actor, READ)
    demand = session.scalar(select(Demand).where(Demand.id == demand_id, _readable(actor)))
    if demand is None:
        raise NotFound(f"共享需求 {demand_id} 不存在。")
    return demand


def list_demands(
    session: Session, actor: Actor, *, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Demand], int]:
    require(actor, READ)
    stmt = select(Demand).where(_readable(actor))
    if status:
        stmt = stmt.where(Demand.status == status)
    return paginate(session, stmt, Demand.id.desc(), limit=limit, offset=offset)


def demand_deadline(session: Session, demand: Demand) -> TrackedDeadline | None:
    return session.get(TrackedDeadline, demand.deadline_id) if demand.deadline_id else None


def assign_demand(session: Session, actor: Actor, demand_id: int, data: DemandAssignIn) -> Demand:
    """The authority names the department that should provide the data, with the profile's deadline."""
    demand = get_demand(session, actor, demand_id)
    hold(session, demand, lambda: demand_assign_refusal(actor, demand))
    if data.provider_id not in orgs.department_names(session, [data.provider_id]):
        raise field_error("provider_id", "部门不存在")
    rule = policy.active_policy(session).deadlines.share_demand_answer
    deadline = track_deadline(
        session,
        WorkingCalendar.load(session),
        "share_demand",
        demand.id,
        "answer",
        clock.today(),
        rule.working_days,
    )
    demand.provider_id = data.provider_id
    demand.assigned_by = actor.name
    demand.assigned_at = utcnow()
    demand.assign_note = (data.note or "").strip() or None
    demand.deadline_id = deadline.id
    demand.status = DemandStatus.assigned
    notifications.notify(
        session,
        kind="demand.assigned",
        title=f"主管部门指定的共享需求：{demand.title}",
        body=f"请于 {deadline.due_date.isoformat()} 前编目提供或说明不能提供的理由。",
        link=f"/sharing/demands/{demand.id}",
        object_type="demand",
        object_id=demand.id,
        department_id=data.provider_id,
    )
    audit.record(
        session,
        actor,
        "sharing.demand.assigned",
        "demand",
        demand.id,
        details={"provider_id": data.provider_id, "deadline": deadline.due_date.isoformat()},
    )
    return demand


def answer_demand(session: Session, actor: Actor, demand_id: int, data: DemandAnswerIn) -> Demand:
    """The provider answers with a published resource of its own, or refuses with a reason."""
    demand = get_demand(session, actor, demand_id)
    hold(session, demand, lambda: demand_answer_refusal(actor, demand))
    reason = (data.reason or "").strip() or None
    if data.resource_code:
        resource = catalog.find_resource(session, actor, data.resource_code)
        if resource.provider_id != demand.provider_id or resource.published_version is None:
            raise field_error("resource_code", "须为本部门已发布的资源")
        demand.resource_code = resource.code
        demand.status = DemandStatus.fulfilled
    else:
        if not reason:
            raise field_error("reason", "不能提供时必须说明理由")
        demand.status = DemandStatus.refused
    deadline = demand_deadline(session, demand)
    demand.late = bool(deadline and clock.today() > deadline.due_date)
    demand.reason = reason
    demand.answered_by = actor.name
    demand.answered_at = utcnow()
    for department_id, role in ((demand.consumer_department_id, None), (None, Role.authority)):
        notifications.notify(
            session,
            kind="demand.answered",
            title=f"共享需求已答复：{demand.title}",
            body=(f"已编目提供：{demand.resource_code}" if demand.resource_code else f"不能提供：{reason}"),
            link=f"/sharing/demands/{demand.id}",
            object_type="demand",
            object_id=demand.id,
            department_id=department_id,
            role=role,
        )
    audit.record(
        session,
        actor,
        "sharing.demand.answered",
        "demand",
        demand.id,
        details={
            "status": demand.status,
            "resource_code": demand.resource_code,
            "reason": reason,
            "late": demand.late,
        },
    )
    return demand
