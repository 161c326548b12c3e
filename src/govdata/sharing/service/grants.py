"""Grants (SHR-5) and who may use a sharing service under which grant (SHR-6, SEC-4).

A grant binds a consumer department's application system to a resource's items (each served clear or
masked), modes, purpose, period and rate limit. Only the named system uses it; the consumer
department's own staff may use it too, recorded as end users of that system (the pages' query view).
The provider's own staff use the services on their own resources without a grant.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from cachetools import TTLCache
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.catalog.service import ResourceRef
from govdata.core import audit, clock
from govdata.core.auth import Actor, Role, require
from govdata.core.db import claim, hold, paginate, utcnow
from govdata.core.errors import Conflict, NotFound, PermissionDenied, field_error
from govdata.notifications import service as notifications
from govdata.sharing.auth import (
    EVIDENCE,
    READ,
    USE,
    can_read_grant,
    grant_change_refusal,
    in_department,
    is_authority,
)
from govdata.sharing.enums import GrantStatus
from govdata.sharing.models import Grant, ShareSetting

DEFAULT_RATE_LIMIT = 600  # calls per minute, when the application does not ask for another
MAX_RATE_LIMIT = 1_000_000

ALL_MODES = ("verify", "query", "interface", "exchange")


@dataclass(frozen=True)
class Access:
    """What one caller may receive from one resource through one mode."""

    resource: ResourceRef
    items: tuple[str, ...]
    masked: frozenset[str]
    modes: frozenset[str]
    grant_id: int | None
    application_id: int | None
    purpose: str | None
    rate_limit: int | None
    system_id: int | None
    consumer_department_id: int | None
    own: bool
    direct_evidence: bool = False


def item_codes(session: Session, resource: ResourceRef) -> list[str]:
    """The resource's published item codes, lower-case, in catalog order."""
    body = catalog.published_body(session, resource)
    return [item["code"].lower() for item in body.get("items", [])]


def _usable(grant: Grant, today: date) -> bool:
    return grant.status == GrantStatus.active and grant.period_start <= today <= grant.period_end


# built once: the statement is asked on every call of a service (building it costs as much as running it)
_OF_RESOURCE = (
    select(
        Grant.id,
        Grant.status,
        Grant.status_reason,
        Grant.period_start,
        Grant.period_end,
        Grant.items,
        Grant.modes,
        Grant.application_id,
        Grant.purpose,
        Grant.rate_limit,
        Grant.system_id,
        Grant.consumer_department_id,
    )
    .where(Grant.resource_id == bindparam("resource_id"))
    .order_by(Grant.id.desc())
)
_OF_SYSTEM = _OF_RESOURCE.where(Grant.system_id == bindparam("holder"))
_OF_DEPARTMENT = _OF_RESOURCE.where(Grant.consumer_department_id == bindparam("holder"))


def _grants_of_caller(session: Session, actor: Actor, resource_id: int) -> list[Any]:
    """The caller's grants on the resource, newest first, as rows of what access needs (read on
    every call, so that a suspension or revocation holds from the next one)."""
    if actor.kind == "system":
        stmt, holder = _OF_SYSTEM, actor.system_id
    else:
        stmt, holder = _OF_DEPARTMENT, actor.department_id
    # on the session's connection: the statement names columns only, so the ORM's own execution
    # (entities, identity map) would add work and nothing else; what the session holds unwritten (a
    # grant changed in this unit of work) is written first, as the ORM's autoflush would
    session.flush()
    return list(session.connection().execute(stmt, {"resource_id": resource_id, "holder": holder}))


def _refusal_of(grant: Grant, today: date) -> PermissionDenied:
    if grant.status == GrantStatus.suspended:
        return PermissionDenied(
            f"该共享授权已被提供部门暂停：{grant.status_reason or ''}", slug="grant-suspended"
        )
    if grant.status == GrantStatus.revoked:
        return PermissionDenied(f"该共享授权已被撤销：{grant.status_reason or ''}", slug="grant-revoked")
    if grant.status == GrantStatus.expired or today > grant.period_end:
        return PermissionDenied(f"该共享授权已于 {grant.period_end.isoformat()} 到期。", slug="grant-expired")
    return PermissionDenied(
        f"该共享授权自 {grant.period_start.isoformat()} 起生效，尚未开始。", slug="grant-not-started"
    )


def grant_refusal(grant: Grant, today: date | None = None) -> PermissionDenied | None:
    """Why a grant cannot be used today (suspended, revoked, expired, not started), or None."""
    today = today or clock.today()
    return None if _usable(grant, today) else _refusal_of(grant, today)


def _caller_grants(
    session: Session, actor: Actor, code: str, grant_id: int | None
) -> tuple[ResourceRef, list[Any] | None]:
    """The resource and the caller's grants on it usable today, newest first; None for the provider's
    own staff, who need none (401/403/404 otherwise)."""
    require(actor, USE)
    resource = catalog.find_resource(session, actor, code)
    if resource.published_version is None:
        raise NotFound(f"资源 {code} 尚未发布，没有可共享的数据。")
    if actor.kind != "system" and in_department(actor, resource.provider_id):
        return resource, None
    if resource.status == "retired":
        raise PermissionDenied(f"资源 {code} 已停用，不再提供共享服务。", slug="resource-retired")
    if actor.kind != "system" and Role.app not in actor.roles and actor.department_id is None:
        raise PermissionDenied("尚无该资源的共享授权。", slug="no-grant")
    today = clock.today()
    grants = _grants_of_caller(session, actor, resource.id)
    if grant_id is not None:
        grants = [g for g in grants if g.id == grant_id]
        if not grants:
            raise PermissionDenied(f"共享授权 {grant_id} 不是调用方在该资源上的授权。", slug="no-grant")
    usable = [g for g in grants if _usable(g, today)]
    if not usable:
        if grants:
            raise _refusal_of(grants[0], today)
        raise PermissionDenied("尚无该资源的共享授权，请先提出共享申请。", slug="no-grant")
    return resource, usable


def _codes(grant: Any) -> set[str]:
    return {i["code"].lower() for i in grant.items}


def access_for(
    session: Session,
    actor: Actor,
    code: str,
    mode: str,
    *,
    grant_id: int | None = None,
    needs: Collection[str] = (),
) -> Access:
    """What ``actor`` may receive from resource ``code`` through ``mode`` (401/403/404 otherwise).

    A call is made under one grant, whose items, masks, purpose and rate limit it takes: ``grant_id``
    names it (a page of that grant); else it is the newest usable grant with ``mode`` that holds every
    item the call names (``needs``: the items verified, the filters), or the newest one when none
    does (whose refusal then names the items outside it)."""
    resource, usable = _caller_grants(session, actor, code, grant_id)
    if usable is None:
        return Access(
            resource,
            tuple(item_codes(session, resource)),
            frozenset(),
            frozenset(ALL_MODES),
            None,
            None,
            None,
            None,
            None,
            actor.department_id,
            own=True,
        )
    with_mode = [g for g in usable if mode in g.modes]
    if not with_mode:
        raise PermissionDenied(f"共享授权不包括该服务方式（{mode}）。", slug="mode-not-granted")
    wanted = set(needs)
    grant = next((g for g in with_mode if wanted <= _codes(g)), with_mode[0])
    order = item_codes(session, resource)
    granted = {i["code"].lower(): bool(i.get("masked")) for i in grant.items}
    items = tuple(c for c in order if c in granted)
    return Access(
        resource=resource,
        items=items,
        masked=frozenset(c for c in items if granted[c]),
        modes=frozenset(grant.modes),
        grant_id=grant.id,
        application_id=grant.application_id,
        purpose=grant.purpose,
        rate_limit=grant.rate_limit,
        system_id=grant.system_id,
        consumer_department_id=grant.consumer_department_id,
        own=False,
        direct_evidence=is_direct_evidence(session, resource.id),
    )


def granted_items(session: Session, actor: Actor, code: str) -> tuple[ResourceRef, frozenset[str]]:
    """The resource and every item the caller may receive of it today, under any of its usable grants
    in any mode (every item for the provider's own staff); 401/403/404 as ``access_for``."""
    resource, usable = _caller_grants(session, actor, code, None)
    if usable is None:
        return resource, frozenset(item_codes(session, resource))
    return resource, frozenset(c for g in usable for c in _codes(g))


# --- data that may be relied upon directly (可直接采信, SHR-9) ----------------------------------------


# Asked by every answer (its receipt says it): kept a second, and forgotten at once when changed here.
_evidence: TTLCache[tuple[Any, int], bool] = TTLCache(maxsize=4096, ttl=1.0)
_evidence_lock = threading.Lock()


def is_direct_evidence(session: Session, resource_id: int) -> bool:
    key = (session.get_bind().url, resource_id)
    with _evidence_lock:
        known = _evidence.get(key)
    if known is None:
        known = bool(
            session.scalar(
                select(ShareSetting.direct_evidence).where(ShareSetting.resource_id == resource_id)
            )
        )
        with _evidence_lock:
            _evidence[key] = known
    return known


def set_direct_evidence(session: Session, actor: Actor, code: str, value: bool) -> bool:
    """The authority marks a resource whose shared data is a basis for handling affairs as it stands."""
    require(actor, EVIDENCE)
    resource = catalog.find_resource(session, actor, code)
    setting = session.get(ShareSetting, resource.id) or ShareSetting(resource_id=resource.id)
    setting.direct_evidence = value
    setting.set_by = actor.name
    setting.set_at = utcnow()
    session.add(setting)
    session.flush()
    with _evidence_lock:
        _evidence.pop((session.get_bind().url, resource.id), None)
    audit.record(
        session, actor, "sharing.direct_evidence.set", "resource", resource.code, details={"value": value}
    )
    return value


# --- reading grants ------------------------------------------------------------------------------


def _readable(actor: Actor):
    if is_authority(actor):
        return Grant.id.is_not(None)
    return or_(Grant.consumer_department_id == actor.department_id, Grant.provider_id == actor.department_id)


def list_grants(
    session: Session,
    actor: Actor,
    *,
    role: str | None = None,
    status: str | None = None,
    resource_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Grant], int]:
    """The caller's department's grants as consumer and as provider (the authority: all)."""
    require(actor, READ)
    stmt = select(Grant).where(_readable(actor))
    if role == "consumer":
        stmt = stmt.where(Grant.consumer_department_id == actor.department_id)
    elif role == "provider":
        stmt = stmt.where(Grant.provider_id == actor.department_id)
    if status:
        stmt = stmt.where(Grant.status == status)
    if resource_code:
        stmt = stmt.where(Grant.resource_code == resource_code)
    return paginate(session, stmt, Grant.id.desc(), limit=limit, offset=offset)


def get_grant(session: Session, actor: Actor, grant_id: int) -> Grant:
    require(actor, READ)
    grant = session.get(Grant, grant_id)
    if grant is None or not can_read_grant(actor, grant):
        raise NotFound(f"共享授权 {grant_id} 不存在。")
    return grant


# --- issuing and changing grants -----------------------------------------------------------------


def issue_grant(
    session: Session,
    application: Any,
    *,
    items: list[dict[str, Any]],
    period_end: date,
    conditions: str | None,
    rate_limit: int,
) -> Grant:
    """The grant an application's decision (or a coordination) gives; called within that use case."""
    grant = Grant(
        application_id=application.id,
        resource_id=application.resource_id,
        resource_code=application.resource_code,
        resource_name=application.resource_name,
        provider_id=application.provider_id,
        consumer_department_id=application.consumer_department_id,
        system_id=application.system_id,
        items=items,
        modes=list(application.modes),
        purpose=application.purpose,
        conditions=conditions,
        usage_requirements=application.usage_requirements,
        period_start=application.period_start,
        period_end=period_end,
        rate_limit=rate_limit,
        status=GrantStatus.active if period_end >= clock.today() else GrantStatus.expired,
    )
    session.add(grant)
    session.flush()
    application.grant_id = grant.id
    notifications.notify(
        session,
        kind="grant.issued",
        title=f"共享授权已生效：{grant.resource_name}",
        body=f"授权 {grant.id}：{len(items)} 个信息项，有效期至 {period_end.isoformat()}。",
        link=f"/sharing/grants/{grant.id}",
        object_type="grant",
        object_id=str(grant.id),
        department_id=grant.consumer_department_id,
    )
    return grant


_ACTIONS = {
    "suspend": (GrantStatus.suspended, "已暂停"),
    "resume": (GrantStatus.active, "已恢复"),
    "revoke": (GrantStatus.revoked, "已撤销"),
}


def change_grant(session: Session, actor: Actor, grant_id: int, action: str, reason: str | None) -> Grant:
    """Suspend, resume or revoke a grant (the provider, with a reason for suspend and revoke)."""
    require(actor, READ)
    grant = session.get(Grant, grant_id)
    if grant is None or not can_read_grant(actor, grant):
        raise NotFound(f"共享授权 {grant_id} 不存在。")
    hold(session, grant, lambda: grant_change_refusal(actor, grant, action))
    reason = (reason or "").strip()
    if action != "resume" and not reason:
        raise field_error("reason", "暂停或撤销授权必须说明理由")
    if action == "resume" and grant.period_end < clock.today():
        raise Conflict("授权已过有效期，不能恢复。", slug="grant-expired")
    status, label = _ACTIONS[action]
    grant.status = status
    grant.status_reason = reason or None
    grant.status_by = actor.name
    grant.status_at = utcnow()
    audit.record(
        session, actor, f"sharing.grant.{action}", "grant", grant.id, details={"reason": reason or None}
    )
    notifications.notify(
        session,
        kind=f"grant.{action}",
        title=f"共享授权{label}：{grant.resource_name}",
        body=f"授权 {grant.id}{label}。" + (f"理由：{reason}" if reason else ""),
        link=f"/sharing/grants/{grant.id}",
        object_type="grant",
        object_id=str(grant.id),
        department_id=grant.consumer_department_id,
    )
    return grant


def expire_due(session: Session) -> int:
    """Grants past their period become expired (the sweep; answers show it at once)."""
    today = clock.today()
    due = list(
        session.scalars(
            select(Grant).where(
                Grant.status.in_([GrantStatus.active, GrantStatus.suspended]), Grant.period_end < today
            )
        )
    )
    expired = 0
    for grant in due:
        if not claim(session, Grant, grant.id, status=grant.status):
            continue  # revoked (or resumed) meanwhile: the next sweep sees it
        expired += 1
        grant.status = GrantStatus.expired
        grant.status_at = utcnow()
        grant.status_by = "govdata"
    return expired


def warn_expiring(session: Session, within_days: int = 10) -> int:
    """Tell consumers once that a grant ends soon (the sweep)."""
    today = clock.today()
    soon = list(
        session.scalars(
            select(Grant).where(
                Grant.status == GrantStatus.active,
                Grant.expiry_notified.is_(False),
                Grant.period_end <= date.fromordinal(today.toordinal() + within_days),
            )
        )
    )
    for grant in soon:
        grant.expiry_notified = True
        notifications.notify(
            session,
            kind="grant.expiring",
            title=f"共享授权即将到期：{grant.resource_name}",
            body=f"授权 {grant.id} 将于 {grant.period_end.isoformat()} 到期，如需继续使用请重新申请。",
            link=f"/sharing/grants/{grant.id}",
            object_type="grant",
            object_id=str(grant.id),
            department_id=grant.consumer_department_id,
        )
    return len(soon)
