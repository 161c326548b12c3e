"""Pages of the platform's own records: the working-day calendar (NF-5); the policy page is
``policy_web``, the audit log the workbench's (``govdata.workbench.web``).

Like the API, every page calls :mod:`govdata.platform.service`, which checks the caller's right
again; form errors are shown on the page in Chinese, never as a bare error page.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.core.auth import Actor, DbSession
from govdata.core.errors import Problem
from govdata.platform import service
from govdata.platform.auth import (
    CALENDAR_MANAGE,
    CALENDAR_READ,
    CalendarManager,
    CalendarReader,
)
from govdata.web import check_same_origin, local_time, nav_item, render

router = APIRouter(include_in_schema=False)

nav_item("工作日历", "/calendar", CALENDAR_READ, order=110)

PAGE_SIZE = 50
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

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
