"""Subscriptions (订阅): a consumer is told when a batch changed a resource it holds a grant for.

A consumer department's staff (``dept_user``, ``dept_officer``, ``dept_head``) subscribe one of its
active grants (``POST /api/v1/grants/{id}/subscription``, optionally with a ``webhook_url`` of its
system; again to change the URL) and end it (``DELETE``). A grant has at most one active
subscription.

When aggregation applies a batch (``BATCH_APPLIED``, handled after commit in ``sharing.handlers``),
every active subscription of the resource whose grant is usable today (active, within its period)
gets one :class:`Delivery` — unique per (subscription, batch), so a handler that runs twice tells
nobody twice — and a message-centre notification to the consumer department; with a webhook, a
delivery job (``core.jobs``, keyed per subscription and batch) POSTs

    {event, delivery_id, subscription_id, grant_id, resource_code, resource_name, batch_id,
     applied_at, rows_applied, changes_url}

as canonical JSON (sorted keys, UTF-8, no spaces), signed with the node's Ed25519 key
(``core.signing``): ``X-GovData-Signature`` is the Base64 signature over the exact body,
``X-GovData-Key-Id`` names the key (its public half at ``GET /api/v1/node/keys``), beside
``X-GovData-Delivery``, ``X-GovData-Event`` and ``X-GovData-Attempt``. A receiver verifies the
signature before trusting the body, and may use ``delivery_id`` to ignore a repeat (a delivery is
sent at least once: a worker that dies after sending sends again). ``changes_url`` is the
incremental changes service (``GET /api/v1/share/{code}/changes``) at the address the subscriber
used to reach the platform; fetching it needs the grant's ``exchange`` mode.

A webhook answering 2xx has its delivery; anything else (another status, no connection, no answer
within :data:`WEBHOOK_TIMEOUT_SECONDS`, an address ``sharing.outbound`` refuses) is a failed attempt,
tried again after :data:`BACKOFF_SECONDS` (10 s, 1 min, 5 min, 30 min, 2 h) — each retry a job of
its own that runs no earlier — until :data:`MAX_ATTEMPTS`; then the delivery is ``failed`` and the
consumer department is told. Each delivery keeps its attempts, last status, last error and times
(``GET /api/v1/grants/{id}/deliveries``). Redirects are not followed. The last error is the status
code and a short class in Chinese (:func:`error_class`), never what the webhook answered: the
platform does not read a failed answer's body, so a webhook pointed at some other service cannot
make the platform read that service for the consumer.

A webhook must be on a public address unless ``GOVDATA_WEBHOOK_ALLOW_PRIVATE=true``
(``sharing.outbound``): a switch of its own, not the one for the providers' interface services,
since any consumer's staff registers a webhook — checked when it is registered and again before
every attempt.

A grant suspended, revoked or expired, or a subscription ended, gets nothing: no new deliveries, and
outstanding retries are cancelled when they come due.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from govdata.aggregation import service as aggregation
from govdata.core import audit, clock, jobs
from govdata.core.auth import SYSTEM_ACTOR, Actor, Refusal, Role, enforce, lacks, permission, require
from govdata.core.config import Settings
from govdata.core.db import paginate, unit_of_work, utcnow
from govdata.core.errors import Conflict, NotFound, PermissionDenied, field_error
from govdata.core.labels import LabelledEnum, label
from govdata.core.signing import node_key
from govdata.notifications import service as notifications
from govdata.sharing import outbound
from govdata.sharing.auth import READ, in_department, is_authority
from govdata.sharing.enums import GrantStatus
from govdata.sharing.models import Grant
from govdata.sharing.service.grants import get_grant
from govdata.sharing.subscription_models import Delivery, Subscription

SUBSCRIBE = permission(
    "sharing.subscribe",
    {Role.dept_user, Role.dept_officer, Role.dept_head},
    "订阅本部门已获授权资源的数据更新",
)

DELIVER = "sharing.webhook.deliver"
"""The job that POSTs one delivery to its webhook (payload ``{delivery_id, attempt}``)."""

EVENT = "batch_applied"
BACKOFF_SECONDS = (10, 60, 300, 1800, 7200)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
WEBHOOK_TIMEOUT_SECONDS = 10.0
WEBHOOK_SETTING = "GOVDATA_WEBHOOK_ALLOW_PRIVATE"


class SubscriptionStatus(LabelledEnum):
    active = "active", "有效"
    ended = "ended", "已取消"


class DeliveryStatus(LabelledEnum):
    message_only = "message_only", "仅站内消息"
    pending = "pending", "待推送"
    delivered = "delivered", "已推送"
    failed = "failed", "推送失败"
    cancelled = "cancelled", "已取消"


# --- who may do what ---------------------------------------------------------------------------------


def subscribe_refusal(actor: Actor, grant: Any) -> Refusal:
    """The consumer department's staff subscribe its active grants."""
    if refused := lacks(actor, SUBSCRIBE):
        return refused
    if not in_department(actor, grant.consumer_department_id):
        return PermissionDenied("只有使用部门可以订阅该授权的数据更新。", slug="not-consumer")
    if grant.status != GrantStatus.active:
        return Conflict(
            f"授权{label(GrantStatus, grant.status)}，不能订阅。",
            slug="invalid-state",
            status_now=grant.status,
        )
    return None


def unsubscribe_refusal(actor: Actor, grant: Any) -> Refusal:
    if refused := lacks(actor, SUBSCRIBE):
        return refused
    if not in_department(actor, grant.consumer_department_id):
        return PermissionDenied("只有使用部门可以取消订阅。", slug="not-consumer")
    return None


def read_refusal(actor: Actor, grant: Any) -> Refusal:
    """The consumer department and the authority see a grant's subscription and deliveries (they
    name the consumer's webhook, which the provider has no need of)."""
    if refused := lacks(actor, READ):
        return refused
    if is_authority(actor) or in_department(actor, grant.consumer_department_id):
        return None
    return PermissionDenied("订阅和推送记录只有使用部门可以查看。", slug="not-consumer")


def can_subscribe(actor: Actor, grant: Any) -> bool:
    return subscribe_refusal(actor, grant) is None


def can_unsubscribe(actor: Actor, grant: Any) -> bool:
    return unsubscribe_refusal(actor, grant) is None


def can_read_subscription(actor: Actor, grant: Any) -> bool:
    return read_refusal(actor, grant) is None


# --- use cases -------------------------------------------------------------------------------------


def _active(session: Session, grant_id: int) -> Subscription | None:
    return session.scalar(
        select(Subscription).where(
            Subscription.grant_id == grant_id, Subscription.status == SubscriptionStatus.active
        )
    )


def subscribe(
    session: Session,
    actor: Actor,
    settings: Settings,
    grant_id: int,
    *,
    webhook_url: str | None = None,
    platform_url: str | None = None,
) -> tuple[Subscription, bool]:
    """Subscribe grant ``grant_id`` (or change its webhook); the subscription and whether it is new.
    ``platform_url`` is the platform's address as the caller reached it (for ``changes_url``)."""
    require(actor, SUBSCRIBE)
    grant = get_grant(session, actor, grant_id)
    enforce(subscribe_refusal(actor, grant))
    url = None
    if webhook_url is not None and webhook_url.strip():
        url = outbound.checked_url(
            webhook_url,
            "webhook_url",
            allow_private=settings.webhook_allow_private,
            setting=WEBHOOK_SETTING,
        )
    subscription = _active(session, grant.id)
    created = subscription is None
    if subscription is None:
        subscription = Subscription(
            grant_id=grant.id,
            resource_id=grant.resource_id,
            resource_code=grant.resource_code,
            resource_name=grant.resource_name,
            consumer_department_id=grant.consumer_department_id,
            system_id=grant.system_id,
            status=SubscriptionStatus.active,
            created_by=actor.name,
            created_at=utcnow(),
        )
        session.add(subscription)
    previous = subscription.webhook_url
    subscription.webhook_url = url
    subscription.platform_url = (platform_url or "").rstrip("/")[:500] or None
    subscription.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "sharing.subscription.create" if created else "sharing.subscription.change",
        "grant",
        grant.id,
        details={
            "subscription_id": subscription.id,
            "webhook_url": url,
            "previous_webhook_url": None if created else previous,
        },
    )
    return subscription, created


def unsubscribe(session: Session, actor: Actor, grant_id: int) -> Subscription:
    """End the grant's subscription; deliveries still waiting for a retry are cancelled."""
    require(actor, SUBSCRIBE)
    grant = get_grant(session, actor, grant_id)
    enforce(unsubscribe_refusal(actor, grant))
    subscription = _active(session, grant.id)
    if subscription is None:
        raise NotFound(f"授权 {grant.id} 没有有效的订阅。", slug="no-subscription")
    subscription.status = SubscriptionStatus.ended
    subscription.ended_by = actor.name
    subscription.ended_at = utcnow()
    waiting = session.scalars(
        select(Delivery).where(
            Delivery.subscription_id == subscription.id, Delivery.status == DeliveryStatus.pending
        )
    )
    cancelled = 0
    for delivery in waiting:
        delivery.status = DeliveryStatus.cancelled
        delivery.last_error = "订阅已取消"
        delivery.next_attempt_at = None
        cancelled += 1
    audit.record(
        session,
        actor,
        "sharing.subscription.end",
        "grant",
        grant.id,
        details={"subscription_id": subscription.id, "cancelled_deliveries": cancelled},
    )
    return subscription


def get_subscription(session: Session, actor: Actor, grant_id: int) -> Subscription:
    """The grant's active subscription (404 when there is none)."""
    require(actor, READ)
    grant = get_grant(session, actor, grant_id)
    enforce(read_refusal(actor, grant))
    subscription = _active(session, grant.id)
    if subscription is None:
        raise NotFound(f"授权 {grant.id} 没有有效的订阅。", slug="no-subscription")
    return subscription


def list_deliveries(
    session: Session,
    actor: Actor,
    grant_id: int,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Delivery], int]:
    """What the grant's subscriptions (also ended ones) were told, newest first."""
    require(actor, READ)
    grant = get_grant(session, actor, grant_id)
    enforce(read_refusal(actor, grant))
    if status is not None and status not in DeliveryStatus.__members__:
        raise field_error(
            "status", "取值不在允许范围内（可选：" + "、".join(DeliveryStatus.__members__) + "）"
        )
    stmt = select(Delivery).where(Delivery.grant_id == grant.id)
    if status:
        stmt = stmt.where(Delivery.status == status)
    return paginate(session, stmt, Delivery.id.desc(), limit=limit, offset=offset)


# --- after a batch: the deliveries ---------------------------------------------------------------


def _usable(grant: Grant | None) -> bool:
    today = clock.today()
    return (
        grant is not None
        and grant.status == GrantStatus.active
        and grant.period_start <= today <= grant.period_end
    )


def _instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _changes_url(subscription: Subscription) -> str:
    path = f"/api/v1/share/{subscription.resource_code}/changes"
    return f"{subscription.platform_url}{path}" if subscription.platform_url else path


def on_batch_applied(session: Session, batch_id: int, resource_id: int) -> int:
    """Tell every active subscription of the resource with a usable grant about an applied batch
    (idempotent); how many deliveries were made now."""
    facts = aggregation.batch_facts(session, batch_id)
    if facts is None or facts.status != "applied":  # rolled back (or gone) before the handler ran
        return 0
    found = session.execute(
        select(Subscription, Grant)
        .join(Grant, Grant.id == Subscription.grant_id)
        .where(Subscription.resource_id == resource_id, Subscription.status == SubscriptionStatus.active)
        .order_by(Subscription.id)
    ).all()
    made = 0
    for subscription, grant in found:
        if not _usable(grant):
            continue
        done = session.scalar(
            select(Delivery.id).where(
                Delivery.subscription_id == subscription.id, Delivery.batch_id == batch_id
            )
        )
        if done is not None:
            continue
        delivery = Delivery(
            subscription_id=subscription.id,
            grant_id=grant.id,
            batch_id=batch_id,
            resource_code=subscription.resource_code,
            webhook_url=subscription.webhook_url,
            payload={},
            status=DeliveryStatus.pending if subscription.webhook_url else DeliveryStatus.message_only,
            attempts=0,
            created_at=utcnow(),
        )
        session.add(delivery)
        session.flush()
        delivery.payload = {
            "event": EVENT,
            "delivery_id": delivery.id,
            "subscription_id": subscription.id,
            "grant_id": grant.id,
            "resource_code": subscription.resource_code,
            "resource_name": subscription.resource_name,
            "batch_id": batch_id,
            "applied_at": _instant(facts.finished_at),
            "rows_applied": facts.rows_applied,
            "changes_url": _changes_url(subscription),
        }
        notifications.notify(
            session,
            kind="subscription.batch_applied",
            title=f"订阅的数据已更新：{subscription.resource_name}",
            body=f"批次 {batch_id} 更新了 {facts.rows_applied} 条记录，可通过数据交换（增量变更）获取。"
            + ("已向登记的回调地址推送通知。" if subscription.webhook_url else ""),
            link=f"/sharing/grants/{grant.id}",
            object_type="grant",
            object_id=grant.id,
            department_id=subscription.consumer_department_id,
        )
        if subscription.webhook_url:
            jobs.enqueue(
                session,
                DELIVER,
                {"delivery_id": delivery.id, "attempt": 1},
                key=f"sharing.webhook:{subscription.id}:{batch_id}",
            )
        audit.record(
            session,
            SYSTEM_ACTOR,
            "sharing.subscription.notify",
            "grant",
            grant.id,
            details={
                "delivery_id": delivery.id,
                "batch_id": batch_id,
                "webhook": bool(subscription.webhook_url),
            },
        )
        made += 1
    return made


def canonical(payload: dict[str, Any]) -> bytes:
    """The exact bytes a delivery sends and signs (the same on every attempt)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def signature_headers(settings: Settings, body: bytes) -> dict[str, str]:
    """``X-GovData-Signature`` (Base64 Ed25519 over ``body``) and the key that made it."""
    key = node_key(settings)
    return {
        "X-GovData-Signature": base64.b64encode(key.sign(body)).decode("ascii"),
        "X-GovData-Signature-Alg": key.alg,
        "X-GovData-Key-Id": key.key_id,
    }


def error_class(status: int) -> str:
    """What a delivery's last error says of a webhook's non-2xx answer: its status and its class."""
    if 300 <= status < 400:
        kind = "重定向，平台不跟随"
    elif status in (401, 403):
        kind = "拒绝访问"
    elif status == 404:
        kind = "地址不存在"
    elif status == 429:
        kind = "请求过多"
    elif 400 <= status < 500:
        kind = "请求被拒绝"
    elif status >= 500:
        kind = "服务出错或暂不可用"
    else:
        kind = "非成功答复"
    return f"回调地址答复 HTTP {status}（{kind}）"


def _post(
    settings: Settings, url: str, body: bytes, delivery_id: int, attempt: int
) -> tuple[int | None, str | None]:
    """POST one delivery; (the status, None) when the webhook took it, else (status or None, why not:
    a short class, never the webhook's answer)."""
    try:
        pinned = outbound.pin(url, allow_private=settings.webhook_allow_private, setting=WEBHOOK_SETTING)
    except outbound.Unreachable:
        return None, "回调地址不可调用（地址无效、无法解析或指向内部网络）"
    headers = {
        "Host": pinned.host_header,
        "Content-Type": "application/json",
        "User-Agent": "GovData-Hub",
        "X-GovData-Event": EVENT,
        "X-GovData-Delivery": str(delivery_id),
        "X-GovData-Attempt": str(attempt),
        **signature_headers(settings, body),
    }
    try:
        client = httpx.Client(
            timeout=WEBHOOK_TIMEOUT_SECONDS,
            follow_redirects=False,
            trust_env=False,
            verify=outbound.tls_context(),
        )
        with (
            client,
            client.stream(
                "POST", pinned.url, content=body, headers=headers, extensions=pinned.extensions
            ) as response,
        ):
            status = response.status_code  # the body is never read
    except httpx.TimeoutException:
        return None, f"回调地址在 {WEBHOOK_TIMEOUT_SECONDS:g} 秒内未答复"
    except httpx.ConnectError:
        return None, "无法连接回调地址"
    except httpx.HTTPError:
        return None, "与回调地址的连接中断"
    if 200 <= status < 300:
        return status, None
    return status, error_class(status)


def _give_up(session: Session, delivery: Delivery, status: str, reason: str) -> None:
    delivery.status = status
    delivery.next_attempt_at = None
    if status == DeliveryStatus.cancelled:
        delivery.last_error = reason
    audit.record(
        session,
        SYSTEM_ACTOR,
        f"sharing.delivery.{status}",
        "grant",
        delivery.grant_id,
        details={"delivery_id": delivery.id, "batch_id": delivery.batch_id, "reason": reason},
    )


def deliver(factory: sessionmaker[Session], settings: Settings, delivery_id: int, attempt: int) -> None:
    """Attempt ``attempt`` of delivery ``delivery_id`` (the job :data:`DELIVER`); idempotent: an
    attempt already recorded is not made again."""
    with unit_of_work(factory) as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.pending or delivery.attempts >= attempt:
            return
        subscription = session.get(Subscription, delivery.subscription_id)
        grant = session.get(Grant, delivery.grant_id)
        if subscription is None or subscription.status != SubscriptionStatus.active:
            _give_up(session, delivery, DeliveryStatus.cancelled, "订阅已取消")
            return
        if not _usable(grant):
            state = label(GrantStatus, grant.status) if grant else "不存在"
            if grant is not None and grant.status == GrantStatus.active:
                state = "不在有效期内"
            _give_up(session, delivery, DeliveryStatus.cancelled, f"授权{state}，不再推送")
            return
        url, body = delivery.webhook_url, canonical(delivery.payload)
        batch_id, department_id = delivery.batch_id, subscription.consumer_department_id
    status, error = _post(settings, url, body, delivery_id, attempt)
    now = clock.now()
    with unit_of_work(factory) as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery.status != DeliveryStatus.pending or delivery.attempts >= attempt:
            return  # recorded meanwhile (ended, or another worker took over this attempt)
        delivery.attempts = attempt
        delivery.last_status = status
        delivery.last_error = error
        delivery.last_attempt_at = now
        if error is None:
            delivery.status = DeliveryStatus.delivered
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            audit.record(
                session,
                SYSTEM_ACTOR,
                "sharing.delivery.delivered",
                "grant",
                delivery.grant_id,
                details={
                    "delivery_id": delivery.id,
                    "batch_id": batch_id,
                    "attempts": attempt,
                    "status": status,
                },
            )
            return
        if attempt < MAX_ATTEMPTS:
            due = now + timedelta(seconds=BACKOFF_SECONDS[attempt - 1])
            delivery.next_attempt_at = due
            jobs.enqueue(
                session,
                DELIVER,
                {"delivery_id": delivery.id, "attempt": attempt + 1},
                key=f"sharing.webhook:{delivery.subscription_id}:{batch_id}:{attempt + 1}",
                run_after=due,
            )
            return
        _give_up(session, delivery, DeliveryStatus.failed, error)
        notifications.notify(
            session,
            kind="subscription.delivery_failed",
            title=f"数据更新推送失败：{delivery.resource_code}",
            body=f"批次 {batch_id} 的更新通知经 {attempt} 次尝试仍未送达回调地址。最后一次：{error}",
            link=f"/sharing/grants/{delivery.grant_id}",
            object_type="grant",
            object_id=delivery.grant_id,
            department_id=department_id,
        )
