"""Permissions of the dashboards (SUP-5): the authority reads the region's, a department's staff their
own department's to-do. One page (``/evaluation/dashboard``) admits both and shows each caller the
dashboard its role gives; the services check the narrower right again."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from govdata.core.auth import Actor, Authenticator, Role, permission

DEPARTMENT_ROLES = frozenset({Role.dept_officer, Role.dept_head, Role.dept_user})

REGION_DASHBOARD = permission(
    "evaluation.dashboard.region",
    {Role.authority},
    "查看全域监督看板：全市概况、月度趋势与最严重的逾期事项",
    writes=False,
)
DEPARTMENT_DASHBOARD = permission(
    "evaluation.dashboard.department",
    DEPARTMENT_ROLES,
    "查看本部门待办看板：逾期任务、待答复的共享申请、待复核的疑义、整改通知与考核排名",
    writes=False,
)
DASHBOARD_READ = permission(
    "evaluation.dashboard.read",
    DEPARTMENT_ROLES | {Role.authority},
    "查看工作看板（主管部门看全域，部门看本部门）",
    writes=False,
)

DashboardReader = Annotated[Actor, Depends(Authenticator(DASHBOARD_READ))]


def sees_region(actor: Actor) -> bool:
    """The authority reads the region's dashboard."""
    return actor.has(REGION_DASHBOARD)


def sees_department(actor: Actor) -> bool:
    """A department's staff read their own department's to-do."""
    return actor.has(DEPARTMENT_DASHBOARD) and actor.department_id is not None
