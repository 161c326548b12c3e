"""Permissions of the catalog (CAT-1…11)."""

from typing import Annotated

from fastapi import Depends

from govdata.core.auth import INTERNAL_ROLES, Actor, Authenticator, Role, permission

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
CATALOG_SUPERVISE = permission(
    "catalog.supervise", {Role.authority}, "查看重复采集与采集责任清单", writes=False
)
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
CatalogSupervisor = Annotated[Actor, Depends(Authenticator(CATALOG_SUPERVISE))]
TaskCompleter = Annotated[Actor, Depends(Authenticator(TASK_COMPLETE))]
