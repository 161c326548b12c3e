"""Permissions of base libraries, fusion conflicts and department resource pools (AGG-8, CAT-13, QUA-3)."""

from typing import Annotated

from fastapi import Depends

from govdata.core.auth import INTERNAL_ROLES, Actor, Authenticator, Role, permission

LIBRARY_READ = permission("libraries.read", INTERNAL_ROLES, "查看基础库定义", writes=False)
LIBRARY_MANAGE = permission(
    "libraries.manage", {Role.authority}, "定义基础库、指定基础信息项的权威来源、构建融合表"
)
LIBRARY_DATA_READ = permission(
    "libraries.data.read",
    INTERNAL_ROLES,
    "查询基础库融合数据（主管部门和牵头部门）",
    writes=False,
)
CONFLICT_READ = permission(
    "libraries.conflict.read",
    {Role.authority, Role.dept_officer, Role.dept_head},
    "查看数据冲突（部门只看涉及本部门的）",
    writes=False,
)
CONFLICT_COMMENT = permission(
    "libraries.conflict.comment",
    {Role.authority, Role.dept_officer, Role.dept_head},
    "对数据冲突发表协商意见",
)
CONFLICT_RESOLVE = permission(
    "libraries.conflict.resolve", {Role.dept_officer, Role.dept_head}, "确认协商一致的数据冲突"
)
CONFLICT_ESCALATE = permission(
    "libraries.conflict.escalate",
    {Role.authority, Role.dept_officer, Role.dept_head},
    "将协商不成的数据冲突提交主管部门裁决",
)
CONFLICT_DECIDE = permission("libraries.conflict.decide", {Role.authority}, "裁决数据冲突")
POOL_READ = permission(
    "libraries.pool.read", INTERNAL_ROLES, "查看部门数据资源池（主管部门看全部）", writes=False
)

LibraryReader = Annotated[Actor, Depends(Authenticator(LIBRARY_READ))]
LibraryManager = Annotated[Actor, Depends(Authenticator(LIBRARY_MANAGE))]
LibraryDataReader = Annotated[Actor, Depends(Authenticator(LIBRARY_DATA_READ))]
ConflictReader = Annotated[Actor, Depends(Authenticator(CONFLICT_READ))]
ConflictCommenter = Annotated[Actor, Depends(Authenticator(CONFLICT_COMMENT))]
ConflictResolver = Annotated[Actor, Depends(Authenticator(CONFLICT_RESOLVE))]
ConflictEscalator = Annotated[Actor, Depends(Authenticator(CONFLICT_ESCALATE))]
ConflictDecider = Annotated[Actor, Depends(Authenticator(CONFLICT_DECIDE))]
PoolReader = Annotated[Actor, Depends(Authenticator(POOL_READ))]
