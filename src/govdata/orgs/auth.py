"""Permissions of the organisations capability (ORG-1…4)."""

from typing import Annotated

from fastapi import Depends

from govdata.core.auth import Actor, Authenticator, Refusal, Role, permission
from govdata.core.errors import PermissionDenied

ALL_ROLES = set(Role)

ME_READ = permission("orgs.me.read", ALL_ROLES, "查看本人账号信息", writes=False)
DEPARTMENT_READ = permission("orgs.department.read", ALL_ROLES - {Role.app}, "查看部门", writes=False)
DEPARTMENT_MANAGE = permission("orgs.department.manage", {Role.admin, Role.authority}, "管理部门")
USER_READ = permission("orgs.user.read", {Role.admin, Role.authority}, "查看用户", writes=False)
USER_MANAGE = permission("orgs.user.manage", {Role.admin}, "管理用户")
SYSTEM_READ = permission(
    "orgs.system.read",
    {Role.admin, Role.authority, Role.dept_officer, Role.dept_head},
    "查看应用系统",
    writes=False,
)
SYSTEM_MANAGE = permission(
    "orgs.system.manage", {Role.admin, Role.dept_officer, Role.dept_head}, "管理应用系统及其访问凭证"
)
REGION_IMPORT = permission("orgs.region.import", {Role.admin}, "导入行政区划代码")

MeReader = Annotated[Actor, Depends(Authenticator(ME_READ))]
DepartmentReader = Annotated[Actor, Depends(Authenticator(DEPARTMENT_READ))]
DepartmentManager = Annotated[Actor, Depends(Authenticator(DEPARTMENT_MANAGE))]
UserReader = Annotated[Actor, Depends(Authenticator(USER_READ))]
UserManager = Annotated[Actor, Depends(Authenticator(USER_MANAGE))]
SystemReader = Annotated[Actor, Depends(Authenticator(SYSTEM_READ))]
SystemManager = Annotated[Actor, Depends(Authenticator(SYSTEM_MANAGE))]


def system_refusal(actor: Actor, department_id: int, *, write: bool) -> Refusal:
    """Application systems are managed by their own department's officers and head, or by the
    administrator; the authority reads every department's (ORG-3)."""
    if Role.admin in actor.roles or (Role.authority in actor.roles and not write):
        return None
    if actor.department_id != department_id:
        return PermissionDenied("只能管理本部门的应用系统。")
    return None
