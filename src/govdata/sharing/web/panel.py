"""The sharing panel of the catalog's resource page (SHR-1): how the resource is shared (share type,
modes, materials, usage requirements), an "申请共享" action for another department's users who may
apply, and — for the provider — how many applications and grants the resource has.

Registered with ``govdata.web.register_resource_panel``, so the catalog shows it without knowing
sharing. The loader only reads.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.catalog.enums import ShareMethod, ShareMode, ShareType
from govdata.core.auth import Actor
from govdata.core.errors import NotFound, PermissionDenied
from govdata.core.labels import label
from govdata.sharing import service
from govdata.sharing.auth import READ, can_apply, in_department, is_authority
from govdata.sharing.enums import ApplicationStatus, GrantStatus, Phase
from govdata.sharing.web.common import HOME, apply_href
from govdata.web import register_resource_panel


def _counts(session: Session, actor: Actor, code: str) -> dict[str, int]:
    """The resource's applications and grants as its provider (or the authority) sees them."""
    role = None if is_authority(actor) else "provider"

    def applications(**filters: Any) -> int:
        return service.list_applications(session, actor, role=role, resource_code=code, limit=1, **filters)[1]

    def grants(**filters: Any) -> int:
        return service.list_grants(session, actor, role=role, resource_code=code, limit=1, **filters)[1]

    return {
        "applications": applications(),
        "waiting": applications(phase=Phase.awaiting_receipt) + applications(phase=Phase.awaiting_decision),
        "escalated": applications(status=ApplicationStatus.escalated),
        "grants": grants(),
        "active": grants(status=GrantStatus.active),
        "suspended": grants(status=GrantStatus.suspended),
    }


def sharing_panel(request: Request, session: Session, actor: Actor, code: str) -> dict[str, Any] | None:
    """The context of ``sharing/_panel.html``, or None when the caller may not see sharing."""
    if not actor.has(READ):
        return None
    try:
        resource = catalog.find_resource(session, actor, code)
    except (NotFound, PermissionDenied):
        return None
    if resource.published_version is None:
        return None
    body = catalog.version_body(session, resource.id, resource.published_version) or {}
    provider = in_department(actor, resource.provider_id)
    may_apply = can_apply(actor, resource)
    mine = None
    if may_apply:
        found, total = service.list_applications(
            session, actor, role="consumer", resource_code=resource.code, limit=1
        )
        mine = {"total": total, "latest": found[0].id if found else None}
    return {
        "share_type": resource.share_type,
        "share_type_label": label(ShareType, resource.share_type),
        "share_conditions": body.get("share_conditions"),
        "legal_basis": body.get("legal_basis"),
        "modes": [label(ShareMode, m) for m in body.get("share_modes") or []],
        "methods": [label(ShareMethod, m) for m in body.get("share_methods") or []],
        "materials": list(body.get("materials") or []),
        "usage_requirements": body.get("usage_requirements"),
        "may_apply": may_apply,
        "withheld": resource.share_type == ShareType.none,
        "apply_href": apply_href(resource.code),
        "mine": mine,
        "counts": _counts(session, actor, resource.code) if provider or is_authority(actor) else None,
        "queue_href": f"{HOME}?tab=queue",
        "provided_href": f"{HOME}?tab=provided",
        "usage_href": f"{HOME}/usage?" + urlencode({"resource_code": resource.code}),
        "provider": provider,
    }


register_resource_panel("sharing", sharing_panel, template="sharing/_panel.html", order=20)
