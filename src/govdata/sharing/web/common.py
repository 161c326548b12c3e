"""What every sharing page shares: the router, addresses, labels, and the rows the lists show.

Nothing here decides a rule: which forms a caller gets is asked of :mod:`govdata.sharing.auth`, and
every action goes through :mod:`govdata.sharing.service`, which checks the caller again.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.catalog.enums import LegalBasisKind, ShareMode, ShareType
from govdata.core.auth import Actor
from govdata.core.errors import Problem
from govdata.core.labels import label, labels
from govdata.orgs import service as orgs
from govdata.sharing import service
from govdata.sharing.enums import (
    ApplicationStatus,
    CoordinationOutcome,
    CoordinationStep,
    Decision,
    GrantStatus,
    Phase,
    UsageOutcome,
)
from govdata.web import error_messages, field_messages, local_time, render

router = APIRouter(include_in_schema=False)

HOME = "/sharing"

APPLICATION_BADGES = {
    ApplicationStatus.pending: "info",
    ApplicationStatus.approved: "ok",
    ApplicationStatus.partially_approved: "ok",
    ApplicationStatus.refused: "off",
    ApplicationStatus.disputed: "warn",
    ApplicationStatus.escalated: "error",
    ApplicationStatus.coordinated: "info",
}
GRANT_BADGES = {
    GrantStatus.active: "ok",
    GrantStatus.suspended: "warn",
    GrantStatus.revoked: "error",
    GrantStatus.expired: "off",
}
OUTCOME_BADGES = {
    UsageOutcome.ok: "ok",
    UsageOutcome.denied: "error",
    UsageOutcome.invalid: "warn",
    UsageOutcome.limited: "warn",
    UsageOutcome.not_found: "off",
    UsageOutcome.error: "error",
}
LEVEL_LABELS = {1: "1 级（不敏感）", 2: "2 级", 3: "3 级", 4: "4 级（敏感）"}

# The Chinese name of each form field, for the summary line above a form (the problem's own label is
# shared by every capability and may name another form's field).
FIELD_NAMES = {
    "resource_code": "资源",
    "system_id": "应用系统",
    "items": "信息项",
    "masked_items": "脱敏提供的信息项",
    "masked": "脱敏提供的信息项",
    "purpose": "使用目的",
    "scenario": "具体应用场景",
    "legal_basis": "法律依据或履职需要",
    "period_start": "使用期限起",
    "period_end": "使用期限止",
    "modes": "服务方式",
    "rate_limit": "每分钟调用上限",
    "decision": "答复",
    "conditions": "附加条件",
    "reason": "理由",
    "basis_kind": "依据类别",
    "basis": "依据",
    "passed": "审查结论",
    "note": "意见",
    "step": "协调步骤",
    "outcome": "协调结果",
    "file": "附件",
    "key": "关键标识",
    "values": "比对的信息项",
}

DONE_MESSAGES = {
    "submitted": "申请已提交。",
    "coordination": "已请求主管部门协调。",
    "checked": "已记录合规审查结论。",
    "received": "已签收，答复期限已开始计算。",
    "decided": "已答复。",
    "disputed": "已提出异议，主管部门将协调。",
    "negotiate": "已记录协商情况。",
    "decide": "已作出协调决定。",
    "attached": "已上传申请材料。",
    "suspend": "授权已暂停，自下一次调用起生效。",
    "resume": "授权已恢复。",
    "revoke": "授权已撤销，自下一次调用起生效。",
}


def application_href(application_id: int, suffix: str = "") -> str:
    return f"{HOME}/applications/{application_id}{suffix}"


def grant_href(grant_id: int, suffix: str = "") -> str:
    return f"{HOME}/grants/{grant_id}{suffix}"


def resource_href(code: str) -> str:
    return "/catalog/r/" + quote(code, safe="/")


def apply_href(code: str) -> str:
    return f"{HOME}/apply?resource=" + quote(code, safe="/")


def safe_back(back: str, default: str) -> str:
    """Where a form asked to go back to: a sharing page of this site, else ``default``."""
    parts = urlsplit(back or "")
    if parts.scheme or parts.netloc or not parts.path.startswith(HOME) or "\\" in back:
        return default
    return back


def with_done(target: str, done: str) -> str:
    path, _, fragment = target.partition("#")
    path += ("&" if "?" in path else "?") + f"done={done}"
    return path + (f"#{fragment}" if fragment else "")


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


def parse_date(value: str) -> date | str:
    """A form's date as a date, or the text as it came when it is not one (the schema names it)."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return value


def item_facts(session: Session, resource_id: int, version: int | None) -> tuple[dict[str, Any], list[dict]]:
    """A resource version's body and its items, each with its effective share type and level."""
    body = catalog.version_body(session, resource_id, version) or {}
    items = []
    for item in body.get("items", []):
        share_type = item.get("share_type") or body.get("share_type") or ShareType.none
        level = int(item.get("level") or 1)
        items.append(
            {
                "code": item["code"].lower(),
                "name": item.get("name") or item["code"],
                "level": level,
                "level_label": LEVEL_LABELS.get(level, str(level)),
                "share_type": share_type,
                "share_type_label": label(ShareType, share_type),
                "key": bool(item.get("key")),
            }
        )
    return body, items


def names_for(session: Session, applications=(), grants=(), usage=()) -> dict[str, dict]:
    """Department and system names of what a list shows, in two queries."""
    departments: set[int] = set()
    systems: set[int] = set()
    for row in (*applications, *grants):
        departments |= {row.provider_id, row.consumer_department_id}
        systems.add(row.system_id)
    for row in usage:
        departments |= {d for d in (row.provider_id, row.consumer_department_id) if d is not None}
        if row.system_id is not None:
            systems.add(row.system_id)
    return {
        "departments": orgs.department_names(session, departments),
        "systems": orgs.system_names(session, systems),
    }


def application_row(session: Session, application, names: dict[str, dict]) -> dict[str, Any]:
    """What a list shows of an application: parties, status, phase, deadline and its countdown."""
    deadline = service.deadline_of(session, application)
    left = service.working_days_left(session, application)
    text, urgency = countdown(left)
    return {
        "id": application.id,
        "href": application_href(application.id),
        "resource_code": application.resource_code,
        "resource_name": application.resource_name,
        "provider": names["departments"].get(application.provider_id, ""),
        "consumer": names["departments"].get(application.consumer_department_id, ""),
        "system": names["systems"].get(application.system_id, ""),
        "applicant": application.applicant_name or application.applicant,
        "item_count": len(application.items),
        "submitted_at": local_time(application.submitted_at),
        "status": application.status,
        "status_label": label(ApplicationStatus, application.status),
        "status_badge": APPLICATION_BADGES.get(application.status, ""),
        "phase": application.phase,
        "phase_label": label(Phase, application.phase),
        "deadline": deadline.due_date.isoformat() if deadline else None,
        "provisional": bool(deadline and deadline.provisional),
        "days_left": left,
        "countdown": text,
        "urgency": urgency,
        "late": application.late,
        "escalated": application.status == ApplicationStatus.escalated,
        "overdue": left is not None and left < 0,
        "dispute_reason": application.dispute_reason,
    }


def grant_row(grant, names: dict[str, dict]) -> dict[str, Any]:
    masked = sum(1 for i in grant.items if i.get("masked"))
    return {
        "id": grant.id,
        "href": grant_href(grant.id),
        "application_id": grant.application_id,
        "resource_code": grant.resource_code,
        "resource_name": grant.resource_name,
        "provider": names["departments"].get(grant.provider_id, ""),
        "consumer": names["departments"].get(grant.consumer_department_id, ""),
        "system": names["systems"].get(grant.system_id, ""),
        "item_count": len(grant.items),
        "masked": masked,
        "modes": "、".join(label(ShareMode, m) for m in grant.modes),
        "period": f"{grant.period_start.isoformat()} 至 {grant.period_end.isoformat()}",
        "status": grant.status,
        "status_label": label(GrantStatus, grant.status),
        "status_badge": GRANT_BADGES.get(grant.status, ""),
        "status_reason": grant.status_reason,
        "record": grant,
    }


def helpers() -> dict[str, Any]:
    """What every sharing template may use."""
    return {
        "local_time": local_time,
        "resource_href": resource_href,
        "application_href": application_href,
        "grant_href": grant_href,
        "apply_href": apply_href,
        "share_modes": labels(ShareMode),
        "decisions": labels(Decision),
        "steps": labels(CoordinationStep),
        "outcomes": labels(CoordinationOutcome),
        "basis_kinds": LegalBasisKind.choices(),
        "basis_kind_labels": labels(LegalBasisKind),
        "share_types": labels(ShareType),
        "grant_statuses": labels(GrantStatus),
        "application_statuses": labels(ApplicationStatus),
        "usage_outcomes": labels(UsageOutcome),
        "label": label,
    }


def page(
    request: Request, template: str, actor: Actor, *, status_code: int = 200, **context: Any
) -> Response:
    return render(
        request,
        template,
        actor,
        status_code=status_code,
        active_href=HOME,
        **helpers(),
        **context,
    )
