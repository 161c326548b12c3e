"""The objections panel of the catalog's resource page (COR-3 on the provider's own pages): the
records of the resource under review, with their deadlines, for the provider (the authority sees how
many); a "提出疑义" action for whoever may object to the resource's records.

Registered with ``govdata.web.register_resource_panel``; the loader only reads.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.core.auth import Actor
from govdata.core.calendar import WorkingCalendar
from govdata.core.errors import Problem
from govdata.objections import service
from govdata.objections.auth import FILE, READ, in_department, is_authority
from govdata.objections.enums import ObjectionStatus
from govdata.objections.web.common import HOME, names_for, new_href, objection_row
from govdata.web import register_resource_panel

SHOWN = 10


def objections_panel(request: Request, session: Session, actor: Actor, code: str) -> dict[str, Any] | None:
    """The context of ``objections/_panel.html``, or None when there is nothing for this caller."""
    if not actor.has(READ):
        return None
    try:
        resource = catalog.find_resource(session, actor, code)
    except Problem:
        return None
    if resource.published_version is None:
        return None
    provider = in_department(actor, resource.provider_id)
    rows: list[dict[str, Any]] = []
    counts = None
    if provider or is_authority(actor):
        role = "provider" if provider else None
        found, open_count = service.list_objections(
            session,
            actor,
            role=role,
            status=ObjectionStatus.under_review,
            resource_code=resource.code,
            limit=SHOWN,
        )
        counts = {
            "open": open_count,
            "overdue": service.list_objections(
                session, actor, role=role, overdue=True, resource_code=resource.code, limit=1
            )[1],
            "all": service.list_objections(session, actor, role=role, resource_code=resource.code, limit=1)[
                1
            ],
        }
        calendar = WorkingCalendar.load(session)
        departments = names_for(session, found)
        rows = [objection_row(session, actor, o, departments, calendar) for o in found]
    may_file = False
    if actor.has(FILE) and actor.department_id is not None:
        try:
            _, items = service.objectable_items(session, actor, resource.code)
            may_file = bool(items)
        except Problem:
            may_file = False
    if counts is None and not may_file:
        return None
    tab = "provided" if provider else "all"
    return {
        "counts": counts,
        "rows": rows,
        "provider": provider,
        "may_file": may_file,
        "new_href": new_href(resource.code),
        "list_href": f"{HOME}?tab={tab}&resource={resource.code}",
    }


register_resource_panel("objections", objections_panel, template="objections/_panel.html", order=30)
