"""Permissions of the message centre: people read the messages addressed to them and mark them read;
``addressed_to`` is which messages those are (the clause every list and count starts from).

Application systems have no inbox (403). The auditor reads audit trails and nothing else, and never
changes state, so it has no inbox either: a message an auditor could not mark read would stay
unread for ever.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy import ColumnElement, and_, or_

from govdata.core.auth import (
    INTERNAL_ROLES,
    Actor,
    Authenticator,
    Permission,
    Refusal,
    Role,
    lacks,
    permission,
)
from govdata.core.errors import PermissionDenied
from govdata.notifications.models import Notification

# people with an inbox: department staff, the authority, the administrator and public accounts
RECIPIENT_ROLES = INTERNAL_ROLES | {Role.admin, Role.public}

NOTIFICATION_READ = permission("notifications.read", RECIPIENT_ROLES, "查看发给本人的站内消息", writes=False)
NOTIFICATION_MARK = permission("notifications.mark", RECIPIENT_ROLES, "将本人的站内消息标为已读")

NotificationReader = Annotated[Actor, Depends(Authenticator(NOTIFICATION_READ))]
NotificationMarker = Annotated[Actor, Depends(Authenticator(NOTIFICATION_MARK))]


def has_inbox(actor: Actor) -> bool:
    """The caller is a person who receives messages (the page header shows their unread count)."""
    return actor.kind == "user" and actor.user_id is not None and actor.has(NOTIFICATION_READ)


def inbox_refusal(actor: Actor, perm: Permission) -> Refusal:
    """Why the caller may not use an inbox: not logged in (401), no such right (403), or not a person
    (the platform's own account reads no messages)."""
    if refusal := lacks(actor, perm):
        return refusal
    if actor.kind != "user" or actor.user_id is None:
        return PermissionDenied("只有用户本人可以查看和处理站内消息。", permission=perm.name)
    return None


def addressed_to(actor: Actor) -> ColumnElement[bool]:
    """The messages addressed to the caller (the one definition every list and count starts from)."""
    roles = sorted(str(r) for r in actor.roles)
    clauses: list[ColumnElement[bool]] = [
        and_(
            Notification.recipient_user_id.is_(None),
            Notification.recipient_department_id.is_(None),
            Notification.recipient_role.in_(roles),
        )
    ]
    if actor.user_id is not None:
        clauses.append(Notification.recipient_user_id == actor.user_id)
    if actor.department_id is not None:
        clauses.append(
            and_(
                Notification.recipient_user_id.is_(None),
                Notification.recipient_department_id == actor.department_id,
                or_(Notification.recipient_role.is_(None), Notification.recipient_role.in_(roles)),
            )
        )
    return or_(*clauses)
