"""Catalog update events and tasks (CAT-7).

Recording an event opens one task per affected department, due a policy number of working days
(15 by default) after the event's own date: an event recorded late opens tasks that are already
overdue. Deadlines are tracked by ``core.calendar``, so a provisional one (a year without a
published schedule) is recomputed when the schedule is imported.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.catalog.auth import CATALOG_MANAGE, CATALOG_READ, TASK_COMPLETE
from govdata.catalog.enums import TaskStatus
from govdata.catalog.models import CatalogEvent, Resource, UpdateTask
from govdata.catalog.schemas import CatalogEventIn, UpdateTaskOut
from govdata.core import audit, calendar, clock, policy
from govdata.core.auth import Actor, Role, require
from govdata.core.db import paginate, utcnow
from govdata.core.errors import Conflict, NotFound, PermissionDenied, field_error
from govdata.orgs.models import Department

DEADLINE_SUBJECT = "catalog_update_task"


def record_event(session: Session, actor: Actor, data: CatalogEventIn) -> CatalogEvent:
    require(actor, CATALOG_MANAGE)
    department_ids = sorted(set(data.department_ids))
    found = set(session.scalars(select(Department.id).where(Department.id.in_(department_ids))))
    if missing := [d for d in department_ids if d not in found]:
        raise field_error("department_ids", f"部门 {', '.join(map(str, missing))} 不存在")
    if data.resource_code and not session.scalar(
        select(Resource.id).where(Resource.code == data.resource_code)
    ):
        raise field_error("resource_code", f"资源 {data.resource_code} 不存在")
    if data.date > clock.today():
        raise field_error("date", "事件日期不能晚于今天")
    event = CatalogEvent(
        kind=data.kind,
        title=data.title,
        date=data.date,
        resource_code=data.resource_code,
        created_by=actor.name,
    )
    session.add(event)
    session.flush()
    working_days = policy.active_policy(session).deadlines.catalog_update.working_days
    cal = calendar.WorkingCalendar.load(session)
    for department_id in department_ids:
        task = UpdateTask(event_id=event.id, department_id=department_id, status=TaskStatus.open)
        session.add(task)
        session.flush()
        tracked = calendar.track_deadline(
            session, cal, DEADLINE_SUBJECT, str(task.id), "catalog_update", data.date, working_days
        )
        task.tracked = tracked
    session.flush()
    audit.record(
        session,
        actor,
        "catalog.event.recorded",
        "catalog_event",
        event.id,
        details={
            "kind": data.kind,
            "title": data.title,
            "departments": department_ids,
            "date": data.date.isoformat(),
        },
    )
    session.refresh(event)
    return event


def list_tasks(
    session: Session,
    actor: Actor,
    *,
    department_id: int | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[UpdateTask], int]:
    """The authority sees every task; a department sees its own."""
    require(actor, CATALOG_READ)
    if Role.authority not in actor.roles:
        if actor.department_id is None or department_id not in (None, actor.department_id):
            raise PermissionDenied("只能查看本部门的目录更新任务。")
        department_id = actor.department_id
    stmt = select(UpdateTask)
    if department_id is not None:
        stmt = stmt.where(UpdateTask.department_id == department_id)
    if status:
        stmt = stmt.where(UpdateTask.status == status)
    stmt = stmt.join(calendar.TrackedDeadline, calendar.TrackedDeadline.id == UpdateTask.tracked_deadline_id)
    items, total = paginate(
        session, stmt, calendar.TrackedDeadline.due_date, UpdateTask.id, limit=limit, offset=offset
    )
    return list(items), total


def complete_task(session: Session, actor: Actor, task_id: int, note: str) -> UpdateTask:
    require(actor, TASK_COMPLETE)
    task = session.get(UpdateTask, task_id)
    if task is None or task.department_id != actor.department_id:
        raise NotFound(f"目录更新任务 {task_id} 不存在。")
    if task.status == TaskStatus.done:
        raise Conflict("该任务已完成。", slug="task-done")
    task.status = TaskStatus.done
    task.done_at = utcnow()
    task.done_note = note
    audit.record(
        session,
        actor,
        "catalog.task.completed",
        "catalog_update_task",
        task.id,
        details={"late": clock.today() > task.deadline, "note": note},
    )
    return task


def task_view(session: Session, task: UpdateTask) -> UpdateTaskOut:
    # deadlines are China dates; done_at is a stored instant (UTC)
    done_day = clock.china_date(task.done_at) if task.done_at else clock.today()
    return UpdateTaskOut(
        id=task.id,
        event_id=task.event_id,
        department_id=task.department_id,
        department_name=task.department.name,
        deadline=task.deadline,
        deadline_provisional=task.deadline_provisional,
        status=task.status,
        overdue=done_day > task.deadline,
        done_at=task.done_at,
        done_note=task.done_note,
    )


def event_view(session: Session, event: CatalogEvent) -> dict:
    return {
        "id": event.id,
        "kind": event.kind,
        "title": event.title,
        "date": event.date,
        "resource_code": event.resource_code,
        "tasks": [task_view(session, t) for t in event.tasks],
    }
