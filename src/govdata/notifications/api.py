"""Routes of the message centre (SPEC §15 notifications)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from govdata.core.auth import DbSession
from govdata.core.schemas import ApiRoute, PagingParams
from govdata.notifications import service
from govdata.notifications.auth import NotificationMarker, NotificationReader
from govdata.notifications.schemas import NotificationOut, NotificationPage, ReadAllOut

router = APIRouter(prefix="/api/v1", tags=["站内消息"], route_class=ApiRoute)


@router.get("/notifications", response_model=NotificationPage, summary="发给本人的站内消息（含未读数）")
def list_notifications(
    session: DbSession,
    actor: NotificationReader,
    paging: PagingParams,
    unread: Annotated[bool | None, Query(description="true 只看未读，false 只看已读；不给时全部")] = None,
) -> dict:
    return service.list_for(
        session,
        actor,
        unread_only=unread is True,
        read_only=unread is False,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.post("/notifications/read-all", response_model=ReadAllOut, summary="将本人的全部站内消息标为已读")
def read_all(session: DbSession, actor: NotificationMarker) -> dict:
    return service.mark_all_read(session, actor)


@router.post(
    "/notifications/{notification_id}/read", response_model=NotificationOut, summary="将一条站内消息标为已读"
)
def read_one(session: DbSession, actor: NotificationMarker, notification_id: int) -> dict:
    return service.mark_read(session, actor, notification_id)
