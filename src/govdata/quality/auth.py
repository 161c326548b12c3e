"""Permissions of data quality (QUA-1, QUA-2).

Reading a resource's scores follows the catalog's visibility (a draft is seen only by its provider
and the authority; the public sees the scores of published open resources, as open-data portals such
as uData show them). Problems are internal: consumers of other departments and the authority report
them, the provider's catalog officer answers them. A problem is seen by the provider department, the
reporting department and the authority only, and its record key (a person's 公民身份号码, say) in
clear by the first two only (SEC-4).

The object predicates below are the rules; the services enforce them and the pages ask them.
"""

from typing import Annotated, Protocol

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


# --- object predicates: the services enforce them, the pages ask them to show a form --------------


class Provided(Protocol):
    provider_id: int


class Reported(Protocol):
    provider_id: int
    reporter_department_id: int | None


class Published(Protocol):
    provider_id: int
    published_version: int | None


def _in_department(actor: Actor, department_id: int | None) -> bool:
    return actor.department_id is not None and actor.department_id == department_id


def sees_every_department(actor: Actor) -> bool:
    """The authority and the administrator oversee every department's scores."""
    return bool(actor.roles & {Role.authority, Role.admin})


def sees_details(actor: Actor) -> bool:
    """The inputs of the formulas (counts per item, probe results) are for internal users only."""
    return bool(actor.roles & (INTERNAL_ROLES | {Role.admin}))


def can_read_department(actor: Actor, department_id: int) -> bool:
    return actor.has(DEPARTMENT_QUALITY_READ) and (
        sees_every_department(actor) or _in_department(actor, department_id)
    )


def can_recompute(actor: Actor, resource: Provided) -> bool:
    """The provider and the authority may have a resource's scores computed now."""
    return actor.has(QUALITY_COMPUTE) and (
        Role.authority in actor.roles or _in_department(actor, resource.provider_id)
    )


def is_consumer(actor: Actor, resource: Provided) -> bool:
    """Who uses a resource reports on it (谁使用、谁反馈): other departments and the authority."""
    return Role.authority in actor.roles or actor.department_id != resource.provider_id


def can_report(actor: Actor, resource: Published) -> bool:
    return (
        actor.has(PROBLEM_REPORT) and resource.published_version is not None and is_consumer(actor, resource)
    )


def can_answer(actor: Actor, resource_or_problem: Provided) -> bool:
    """The provider's catalog officer answers the problems of the department's resources."""
    return actor.has(PROBLEM_ANSWER) and _in_department(actor, resource_or_problem.provider_id)


def can_read_problem(actor: Actor, problem: Reported) -> bool:
    return actor.has(PROBLEM_READ) and (
        Role.authority in actor.roles
        or _in_department(actor, problem.provider_id)
        or _in_department(actor, problem.reporter_department_id)
    )


def sees_record_key(actor: Actor, problem: Reported) -> bool:
    """The record key in clear: for the provider and the reporting department (the authority sees it
    masked: supervising the answer needs no one's identity number)."""
    return _in_department(actor, problem.provider_id) or _in_department(actor, problem.reporter_department_id)
