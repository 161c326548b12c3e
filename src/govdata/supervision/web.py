"""The 违规记录 page (SUP-2, NF-5): the register with its filters, and the contest, confirm and withdraw
forms for whoever may use them (asked of ``auth``, enforced again by the services); the 整改通知 pages:
the notices, and one notice with its timeline and the answer, accept, reopen and escalate forms."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.core.attachments import MAX_BYTES
from govdata.core.auth import Actor, DbSession
from govdata.core.errors import NotFound, PayloadTooLarge, Problem
from govdata.core.labels import labels
from govdata.orgs import service as orgs
from govdata.supervision import notices, service
from govdata.supervision.auth import (
    NOTICE_READ,
    VIOLATION_READ,
    NoticeAnswerer,
    NoticeDecider,
    NoticeReader,
    ViolationContester,
    ViolationDecider,
    ViolationReader,
    can_accept,
    can_answer,
    can_contest,
    can_decide,
    can_escalate,
    sees_every_notice,
    sees_every_violation,
)
from govdata.supervision.enums import (
    ESCALATION_STEPS,
    EVIDENCE_LABELS,
    NoticeStatus,
    ViolationKind,
    ViolationStatus,
)
from govdata.web import (
    check_same_origin,
    error_messages,
    form_action,
    local_time,
    nav_item,
    offset_links,
    render,
)

router = APIRouter(include_in_schema=False)

nav_item("违规记录", "/supervision/violations", VIOLATION_READ, order=70)
nav_item("整改通知", "/supervision/notices", NOTICE_READ, order=71)

PAGE = "/supervision/violations"
PAGE_SIZE = 50
DONE = {"confirmed": "已确认违规。", "withdrawn": "已撤销违规记录。", "contested": "已提出异议。"}


def _digits(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 10 else None


_DEPARTMENT_KEYS = ("consumer_department_id", "provider_id")


def _evidence_lines(evidence: dict[str, Any], departments: dict[int, str]) -> list[tuple[str, str]]:
    """The evidence as (name, value) lines in Chinese: departments by name, yes/no, lists joined;
    other values that are not text shown as JSON."""

    def shown(key: str, value: Any) -> str:
        if key in _DEPARTMENT_KEYS and isinstance(value, int):
            return departments.get(value, f"部门 {value}")
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, str | int | float):
            return str(value)
        if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
            return "、".join(str(v) for v in value)
        return json.dumps(value, ensure_ascii=False)

    return [(EVIDENCE_LABELS.get(str(k), str(k)), shown(str(k), v)) for k, v in evidence.items()]


def _list_page(
    request: Request,
    session: Session,
    actor: Actor,
    filters: dict[str, str],
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    kind = filters.get("kind", "") if filters.get("kind") in ViolationKind.__members__ else ""
    status = filters.get("status", "") if filters.get("status") in ViolationStatus.__members__ else ""
    department_id = _digits(filters.get("department_id", ""))
    violation_id = _digits(filters.get("id", ""))
    offset = _digits(filters.get("offset", "")) or 0
    items, total = service.list_violations(
        session,
        actor,
        kind=kind or None,
        status=status or None,
        department_id=department_id,
        violation_id=violation_id,
        limit=PAGE_SIZE,
        offset=offset,
    )
    views = service.violation_views(session, items)
    departments = orgs.department_names(session)
    people = orgs.display_names(session, (v.decided_by for v in items))
    for view, violation in zip(views, items, strict=True):
        view["decided_by_name"] = people.get(violation.decided_by or "", violation.decided_by)
        view["can_contest"] = can_contest(actor, violation)
        view["can_decide"] = can_decide(actor, violation)
        view["evidence_lines"] = _evidence_lines(view["evidence"], departments)
        notice = notices.notice_of_violation(session, actor, violation.id) if actor.has(NOTICE_READ) else None
        view["notice_href"] = notices.notice_href(notice.id) if notice else None
    kept = {
        "kind": kind,
        "status": status,
        "department_id": str(department_id or ""),
        "id": str(violation_id or ""),
    }

    link = _pager(PAGE, kept)
    previous, following = offset_links(link, offset, PAGE_SIZE, total)
    sees_all = sees_every_violation(actor)
    departments = _departments(session) if sees_all else []
    return render(
        request,
        "supervision/violations.html",
        actor,
        status_code=status_code,
        violations=views,
        total=total,
        filters=kept,
        back=link(offset),
        kinds=labels(ViolationKind),
        statuses=labels(ViolationStatus),
        departments=departments,
        sees_all=sees_all,
        done=DONE.get(request.query_params.get("done") or ""),
        error=error,
        previous=previous,
        next=following,
        local_time=local_time,
    )


def _pager(page: str, kept: dict[str, str]):
    """The list page's address at an offset, keeping the filters that are set."""

    def link(new_offset: int) -> str:
        query = {k: v for k, v in {**kept, "offset": str(new_offset or "")}.items() if v}
        return page + (f"?{urlencode(query)}" if query else "")

    return link


def _departments(session) -> list[dict]:
    """Every department, for the filter of someone who sees them all."""
    return [{"id": i, "name": n} for i, n in sorted(orgs.department_names(session).items())]


@router.get("/supervision/violations")
def violations_page(
    request: Request,
    session: DbSession,
    actor: ViolationReader,
    kind: Annotated[str, Query(max_length=40)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    department_id: Annotated[str, Query(max_length=12)] = "",
    id: Annotated[str, Query(max_length=12)] = "",
    offset: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    filters = {"kind": kind, "status": status, "department_id": department_id, "id": id, "offset": offset}
    return _list_page(request, session, actor, filters)


def _back_filters(back: str) -> dict[str, str]:
    """The filters of the list the form was posted from (its query string, kept in a hidden field)."""
    parts = urlsplit(back)
    if parts.path != PAGE:
        return {}
    return {
        k: v for k, v in parse_qsl(parts.query) if k in ("kind", "status", "department_id", "id", "offset")
    }


def _action(request: Request, session: Session, actor: Actor, back: str, done: str, run) -> Response:
    filters = _back_filters(back)

    def action() -> str:
        run()
        query = {**{k: v for k, v in filters.items() if v}, "done": done}
        return f"{PAGE}?{urlencode(query)}"

    def show_error(exc: Problem) -> Response:
        error = "；".join(error_messages(exc))
        return _list_page(request, session, actor, filters, status_code=exc.status, error=error)

    return form_action(
        request,
        session,
        action,
        show_error,
        gone=lambda exc: isinstance(exc, NotFound) and exc.detail.startswith("违规记录"),
    )


@router.post("/supervision/violations/{violation_id}/confirm")
def confirm_violation(
    request: Request,
    session: DbSession,
    actor: ViolationDecider,
    violation_id: int,
    reason: Annotated[str, Form(max_length=4000)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_same_origin(request)
    return _action(
        request,
        session,
        actor,
        back,
        "confirmed",
        lambda: service.confirm(session, actor, violation_id, reason),
    )


@router.post("/supervision/violations/{violation_id}/withdraw")
def withdraw_violation(
    request: Request,
    session: DbSession,
    actor: ViolationDecider,
    violation_id: int,
    reason: Annotated[str, Form(max_length=4000)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_same_origin(request)
    return _action(
        request,
        session,
        actor,
        back,
        "withdrawn",
        lambda: service.withdraw(session, actor, violation_id, reason),
    )


@router.post("/supervision/violations/{violation_id}/contest")
def contest_violation(
    request: Request,
    session: DbSession,
    actor: ViolationContester,
    violation_id: int,
    reason: Annotated[str, Form(max_length=4000)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_same_origin(request)
    return _action(
        request,
        session,
        actor,
        back,
        "contested",
        lambda: service.contest(session, actor, violation_id, reason),
    )


# --- 整改通知 (SUP-2): the list, one notice with its timeline and the forms ---------------------------

NOTICES = "/supervision/notices"
NOTICE_DONE = {
    "answered": "已提交整改情况，等待主管部门验收。",
    "accepted": "已验收通过，整改通知销号。",
    "reopened": "已退回，部门须重新整改。",
    "escalated": "已升级督办。",
}


@router.get("/supervision/notices")
def notices_page(
    request: Request,
    session: DbSession,
    actor: NoticeReader,
    status: Annotated[str, Query(max_length=20)] = "",
    department_id: Annotated[str, Query(max_length=12)] = "",
    overdue: Annotated[str, Query(max_length=1)] = "",
    offset: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    status = status if status in NoticeStatus.__members__ else ""
    department = _digits(department_id)
    start = _digits(offset) or 0
    late = overdue == "1"
    items, total = notices.list_notices(
        session,
        actor,
        status=status or None,
        department_id=department,
        overdue=late,
        limit=PAGE_SIZE,
        offset=start,
    )
    kept = {"status": status, "department_id": str(department or ""), "overdue": "1" if late else ""}

    link = _pager(NOTICES, kept)
    previous, following = offset_links(link, start, PAGE_SIZE, total)
    sees_all = sees_every_notice(actor)
    departments = _departments(session) if sees_all else []
    return render(
        request,
        "supervision/notices.html",
        actor,
        notices=notices.notice_views(session, items),
        total=total,
        filters=kept,
        statuses=labels(NoticeStatus),
        departments=departments,
        sees_all=sees_all,
        previous=previous,
        next=following,
        local_time=local_time,
    )


def _notice_page(
    request: Request,
    session: Session,
    actor: Actor,
    notice_id: int,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    notice = notices.get_notice(session, actor, notice_id)
    view = notices.notice_views(session, [notice], timeline=True)[0]
    return render(
        request,
        "supervision/notice.html",
        actor,
        status_code=status_code,
        notice=view,
        violation_href=f"{PAGE}?id={notice.violation_id}",
        can_answer=can_answer(actor, notice),
        can_accept=can_accept(actor, notice),
        can_escalate=can_escalate(actor, notice),
        next_step=ESCALATION_STEPS[notice.step].label if notice.step < len(ESCALATION_STEPS) else None,
        done=NOTICE_DONE.get(request.query_params.get("done") or ""),
        error=error,
        local_time=local_time,
    )


@router.get("/supervision/notices/{notice_id}")
def notice_page(request: Request, session: DbSession, actor: NoticeReader, notice_id: int) -> Response:
    return _notice_page(request, session, actor, notice_id)


def _notice_action(
    request: Request, session: Session, actor: Actor, notice_id: int, done: str, run
) -> Response:
    def action() -> str:
        run()
        return f"{notices.notice_href(notice_id)}?done={done}"

    def show_error(exc: Problem) -> Response:
        error = "；".join(error_messages(exc))
        return _notice_page(request, session, actor, notice_id, status_code=exc.status, error=error)

    return form_action(
        request,
        session,
        action,
        show_error,
        gone=lambda exc: isinstance(exc, NotFound) and exc.detail.startswith("整改通知"),
    )


@router.post("/supervision/notices/{notice_id}/answer")
def answer_notice(
    request: Request,
    session: DbSession,
    actor: NoticeAnswerer,
    notice_id: int,
    text: Annotated[str, Form(max_length=8000)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_same_origin(request)
    state = request.app.state

    def run() -> None:
        files = []
        if file is not None and file.filename:
            content = file.file.read(MAX_BYTES + 1)
            if len(content) > MAX_BYTES:
                raise PayloadTooLarge("整改材料不能超过 10 MB。")
            files.append((file.filename, content))
        notices.answer(session, actor, notice_id, text, files=files, data_dir=state.settings.data_dir)

    return _notice_action(request, session, actor, notice_id, "answered", run)


@router.post("/supervision/notices/{notice_id}/accept")
def accept_notice(
    request: Request,
    session: DbSession,
    actor: NoticeDecider,
    notice_id: int,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)
    return _notice_action(
        request,
        session,
        actor,
        notice_id,
        "accepted",
        lambda: notices.accept(session, actor, notice_id, reason),
    )


@router.post("/supervision/notices/{notice_id}/reopen")
def reopen_notice(
    request: Request,
    session: DbSession,
    actor: NoticeDecider,
    notice_id: int,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)
    return _notice_action(
        request,
        session,
        actor,
        notice_id,
        "reopened",
        lambda: notices.reopen(session, actor, notice_id, reason),
    )


@router.post("/supervision/notices/{notice_id}/escalate")
def escalate_notice(
    request: Request,
    session: DbSession,
    actor: NoticeDecider,
    notice_id: int,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)
    return _notice_action(
        request,
        session,
        actor,
        notice_id,
        "escalated",
        lambda: notices.escalate(session, actor, notice_id, reason),
    )
