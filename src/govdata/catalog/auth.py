"""Permissions of the catalog (CAT-1…11): the rights, who sees which resource, and who may do what
to a resource in its current state. Services raise what these rules refuse; pages ask the same
rules to decide which buttons to show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Depends
from sqlalchemy import ColumnElement, and_, or_

from govdata.catalog.enums import OpenType, ResourceStatus, VersionStatus
from govdata.catalog.models import Resource, ResourceVersion
from govdata.core.auth import (
    INTERNAL_ROLES,
    Actor,
    Authenticator,
    Refusal,
    Role,
    lacks,
    permission,
)
from govdata.core.errors import Conflict, PermissionDenied

if TYPE_CHECKING:
    from govdata.catalog.validation import BaseItems

CATALOG_READ = permission(
    "catalog.read",
    {Role.authority, Role.dept_officer, Role.dept_head, Role.dept_user, Role.admin, Role.app, Role.public},
    "查阅目录",
    writes=False,
)
CATALOG_COMPILE = permission("catalog.compile", {Role.dept_officer}, "编制本部门目录")
CATALOG_REVIEW = permission("catalog.review", {Role.authority}, "审核、发布、退回和停用目录")
CATALOG_PUBLISH_OWN = permission(
    "catalog.publish_own", {Role.authority, Role.dept_head}, "发布目录（政策允许提供部门自行发布时）"
)
CATALOG_MANAGE = permission("catalog.manage", {Role.authority}, "维护分类、数据元，登记目录更新事件")
# the platform in its own name: an internet-facing portal instance loads the open resources that the
# government node's signed open-data feed carries (opening.feed), under their own codes
CATALOG_MIRROR = permission("catalog.mirror", {Role.admin}, "载入开放数据馈送中的资源（互联网门户实例）")
# Only department staff and the authority have a "department catalog"; the page itself needs
# catalog.read (it shows what the service lets the caller see), this right only decides the menu.
CATALOG_DEPARTMENT_READ = permission(
    "catalog.department.read", INTERNAL_ROLES, "查看本部门目录", writes=False
)
TASK_COMPLETE = permission("catalog.task.complete", {Role.dept_officer, Role.dept_head}, "完成目录更新任务")

CatalogReader = Annotated[Actor, Depends(Authenticator(CATALOG_READ))]
CatalogCompiler = Annotated[Actor, Depends(Authenticator(CATALOG_COMPILE))]
CatalogReviewer = Annotated[Actor, Depends(Authenticator(CATALOG_REVIEW))]
CatalogPublisher = Annotated[Actor, Depends(Authenticator(CATALOG_PUBLISH_OWN))]
CatalogManager = Annotated[Actor, Depends(Authenticator(CATALOG_MANAGE))]
TaskCompleter = Annotated[Actor, Depends(Authenticator(TASK_COMPLETE))]
# the data element dictionary's pages (CAT-4): department staff and the authority
DictionaryReader = Annotated[Actor, Depends(Authenticator(CATALOG_DEPARTMENT_READ))]


# --- visibility (CAT-5, SEC-2) ---------------------------------------------------------------------
# One rule, three forms: ``readable(actor)`` is the SQL clause every list, count and export starts
# from, ``is_visible(actor, resource)`` the same rule on a loaded resource, and the catalog search
# tests it on its columns in memory. All read ``visibility_grants``, so they cannot drift apart (a
# test checks them against each other on both stores).

SEES_PUBLISHED = INTERNAL_ROLES | {Role.admin, Role.app}


@dataclass(frozen=True)
class _Test:
    """One comparison of a resource column with a value (``==``, ``!=``), or ``set``: not null."""

    column: str
    op: Literal["==", "!=", "set"]
    value: Any = None

    def clause(self) -> ColumnElement[bool]:
        column = getattr(Resource, self.column)
        if self.op == "set":
            return column.is_not(None)
        return column == self.value if self.op == "==" else column != self.value

    def holds(self, resource: Resource) -> bool:
        value = getattr(resource, self.column)
        if self.op == "set":
            return value is not None
        if value is None:  # as in SQL: a comparison with null is not true
            return False
        return value == self.value if self.op == "==" else value != self.value


def visibility_grants(actor: Actor) -> list[tuple[_Test, ...]] | None:
    """The resources a caller reads, as alternatives each of which is a conjunction of tests; None
    for every resource.

    A resource that was never published is seen only by its provider department and the authority;
    published resources are seen by internal users, administrators and systems; the public sees
    published resources whose open type is not ``none``.
    """
    if Role.authority in actor.roles:
        return None
    grants: list[tuple[_Test, ...]] = []
    if actor.department_id is not None:
        grants.append((_Test("provider_id", "==", actor.department_id),))
    if actor.roles & SEES_PUBLISHED:
        grants.append((_Test("published_version", "set"),))
    else:
        grants.append(
            (_Test("status", "==", ResourceStatus.published), _Test("open_type", "!=", OpenType.none))
        )
    return grants


def readable(actor: Actor) -> ColumnElement[bool] | None:
    """The resources ``actor`` may see, as a condition on ``Resource`` (None: every resource)."""
    grants = visibility_grants(actor)
    if grants is None:
        return None
    return or_(*(and_(*(test.clause() for test in grant)) for grant in grants))


def is_visible(actor: Actor, resource: Resource) -> bool:
    """Whether ``actor`` may see ``resource``: the rule of :func:`readable`, on a loaded resource."""
    grants = visibility_grants(actor)
    return grants is None or any(all(test.holds(resource) for test in grant) for grant in grants)


def owns(actor: Actor, resource: Resource) -> bool:
    """Whether the caller belongs to the resource's provider department."""
    return actor.department_id is not None and actor.department_id == resource.provider_id


def sees_unpublished(actor: Actor, resource: Resource) -> bool:
    """Whether the caller sees the versions being prepared and their log: authority and provider."""
    return Role.authority in actor.roles or owns(actor, resource)


# --- lifecycle (CAT-5) -----------------------------------------------------------------------------
# Each ``*_refusal`` returns the problem that forbids an action (None when it is allowed): services
# raise it, pages ask the ``can_*`` form to show a button. ``working`` is the version being prepared
# (draft, submitted or returned), if any; ``publisher`` the policy switch ``catalog_publisher``.


def _in_state(
    resource: Resource, working: ResourceVersion | None, allowed: tuple[str, ...], message: str
) -> Refusal:
    if working is None or working.status not in allowed:
        return Conflict(message, slug="invalid-state", status_now=resource.status)
    return None


def compile_refusal(actor: Actor, resource: Resource) -> Refusal:
    """Only the provider department's catalog officers compile (edit, submit) a resource."""
    if refusal := lacks(actor, CATALOG_COMPILE):
        return refusal
    return None if owns(actor, resource) else PermissionDenied("只能编制本部门的目录。")


def change_refusal(resource: Resource, working: ResourceVersion | None) -> Refusal:
    """A retired resource and a version under review cannot be changed."""
    if resource.status == ResourceStatus.retired:
        return Conflict("资源已停用，不能修改。", slug="resource-retired")
    if working is not None and working.status == VersionStatus.submitted:
        return Conflict("该版本正在审核中，不能修改；如需修改请等待审核结果。", slug="under-review")
    return None


def classification_refusal(
    department_id: int, classification: str, libraries: Iterable[BaseItems]
) -> Refusal:
    """The resources of a library's class (101 人口, 102 法人单位, 103 自然资源和空间地理, 105 电子证照 …)
    are compiled by the library's lead department only, once the authority has named one (AGG-8;
    seed 002: 基础信息资源目录由基础信息资源库的牵头建设部门负责编制并维护; 主题信息资源目录由主题信息资源
    牵头部门负责编制并维护)."""
    for library in libraries:
        if (
            library.classification
            and classification.startswith(library.classification)
            and library.lead_department_id is not None
            and library.lead_department_id != department_id
        ):
            message = (
                f"分类 {library.classification} 的资源属于{library.library}，"
                f"其目录由牵头部门{library.lead_department_name or ''}编制和维护；"
                "本部门的相关数据请归入其他分类（如部门信息资源），或通过共享获取"
            )
            return PermissionDenied(
                message + "。",
                slug="not-lead-department",
                errors=[{"field": "classification", "label": "资源分类", "message": message}],
            )
    return None


def edit_refusal(actor: Actor, resource: Resource, working: ResourceVersion | None) -> Refusal:
    return compile_refusal(actor, resource) or change_refusal(resource, working)


def submit_refusal(actor: Actor, resource: Resource, working: ResourceVersion | None) -> Refusal:
    return compile_refusal(actor, resource) or _in_state(
        resource,
        working,
        (VersionStatus.draft, VersionStatus.returned),
        "只有草稿或被退回的版本可以提交审核。",
    )


def return_refusal(actor: Actor, resource: Resource, working: ResourceVersion | None) -> Refusal:
    return lacks(actor, CATALOG_REVIEW) or _in_state(
        resource, working, (VersionStatus.submitted,), "只有待审核的版本可以退回。"
    )


def publisher_refusal(actor: Actor, resource: Resource, publisher: str) -> Refusal:
    """The authority publishes; a department head publishes their own department's resources only
    when the policy lets providers publish (``catalog_publisher = provider``)."""
    if refusal := lacks(actor, CATALOG_PUBLISH_OWN):
        return refusal
    if Role.authority in actor.roles:
        return None
    if publisher != "provider":
        return PermissionDenied("目录由数据资源主管部门审核发布。")
    return None if owns(actor, resource) else PermissionDenied("只能发布本部门的目录。")


def publish_refusal(
    actor: Actor, resource: Resource, working: ResourceVersion | None, publisher: str
) -> Refusal:
    return publisher_refusal(actor, resource, publisher) or _in_state(
        resource, working, (VersionStatus.submitted,), "只有待审核的版本可以发布。"
    )


def retire_refusal(actor: Actor, resource: Resource, working: ResourceVersion | None) -> Refusal:
    if refusal := lacks(actor, CATALOG_REVIEW):
        return refusal
    if resource.status != ResourceStatus.published:
        return Conflict("只有已发布的资源可以停用。", slug="invalid-state", status_now=resource.status)
    if working is not None:
        return Conflict("该资源有未完成的修订，请先退回或发布修订。", slug="revision-pending")
    return None


def opens_revision(resource: Resource, working: ResourceVersion | None) -> bool:
    """Whether a change now opens a revision: the resource is published and nothing is in progress."""
    return resource.published_version is not None and working is None


def can_edit(actor: Actor, resource: Resource, working: ResourceVersion | None) -> bool:
    return edit_refusal(actor, resource, working) is None


def can_revise(actor: Actor, resource: Resource, working: ResourceVersion | None) -> bool:
    """Whether the caller may change a published resource, which opens a revision."""
    return can_edit(actor, resource, working) and opens_revision(resource, working)


def can_submit(actor: Actor, resource: Resource, working: ResourceVersion | None) -> bool:
    return submit_refusal(actor, resource, working) is None


def can_return(actor: Actor, resource: Resource, working: ResourceVersion | None) -> bool:
    return return_refusal(actor, resource, working) is None


def can_publish(actor: Actor, resource: Resource, working: ResourceVersion | None, publisher: str) -> bool:
    return publish_refusal(actor, resource, working, publisher) is None


def can_retire(actor: Actor, resource: Resource, working: ResourceVersion | None) -> bool:
    return retire_refusal(actor, resource, working) is None
