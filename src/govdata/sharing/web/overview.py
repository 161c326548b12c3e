"""The 数据共享 page: each role's lists as tabs.

* consumer (whoever may apply): 我的申请 with deadlines and working-day countdowns, 我的授权;
* provider (whoever may decide or manage grants): 待办申请, the decision queue, most urgent first,
  and 本部门授权 with the suspend, resume and revoke forms;
* authority: 合规审查, 超期督办, 异议协调 with the negotiate and decide forms, and every application.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.core.auth import Actor, DbSession
from govdata.sharing import service
from govdata.sharing.auth import (
    APPLY,
    CHECK,
    COORDINATE,
    DECIDE,
    GRANT_MANAGE,
    Reader,
    can_change_grant,
    can_coordinate,
    is_authority,
)
from govdata.sharing.enums import ApplicationStatus, Phase
from govdata.sharing.web.common import (
    DONE_MESSAGES,
    HOME,
    application_row,
    grant_row,
    names_for,
    page,
    router,
)
from govdata.web import offset_links

PAGE_SIZE = 30
QUEUE_MAX = 200  # the decision queue is sorted by deadline across its two phases: at most this many


def _tabs(actor: Actor) -> list[tuple[str, str]]:
    """The tabs this caller gets, in order: (name, title)."""
    tabs: list[tuple[str, str]] = []
    if actor.has(DECIDE) or actor.has(GRANT_MANAGE):
        tabs += [("queue", "待办申请"), ("provided", "本部门授权")]
    if actor.has(APPLY) and actor.department_id is not None:
        tabs += [("mine", "我的申请"), ("grants", "我的授权")]
    if is_authority(actor):
        if actor.has(CHECK):
            tabs.append(("check", "合规审查"))
        if actor.has(COORDINATE):
            tabs += [("escalated", "超期督办"), ("coordination", "异议协调")]
        tabs.append(("all", "全部申请"))
    return tabs


def _queue(session: Session, actor: Actor) -> tuple[list, int]:
    """Applications waiting for this department's receipt or decision, the most urgent first."""
    rows, total = [], 0
    for phase in (Phase.awaiting_receipt, Phase.awaiting_decision):
        found, count = service.list_applications(
            session, actor, role="provider", phase=phase, limit=QUEUE_MAX, offset=0
        )
        rows += found
        total += count
    return rows, total


def _applications(
    session: Session, actor: Actor, tab: str, offset: int, limit: int = PAGE_SIZE
) -> tuple[list, int]:
    arguments: dict[str, Any] = {
        "mine": {"role": "consumer"},
        "check": {"phase": Phase.compliance_check},
        "escalated": {"status": ApplicationStatus.escalated},
        "coordination": {"phase": Phase.coordination},
        "all": {},
    }[tab]
    return service.list_applications(session, actor, limit=limit, offset=offset, **arguments)


def _count(session: Session, actor: Actor, tab: str) -> int:
    if tab == "queue":
        return sum(
            service.list_applications(session, actor, role="provider", phase=phase, limit=1)[1]
            for phase in (Phase.awaiting_receipt, Phase.awaiting_decision)
        )
    if tab in ("provided", "grants"):
        role = "provider" if tab == "provided" else "consumer"
        return service.list_grants(session, actor, role=role, limit=1)[1]
    return _applications(session, actor, tab, 0, limit=1)[1]


def overview(
    request: Request,
    session: Session,
    actor: Actor,
    tab: str,
    offset: int,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    tabs = _tabs(actor)
    names = [name for name, _ in tabs]
    tab = tab if tab in names else (names[0] if names else "")
    counts = {name: _count(session, actor, name) for name in names}
    applications: list[dict] = []
    grants: list[dict] = []
    total = 0
    if tab in ("provided", "grants"):
        role = "provider" if tab == "provided" else "consumer"
        rows, total = service.list_grants(session, actor, role=role, limit=PAGE_SIZE, offset=offset)
        names_of = names_for(session, grants=rows)
        grants = [grant_row(g, names_of) for g in rows]
        for view, grant in zip(grants, rows, strict=True):
            view["can"] = {a: can_change_grant(actor, grant, a) for a in ("suspend", "resume", "revoke")}
    elif tab:
        if tab == "queue":
            rows, total = _queue(session, actor)
        else:
            rows, total = _applications(session, actor, tab, offset)
        names_of = names_for(session, applications=rows)
        applications = [application_row(session, a, names_of) for a in rows]
        for view, application in zip(applications, rows, strict=True):
            view["can_coordinate"] = can_coordinate(actor, application)
            view["requested"] = application.items
            view["masked_requested"] = application.masked_items or []
        if tab == "queue":
            applications.sort(key=lambda a: (a["deadline"] or "9999-12-31", a["id"]))

    def link(new_offset: int) -> str:
        query = {"tab": tab, **({"offset": str(new_offset)} if new_offset else {})}
        return f"{HOME}?{urlencode(query)}"

    previous, following = (None, None) if tab == "queue" else offset_links(link, offset, PAGE_SIZE, total)
    return page(
        request,
        "sharing/index.html",
        actor,
        status_code=status_code,
        tabs=tabs,
        tab=tab,
        counts=counts,
        applications=applications,
        grants=grants,
        total=total,
        back=link(offset),
        previous=previous,
        next=following,
        done=DONE_MESSAGES.get(request.query_params.get("done") or ""),
        error=error,
        section="overview",
    )


@router.get(HOME)
def sharing_page(
    request: Request,
    session: DbSession,
    actor: Reader,
    tab: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    return overview(request, session, actor, tab, offset)
