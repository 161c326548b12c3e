"""The authority's comment on a returned resource (CAT-5: returned with the authority's comments).

A version the authority returned carries the comment of its last return until it is submitted again:
the resource page shows it as a banner, the edit form above the form, the department's catalog
beside the resource. Only those who see versions being prepared see it (the provider department and
the authority, ``auth.sees_unpublished``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.catalog import auth
from govdata.catalog.auth import CATALOG_READ
from govdata.catalog.enums import VersionStatus
from govdata.catalog.models import Resource, ResourceLogEntry, ResourceVersion
from govdata.core.auth import Actor, require
from govdata.orgs import service as orgs


@dataclass(frozen=True)
class ReturnNote:
    """Why a version was returned: the comment, who returned it (username and name) and when."""

    version: int
    comment: str
    by: str
    by_name: str
    at: datetime
    revision: bool  # a revision of a published resource (the published version keeps serving)

    def as_dict(self) -> dict:
        return {
            "version": self.version,
            "comment": self.comment,
            "by": self.by,
            "by_name": self.by_name,
            "at": self.at,
            "revision": self.revision,
        }


def return_notes(session: Session, actor: Actor, resources: Iterable[Resource]) -> dict[int, ReturnNote]:
    """Resource id → the note of its returned version, for the resources of ``resources`` whose
    version being prepared is returned and whose versions the caller sees."""
    require(actor, CATALOG_READ)
    shown = {r.id: r for r in resources if auth.sees_unpublished(actor, r)}
    if not shown:
        return {}
    returned = session.execute(
        select(ResourceVersion.resource_id, ResourceVersion.version).where(
            ResourceVersion.resource_id.in_(sorted(shown)),
            ResourceVersion.status == VersionStatus.returned,
        )
    ).all()
    if not returned:
        return {}
    wanted = {(rid, version) for rid, version in returned}
    entries = session.scalars(
        select(ResourceLogEntry)
        .where(
            ResourceLogEntry.resource_id.in_(sorted({rid for rid, _ in wanted})),
            ResourceLogEntry.action == "returned",
        )
        .order_by(ResourceLogEntry.id)
    ).all()
    latest: dict[int, ResourceLogEntry] = {}
    for entry in entries:  # the last return of the returned version
        if (entry.resource_id, entry.version) in wanted:
            latest[entry.resource_id] = entry
    names = orgs.display_names(session, [e.actor for e in latest.values()])
    return {
        rid: ReturnNote(
            version=entry.version,
            comment=entry.comment or "",
            by=entry.actor,
            by_name=names.get(entry.actor) or entry.actor,
            at=entry.at,
            revision=shown[rid].published_version is not None,
        )
        for rid, entry in latest.items()
    }


def return_note(session: Session, actor: Actor, resource: Resource) -> ReturnNote | None:
    return return_notes(session, actor, [resource]).get(resource.id)
