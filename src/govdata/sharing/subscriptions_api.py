"""Routes of subscriptions to a granted resource's changes and their deliveries. Thin: parse, call
``sharing.subscriptions``, answer. See that module for what a delivery sends and how it is signed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from govdata.core.auth import Actor, Authenticator, DbSession
from govdata.core.errors import register_field_labels
from govdata.core.schemas import ApiRoute, OrmModel, Page, PagingParams
from govdata.sharing import subscriptions
from govdata.sharing.auth import Reader

router = APIRouter(prefix="/api/v1", tags=["数据共享"], route_class=ApiRoute)

Subscriber = Annotated[Actor, Depends(Authenticator(subscriptions.SUBSCRIBE))]

register_field_labels({"webhook_url": "回调地址"})


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhook_url: str | None = Field(
        default=None,
        max_length=2000,
        description="本部门应用系统接收推送的地址（http 或 https，可选）；不填则只发站内消息",
    )


class SubscriptionOut(OrmModel):
    id: int
    grant_id: int
    resource_code: str
    resource_name: str
    webhook_url: str | None
    status: str = Field(description="active 有效 | ended 已取消")
    created_by: str
    created_at: datetime
    updated_at: datetime
    ended_by: str | None
    ended_at: datetime | None


class DeliveryOut(OrmModel):
    id: int
    subscription_id: int
    grant_id: int
    batch_id: int
    resource_code: str
    webhook_url: str | None
    status: str = Field(
        description="message_only 仅站内消息 | pending 待推送 | delivered 已推送 | failed 推送失败 | cancelled 已取消"
    )
    attempts: int
    last_status: int | None = Field(description="回调地址最后一次答复的 HTTP 状态码")
    last_error: str | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any] = Field(description="推送的内容（签名的正是它的规范 JSON）")


@router.post(
    "/grants/{grant_id}/subscription",
    status_code=201,
    response_model=SubscriptionOut,
    responses={200: {"model": SubscriptionOut, "description": "已修改订阅的回调地址"}},
    summary="订阅授权资源的数据更新（站内消息，及可选的签名回调推送）",
)
def subscribe(
    request: Request,
    response: Response,
    session: DbSession,
    actor: Subscriber,
    grant_id: int,
    body: SubscriptionIn | None = None,
) -> Any:
    subscription, created = subscriptions.subscribe(
        session,
        actor,
        request.app.state.settings,
        grant_id,
        webhook_url=body.webhook_url if body else None,
        platform_url=str(request.base_url),
    )
    if not created:
        response.status_code = 200
    return subscription


@router.get("/grants/{grant_id}/subscription", response_model=SubscriptionOut, summary="授权的有效订阅")
def get_subscription(session: DbSession, actor: Reader, grant_id: int) -> Any:
    return subscriptions.get_subscription(session, actor, grant_id)


@router.delete("/grants/{grant_id}/subscription", response_model=SubscriptionOut, summary="取消订阅")
def unsubscribe(session: DbSession, actor: Subscriber, grant_id: int) -> Any:
    return subscriptions.unsubscribe(session, actor, grant_id)


@router.get(
    "/grants/{grant_id}/deliveries",
    response_model=Page[DeliveryOut],
    summary="授权订阅的推送记录：尝试次数、最后状态、最后错误",
)
def list_deliveries(
    session: DbSession,
    actor: Reader,
    grant_id: int,
    paging: PagingParams,
    status: Annotated[
        str | None, Query(pattern="^(" + "|".join(subscriptions.DeliveryStatus.__members__) + ")$")
    ] = None,
) -> Any:
    items, total = subscriptions.list_deliveries(
        session, actor, grant_id, status=status, limit=paging.limit, offset=paging.offset
    )
    return {"items": items, "total": total}
