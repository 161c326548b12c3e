"""Routes of the platform's own records: audit trail, working-day calendar, policy profiles."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Path, Query, UploadFile

from govdata.core.auth import DbSession
from govdata.core.policy import PolicyProfile
from govdata.core.schemas import ApiRoute, Instant, Page, PagingParams
from govdata.platform import service
from govdata.platform.auth import AuditReader, CalendarManager, CalendarReader, PolicyManager, PolicyReader
from govdata.platform.schemas import (
    AuditEventOut,
    AuditVerifyOut,
    CalendarYearIn,
    CalendarYearInfo,
    CalendarYearOut,
    DeadlineOut,
    PolicyProfileInfo,
)

router = APIRouter(prefix="/api/v1", route_class=ApiRoute)


@router.get(
    "/audit/events", response_model=Page[AuditEventOut], tags=["审计"], summary="审计事件（新的在前）"
)
def list_audit_events(
    session: DbSession,
    actor: AuditReader,
    paging: PagingParams,
    action: Annotated[str | None, Query(max_length=100, description="动作前缀，如 orgs.user")] = None,
    actor_name: Annotated[str | None, Query(alias="actor", max_length=128)] = None,
    object_type: Annotated[str | None, Query(max_length=64)] = None,
    object_id: Annotated[str | None, Query(max_length=128)] = None,
    since: Annotated[Instant | None, Query(description="起始时间（不带时区即北京时间）")] = None,
    until: Annotated[Instant | None, Query(description="截止时间（不带时区即北京时间）")] = None,
) -> Page[AuditEventOut]:
    items, total = service.list_audit_events(
        session,
        actor,
        limit=paging.limit,
        offset=paging.offset,
        action=action,
        actor_name=actor_name,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
    )
    return Page(items=[AuditEventOut.model_validate(e) for e in items], total=total)


@router.get("/audit/verify", response_model=AuditVerifyOut, tags=["审计"], summary="校验审计哈希链（SM3）")
def verify_audit(session: DbSession, actor: AuditReader) -> AuditVerifyOut:
    result = service.verify_audit(session, actor)
    return AuditVerifyOut(ok=result.ok, checked=result.checked, first_broken=result.first_broken)


@router.get("/calendar/deadline", response_model=DeadlineOut, tags=["工作日"], summary="按工作日计算期限")
def calendar_deadline(
    session: DbSession,
    actor: CalendarReader,
    start: Annotated[date, Query(description="事件日期 YYYY-MM-DD；第 1 个工作日为其后的第一个工作日")],
    working_days: Annotated[int, Query(ge=0, le=service.MAX_WORKING_DAYS)],
) -> DeadlineOut:
    result = service.deadline(session, actor, start, working_days)
    return DeadlineOut(
        start=start,
        working_days=working_days,
        deadline=result.date,
        provisional=result.provisional,
        unpublished_years=list(result.unpublished_years),
        note=result.note,
    )


@router.get(
    "/calendar/years", response_model=list[CalendarYearInfo], tags=["工作日"], summary="已导入的年度安排"
)
def list_calendar_years(session: DbSession, actor: CalendarReader) -> list[CalendarYearInfo]:
    return [CalendarYearInfo.model_validate(y) for y in service.list_calendar_years(session, actor)]


@router.post(
    "/calendar/years",
    response_model=CalendarYearOut,
    status_code=201,
    tags=["工作日"],
    summary="导入一年的放假与调休安排，并重算暂定期限",
)
def import_calendar_year(session: DbSession, actor: CalendarManager, body: CalendarYearIn) -> CalendarYearOut:
    result = service.import_calendar_year(session, actor, body.year, body.holidays, body.workdays, body.note)
    return _year_out(result)


@router.post(
    "/calendar/years/{year}/file",
    response_model=CalendarYearOut,
    status_code=201,
    tags=["工作日"],
    summary="上传一年的放假与调休安排（CSV：date,kind，kind 为 holiday/休 或 workday/班），并重算暂定期限",
)
def upload_calendar_year(
    session: DbSession,
    actor: CalendarManager,
    year: Annotated[int, Path(description="年份")],
    file: Annotated[UploadFile, File(description="UTF-8 CSV，每行“日期,类型”，表头与 # 注释行可选")],
    note: Annotated[str | None, Form(max_length=500, description="来源，如通知文号")] = None,
) -> CalendarYearOut:
    content = file.file.read(service.MAX_UPLOAD_BYTES + 1)
    return _year_out(service.import_calendar_file(session, actor, year, content, note or None))


def _year_out(result) -> CalendarYearOut:
    return CalendarYearOut(
        year=result.year,
        holidays=result.holidays,
        workdays=result.workdays,
        created=result.created,
        recomputed=result.recomputed,
    )


@router.get("/policy", response_model=PolicyProfile, tags=["政策配置"], summary="当前生效的政策配置")
def read_policy(session: DbSession, actor: PolicyReader) -> PolicyProfile:
    return service.active_policy(session, actor)


@router.get(
    "/policy/profiles", response_model=list[PolicyProfileInfo], tags=["政策配置"], summary="政策配置列表"
)
def list_policies(session: DbSession, actor: PolicyReader) -> list[PolicyProfileInfo]:
    return [
        PolicyProfileInfo(name=p.name, label=p.label, active=p.active, body=p.body)
        for p in service.list_policies(session, actor)
    ]


@router.post(
    "/policy/profiles",
    response_model=PolicyProfile,
    status_code=201,
    tags=["政策配置"],
    summary="保存政策配置",
)
def save_policy(
    session: DbSession,
    actor: PolicyManager,
    body: Annotated[
        dict[str, Any],
        Body(
            description="策略配置：只需写出与默认配置不同的项（name 必填），其余沿用默认值",
            examples=[
                {
                    "name": "province-fast",
                    "label": "省级快速答复",
                    "deadlines": {
                        "compliance_check": {"working_days": 2},
                        "share_reply": {"working_days": 5},
                    },
                    "switches": {"share_reply_clock_start": "authority_check"},
                }
            ],
        ),
    ],
    activate: Annotated[bool, Query(description="保存后立即启用")] = False,
) -> PolicyProfile:
    return service.save_policy_data(session, actor, body, activate=activate)


@router.post(
    "/policy/profiles/{name}/activate",
    response_model=PolicyProfile,
    tags=["政策配置"],
    summary="启用政策配置",
)
def activate_policy(session: DbSession, actor: PolicyManager, name: str) -> PolicyProfile:
    service.activate_policy(session, actor, name)
    return service.active_policy(session, actor)
