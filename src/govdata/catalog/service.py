"""Use cases of the catalog: compile, review, publish, version and supervise (CAT-1…9).

Rules worth knowing (the docs repeat them):

* Visibility (CAT-5, SEC-2): a resource that was never published is seen only by its provider
  department and the authority; others get 404. Published resources are seen by internal users and
  systems; the public sees published resources whose open type is not ``none``.
* The code (CAT-2) is ``<classification>/<provider code><6-digit sequence>``, assigned when the
  resource is created, never reused; the classification is therefore fixed at creation.
* A ``PATCH`` of a published resource opens a revision (the next version, a draft) that goes
  through submit and publish while the published version keeps serving.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from govdata.catalog import search
from govdata.catalog.auth import (
    CATALOG_COMPILE,
    CATALOG_MANAGE,
    CATALOG_PUBLISH_OWN,
    CATALOG_READ,
    CATALOG_REVIEW,
    CATALOG_SUPERVISE,
)
from govdata.catalog.enums import (
    REFUSAL_BASES,
    KeyKind,
    OpenType,
    ResourceStatus,
    ShareType,
    VersionStatus,
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
from govdata.catalog.schemas import ClassificationIn, ResourceIn, ResourcePatch
from govdata.core import audit, policy
from govdata.core.auth import INTERNAL_ROLES, Actor, Role, require
from govdata.core.db import utcnow
from govdata.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    field_error,
    field_label,
    validation_problem,
)
from govdata.orgs.models import Department

WORKING = (VersionStatus.draft, VersionStatus.submitted, VersionStatus.returned)
MIRRORED = ("name", "summary", "classification", "format", "share_type", "open_type", "update_cycle", "grade")

# --- visibility ------------------------------------------------------------------------------


def sees_unpublished(actor: Actor, resource: Resource) -> bool:
    return Role.authority in actor.roles or (
        actor.department_id is not None and actor.department_id == resource.provider_id
    )


def is_visible(actor: Actor, resource: Resource) -> bool:
    if sees_unpublished(actor, resource):
        return True
    if resource.published_version is None:
        return False
    if actor.roles & (INTERNAL_ROLES | {Role.admin, Role.app}):
        return True
    return resource.status == ResourceStatus.published and resource.open_type != OpenType.none


def get_resource(session: Session, actor: Actor, code: str) -> Resource:
    require(actor, CATALOG_READ)
    resource = session.scalar(select(Resource).where(Resource.code == code))
    if resource is None or not is_visible(actor, resource):
        raise NotFound(f"资源 {code} 不存在。")
    return resource


def _own(actor: Actor, resource: Resource) -> None:
    if actor.department_id != resource.provider_id:
        raise PermissionDenied("只能编制本部门的目录。")


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


# --- validation (CAT-1, CAT-3) ------------------------------------------------------------------


def parse_resource(data: dict[str, Any]) -> ResourceIn:
    try:
        return ResourceIn.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc.errors(), prefix="资源元数据有误") from exc


def validate_resource(session: Session, data: ResourceIn) -> list[str]:
    """Check the rules a schema cannot express; raise one 422 listing every problem, in Chinese.

    Returns warnings that do not block (they are shown with the resource).
    """
    errors: list[tuple[str, str]] = []
    warnings: list[str] = []
    settings = policy.active_policy(session).switches

    classification = session.get(Classification, data.classification)
    if classification is None:
        errors.append(("classification", f"分类代码 {data.classification} 不存在，请先由主管部门登记"))
    elif len(data.classification) < 3 and data.classification != "3":
        errors.append(("classification", "资源应归入“项”一级或更细的分类（如 101 人口）"))

    if data.share_type == ShareType.conditional:
        if not (data.share_conditions or "").strip():
            errors.append(("share_conditions", "有条件共享的资源必须写明共享条件"))
        if not (data.legal_basis or "").strip():
            errors.append(("legal_basis", "有条件共享的资源必须写明共享依据"))
        if not data.materials:
            errors.append(("materials", "有条件共享的资源必须列出申请时需提供的材料"))
    if data.share_type == ShareType.none:
        if not (data.legal_basis or "").strip():
            errors.append(("legal_basis", "不予共享的资源必须写明法律、行政法规或党中央、国务院政策依据"))
        if data.legal_basis_kind is None:
            errors.append(("legal_basis_kind", "不予共享的资源必须写明依据类别"))
        elif data.legal_basis_kind not in REFUSAL_BASES:
            message = f"不予共享只能以法律、行政法规或党中央、国务院政策为依据，“{data.legal_basis_kind.label}”不足以支持"
            if settings.refusal_without_basis == "refused":
                errors.append(("legal_basis_kind", message))
            else:
                warnings.append(message)
    elif not data.share_modes:
        errors.append(("share_modes", "可共享的资源至少应有一种服务方式"))
    if data.open_type == OpenType.conditional and not (data.open_conditions or "").strip():
        errors.append(("open_conditions", "有条件开放的资源必须写明开放条件"))

    elements = {e.name: e for e in session.scalars(select(DataElement))}
    codes: set[str] = set()
    names: set[str] = set()
    item_share_types = set()
    about = {"person": False, "legal_person": False}
    if data.classification.startswith("101"):
        about["person"] = True
    if data.classification.startswith("102"):
        about["legal_person"] = True
    key_items = []
    for index, item in enumerate(data.items):
        where = f"items.{index}"
        if item.code.lower() in codes:
            errors.append((f"{where}.code", f"信息项代码 {item.code} 重复"))
        codes.add(item.code.lower())
        if item.name in names:
            errors.append((f"{where}.name", f"信息项名称“{item.name}”重复"))
        names.add(item.name)
        if item.key and not item.required:
            errors.append((f"{where}.required", f"关键标识“{item.name}”必须为必填项"))
        if item.key:
            key_items.append(item)
        if item.pattern:
            try:
                re.compile(item.pattern)
            except re.error:
                errors.append((f"{where}.pattern", f"“{item.name}”的格式不是有效的正则表达式"))
        if item.minimum is not None and item.maximum is not None and item.minimum > item.maximum:
            errors.append((f"{where}.minimum", f"“{item.name}”的最小值大于最大值"))
        if item.element:
            element = elements.get(item.element)
            if element is None:
                errors.append((f"{where}.element", f"数据元“{item.element}”不存在"))
            else:
                if element.data_type != item.data_type:
                    errors.append(
                        (
                            f"{where}.data_type",
                            f"“{item.name}”引用数据元“{element.name}”，数据类型应为 {element.data_type}",
                        )
                    )
                if element.subject in about and element.key_kind:
                    about[element.subject] = True
        item_share_types.add(item.share_type or data.share_type)
        if item.level == 4 and data.open_type != OpenType.none:
            warnings.append(f"“{item.name}”为 4 级敏感信息项，开放时不会提供")
    if len(item_share_types) > 1 and data.share_type == ShareType.unconditional:
        errors.append(("share_type", "信息项的共享类型不一致时，资源应为有条件共享（仅部分信息项可共享）"))
    for subject, needed in about.items():
        if not needed:
            continue
        kind = KeyKind.ric if subject == "person" else KeyKind.uscc
        if not any(_key_kind(item, elements) == kind for item in key_items):
            errors.append(
                (
                    "items",
                    f"关于{'自然人' if subject == 'person' else '法人'}的资源必须包含必填的关键标识信息项（{kind.label}）",
                )
            )
    if data.format in ("database", "spreadsheet") and not data.items:
        errors.append(("items", "库表类资源至少应有一个信息项"))
    if errors:
        details = [{"field": f, "label": field_label(f.split(".")), "message": m} for f, m in errors]
        summary = "；".join(f"{d['label']}：{d['message']}" for d in details[:5])
        raise InvalidInput(f"资源元数据有误：{summary}", errors=details)
    return warnings


def _key_kind(item, elements: dict[str, DataElement]) -> str | None:
    if item.element and item.element in elements and elements[item.element].key_kind:
        return elements[item.element].key_kind
    return item.key_kind


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
    warnings = validate_resource(session, data)
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
    _own(actor, resource)
    if resource.status == ResourceStatus.retired:
        raise Conflict("资源已停用，不能修改。", slug="resource-retired")
    working = working_version(session, resource)
    if working is not None and working.status == VersionStatus.submitted:
        raise Conflict("该版本正在审核中，不能修改；如需修改请等待审核结果。", slug="under-review")
    return resource, working


def update_resource(
    session: Session, actor: Actor, code: str, patch: ResourcePatch
) -> tuple[Resource, list[str]]:
    resource, working = editable(session, actor, code)
    changes = patch.model_dump(mode="json", exclude_unset=True)
    reason = changes.pop("reason", None)
    if not changes:
        raise InvalidInput("没有要修改的内容。")
    base = working.body if working is not None else shown_version(session, resource).body
    if "classification" in changes and changes["classification"] != base["classification"]:
        raise Conflict(
            "资源分类决定资源代码，创建后不能更改；请按新分类新建资源。", slug="classification-fixed"
        )
    data = parse_resource({**base, **changes})
    warnings = validate_resource(session, data)
    body = data.model_dump(mode="json")
    if body == base:  # nothing really changes: no revision, no log entry
        return resource, warnings
    if working is None:  # a published resource: open a revision
        if not (reason or "").strip():
            raise field_error("reason", "修订已发布的资源必须说明修订原因")
        working = ResourceVersion(
            resource_id=resource.id,
            version=(resource.published_version or 0) + 1,
            status=VersionStatus.draft,
            body=body,
            reason=reason,
            created_by=actor.name,
        )
        session.add(working)
        action = "revision_opened"
    else:
        working.body = body
        working.updated_at = utcnow()
        if reason:
            working.reason = reason
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
        details={"version": working.version, "fields": sorted(changes)},
    )
    return resource, warnings


# --- lifecycle (CAT-5) ---------------------------------------------------------------------------


def _working_or_conflict(
    session: Session, resource: Resource, allowed: tuple[str, ...], message: str
) -> ResourceVersion:
    working = working_version(session, resource)
    if working is None or working.status not in allowed:
        raise Conflict(message, slug="invalid-state", status_now=resource.status)
    return working


def submit_resource(session: Session, actor: Actor, code: str) -> Resource:
    require(actor, CATALOG_COMPILE)
    resource = get_resource(session, actor, code)
    _own(actor, resource)
    working = _working_or_conflict(
        session,
        resource,
        (VersionStatus.draft, VersionStatus.returned),
        "只有草稿或被退回的版本可以提交审核。",
    )
    validate_resource(session, parse_resource(working.body))  # elements or classifications may have changed
    working.status = VersionStatus.submitted
    working.submitted_at = utcnow()
    if resource.published_version is None:
        resource.status = ResourceStatus.submitted
    _log(session, resource, working.version, "submitted", actor)
    audit.record(
        session, actor, "catalog.resource.submitted", "resource", code, details={"version": working.version}
    )
    return resource


def return_resource(session: Session, actor: Actor, code: str, comment: str) -> Resource:
    require(actor, CATALOG_REVIEW)
    resource = get_resource(session, actor, code)
    working = _working_or_conflict(
        session, resource, (VersionStatus.submitted,), "只有待审核的版本可以退回。"
    )
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


def _check_publisher(session: Session, actor: Actor, resource: Resource) -> None:
    require(actor, CATALOG_PUBLISH_OWN)
    if Role.authority in actor.roles:
        return
    if policy.active_policy(session).switches.catalog_publisher != "provider":
        raise PermissionDenied("目录由数据资源主管部门审核发布。")
    if actor.department_id != resource.provider_id:
        raise PermissionDenied("只能发布本部门的目录。")


def publish_resource(session: Session, actor: Actor, code: str) -> Resource:
    require(actor, CATALOG_PUBLISH_OWN)
    resource = get_resource(session, actor, code)
    _check_publisher(session, actor, resource)
    working = _working_or_conflict(
        session, resource, (VersionStatus.submitted,), "只有待审核的版本可以发布。"
    )
    previous = (
        version_of(session, resource, resource.published_version) if resource.published_version else None
    )
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
    return resource


def retire_resource(session: Session, actor: Actor, code: str) -> Resource:
    require(actor, CATALOG_REVIEW)
    resource = get_resource(session, actor, code)
    if resource.status != ResourceStatus.published:
        raise Conflict("只有已发布的资源可以停用。", slug="invalid-state", status_now=resource.status)
    working = working_version(session, resource)
    if working is not None:
        raise Conflict("该资源有未完成的修订，请先退回或发布修订。", slug="revision-pending")
    shown_version(session, resource).status = VersionStatus.retired
    resource.status = ResourceStatus.retired
    resource.updated_at = utcnow()
    search.index_resource(session, resource, shown_version(session, resource).body)
    _log(session, resource, resource.version, "retired", actor)
    audit.record(session, actor, "catalog.resource.retired", "resource", code)
    return resource


# --- reading ---------------------------------------------------------------------------------


def resource_view(
    session: Session, actor: Actor, resource: Resource, warnings: list[str] | None = None
) -> dict:
    """The resource as this caller may see it: the shown version, plus the pending revision for
    the provider and the authority."""
    body = shown_version(session, resource).body
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
    }
    if resource.published_version is not None and sees_unpublished(actor, resource):
        working = working_version(session, resource)
        if working is not None:
            view["revision"] = {
                "version": working.version,
                "status": working.status,
                "reason": working.reason,
            }
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


# --- dictionary, classifications, supervision (CAT-1a, CAT-4, CAT-8, CAT-9) --------------------------


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


def duplicate_collections(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Elements about a subject collected by more than one department (一数一源, CAT-9)."""
    require(actor, CATALOG_SUPERVISE)
    rows = session.execute(
        select(
            DataElement.name,
            DataElement.subject,
            Resource.code,
            Resource.name,
            Department.name,
            ResourceItem.name,
        )
        .join(ResourceItem, ResourceItem.element == DataElement.name)
        .join(Resource, Resource.id == ResourceItem.resource_id)
        .join(Department, Department.id == Resource.provider_id)
        .where(DataElement.subject.is_not(None), Resource.status == ResourceStatus.published)
        .order_by(DataElement.name, Department.name, Resource.code)
    ).all()
    grouped: dict[str, dict[str, Any]] = {}
    for element, subject, code, name, provider, item in rows:
        entry = grouped.setdefault(element, {"element": element, "subject": subject, "resources": []})
        entry["resources"].append({"code": code, "name": name, "provider": provider, "item": item})
    return [g for g in grouped.values() if len({r["provider"] for r in g["resources"]}) > 1]


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
    if Role.authority not in actor.roles:
        stmt = stmt.where(Resource.provider_id == (actor.department_id or -1))
    return dict(session.execute(stmt).all())
