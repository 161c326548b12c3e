"""Pages of the platform's own records: audit trail, working-day calendar, policy profiles (NF-5).

Like the API, every page calls :mod:`govdata.platform.service`, which checks the caller's right
again; form errors are shown on the page in Chinese, never as a bare error page.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.core.auth import ROLE_LABELS, Actor, DbSession, Role
from govdata.core.errors import Problem
from govdata.core.policy import Deadlines, PolicyProfile, Switches
from govdata.orgs import service as orgs
from govdata.platform import service
from govdata.platform.auth import (
    AUDIT_READ,
    CALENDAR_MANAGE,
    CALENDAR_READ,
    POLICY_MANAGE,
    POLICY_READ,
    AuditReader,
    CalendarManager,
    CalendarReader,
    PolicyManager,
    PolicyReader,
)
from govdata.web import check_same_origin, local_time, nav_item, offset_links, render

router = APIRouter(include_in_schema=False)

nav_item("审计日志", "/audit", AUDIT_READ, order=100)
nav_item("工作日历", "/calendar", CALENDAR_READ, order=110)
nav_item("政策配置", "/policy", POLICY_READ, order=120)

PAGE_SIZE = 50
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Chinese names of the audit actions the platform writes; unknown actions show their code.
ACTION_LABELS = {
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.account_locked": "账号锁定",
    "auth.logout": "退出登录",
    "orgs.department.created": "登记部门",
    "orgs.user.created": "创建用户",
    "orgs.user.updated": "修改用户",
    "orgs.system.created": "登记应用系统",
    "orgs.credential.issued": "签发访问凭证",
    "orgs.credential.revoked": "吊销访问凭证",
    "orgs.regions.imported": "导入行政区划",
    "platform.initialised": "初始化平台",
    "platform.node_created": "创建本节点",
    "calendar.year_imported": "导入年度工作日安排",
    "policy.profile_saved": "保存政策配置",
    "policy.profile_activated": "启用政策配置",
    "catalog.classification.created": "登记目录分类",
    "catalog.resource.created": "编制资源目录",
    "catalog.resource.submitted": "提交资源目录",
    "catalog.resource.returned": "退回资源目录",
    "catalog.resource.published": "发布资源目录",
    "catalog.resource.retired": "停用资源目录",
    "catalog.event.recorded": "登记目录更新事件",
    "catalog.task.completed": "完成目录更新任务",
    "catalog.imported": "导入资源目录",
}

# Prefixes offered in the audit filter (free text is accepted too).
ACTION_PREFIXES = {
    "auth": "登录与会话",
    "orgs": "机构与身份",
    "catalog": "资源目录",
    "calendar": "工作日历",
    "policy": "政策配置",
    "platform": "平台",
}


def _role_names(roles: str) -> str:
    names = []
    for role in filter(None, roles.split(",")):
        try:
            names.append(ROLE_LABELS[Role(role)])
        except ValueError:
            names.append(role)
    return "、".join(names) or "—"


def _department_names(session: Session, actor: Actor) -> dict[int, str]:
    items, _ = orgs.list_departments(session, actor, limit=1000, offset=0)
    return {d.id: d.name for d in items}


# --- audit ----------------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(
    request: Request,
    session: DbSession,
    actor: AuditReader,
    action: Annotated[str, Query(max_length=100)] = "",
    actor_name: Annotated[str, Query(alias="actor", max_length=128)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
    verify: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    action, actor_name = action.strip(), actor_name.strip()
    events, total = service.list_audit_events(
        session,
        actor,
        limit=PAGE_SIZE,
        offset=offset,
        action=action or None,
        actor_name=actor_name or None,
    )
    departments = _department_names(session, actor) if events else {}
    rows = [
        {
            "seq": e.seq,
            "at": local_time(e.occurred_at, seconds=True),
            "actor": e.actor,
            "roles": _role_names(e.roles),
            "department": departments.get(e.department_id, e.department_id or "—"),
            "action": e.action,
            "action_label": ACTION_LABELS.get(e.action),
            "object": f"{e.object_type} {e.object_id}" if e.object_id else e.object_type,
            "source": e.source or "—",
            "details": "" if e.details in ("{}", "") else e.details,
        }
        for e in events
    ]
    # Verifying reads the whole chain, so it runs only when asked for.
    verification = service.verify_audit(session, actor) if verify else None

    def page_link(new_offset: int) -> str:
        params = {"action": action, "actor": actor_name, "offset": new_offset}
        return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    prev_link, next_link = offset_links(page_link, offset, PAGE_SIZE, total)
    return render(
        request,
        "platform/audit.html",
        actor,
        rows=rows,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        action=action,
        actor_name=actor_name,
        prefixes=ACTION_PREFIXES,
        verification=verification,
        broken_at=local_time(verification.first_broken.get("at"), seconds=True)
        if verification and verification.first_broken and verification.first_broken.get("at")
        else "时间未知",
        prev_link=prev_link,
        next_link=next_link,
    )


# --- calendar -------------------------------------------------------------------------------------


def _calendar_context(session: Session, actor: Actor) -> dict[str, Any]:
    first, last = service.builtin_calendar_years()
    years = [
        {
            "year": y.year,
            "holidays": len(y.holidays or ()),
            "workdays": len(y.workdays or ()),
            "note": y.note or "—",
            "imported_at": local_time(y.imported_at, seconds=True),
            "imported_by": y.imported_by,
        }
        for y in service.list_calendar_years(session, actor)
    ]
    return {
        "years": years,
        "builtin_first": first,
        "builtin_last": last,
        "can_manage": actor.has(CALENDAR_MANAGE),
        "this_year": dt.date.today().year,
    }


def _parse_start(raw: str) -> tuple[dt.date | None, str | None]:
    raw = raw.strip()
    if not _ISO_DATE.fullmatch(raw):
        return None, "起算日期应为 YYYY-MM-DD 格式，例如 2026-09-25。"
    try:
        return dt.date.fromisoformat(raw), None
    except ValueError:
        return None, f"起算日期“{raw}”不是真实存在的日期。"


def _parse_int(raw: str, what: str) -> tuple[int | None, str | None]:
    raw = raw.strip()
    if not re.fullmatch(r"-?\d{1,9}", raw):
        return None, f"{what}应为整数。"
    return int(raw), None


@router.get("/calendar")
def calendar_page(
    request: Request,
    session: DbSession,
    actor: CalendarReader,
    start: Annotated[str, Query(max_length=40)] = "",
    working_days: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    result = None
    errors: list[str] = []
    if start or working_days:
        start_date, start_error = _parse_start(start)
        days, days_error = _parse_int(working_days, "工作日数")
        if days is not None and days < 0:
            days_error = "工作日数不能为负数。"
        errors = [e for e in (start_error, days_error) if e]
        if not errors:
            try:
                result = service.deadline(session, actor, start_date, days)
            except Problem as exc:
                errors.append(exc.detail)
    return render(
        request,
        "platform/calendar.html",
        actor,
        status_code=422 if errors else 200,
        start=start.strip(),
        working_days=working_days.strip(),
        result=result,
        weekday=WEEKDAYS[result.date.weekday()] if result else None,
        errors=errors,
        **_calendar_context(session, actor),
    )


@router.post("/calendar/years")
def calendar_upload(
    request: Request,
    session: DbSession,
    actor: CalendarManager,
    year: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_same_origin(request)
    message = None
    upload_errors: list[str] = []
    year_value, year_error = _parse_int(year, "年份")
    if year_error:
        upload_errors.append(year_error)
    if file is None or not file.filename:
        upload_errors.append("请选择要上传的节假日安排文件（CSV）。")
    if not upload_errors:
        try:
            content = file.file.read(service.MAX_UPLOAD_BYTES + 1)
            outcome = service.import_calendar_file(session, actor, year_value, content, note.strip() or None)
        except Problem as exc:
            session.rollback()
            upload_errors.append(exc.detail)
            upload_errors += [e["message"] for e in exc.extra.get("errors", [])[1:10] if isinstance(e, dict)]
        else:
            message = (
                f"已导入 {outcome.year} 年安排：节假日 {outcome.holidays} 天、调休上班 {outcome.workdays} 天"
                f"{'' if outcome.created else '（替换了原有安排）'}；重算期限 {outcome.recomputed} 个。"
            )
    return render(
        request,
        "platform/calendar.html",
        actor,
        status_code=422 if upload_errors else 200,
        start="",
        working_days="",
        result=None,
        weekday=None,
        errors=[],
        upload_errors=upload_errors,
        upload_year=year,
        upload_note=note,
        message=message,
        **_calendar_context(session, actor),
    )


# --- policy ---------------------------------------------------------------------------------------


def _short(description: str | None) -> str:
    return (description or "").split("：", 1)[0].split("（", 1)[0]


def _deadline_rows(profile: PolicyProfile) -> list[dict[str, Any]]:
    rows = []
    for name, info in Deadlines.model_fields.items():
        rule = getattr(profile.deadlines, name)
        rows.append(
            {
                "name": name,
                "label": info.description,
                "days": None if rule is None else rule.working_days,
                "statutory": None if rule is None else rule.statutory,
                "source": "" if rule is None else rule.source,
            }
        )
    return rows


def _switch_rows(profile: PolicyProfile) -> list[dict[str, Any]]:
    rows = []
    for name, info in Switches.model_fields.items():
        value = getattr(profile.switches, name)
        values = value if isinstance(value, tuple) else (value,)
        rows.append(
            {
                "name": name,
                "label": _short(info.description),
                "value": "、".join(v.label for v in values),
                "code": ", ".join(v.value for v in values),
            }
        )
    return rows


def _policy_page(
    request: Request, session: Session, actor: Actor, status_code: int = 200, **extra: Any
) -> Response:
    profile = service.active_policy(session, actor)
    stored = service.list_policies(session, actor)
    profiles = [{"name": p.name, "label": p.label, "active": p.active} for p in stored]
    if not any(p["active"] for p in profiles):
        # Nothing stored is active: the built-in default applies.
        profiles = [p for p in profiles if p["name"] != "default"]
        profiles.insert(0, {"name": "default", "label": profile.label, "active": True, "builtin": True})
    return render(
        request,
        "platform/policy.html",
        actor,
        status_code=status_code,
        profile=profile,
        deadline_rows=_deadline_rows(profile),
        switch_rows=_switch_rows(profile),
        profiles=profiles,
        can_manage=actor.has(POLICY_MANAGE),
        **extra,
    )


@router.get("/policy")
def policy_page(request: Request, session: DbSession, actor: PolicyReader) -> Response:
    return _policy_page(request, session, actor)


@router.post("/policy/profiles")
def policy_upload(
    request: Request,
    session: DbSession,
    actor: PolicyManager,
    file: Annotated[UploadFile | None, File()] = None,
    activate: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    check_same_origin(request)
    if file is None or not file.filename:
        return _policy_page(
            request, session, actor, 422, form_errors=["请选择要上传的策略配置文件（.toml 或 .json）。"]
        )
    try:
        content = file.file.read(service.MAX_UPLOAD_BYTES + 1)
        profile = service.save_policy_file(session, actor, file.filename, content, activate=bool(activate))
    except Problem as exc:
        session.rollback()
        details = [
            f"{e.get('field')}：{e.get('message')}"
            for e in exc.extra.get("errors", [])[1:10]
            if isinstance(e, dict)
        ]
        return _policy_page(request, session, actor, exc.status, form_errors=[exc.detail, *details])
    message = f"已保存政策配置“{profile.label}”（{profile.name}）{'并已启用' if activate else '；尚未启用'}。"
    return _policy_page(request, session, actor, message=message)


@router.post("/policy/profiles/{name}/activate")
def policy_activate(request: Request, session: DbSession, actor: PolicyManager, name: str) -> Response:
    check_same_origin(request)
    try:
        service.activate_policy(session, actor, name)
    except Problem as exc:
        session.rollback()
        return _policy_page(request, session, actor, exc.status, form_errors=[exc.detail])
    profile = service.active_policy(session, actor)
    return _policy_page(
        request, session, actor, message=f"已启用政策配置“{profile.label}”（{profile.name}）。"
    )
