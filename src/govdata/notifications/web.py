"""The 消息中心 page, and the unread count in the header of every page.

The page calls the same services as the API. The header's count is read in a short session of its
own: ``govdata.web.render`` is given no session, and the count must show on every page, error pages
included; if it cannot be read the header shows the link without a number rather than failing.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from govdata.core.auth import Actor, DbSession
from govdata.core.errors import Problem
from govdata.core.observability import log
from govdata.notifications import service
from govdata.notifications.auth import (
    NOTIFICATION_READ,
    NotificationMarker,
    NotificationReader,
    has_inbox,
)
from govdata.web import (
    HeaderLink,
    check_same_origin,
    form_action,
    header_link,
    local_time,
    nav_item,
    offset_links,
    render,
)

router = APIRouter(include_in_schema=False)

nav_item("消息中心", "/notifications", NOTIFICATION_READ, order=5)

PAGE_SIZE = 30
DONE = {"read": "已标为已读。", "all": "已将全部消息标为已读。"}


@header_link
def unread_link(request: Request, actor: Actor) -> HeaderLink | None:
    """The link "消息 (N)" beside the user menu, for a person with an inbox."""
    if not has_inbox(actor):
        return None
    try:
        with request.app.state.sessionmaker() as session:
            count = service.unread_count(session, actor)
    except Exception:  # the header never breaks a page
        log.exception("notifications.unread_count_failed")
        return HeaderLink("消息", "/notifications")
    return HeaderLink(f"消息 ({count})", "/notifications", highlight=count > 0)


def _page(
    request: Request,
    session,
    actor: Actor,
    *,
    show: str,
    offset: int,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    answer = service.list_for(
        session,
        actor,
        unread_only=show == "unread",
        read_only=show == "read",
        limit=PAGE_SIZE,
        offset=offset,
    )

    def link(new_offset: int) -> str:
        query = {
            k: v for k, v in {"show": show, "offset": str(new_offset) if new_offset else ""}.items() if v
        }
        return "/notifications" + (f"?{urlencode(query)}" if query else "")

    previous, following = offset_links(link, offset, PAGE_SIZE, answer["total"])
    return render(
        request,
        "notifications/list.html",
        actor,
        status_code=status_code,
        items=answer["items"],
        total=answer["total"],
        unread=answer["unread"],
        show=show,
        done=DONE.get(request.query_params.get("done") or ""),
        error=error,
        previous=previous,
        next=following,
        local_time=local_time,
    )


def _show(value: str) -> str:
    return value if value in ("unread", "read") else ""


@router.get("/notifications")
def notifications_page(
    request: Request,
    session: DbSession,
    actor: NotificationReader,
    show: Annotated[str, Query(max_length=10)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    return _page(request, session, actor, show=_show(show), offset=offset)


def _back(show: str, done: str) -> str:
    query = {"done": done, **({"show": show} if show else {})}
    return f"/notifications?{urlencode(query)}"


@router.post("/notifications/read-all")
def read_all(
    request: Request,
    session: DbSession,
    actor: NotificationMarker,
    show: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    check_same_origin(request)

    def action() -> str:
        service.mark_all_read(session, actor)
        return _back(_show(show), "all")

    def show_error(exc: Problem) -> Response:
        return _page(
            request, session, actor, show=_show(show), offset=0, error=exc.detail, status_code=exc.status
        )

    return form_action(request, session, action, show_error)


@router.post("/notifications/{notification_id}/read")
def read_one(
    request: Request,
    session: DbSession,
    actor: NotificationMarker,
    notification_id: int,
    go: Annotated[str, Form(max_length=1)] = "",
    show: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Mark a message read; with ``go=1`` then open the page it links to (a page of this site)."""
    check_same_origin(request)
    try:
        view = service.mark_read(session, actor, notification_id)
    except Problem as exc:
        session.rollback()
        return _page(
            request, session, actor, show=_show(show), offset=0, error=exc.detail, status_code=exc.status
        )
    target = view["link"] if go == "1" and view["link"] else _back(_show(show), "read")
    return RedirectResponse(target, status_code=303)
