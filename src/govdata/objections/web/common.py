"""What every objections page shares: the router, addresses, labels, and the rows the lists show.

Nothing here decides a rule: which forms a caller gets is asked of :mod:`govdata.objections.auth`,
and every action goes through :mod:`govdata.objections.service`, which checks the caller again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.core.auth import Actor
from govdata.core.calendar import WorkingCalendar
from govdata.core.errors import Problem
from govdata.core.labels import label, labels
from govdata.objections import service
from govdata.objections.auth import sees_record
from govdata.objections.enums import Channel, ObjectionStatus, Outcome
from govdata.objections.models import Objection
from govdata.orgs import service as orgs
from govdata.web import error_messages, field_messages, local_time, render

router = APIRouter(include_in_schema=False)

HOME = "/objections"

STATUS_BADGES = {
    ObjectionStatus.under_review: "warn",
    ObjectionStatus.corrected: "ok",
    ObjectionStatus.rejected: "off",
}

# The Chinese name of each form field, for the summary line above a form.
FIELD_NAMES = {
    "resource_code": "资源代码",
    "key": "关键标识",
    "items": "有疑义的信息项",
    "reason": "理由",
    "received_on": "收到日期",
    "filer_name": "提出人",
    "filer_department_id": "提出部门",
    "filer_contact": "联系方式",
    "working_days": "延长的工作日数",
    "outcome": "复核结果",
    "values": "更正后的值",
    "file": "证明材料",
}

DONE_MESSAGES = {
    "filed": "疑义已提交，数据提供部门将在期限内复核并反馈。",
    "entered": "线下提出的疑义已录入，复核期限自收到之日起计算。",
    "attached": "已上传证明材料。",
    "extension_requested": "已申请延长复核期限，等待部门负责人批准。",
    "extended": "复核期限已延长。",
    "rejected": "已维持原数据，复核结果已反馈提出方。",
    "corrected": "数据已更正（以批次入库），复核结果已反馈提出方。",
    "correcting": "更正批次仍在入库，完成后自动反馈提出方。",
}


def objection_href(objection_id: int, suffix: str = "") -> str:
    return f"{HOME}/{objection_id}{suffix}"


def new_href(code: str | None = None, key: str | None = None) -> str:
    query = []
    if code:
        query.append("resource=" + quote(code, safe="/"))
    if key:
        query.append("key=" + quote(key, safe=""))
    return f"{HOME}/new" + ("?" + "&".join(query) if query else "")


def resource_href(code: str) -> str:
    return "/catalog/r/" + quote(code, safe="/")


def countdown(days_left: int | None) -> tuple[str, str]:
    """The countdown of a running deadline as text, and how urgent it looks (a badge class)."""
    if days_left is None:
        return "", ""
    if days_left < 0:
        return f"已超期 {-days_left} 个工作日", "error"
    if days_left == 0:
        return "今日到期", "warn"
    return f"剩 {days_left} 个工作日", "warn" if days_left <= 2 else "info"


def form_errors(problem: Problem) -> tuple[list[str], dict[str, str]]:
    """A problem as lines above a form (fields named as the form names them) and messages per field."""
    fields = field_messages(problem)
    if not fields:
        return error_messages(problem), {}
    lines = [f"{FIELD_NAMES.get(f.split('.')[0], f)}：{m}" for f, m in fields.items()]
    return lines, {f.split(".")[0]: m for f, m in fields.items()}


def names_for(session: Session, objections: list[Objection]) -> dict[int, str]:
    ids: set[int] = set()
    for objection in objections:
        ids.add(objection.provider_id)
        if objection.filer_department_id is not None:
            ids.add(objection.filer_department_id)
    return orgs.department_names(session, ids)


def objection_row(
    session: Session,
    actor: Actor,
    objection: Objection,
    departments: dict[int, str],
    calendar: WorkingCalendar,
) -> dict[str, Any]:
    """What a list shows of an objection: parties, status, deadline and its countdown."""
    deadline = service.deadline_of(session, objection)
    left = service.working_days_left(session, objection, calendar)
    text, urgency = countdown(left)
    visible = sees_record(actor, objection)
    return {
        "id": objection.id,
        "href": objection_href(objection.id),
        "resource_code": objection.resource_code,
        "resource_name": objection.resource_name,
        "key": service.shown_key(objection.record_key) if visible else None,
        "item_count": len(objection.items),
        "provider": departments.get(objection.provider_id, ""),
        "filer": objection.filer_name
        + (
            f"（{departments[objection.filer_department_id]}）"
            if objection.filer_department_id in departments
            and departments[objection.filer_department_id] != objection.filer_name
            else ""
        ),
        "off_platform": objection.channel == Channel.off_platform,
        "received_on": objection.received_on.isoformat(),
        "status": objection.status,
        "status_label": label(ObjectionStatus, objection.status),
        "status_badge": STATUS_BADGES.get(objection.status, ""),
        "deadline": deadline.due_date.isoformat() if deadline else None,
        "provisional": bool(deadline and deadline.provisional),
        "days_left": left,
        "countdown": text,
        "urgency": urgency,
        "overdue": left is not None and left < 0,
        "extended": objection.extended,
        "extension_waiting": objection.extension_requested_at is not None and not objection.extended,
        "escalated": objection.escalated_at is not None,
        "late": objection.late,
        "pending_batch": objection.correction_batch_id
        if objection.status == ObjectionStatus.under_review
        else None,
        "outcome_label": label(Outcome, objection.outcome) if objection.outcome else "",
        "resolution_reason": objection.resolution_reason,
        "resolved_at": local_time(objection.resolved_at) if objection.resolved_at else "",
    }


def helpers() -> dict[str, Any]:
    """What every objections template may use."""
    return {
        "local_time": local_time,
        "objection_href": objection_href,
        "resource_href": resource_href,
        "new_href": new_href,
        "statuses": labels(ObjectionStatus),
        "outcomes": labels(Outcome),
        "label": label,
    }


def page(
    request: Request, template: str, actor: Actor, *, status_code: int = 200, **context: Any
) -> Response:
    return render(request, template, actor, status_code=status_code, active_href=HOME, **helpers(), **context)
