"""The message centre (站内消息): capabilities tell people what needs their attention.

* Writing: :func:`notify` is actor-free and runs inside the caller's transaction, so a message is
  sent exactly when the change it reports is committed. A message goes to one user, to a
  department's staff (all of them, or those holding one role), or to everyone holding a role
  ("to the authority").
* Reading: a caller sees the messages addressed to their user id; to their department with no role
  or with one of their roles; and to one of their roles with no department. Whether a message was
  read is kept per user, so one officer reading a department's message leaves it unread for the
  others.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from govdata.core import audit
from govdata.core.auth import Actor, Role, enforce
from govdata.core.db import utcnow
from govdata.core.errors import NotFound
from govdata.notifications.auth import NOTIFICATION_MARK, NOTIFICATION_READ, addressed_to, inbox_refusal
from govdata.notifications.models import Notification, NotificationRead

TITLE_MAX = 200


def notify(
    session: Session,
    *,
    kind: str,
    title: str,
    body: str,
    link: str | None = None,
    object_type: str | None = None,
    object_id: object | None = None,
    user_id: int | None = None,
    department_id: int | None = None,
    role: Role | str | None = None,
) -> None:
    """Send a message inside the caller's transaction.

    Recipients: ``user_id`` (that user only); else ``department_id`` (its staff, or those of them
    holding ``role``); else ``role`` (everyone holding it). ``link`` is a page of this site
    (``/supervision/violations?…``)."""
    if user_id is None and department_id is None and role is None:
        raise ValueError("a notification needs a recipient: user_id, department_id or role")
    if link is not None and (not link.startswith("/") or link.startswith("//")):
        raise ValueError(f"a notification links to a page of this site, not {link!r}")
    session.add(
        Notification(
            recipient_user_id=user_id,
            recipient_department_id=department_id if user_id is None else None,
            recipient_role=None if user_id is not None or role is None else Role(role).value,
            kind=kind,
            title=title[:TITLE_MAX],
            body=body,
            link=link,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            created_at=utcnow(),
        )
    )
    session.flush()


# --- reading -------------------------------------------------------------------------------------


def _read_by(user_id: int | None) -> ColumnElement[bool]:
    read = aliased(NotificationRead)  # the list joins NotificationRead too: correlate only the message
    return (
        select(read.notification_id)
        .where(read.notification_id == Notification.id, read.user_id == user_id)
        .correlate(Notification)
        .exists()
    )


def _view(notification: Notification, read_at: Any) -> dict[str, Any]:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "link": notification.link,
        "object_type": notification.object_type,
        "object_id": notification.object_id,
        "created_at": notification.created_at,
        "read": read_at is not None,
        "read_at": read_at,
    }


def list_for(
    session: Session,
    actor: Actor,
    *,
    unread_only: bool = False,
    read_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """The caller's messages, newest first (only the unread ones, or only the read ones, if asked):
    ``{items, total, unread}``, where ``unread`` counts all their unread messages."""
    enforce(inbox_refusal(actor, NOTIFICATION_READ))
    where = addressed_to(actor)
    if unread_only:
        where = and_(where, ~_read_by(actor.user_id))
    elif read_only:
        where = and_(where, _read_by(actor.user_id))
    total = session.scalar(select(func.count(Notification.id)).where(where)) or 0
    rows = session.execute(
        select(Notification, NotificationRead.read_at)
        .outerjoin(
            NotificationRead,
            and_(
                NotificationRead.notification_id == Notification.id,
                NotificationRead.user_id == actor.user_id,
            ),
        )
        .where(where)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    unread = total if unread_only else unread_count(session, actor)
    return {"items": [_view(n, read_at) for n, read_at in rows], "total": total, "unread": unread}


def unread_count(session: Session, actor: Actor) -> int:
    """How many of the caller's messages they have not read (one indexed count; every page shows it)."""
    enforce(inbox_refusal(actor, NOTIFICATION_READ))
    where = and_(addressed_to(actor), ~_read_by(actor.user_id))
    return session.scalar(select(func.count(Notification.id)).where(where)) or 0


# --- marking read ------------------------------------------------------------------------------


def _insert_reads(session: Session, rows: Any) -> int:
    """Insert (notification_id, user_id, read_at) rows, given as a select or as a list of dicts,
    skipping those already there (a second tab marking the same message at the same moment is not
    an error)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(NotificationRead)
    if isinstance(rows, list):
        statement = statement.values(rows)
    else:
        statement = statement.from_select(["notification_id", "user_id", "read_at"], rows)
    statement = statement.on_conflict_do_nothing().returning(NotificationRead.notification_id)
    return len(session.execute(statement).all())  # what was inserted (rowcount is -1 on some drivers)


def mark_read(session: Session, actor: Actor, notification_id: int) -> dict[str, Any]:
    """Mark one of the caller's messages read (404 when it is not addressed to them)."""
    enforce(inbox_refusal(actor, NOTIFICATION_MARK))
    notification = session.scalar(
        select(Notification).where(Notification.id == notification_id, addressed_to(actor))
    )
    if notification is None:
        raise NotFound(f"消息 {notification_id} 不存在。")
    row = {"notification_id": notification.id, "user_id": actor.user_id, "read_at": utcnow()}
    if _insert_reads(session, [row]):
        audit.record(session, actor, "notification.read", "notification", notification.id)
    read_at = session.scalar(
        select(NotificationRead.read_at).where(
            NotificationRead.notification_id == notification.id, NotificationRead.user_id == actor.user_id
        )
    )
    return _view(notification, read_at)


def mark_all_read(session: Session, actor: Actor) -> dict[str, int]:
    """Mark every unread message of the caller read: ``{marked, unread}``."""
    enforce(inbox_refusal(actor, NOTIFICATION_MARK))
    now = utcnow()
    rows = select(
        Notification.id,
        literal(actor.user_id, NotificationRead.user_id.type),
        literal(now, NotificationRead.read_at.type),
    ).where(addressed_to(actor), ~_read_by(actor.user_id))
    marked = _insert_reads(session, rows)
    if marked:
        audit.record(session, actor, "notification.read_all", "notification", None, details={"count": marked})
    return {"marked": marked, "unread": unread_count(session, actor)}
