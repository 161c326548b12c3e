"""Facts of the catalog for other capabilities (CAT-1…13): actor-free reads that sibling capabilities
(aggregation, quality, libraries, sharing, supervision, federation) use instead of the catalog's tables.
They return plain, frozen values; a sibling that acts for a caller first checks the caller with
``service.find_resource`` (the catalog's visibility rule). ``catalog.service`` re-exports them: siblings
import them from there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cachetools import LRUCache
from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.catalog import search
from govdata.catalog.code_tables import item_value_labels
from govdata.catalog.enums import ResourceStatus, TaskStatus
from govdata.catalog.models import (
    CatalogEvent,
    Classification,
    DataElement,
    Resource,
    ResourceItem,
    ResourceVersion,
    UpdateTask,
)
from govdata.catalog.validation import RuleContext, parse_resource, subject_of
from govdata.core.calendar import TrackedDeadline
from govdata.core.clock import china_date


@dataclass(frozen=True)
class ResourceRef:
    """What another capability may know of a catalog resource."""

    id: int
    code: str
    name: str
    provider_id: int
    provider_name: str
    status: str
    format: str
    share_type: str
    open_type: str
    update_cycle: str
    grade: str
    version: int
    published_version: int | None
    published_at: datetime | None
    local_catalog: bool = False  # an entry of the region's own 个性化目录 (CAT-6)

    @property
    def is_published(self) -> bool:
        return self.status == ResourceStatus.published


def ref_of(resource: Resource) -> ResourceRef:
    return ResourceRef(
        id=resource.id,
        code=resource.code,
        name=resource.name,
        provider_id=resource.provider_id,
        provider_name=resource.provider.name,
        status=resource.status,
        format=resource.format,
        share_type=resource.share_type,
        open_type=resource.open_type,
        update_cycle=resource.update_cycle,
        grade=resource.grade,
        version=resource.version,
        published_version=resource.published_version,
        published_at=resource.published_at,
        local_catalog=bool(resource.local_catalog),
    )


def resource_ref(session: Session, *, id: int | None = None, code: str | None = None) -> ResourceRef | None:
    if (id is None) == (code is None):
        raise ValueError("give exactly one of id and code")
    resource = (
        session.get(Resource, id)
        if id is not None
        else session.scalar(select(Resource).where(Resource.code == code))
    )
    return None if resource is None else ref_of(resource)


def version_body(session: Session, resource_id: int, version: int | None = None) -> dict[str, Any] | None:
    """A version's body (the shown version when ``version`` is None); None if there is no such version."""
    if version is None:
        version = session.scalar(select(Resource.version).where(Resource.id == resource_id))
        if version is None:
            return None
    body = session.scalar(
        select(ResourceVersion.body).where(
            ResourceVersion.resource_id == resource_id, ResourceVersion.version == version
        )
    )
    return body


_published_bodies: LRUCache[tuple[Any, ...], dict[str, Any]] = LRUCache(maxsize=512)
_published_lock = threading.Lock()


def published_body(session: Session, resource: ResourceRef) -> dict[str, Any]:
    """The body of the resource's published version ({} before the first publication). A published
    version never changes, so each is read once per process and kept (the 512 most recently used),
    under its database, number and time of publication."""
    if resource.published_version is None:
        return {}
    key = (session.get_bind().url, resource.id, resource.published_version, resource.published_at)
    with _published_lock:
        body = _published_bodies.get(key)
    if body is None:
        body = version_body(session, resource.id, resource.published_version) or {}
        with _published_lock:
            _published_bodies[key] = body
    return body


def value_labels(session: Session, resource: ResourceRef) -> dict[str, dict[str, str]]:
    """Item code (lower case) → {stored code → what it means} for the published items that follow a
    national code table (性别 ``1`` → 男), for pages that show stored records (#13 item 22)."""
    items = published_body(session, resource).get("items", [])
    return {code.lower(): labels for code, labels in item_value_labels(items).items()}


def version_migration(session: Session, resource_id: int, version: int) -> dict[str, Any] | None:
    """The data migration a version names (``catalog.impacts``): ``{"confirm", "items"}`` or None."""
    return session.scalar(
        select(ResourceVersion.migration).where(
            ResourceVersion.resource_id == resource_id, ResourceVersion.version == version
        )
    )


def element_key_kinds(session: Session) -> dict[str, str | None]:
    """Data element name → the identifier it is (``ric``, ``uscc``) or None."""
    return dict(session.execute(select(DataElement.name, DataElement.key_kind)).all())


def published_resources(
    session: Session,
    *,
    provider_id: int | None = None,
    formats: Iterable[str] | None = None,
    ids: Iterable[int] | None = None,
) -> list[ResourceRef]:
    """Published resources (ordered by code), optionally of one provider, some formats or some ids."""
    stmt = select(Resource).where(Resource.status == ResourceStatus.published)
    if provider_id is not None:
        stmt = stmt.where(Resource.provider_id == provider_id)
    if formats is not None:
        stmt = stmt.where(Resource.format.in_(sorted(formats)))
    if ids is not None:
        stmt = stmt.where(Resource.id.in_(sorted(set(ids))))
    return [ref_of(r) for r in session.scalars(stmt.order_by(Resource.code))]


def element_holders(
    session: Session,
    elements: Iterable[str],
    *,
    key_only: bool = False,
    exclude_id: int | None = None,
    limit: int | None = None,
) -> list[tuple[ResourceRef, dict[str, str]]]:
    """Published resources with an item referencing any of ``elements`` (only key items when
    ``key_only``), each with element → its item code (lower case), ordered by code."""
    stmt = (
        select(Resource, ResourceItem.element, ResourceItem.code)
        .join(ResourceItem, ResourceItem.resource_id == Resource.id)
        .where(
            Resource.status == ResourceStatus.published,
            Resource.published_version.is_not(None),
            ResourceItem.element.in_(sorted(set(elements))),
        )
        .order_by(Resource.code, ResourceItem.id)
    )
    if key_only:
        stmt = stmt.where(ResourceItem.key.is_(True))
    if exclude_id is not None:
        stmt = stmt.where(Resource.id != exclude_id)
    found: dict[int, tuple[ResourceRef, dict[str, str]]] = {}
    for resource, element, item_code in session.execute(stmt).all():
        if resource.id not in found:
            if limit is not None and len(found) >= limit:
                break
            found[resource.id] = (ref_of(resource), {})
        found[resource.id][1].setdefault(element, item_code.lower())
    return list(found.values())


@dataclass(frozen=True)
class ElementRef:
    """What another capability may know of a data element (数据元)."""

    name: str
    code: str
    key_kind: str | None  # the identifier it is (``ric``, ``uscc``), if any


def data_elements(session: Session) -> dict[str, ElementRef]:
    """Every data element by name, in the order they were defined."""
    return {
        e.name: ElementRef(name=e.name, code=e.code, key_kind=e.key_kind)
        for e in session.scalars(select(DataElement).order_by(DataElement.id))
    }


# --- who holds which data element about which subject (CAT-9) -------------------------------------


@dataclass(frozen=True)
class HeldElement:
    """An item of a published resource that references a data element, with the resource's subject
    (CAT-3: declared, or derived from its classification and items)."""

    resource: ResourceRef
    subject: str  # natural_person | legal_person | unincorporated_org | other
    element: str
    item_code: str  # lower case, as the data store names the column
    item_name: str
    key: bool  # the item is the resource's key identifier
    identifier: bool  # the element is an identifier (公民身份号码, 统一社会信用代码 …)
    # whom the element itself describes (``person``, ``legal_person``), None for elements of a record
    # (证照编号, 发证日期 …) or of anything (地址, 行政区划代码)
    element_subject: str | None = None


def held_elements(session: Session, elements: Iterable[str] | None = None) -> list[HeldElement]:
    """The items of published resources that reference a data element (those in ``elements``, or
    any), ordered by element, then resource code."""
    stmt = (
        select(Resource, ResourceItem)
        .join(ResourceItem, ResourceItem.resource_id == Resource.id)
        .where(
            Resource.status == ResourceStatus.published,
            Resource.published_version.is_not(None),
            ResourceItem.element.is_not(None),
        )
        .order_by(ResourceItem.element, Resource.code, ResourceItem.id)
    )
    if elements is not None:
        stmt = stmt.where(ResourceItem.element.in_(sorted(set(elements))))
    rows = session.execute(stmt).all()
    if not rows:
        return []
    context = RuleContext.load(session)
    subjects: dict[int, str] = {}
    refs: dict[int, ResourceRef] = {}
    held = []
    for resource, item in rows:
        if resource.id not in subjects:
            body = version_body(session, resource.id, resource.published_version) or {}
            subjects[resource.id] = subject_of(session, parse_resource(body), context).subject.value
            refs[resource.id] = ref_of(resource)
        element = context.elements.get(item.element)
        held.append(
            HeldElement(
                resource=refs[resource.id],
                subject=subjects[resource.id],
                element=item.element,
                item_code=item.code.lower(),
                item_name=item.name,
                key=bool(item.key),
                identifier=bool(element is not None and element.key_kind),
                element_subject=element.subject if element is not None else None,
            )
        )
    return held


def local_resources(session: Session) -> list[ResourceRef]:
    """Published entries of the region's own 个性化目录, not in the provincial catalog (CAT-6), ordered
    by code: what this node does not hold for the province (federation relies on it)."""
    stmt = select(Resource).where(
        Resource.status == ResourceStatus.published, Resource.local_catalog.is_(True)
    )
    return [ref_of(r) for r in session.scalars(stmt.order_by(Resource.code))]


# --- the public's search (the portal, OPN-2) --------------------------------------------------------


@dataclass(frozen=True)
class OpenHit:
    """A published resource of open type unconditional or conditional, as the public search finds it."""

    id: int
    code: str
    name: str
    summary: str
    provider_id: int
    provider_name: str
    classification: str
    format: str
    open_type: str
    update_cycle: str
    published_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class OpenSearchResult:
    items: list[OpenHit]
    total: int
    facets: dict[str, dict[str, int]]  # provider_id, classification (3-character prefix), open_type …


def open_search(
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
    restriction: search.Restriction | None = None,
) -> OpenSearchResult:
    """The catalog search (CAT-11: bigram index, synonyms, facets) over what the public may find: the
    published resources whose open type is unconditional or conditional, or, given a
    ``restriction``, those it admits (the opening capability's open catalog, whose open types then
    fill the ``open_type`` filter and facet). Actor-free: whoever asks finds the same."""
    query = search.SearchQuery(
        q=q,
        provider_id=provider_id,
        classification=classification,
        open_type=open_type,
        format=format,
        update_cycle=update_cycle,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    result = search.open_search(session, query, restriction)
    hits = [
        OpenHit(
            id=r.id,
            code=r.code,
            name=r.name,
            summary=r.summary or "",
            provider_id=r.provider_id,
            provider_name=r.provider.name,
            classification=r.classification,
            format=r.format,
            open_type=r.open_type,
            update_cycle=r.update_cycle,
            published_at=r.published_at,
            updated_at=r.updated_at,
        )
        for r in result.items
    ]
    return OpenSearchResult(hits, result.total, result.facets)


SearchRestriction = search.Restriction


def classification_labels(session: Session) -> dict[str, str]:
    """Classification code → name (CAT-1a), for pages that show a resource's class to anyone."""
    return dict(session.execute(select(Classification.code, Classification.name)).all())


@dataclass(frozen=True)
class LateTask:
    """A catalog update task (CAT-7) past its deadline: still open, or done after it."""

    id: int
    department_id: int
    event_id: int
    event_title: str
    event_kind: str
    event_date: str
    deadline: str
    deadline_provisional: bool
    status: str
    done_at: datetime | None


def late_update_tasks(session: Session, today: date) -> list[LateTask]:
    """Update tasks whose deadline passed before ``today`` while open, or that were done after their
    deadline (China dates), oldest first (supervision's ``catalog_update_late``)."""
    rows = session.execute(
        select(UpdateTask, CatalogEvent, TrackedDeadline)
        .join(CatalogEvent, CatalogEvent.id == UpdateTask.event_id)
        .join(TrackedDeadline, TrackedDeadline.id == UpdateTask.tracked_deadline_id)
        .where(TrackedDeadline.due_date < today)
        .order_by(UpdateTask.id)
    ).all()
    late = []
    for task, event, deadline in rows:
        if task.status == TaskStatus.done and (
            task.done_at is None or china_date(task.done_at) <= deadline.due_date
        ):
            continue
        late.append(
            LateTask(
                id=task.id,
                department_id=task.department_id,
                event_id=event.id,
                event_title=event.title,
                event_kind=event.kind,
                event_date=event.date.isoformat(),
                deadline=deadline.due_date.isoformat(),
                deadline_provisional=deadline.provisional,
                status=task.status,
                done_at=task.done_at,
            )
        )
    return late
