"""Permissions of data quality (QUA-1, QUA-2).

Reading a resource's scores follows the catalog's visibility (a draft is seen only by its provider
and the authority; the public sees the scores of published open resources, as open-data portals such
as uData show them). Problems are internal: consumers of other departments and the authority report
them, the provider's catalog officer answers them.
"""

from typing import Annotated

from fastapi import Depends

from govdata.core.auth import INTERNAL_ROLES, Actor, Authenticator, Role, permission

QUALITY_READ = permission(
    "quality.read", INTERNAL_ROLES | {Role.admin, Role.public}, "查看数据质量评分", writes=False
)
QUALITY_COMPUTE = permission(
    "quality.compute", {Role.authority, Role.dept_officer, Role.dept_head}, "重新计算数据质量评分"
)
DEPARTMENT_QUALITY_READ = permission(
    "quality.department.read", INTERNAL_ROLES | {Role.admin}, "查看部门数据质量评分", writes=False
)
PROBLEM_READ = permission(
    "quality.problem.read", INTERNAL_ROLES | {Role.admin}, "查看数据质量问题", writes=False
)
PROBLEM_REPORT = permission(
    "quality.problem.report", {Role.dept_user, Role.dept_officer, Role.authority}, "反馈数据质量问题"
)
PROBLEM_ANSWER = permission("quality.problem.answer", {Role.dept_officer}, "答复本部门资源的数据质量问题")

QualityReader = Annotated[Actor, Depends(Authenticator(QUALITY_READ))]
QualityComputer = Annotated[Actor, Depends(Authenticator(QUALITY_COMPUTE))]
DepartmentQualityReader = Annotated[Actor, Depends(Authenticator(DEPARTMENT_QUALITY_READ))]
ProblemReader = Annotated[Actor, Depends(Authenticator(PROBLEM_READ))]
ProblemReporter = Annotated[Actor, Depends(Authenticator(PROBLEM_REPORT))]
ProblemAnswerer = Annotated[Actor, Depends(Authenticator(PROBLEM_ANSWER))]
