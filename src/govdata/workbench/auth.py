"""Permissions of the workbench: the authority's region-wide view, department pages, the audit log as
an auditor reads it (the right to read the audit trail is the platform's, ``platform.auth.AUDIT_READ``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import Depends

from govdata.core.auth import INTERNAL_ROLES, Actor, Authenticator, Refusal, Role, lacks, permission
from govdata.core.errors import PermissionDenied
from govdata.platform.auth import AUDIT_READ

REGION_READ = permission(
    "workbench.region.read", {Role.authority}, "查看全域视图：各部门的归集、质量与目录情况", writes=False
)
DEPARTMENT_PAGE_READ = permission(
    "workbench.department.read", INTERNAL_ROLES, "查看部门页面（主管部门看全部，部门看本部门）", writes=False
)

RegionReader = Annotated[Actor, Depends(Authenticator(REGION_READ))]
DepartmentPageReader = Annotated[Actor, Depends(Authenticator(DEPARTMENT_PAGE_READ))]
AuditLogReader = Annotated[Actor, Depends(Authenticator(AUDIT_READ))]


def reads_every_department(actor: Actor) -> bool:
    """The authority oversees every department (SUP-5)."""
    return actor.has(REGION_READ)


def department_page_refusal(actor: Actor, department_id: int, own_units: Collection[int] = ()) -> Refusal:
    """A department's page: the authority reads every one; department staff their own department's
    and its subordinate units' (``own_units``: the caller's department and the units below it, whose
    data it gathers, seed 002: 归集本部门所属机构和单位的政务数据资源)."""
    if refusal := lacks(actor, DEPARTMENT_PAGE_READ):
        return refusal
    if reads_every_department(actor) or actor.department_id == department_id or department_id in own_units:
        return None
    return PermissionDenied("只能查看本部门及下属单位的部门页面。")


def can_read_department_page(
    actor: Actor, department_id: int | None, own_units: Collection[int] = ()
) -> bool:
    return department_id is not None and department_page_refusal(actor, department_id, own_units) is None
