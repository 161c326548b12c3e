"""API keys of approved conditional open applications (OPN-3).

A key is shown once and stored as its SHA-256 digest (it carries 256 random bits, like the platform's
other tokens). It reads one dataset, the application's granted items, until the granted period ends;
revoking it, or the period ending, refuses it at once. A call sends it as ``Authorization: Bearer
<key>`` or ``X-Api-Key: <key>``; the open-data routes turn it into an ``OpenAccess`` with
:func:`resolve_key`. Keys start with ``gdk_`` so that the token resolver can tell them from session
tokens (``gdu_``) and system credentials (``gds_``): as a bearer token a key is nobody to the rest of
the platform (:func:`resolving_keys`)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from govdata.core import audit, clock
from govdata.core.auth import ANONYMOUS, Actor, enforce, new_token, require, token_digest
from govdata.core.db import utcnow
from govdata.core.errors import Conflict, NotFound
from govdata.opening.public_auth import KEYS, key_refusal
from govdata.opening.public_models import OpenApiKey, OpenApplication
from govdata.opening.service import applications

if TYPE_CHECKING:
    from collections.abc import Callable

    from govdata.opening.service import OpenAccess

KEY_PREFIX = "gdk"
MAX_ACTIVE_KEYS = 5


def is_key(token: str | None) -> bool:
    return bool(token) and token.startswith(KEY_PREFIX + "_")


def create_key(session: Session, actor: Actor, application_id: int) -> tuple[OpenApiKey, str]:
    """A new key of the caller's approved application; the key itself is returned once."""
    require(actor, KEYS)
    application = applications.get_application(session, actor, application_id)
    enforce(key_refusal(actor, application))
    if application.decided_period_end is None or application.decided_period_end < clock.today():
        raise Conflict("申请的使用期限已届满，不能再创建接口密钥。", slug="period-ended")
    active = session.scalars(
        select(OpenApiKey.id).where(
            OpenApiKey.application_id == application.id, OpenApiKey.revoked_at.is_(None)
        )
    ).all()
    if len(active) >= MAX_ACTIVE_KEYS:
        raise Conflict(
            f"每个申请最多同时有 {MAX_ACTIVE_KEYS} 个有效密钥，请先吊销不用的密钥。", slug="too-many-keys"
        )
    token, digest = new_token(KEY_PREFIX)
    key = OpenApiKey(
        application_id=application.id, account_id=application.account_id, digest=digest, hint=token[:10]
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor,
        "opening.key.created",
        "open_api_key",
        key.id,
        details={"application_id": application.id, "hint": key.hint},
    )
    return key, token


def list_keys(session: Session, actor: Actor, application_id: int | None = None) -> list[OpenApiKey]:
    """The caller's own keys (of one application, or all)."""
    require(actor, KEYS)
    stmt = select(OpenApiKey).where(OpenApiKey.account_id == actor.user_id)
    if application_id is not None:
        stmt = stmt.where(OpenApiKey.application_id == application_id)
    return list(session.scalars(stmt.order_by(OpenApiKey.id.desc())))


def revoke_key(session: Session, actor: Actor, application_id: int, key_id: int) -> OpenApiKey:
    require(actor, KEYS)
    key = session.get(OpenApiKey, key_id)
    if key is None or key.account_id != actor.user_id or key.application_id != application_id:
        raise NotFound(f"接口密钥 {key_id} 不存在。")
    if key.revoked_at is not None:
        raise Conflict("该接口密钥已被吊销。", slug="already-revoked")
    key.revoked_at = utcnow()
    audit.record(session, actor, "opening.key.revoked", "open_api_key", key.id)
    return key


def key_id_of(session: Session, key: str) -> int | None:
    return session.scalar(select(OpenApiKey.id).where(OpenApiKey.digest == token_digest(key)))


def resolve_key(session: Session, key: str) -> OpenAccess | None:
    """The access a key gives: its application's granted items, while the key is not revoked and the
    application is approved and within its period; None otherwise (the caller answers 401)."""
    if not is_key(key):
        return None
    row = session.execute(
        select(OpenApiKey, OpenApplication)
        .join(OpenApplication, OpenApplication.id == OpenApiKey.application_id)
        .where(OpenApiKey.digest == token_digest(key))
    ).one_or_none()
    if row is None:
        return None
    found, application = row
    today = clock.today()
    if (
        found.revoked_at is not None
        or application.status not in applications.APPROVED
        or application.decided_period_end is None
        or application.decided_period_end < today
        or application.period_start > today
    ):
        return None
    now = utcnow()
    if found.last_used_at is None or now - found.last_used_at > timedelta(minutes=1):
        session.execute(update(OpenApiKey).where(OpenApiKey.id == found.id).values(last_used_at=now))
    return applications.grant_access(application)


def key_dataset(session: Session, key: str) -> str | None:
    """The dataset a key was made for (whether or not it is still valid)."""
    return session.scalar(
        select(OpenApplication.dataset_code)
        .join(OpenApiKey, OpenApiKey.application_id == OpenApplication.id)
        .where(OpenApiKey.digest == token_digest(key))
    )


def resolving_keys(resolve: Callable) -> Callable:
    """Wrap the app's token resolver so that an open-data API key sent as a bearer token is not refused
    as an invalid session: it resolves to nobody (anonymous, no rights anywhere) and the open-data
    routes read the key themselves (:func:`resolve_key`). An unknown key is still refused."""

    def resolve_token(session: Session, token: str, end_user: str | None = None) -> Actor | None:
        if is_key(token):
            access = resolve_key(session, token)
            # nobody, holding no role; the account's id only lets the rate limit count the key's
            # calls against its holder
            return None if access is None else dataclasses.replace(ANONYMOUS, user_id=access.account_id)
        return resolve(session, token, end_user)

    return resolve_token
