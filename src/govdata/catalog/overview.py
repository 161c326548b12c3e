"""Counts of the catalog across departments, for views that oversee them (the authority's region-wide
view). Actor-free facts: the caller checked its own caller."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govdata.catalog.enums import VersionStatus
from govdata.catalog.models import Resource, ResourceVersion


def status_counts_by_provider(session: Session) -> dict[int, dict[str, int]]:
    """Provider department id → resources per status (draft, submitted, returned, published, retired)."""
    counts: dict[int, dict[str, int]] = {}
    stmt = select(Resource.provider_id, Resource.status, func.count()).group_by(
        Resource.provider_id, Resource.status
    )
    for provider, status, n in session.execute(stmt).all():
        counts.setdefault(provider, {})[status] = n
    return counts


def revisions_by_provider(session: Session) -> dict[int, dict[str, int]]:
    """Provider department id → revisions of published resources being prepared, per version status
    (submitted ones wait for the authority; returned ones wait for the department)."""
    counts: dict[int, dict[str, int]] = {}
    stmt = (
        select(Resource.provider_id, ResourceVersion.status, func.count())
        .join(ResourceVersion, ResourceVersion.resource_id == Resource.id)
        .where(
            Resource.published_version.is_not(None),
            ResourceVersion.status.in_([VersionStatus.submitted, VersionStatus.returned]),
        )
        .group_by(Resource.provider_id, ResourceVersion.status)
    )
    for provider, status, n in session.execute(stmt).all():
        counts.setdefault(provider, {})[status] = n
    return counts
