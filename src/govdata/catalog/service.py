"""Use cases of the catalog: compile, review, publish, version and supervise (CAT-1…9).

Rules worth knowing (the docs repeat them):

* Visibility (CAT-5, SEC-2): a resource that was never published is seen only by its provider
  department and the authority; others get 404. Published resources are seen by internal users and
  systems; the public sees published resources whose open type is not ``none``. The rule, and who
  may do what in which state, live in :mod:`govdata.catalog.auth`; every use case here asks it.
* The code (CAT-2) is ``<classification>/<provider code><6-digit sequence>``, assigned when the
  resource is created, never reused; the classification is therefore fixed at creation.
* A ``PATCH`` of a published resource opens a revision (the next version, a draft) that goes
  through submit and publish while the published version keeps serving.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from govdata.catalog import auth, impacts, returns, search, validation
from govdata.catalog.auth import (
    CATALOG_COMPILE,
    CATALOG_MANAGE,
    CATALOG_MIRROR,
    CATALOG_PUBLISH_OWN,
    CATALOG_READ,
    CATALOG_REVIEW,
)
from govdata.catalog.enums import (
    ResourceStatus,
    VersionStatus,
)
from govdata.catalog.facts import (  # noqa: F401  (re-exported: siblings import the facts from here)
    ElementRef,
    HeldElement,
    LateTask,
    OpenHit,
    OpenSearchResult,
    ResourceRef,
    SearchRestriction,
    classification_labels,
    data_elements,
    element_holders,
    element_key_kinds,
    held_elements,
    late_update_tasks,
    local_resources,
    open_search,
    published_body,
    published_resources,
    ref_of,
    resource_ref,
    value_labels,
    version_body,
    version_migration,
)
from govdata.catalog.models import (
    Classification,
    CodeSequence,
    DataElement,
    Resource,
    ResourceItem,
    ResourceLogEntry,
    ResourceVersion,
)
from govdata.catalog.overview import (  # noqa: F401  (facts for the region-wide view, the scorecards)
    CatalogFigures,
    CycleRef,
    UpdateTaskFigures,
    catalog_figures,
    published_cycles,
    revisions_by_provider,
    status_counts_by_provider,
    update_task_figures,
)
from govdata.catalog.schemas import ClassificationIn, MigrationIn, ResourceIn, ResourcePatch
from govdata.catalog.validation import (
    base_libraries,
    checked_resource,
    parse_resource,
    resource_warnings,
    subject_of,
)
from govdata.core import audit, events, policy
from govdata.core.auth import Actor, Role, enforce, require
from govdata.core.db import hold, utcnow
from govdata.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    field_error,
)
from govdata.orgs.models import Department

WORKING = (VersionStatus.draft, VersionStatus.submitted, VersionStatus.returned)
MIRRORED = ("name", "summary", "classification", "format", "share_type", "open_type", "update_cycle", "grade")

# --- visibility ------------------------------------------------------------------------------
# The rule is ``catalog.auth``'s; these names stay for the capabilities that ask the service.

sees_unpublished = auth.sees_unpublished
is_visible = auth.is_visible
# where capabilities holding data register what a revision would do to it (``catalog.impacts``)
register_publish_check = impacts.register_publish_check
# where the capability keeping base libraries says what their base items are (CAT-13, ``validation``)
register_base_items = validation.register_base_items
BaseItems = validation.BaseItems
validate_resource = validation.validate_resource  # pages and the catalog exchange check with it


def get_resource(session: Session, actor: Actor, code: str) -> Resource:
    require(actor, CATALOG_READ)
    stmt = select(Resource).where(Resource.code == code)
    if (visible := auth.readable(actor)) is not None:
        stmt = stmt.where(visible)
    resource = session.scalar(stmt)
    if resource is None:
        raise NotFound(f"资源 {code} 不存在。")
    return resource


def catalog_publisher(session: Session) -> str:
    """Who publishes catalog entries under the active policy: ``authority`` or ``provider``."""
    return policy.active_policy(session).switches.catalog_publisher


def version_of(session: Session, resource: Resource, number: int) -> ResourceVersion | None:
    return session.scalar(
        select(ResourceVersion).where(
            ResourceVersion.resource_id == resource.id, ResourceVersion.version == number
        )
    )


def working_version(session: Session, resource: Resource) -> ResourceVersion | None:
    """The draft, submitted or returned version being prepared, if any."""
    return session.scalar(
        select(ResourceVersion)
        .where(
            ResourceVersion.resource_id == resource.id, ResourceVersion.status.in_([s.value for s in WORKING])
        )
        .order_by(ResourceVersion.version.desc())
        .limit(1)
    )


def shown_version(session: Session, resource: Resource) -> ResourceVersion:
    version = version_of(session, resource, resource.version)
    assert version is not None
    return version


# --- codes (CAT-2) ----------------------------------------------------------------------------


def provider_code(department: Department) -> str:
    return department.code or f"D{department.id:03d}"


def next_code(session: Session, classification: str, department: Department) -> str:
    prefix = f"{classification}/{provider_code(department)}"
    row = session.execute(
        update(CodeSequence)
        .where(CodeSequence.prefix == prefix)
        .values(last=CodeSequence.last + 1)
        .returning(CodeSequence.last)
    ).one_or_none()
    if row is None:
        session.add(CodeSequence(prefix=prefix, last=1))
        session.flush()
        number = 1
    else:
        number = row[0]
    return f"{prefix}{number:06d}"


# --- compile and revise ------------------------------------------------------------------------


def _mirror(session: Session, resource: Resource, body: dict[str, Any]) -> None:
    for field in MIRRORED:
        setattr(resource, field, body[field])
    resource.local_catalog = bool(body.get("local_catalog"))  # bodies stored before CAT-6 lack it
    resource.updated_at = utcnow()
    session.execute(delete(ResourceItem).where(ResourceItem.resource_id == resource.id))
    for item in body.get("items", []):
        session.add(
            ResourceItem(
                resource_id=resource.id,
                code=item["code"],
                name=item["name"],
                data_type=item["data_type"],
                key=item.get("key", False),
                level=item.get("level", 1),
                element=item.get("element"),
                share_type=item.get("share_type") or body["share_type"],
            )
        )
    session.flush()
    search.index_resource(session, resource, body)


def _log(
    session: Session, resource: Resource, version: int, action: str, actor: Actor, comment: str | None = None
):
    session.add(
        ResourceLogEntry(
            resource_id=resource.id, version=version, action=action, actor=actor.name, comment=comment
        )
    )


def create_resource(session: Session, actor: Actor, data: ResourceIn) -> tuple[Resource, list[str]]:
    require(actor, CATALOG_COMPILE)
    if actor.department_id is None:
        raise PermissionDenied("只有部门目录管理员可以编制目录。")
    department = session.get(Department, actor.department_id)
    enforce(auth.classification_refusal(department.id, data.classification, base_libraries(session)))
    data, warnings = checked_resource(session, data)
    body = data.model_dump(mode="json")
    resource = Resource(
        code=next_code(session, data.classification, department),
        provider_id=department.id,
        status=ResourceStatus.draft,
        version=1,
        **{f: body[f] for f in MIRRORED},
    )
    session.add(resource)
    session.flush()
    session.add(
        ResourceVersion(
            resource_id=resource.id, version=1, status=VersionStatus.draft, body=body, created_by=actor.name
        )
    )
    _mirror(session, resource, body)
    _log(session, resource, 1, "created", actor)
    audit.record(
        session, actor, "catalog.resource.created", "resource", resource.code, details={"name": data.name}
    )
    return resource, warnings


def editable(session: Session, actor: Actor, code: str) -> tuple[Resource, ResourceVersion | None]:
    """The resource the caller may change now, with its working version (None: a revision opens).

    Raises what forbids the change: not visible (404), another department's (403), retired or under
    review (409). The catalog exchange checks import rows with the same function.
    """
    require(actor, CATALOG_COMPILE)
    resource = get_resource(session, actor, code)
    working = working_version(session, resource)
    enforce(auth.edit_refusal(actor, resource, working))
    return resource, working


def update_resource(
    session: Session, actor: Actor, code: str, patch: ResourcePatch
) -> tuple[Resource, list[str]]:
    resource, working = editable(session, actor, code)
    changes = patch.model_dump(mode="json", exclude_unset=True)
    reason = changes.pop("reason", None)
    names_migration = "migration" in changes  # a revision's data migration (``catalog.impacts``)
    migration = changes.pop("migration", None)
    migration = migration if migration and migration.get("confirm") else None
    if not changes and not names_migration:
        raise InvalidInput("没有要修改的内容。")
    base = working.body if working is not None else shown_version(session, resource).body
    if "classification" in changes and changes["classification"] != base["classification"]:
        raise Conflict(
            "资源分类决定资源代码，创建后不能更改；请按新分类新建资源。", slug="classification-fixed"
        )
    data, warnings = checked_resource(session, parse_resource({**base, **changes}))
    body = data.model_dump(mode="json")
    unchanged = body == parse_resource(base).model_dump(mode="json")  # a body stored before a field was added
    if unchanged and (working is None or not names_migration or working.migration == migration):
        return resource, warnings  # nothing really changes: no revision, no log entry
    if working is None:  # a published resource: open a revision
        if not (reason or "").strip():
            raise field_error("reason", "修订已发布的资源必须说明修订原因")
        working = ResourceVersion(
            resource_id=resource.id,
            version=(resource.published_version or 0) + 1,
            status=VersionStatus.draft,
            body=body,
            reason=reason,
            migration=migration,
            created_by=actor.name,
        )
        session.add(working)
        action = "revision_opened"
    else:
        working.body = body
        working.updated_at = utcnow()
        if reason:
            working.reason = reason
        if names_migration:
            working.migration = migration
        action = "edited"
    session.flush()
    if resource.published_version is None:
        _mirror(session, resource, body)
    _log(session, resource, working.version, action, actor, reason)
    audit.record(
        session,
        actor,
        f"catalog.resource.{action}",
        "resource",
        resource.code,
        details={
            "version": working.version,
            "fields": sorted([*changes, *(["migration"] if names_migration else [])]),
        },
    )
    return resource, warnings


# --- lifecycle (CAT-5) ---------------------------------------------------------------------------


def submit_resource(session: Session, actor: Actor, code: str) -> Resource:
    require(actor, CATALOG_COMPILE)
    resource = get_resource(session, actor, code)
    working = working_version(session, resource)
    hold(session, working, lambda: auth.submit_refusal(actor, resource, working))
    assert working is not None  # the rule allows a submission only of a version being prepared
    # the lead department of a base library may have been named since the resource was created
    enforce(
        auth.classification_refusal(resource.provider_id, resource.classification, base_libraries(session))
    )
    _recheck(session, working)  # elements, classifications or the policy may have changed
    working.status = VersionStatus.submitted
    working.submitted_at = utcnow()
    if resource.published_version is None:
        resource.status = ResourceStatus.submitted
    _log(session, resource, working.version, "submitted", actor)
    audit.record(
        session, actor, "catalog.resource.submitted", "resource", code, details={"version": working.version}
    )
    return resource


def _recheck(session: Session, working: ResourceVersion) -> None:
    """The rules again, on a stored version (422 listing what it breaks); an identifier item it
    names without linking its element is linked now, as saving it would."""
    data, _ = checked_resource(session, parse_resource(working.body))
    body = data.model_dump(mode="json")
    if body != parse_resource(working.body).model_dump(mode="json"):
        working.body = body


def return_resource(session: Session, actor: Actor, code: str, comment: str) -> Resource:
    require(actor, CATALOG_REVIEW)
    resource = get_resource(session, actor, code)
    working = working_version(session, resource)
    hold(session, working, lambda: auth.return_refusal(actor, resource, working))
    assert working is not None
    working.status = VersionStatus.returned
    if resource.published_version is None:
        resource.status = ResourceStatus.returned
    _log(session, resource, working.version, "returned", actor, comment)
    audit.record(
        session,
        actor,
        "catalog.resource.returned",
        "resource",
        code,
        details={"version": working.version, "comment": comment},
    )
    return resource


def publish_resource(session: Session, actor: Actor, code: str, *, store: Any = None) -> Resource:
    """Publish the version being prepared. A revision that would change stored data (``store``: the
    data store, whose values the registered checks measure) is refused unless it names a migration
    covering it (``catalog.impacts``); the checks then carry the migration out."""
    require(actor, CATALOG_PUBLISH_OWN)
    resource = get_resource(session, actor, code)
    working = working_version(session, resource)
    publisher = catalog_publisher(session)
    hold(session, working, lambda: auth.publish_refusal(actor, resource, working, publisher))
    assert working is not None
    _recheck(session, working)  # a version stored before a rule or a policy change is caught here
    previous = (
        version_of(session, resource, resource.published_version) if resource.published_version else None
    )
    revision, measured = None, []
    if previous is not None:
        revision = _revision(resource, previous, working)
        measured = impacts.measure(session, store, revision)
        impacts.enforce(revision, measured)
    now = utcnow()
    if previous is not None:
        previous.status = VersionStatus.superseded
        working.diff = diff_bodies(previous.body, working.body)
    working.status = VersionStatus.published
    working.published_at = now
    working.published_by = actor.name
    resource.status = ResourceStatus.published
    resource.version = working.version
    resource.published_version = working.version
    resource.published_at = now
    session.flush()
    _mirror(session, resource, working.body)
    _log(session, resource, working.version, "published", actor, working.reason)
    audit.record(
        session,
        actor,
        "catalog.resource.published",
        "resource",
        code,
        details={"version": working.version, "changes": len(working.diff or [])},
    )
    if revision is not None:
        impacts.carry_out(session, actor, revision, measured)
    events.emit(
        session, events.RESOURCE_PUBLISHED, resource_id=resource.id, code=code, version=working.version
    )
    return resource


def _revision(resource: Resource, published: ResourceVersion, working: ResourceVersion) -> impacts.Revision:
    migration = MigrationIn.model_validate(working.migration) if working.migration else None
    return impacts.Revision(
        resource.id, resource.code, working.version, published.body, working.body, migration
    )


def revision_impact(session: Session, actor: Actor, code: str, *, store: Any = None) -> dict[str, Any]:
    """A dry run of publishing the revision being prepared: the stored values it would change, per
    item, and whether its migration covers them. For those who see the revision (404 otherwise)."""
    require(actor, CATALOG_READ)
    resource = get_resource(session, actor, code)
    working = working_version(session, resource)
    if working is None or not sees_unpublished(actor, resource):
        raise NotFound(f"资源 {code} 没有修订中的版本。")
    found: list[impacts.DataImpact] = []
    revision = None
    if resource.published_version is not None:
        revision = _revision(resource, shown_version(session, resource), working)
        found = impacts.impacts_of(impacts.measure(session, store, revision))
    rows = [{**asdict(i), "covered": bool(revision and revision.covers(i.item))} for i in found]
    return {
        "version": working.version,
        "migration": working.migration,
        "impacts": rows,
        "publishable": all(row["covered"] for row in rows),
    }


def retire_resource(session: Session, actor: Actor, code: str, reason: str | None = None) -> Resource:
    """Retire a published resource; ``reason`` (the page asks for one) is kept in its log and the
    audit trail."""
    require(actor, CATALOG_REVIEW)
    reason = (reason or "").strip() or None
    resource = get_resource(session, actor, code)
    working = working_version(session, resource)
    hold(session, resource, lambda: auth.retire_refusal(actor, resource, working))
    shown_version(session, resource).status = VersionStatus.retired
    resource.status = ResourceStatus.retired
    resource.updated_at = utcnow()
    search.index_resource(session, resource, shown_version(session, resource).body)
    _log(session, resource, resource.version, "retired", actor, reason)
    audit.record(
        session,
        actor,
        "catalog.resource.retired",
        "resource",
        code,
        details={"reason": reason} if reason else None,
    )
    events.emit(session, events.RESOURCE_RETIRED, resource_id=resource.id, code=code)
    return resource


# --- reading ---------------------------------------------------------------------------------


def resource_view(
    session: Session, actor: Actor, resource: Resource, warnings: list[str] | None = None
) -> dict:
    """The resource as this caller may see it: the shown version with its subject (declared or
    derived, CAT-3), plus the pending revision for the provider and the authority, who also see the
    warnings of the shown version (what the policy only flags) when ``warnings`` is not given."""
    body = shown_version(session, resource).body
    data = parse_resource(body)
    context = validation.RuleContext.load(session)
    subject = subject_of(session, data, context)
    if warnings is None and sees_unpublished(actor, resource):
        warnings = resource_warnings(session, data, context)
    view = {
        **body,
        "code": resource.code,
        "status": resource.status,
        "version": resource.version,
        "provider": resource.provider.name,
        "provider_id": resource.provider_id,
        "published_version": resource.published_version,
        "published_at": resource.published_at,
        "updated_at": resource.updated_at,
        "warnings": warnings or [],
        "revision": None,
        "subject": subject.subject.value,
        "subject_derived": subject.derived,
        "subject_basis": subject.basis,
        "returned": None,
    }
    if note := returns.return_note(session, actor, resource):  # the authority's comment (CAT-5)
        view["returned"] = note.as_dict()
    if resource.published_version is not None and sees_unpublished(actor, resource):
        working = working_version(session, resource)
        if working is not None:
            view["revision"] = {
                "version": working.version,
                "status": working.status,
                "reason": working.reason,
            }
            if working.migration:  # the data migration the revision names (``catalog.impacts``)
                view["revision"]["migration"] = working.migration
    return view


def list_versions(session: Session, actor: Actor, code: str) -> list[ResourceVersion]:
    resource = get_resource(session, actor, code)
    stmt = select(ResourceVersion).where(ResourceVersion.resource_id == resource.id)
    if not sees_unpublished(actor, resource):
        stmt = stmt.where(ResourceVersion.status.not_in([s.value for s in WORKING]))
    return list(session.scalars(stmt.order_by(ResourceVersion.version.desc())))


def get_version(session: Session, actor: Actor, code: str, number: int) -> ResourceVersion:
    for version in list_versions(session, actor, code):
        if version.version == number:
            return version
    raise NotFound(f"资源 {code} 没有第 {number} 版。")


def resource_log(session: Session, actor: Actor, code: str) -> list[ResourceLogEntry]:
    resource = get_resource(session, actor, code)
    stmt = select(ResourceLogEntry).where(ResourceLogEntry.resource_id == resource.id)
    if not sees_unpublished(actor, resource):
        stmt = stmt.where(ResourceLogEntry.action.in_(["published", "retired"]))
    return list(session.scalars(stmt.order_by(ResourceLogEntry.id.desc())))


def search_resources(session: Session, actor: Actor, query: search.SearchQuery) -> search.SearchResult:
    require(actor, CATALOG_READ)
    return search.search(session, actor, query)


def review_queue(session: Session, actor: Actor) -> list[tuple[Resource, ResourceVersion]]:
    """Versions waiting for the authority, oldest first."""
    require(actor, CATALOG_REVIEW)
    rows = session.execute(
        select(Resource, ResourceVersion)
        .join(ResourceVersion, ResourceVersion.resource_id == Resource.id)
        .where(ResourceVersion.status == VersionStatus.submitted)
        .order_by(ResourceVersion.submitted_at)
    ).all()
    return [(r, v) for r, v in rows]


# --- diff (CAT-5) ------------------------------------------------------------------------------


def diff_bodies(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Field-by-field changes; items are compared by their code."""
    changes: list[dict[str, Any]] = []
    for field in sorted(set(before) | set(after)):
        if field == "items":
            continue
        if before.get(field) != after.get(field):
            changes.append(
                {"field": field, "change": "changed", "before": before.get(field), "after": after.get(field)}
            )
    old = {i["code"]: i for i in before.get("items", [])}
    new = {i["code"]: i for i in after.get("items", [])}
    for code in new.keys() - old.keys():
        changes.append({"field": f"items.{code}", "change": "added", "before": None, "after": new[code]})
    for code in old.keys() - new.keys():
        changes.append({"field": f"items.{code}", "change": "removed", "before": old[code], "after": None})
    for code in sorted(old.keys() & new.keys()):
        if old[code] != new[code]:
            fields = sorted(
                k for k in set(old[code]) | set(new[code]) if old[code].get(k) != new[code].get(k)
            )
            changes.append(
                {
                    "field": f"items.{code}",
                    "change": "changed",
                    "before": old[code],
                    "after": new[code],
                    "fields": fields,
                }
            )
    return changes


# --- dictionary, classifications, supervision (CAT-1a, CAT-4, CAT-8) ---------------------------------


def list_elements(session: Session, actor: Actor) -> list[DataElement]:
    require(actor, CATALOG_READ)
    return list(session.scalars(select(DataElement).order_by(DataElement.id)))


def list_classifications(session: Session, actor: Actor) -> list[Classification]:
    require(actor, CATALOG_READ)
    return list(session.scalars(select(Classification).order_by(Classification.code)))


def create_classification(session: Session, actor: Actor, data: ClassificationIn) -> Classification:
    require(actor, CATALOG_MANAGE)
    if session.get(Classification, data.code):
        raise Conflict(f"分类代码 {data.code} 已存在。", slug="duplicate-classification")
    parents = [
        c for c in session.scalars(select(Classification.code)) if data.code.startswith(c) and c != data.code
    ]
    if not parents:
        raise InvalidInput(f"分类代码 {data.code} 没有上级分类。")
    classification = Classification(code=data.code, name=data.name, parent_code=max(parents, key=len))
    session.add(classification)
    session.flush()
    audit.record(
        session,
        actor,
        "catalog.classification.created",
        "classification",
        data.code,
        details={"name": data.name},
    )
    return classification


def responsibility_lists(
    session: Session, actor: Actor, department_id: int | None = None
) -> list[dict[str, Any]]:
    """Each department's collection responsibility list, derived from the published catalog (CAT-8).

    The authority sees every department; a department sees its own.
    """
    require(actor, CATALOG_READ)
    if Role.authority not in actor.roles:
        if actor.department_id is None:
            raise PermissionDenied("只有部门用户可以查看采集责任清单。")
        if department_id not in (None, actor.department_id):
            raise PermissionDenied("只能查看本部门的采集责任清单。")
        department_id = actor.department_id
    stmt = (
        select(Resource, Department)
        .join(Department, Department.id == Resource.provider_id)
        .where(Resource.status == ResourceStatus.published)
    )
    if department_id is not None:
        stmt = stmt.where(Resource.provider_id == department_id)
    lists: dict[int, dict[str, Any]] = {}
    for resource, department in session.execute(stmt.order_by(Department.id, Resource.code)).all():
        entry = lists.setdefault(
            department.id,
            {"department_id": department.id, "department_name": department.name, "resources": []},
        )
        entry["resources"].append(
            {
                "code": resource.code,
                "name": resource.name,
                "update_cycle": resource.update_cycle,
                "format": resource.format,
            }
        )
    return list(lists.values())


def count_by_status(session: Session, actor: Actor) -> dict[str, int]:
    """Resources per status as this caller sees them (their department's, or all for the authority)."""
    require(actor, CATALOG_READ)
    stmt = select(Resource.status, func.count()).group_by(Resource.status)
    if (visible := auth.readable(actor)) is not None:
        stmt = stmt.where(visible)
    if Role.authority not in actor.roles:
        stmt = stmt.where(Resource.provider_id == (actor.department_id or -1))
    return dict(session.execute(stmt).all())


# --- facts for other capabilities ------------------------------------------------------------------
# Actor-free reads that sibling capabilities use instead of the catalog's tables live in
# ``catalog.facts`` and are imported above (``catalog.service.ResourceRef`` …); a sibling that acts for
# a caller first checks the caller with ``find_resource`` (the catalog's visibility rule).


# built once: every call of a sharing service asks (building the statement costs as much as running it)
_REF = (
    select(
        Resource.id,
        Resource.code,
        Resource.name,
        Resource.provider_id,
        Department.name.label("provider_name"),
        Resource.status,
        Resource.format,
        Resource.share_type,
        Resource.open_type,
        Resource.update_cycle,
        Resource.grade,
        Resource.version,
        Resource.published_version,
        Resource.published_at,
        Resource.local_catalog,
    )
    .join(Department, Department.id == Resource.provider_id)
    .where(Resource.code == bindparam("code"))
)


def find_resource(session: Session, actor: Actor, code: str) -> ResourceRef:
    """The resource as ``actor`` may see it (404 otherwise), for a sibling acting for that caller;
    read as columns, not as an object with its provider (every call of a sharing service asks)."""
    require(actor, CATALOG_READ)
    stmt = _REF
    if (visible := auth.readable(actor)) is not None:
        stmt = stmt.where(visible)
    row = session.execute(stmt, {"code": code}).one_or_none()
    if row is None:
        raise NotFound(f"资源 {code} 不存在。")
    return ResourceRef(**row._asdict())


# --- resources carried from another node (the internet-facing portal instance) --------------------


def mirror_resource(
    session: Session, actor: Actor, *, code: str, provider_id: int, body: dict[str, Any]
) -> ResourceRef:
    """Create or replace the published resource ``code`` of ``provider_id`` with ``body`` as it is,
    without the compile-review workflow: an internet-facing portal instance keeps the open resources
    the government node published, under their own codes (``opening.feed``). The platform only
    (``CATALOG_MIRROR``); a body equal to the published one changes nothing; a retired resource is
    published again."""
    require(actor, CATALOG_MIRROR)
    if session.get(Department, provider_id) is None:
        raise NotFound(f"部门 {provider_id} 不存在。")
    resource = session.scalar(select(Resource).where(Resource.code == code))
    now = utcnow()
    if resource is not None:
        shown = shown_version(session, resource)
        if (
            resource.status == ResourceStatus.published
            and shown.body == body
            and resource.provider_id == provider_id
        ):
            return ResourceRef(**session.execute(_REF, {"code": code}).one()._asdict())
        shown.status = VersionStatus.superseded
        number = resource.version + 1
    else:
        resource = Resource(
            code=code,
            provider_id=provider_id,
            status=ResourceStatus.published,
            version=1,
            **{f: body[f] for f in MIRRORED},
        )
        session.add(resource)
        session.flush()
        number = 1
    session.add(
        ResourceVersion(
            resource_id=resource.id,
            version=number,
            status=VersionStatus.published,
            body=body,
            created_by=actor.name,
            published_at=now,
            published_by=actor.name,
        )
    )
    resource.provider_id = provider_id
    resource.status = ResourceStatus.published
    resource.version = resource.published_version = number
    resource.published_at = now
    session.flush()
    _mirror(session, resource, body)
    _log(session, resource, number, "published", actor, "开放数据馈送")
    audit.record(session, actor, "catalog.resource.mirrored", "resource", code, details={"version": number})
    events.emit(session, events.RESOURCE_PUBLISHED, resource_id=resource.id, code=code, version=number)
    return ResourceRef(**session.execute(_REF, {"code": code}).one()._asdict())
