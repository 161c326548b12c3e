"""The public's search of the open catalog (OPN-2): the portal's ``/datasets``, the JSON list of open
datasets, and whatever else searches what is open (the CKAN ``package_search``).

It is the catalog's own search (CAT-11: the bigram index that finds two-character words such as 人口
or 社保, synonyms from the data element dictionary, the facets), run without a caller and restricted
to the open catalog (``catalog.service.SearchRestriction``): the catalog keeps the published entries
of ``open_entries`` in memory beside its own columns, kept current by the stamp the catalog's
trigger writes on that table too (migration 0021), so the public search costs what the internal one
does (``benchmarks/portal.py``). The open type filtered and counted is the open catalog's, not the
catalog's registration (a resource opened after de-identification or with the rights holder's
consent is registered as not open)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.opening.enums import OpenStatus, OpenType
from govdata.opening.models import OpenEntry

# the portal's facets, in the order the page shows them
FACETS = ("provider_id", "classification", "open_type", "format", "update_cycle")
SORTS = ("relevance", "updated", "name", "published")


@dataclass(frozen=True)
class DatasetHit:
    """An open dataset as a search lists it."""

    code: str
    name: str
    summary: str
    provider_id: int
    provider_name: str
    classification: str
    format: str
    open_type: str
    update_cycle: str
    emergency: bool
    published_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class DatasetSearch:
    items: list[DatasetHit]
    total: int
    facets: dict[str, dict[str, int]]  # facet → value → count, the most frequent first


def _registered(open_type: str) -> str:
    return open_type if open_type in OpenType.__members__ else OpenType.conditional.value


OPEN_CATALOG = catalog.SearchRestriction(
    table=OpenEntry.__table__,
    admitted=lambda: OpenEntry.status == OpenStatus.published,
    open_type="open_type",
    fallback=_registered,
)


def search_datasets(
    session: Session,
    *,
    q: str | None = None,
    provider_id: int | None = None,
    classification: str | None = None,
    open_type: str | None = None,
    format: str | None = None,
    update_cycle: str | None = None,
    sort: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> DatasetSearch:
    """Open datasets matching ``q`` (every word, two characters suffice) and the filters, a page of
    them and the facets of all; actor-free: what is open is the same for everyone."""
    found = catalog.open_search(
        session,
        q=q,
        provider_id=provider_id,
        classification=classification,
        open_type=open_type,
        format=format,
        update_cycle=update_cycle,
        sort=sort if sort in SORTS else None,
        limit=limit,
        offset=offset,
        restriction=OPEN_CATALOG,
    )
    entries = {}
    if found.items:
        # every hit is a published entry (the restriction admits no other): looked up by the unique
        # resource id alone, which SQLite would otherwise forgo for the status index
        rows = session.execute(
            select(OpenEntry.resource_id, OpenEntry.open_type, OpenEntry.emergency).where(
                OpenEntry.resource_id.in_([hit.id for hit in found.items])
            )
        )
        entries = {resource_id: (kind, bool(emergency)) for resource_id, kind, emergency in rows}
    items = [
        DatasetHit(
            code=hit.code,
            name=hit.name,
            summary=hit.summary,
            provider_id=hit.provider_id,
            provider_name=hit.provider_name,
            classification=hit.classification,
            format=hit.format,
            open_type=entries[hit.id][0] or _registered(hit.open_type),
            update_cycle=hit.update_cycle,
            emergency=entries[hit.id][1],
            published_at=hit.published_at,
            updated_at=hit.updated_at,
        )
        for hit in found.items
        if hit.id in entries  # withdrawn between the two statements: not open any more
    ]
    facets = {name: found.facets.get(name, {}) for name in FACETS}
    return DatasetSearch(items, found.total, facets)


def use_totals(session: Session) -> tuple[int, int]:
    """Downloads and API calls of every dataset open now, summed (the portal's figures, OPN-9)."""
    downloads, api_calls = session.execute(
        select(
            func.coalesce(func.sum(OpenEntry.downloads), 0), func.coalesce(func.sum(OpenEntry.api_calls), 0)
        ).where(OpenEntry.status == OpenStatus.published)
    ).one()
    return int(downloads), int(api_calls)
