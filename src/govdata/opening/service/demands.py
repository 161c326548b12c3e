"""Open demands (开放需求, OPN-4): a public account asks for a dataset to be opened, or for fresher data
of an open one (an emergency opening above all: OPN-6); the authority answers within the profile's
``open_demand_answer`` deadline (15 working days, the platform's own value, not statutory). Demands
and their answers are public; who proposed one is not (only the proposer sees it is theirs).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govdata.core import audit, clock, policy
from govdata.core.auth import Actor, Role, require
from govdata.core.calendar import TrackedDeadline, WorkingCalendar, track_deadline
from govdata.core.db import hold, paginate, utcnow
from govdata.core.errors import NotFound, field_error
from govdata.notifications import service as notifications
from govdata.opening import service as core
from govdata.opening.public_auth import ANSWER, PROPOSE, answer_refusal
from govdata.opening.public_models import OpenDemand
from govdata.opening.public_schemas import DemandAnswerIn, DemandIn, DemandKind, DemandOutcome
from govdata.orgs import service as orgs

SUBJECT = "open_demand"
PURPOSE = "open_demand_answer"


def propose(session: Session, actor: Actor, data: DemandIn) -> OpenDemand:
    require(actor, PROPOSE)
    title, description = data.title.strip(), data.description.strip()
    if len(title) < 2:
        raise field_error("title", "标题至少 2 个字")
    if not description:
        raise field_error("description", "请说明需要什么数据、用于什么")
    if data.department_id is not None and not orgs.department_names(session, [data.department_id]):
        raise field_error("department_id", f"部门 {data.department_id} 不存在")
    code = (data.dataset_code or "").strip() or None
    if data.kind == DemandKind.update:
        if code is None:
            raise field_error("dataset_code", "请求更新数据时须指明已开放的数据集")
        dataset = core.open_dataset(session, code)
        if dataset is None:
            raise field_error("dataset_code", f"“{code}”不是已开放的数据集")
        code = dataset.code
    today = clock.today()
    demand = OpenDemand(
        title=title,
        description=description,
        kind=data.kind.value,
        department_id=data.department_id,
        dataset_code=code,
        proposer_id=actor.user_id,
        submitted_at=utcnow(),
        status="pending",
    )
    session.add(demand)
    session.flush()
    rule = policy.active_policy(session).deadlines.open_demand_answer
    row = track_deadline(
        session, WorkingCalendar.load(session), SUBJECT, demand.id, PURPOSE, today, rule.working_days
    )
    demand.deadline_id = row.id
    notifications.notify(
        session,
        kind="opening.demand.received",
        title=f"收到开放需求：{title}",
        body=f"请于 {row.due_date.isoformat()} 前答复（平台设定期限，非法定）。",
        link="/demands",
        object_type=SUBJECT,
        object_id=demand.id,
        role=Role.authority,
    )
    audit.record(
        session,
        actor,
        "opening.demand.proposed",
        SUBJECT,
        demand.id,
        details={"title": title, "kind": demand.kind, "dataset_code": code},
    )
    return demand


def _deadlines(session: Session, demands: list[OpenDemand]) -> dict[int, TrackedDeadline]:
    ids = [d.deadline_id for d in demands if d.deadline_id]
    if not ids:
        return {}
    return {
        row.id: row for row in session.scalars(select(TrackedDeadline).where(TrackedDeadline.id.in_(ids)))
    }


def views(session: Session, viewer: Actor, demands: list[OpenDemand]) -> list[dict[str, Any]]:
    """Demands as anyone may see them: never who proposed them (``mine`` tells the proposer)."""
    deadlines = _deadlines(session, demands)
    names = orgs.department_names(session, [d.department_id for d in demands if d.department_id])
    statutory = policy.active_policy(session).deadlines.open_demand_answer.statutory
    today = clock.today()
    out = []
    for d in demands:
        deadline = deadlines.get(d.deadline_id) if d.deadline_id else None
        out.append(
            {
                "id": d.id,
                "title": d.title,
                "description": d.description,
                "kind": d.kind,
                "kind_label": DemandKind(d.kind).label,
                "department_id": d.department_id,
                "department_name": names.get(d.department_id) if d.department_id else None,
                "dataset_code": d.dataset_code,
                "submitted_at": d.submitted_at,
                "status": d.status,
                "deadline": deadline.due_date if deadline else None,
                "deadline_provisional": bool(deadline and deadline.provisional),
                "deadline_statutory": statutory,
                "overdue": bool(d.status == "pending" and deadline and today > deadline.due_date),
                "answer": d.answer,
                "outcome": d.outcome,
                "outcome_label": DemandOutcome(d.outcome).label if d.outcome else None,
                "answer_dataset_code": d.answer_dataset_code,
                "answered_at": d.answered_at,
                "mine": viewer.user_id is not None
                and Role.public in viewer.roles
                and viewer.user_id == d.proposer_id,
            }
        )
    return out


def list_demands(
    session: Session,
    viewer: Actor,
    *,
    status: str | None = None,
    overdue: bool | None = None,
    mine: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Every demand, newest first: public, anyone may read them (``viewer`` only marks its own)."""
    stmt = select(OpenDemand)
    if status:
        stmt = stmt.where(OpenDemand.status == status)
    if mine:
        stmt = stmt.where(OpenDemand.proposer_id == (viewer.user_id if Role.public in viewer.roles else None))
    if overdue:
        stmt = stmt.where(
            OpenDemand.status == "pending",
            OpenDemand.deadline_id.in_(
                select(TrackedDeadline.id).where(
                    TrackedDeadline.subject_type == SUBJECT, TrackedDeadline.due_date < clock.today()
                )
            ),
        )
    rows, total = paginate(session, stmt, OpenDemand.id.desc(), limit=limit, offset=offset)
    return views(session, viewer, rows), total


def overdue_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(OpenDemand)
            .join(TrackedDeadline, TrackedDeadline.id == OpenDemand.deadline_id)
            .where(OpenDemand.status == "pending", TrackedDeadline.due_date < clock.today())
        )
        or 0
    )


def answer(session: Session, actor: Actor, demand_id: int, data: DemandAnswerIn) -> OpenDemand:
    """The authority answers a demand (OPN-4): accepted, refused, or opened (naming the dataset)."""
    require(actor, ANSWER)  # the role first (403), then whether the demand exists (404)
    demand = session.get(OpenDemand, demand_id)
    if demand is None:
        raise NotFound(f"开放需求 {demand_id} 不存在。")
    hold(session, demand, lambda: answer_refusal(actor, demand))
    text = data.answer.strip()
    if not text:
        raise field_error("answer", "答复不能为空")
    code = (data.dataset_code or "").strip() or None
    if data.outcome == DemandOutcome.opened:
        if code is None:
            raise field_error("dataset_code", "已开放的须指明开放的数据集")
        dataset = core.open_dataset(session, code)
        if dataset is None:
            raise field_error("dataset_code", f"“{code}”不是已开放的数据集")
        code = dataset.code
    deadline = session.get(TrackedDeadline, demand.deadline_id) if demand.deadline_id else None
    demand.answer = text
    demand.outcome = data.outcome.value
    demand.answer_dataset_code = code
    demand.answered_at = utcnow()
    demand.answered_by = actor.name
    demand.status = "answered"
    demand.late = bool(deadline and clock.today() > deadline.due_date)
    notifications.notify(
        session,
        kind="opening.demand.answered",
        title=f"开放需求已答复：{demand.title}",
        body=f"{DemandOutcome(demand.outcome).label}。{text}",
        link="/demands",
        object_type=SUBJECT,
        object_id=demand.id,
        user_id=demand.proposer_id,
    )
    audit.record(
        session,
        actor,
        "opening.demand.answered",
        SUBJECT,
        demand.id,
        details={"outcome": demand.outcome, "dataset_code": code, "late": demand.late},
    )
    return demand
