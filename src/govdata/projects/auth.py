"""Permissions of information projects (PRJ-1, PRJ-2): who sees which project and who may act on it in
its current state. Services raise what these rules refuse; pages ask the same rules (``can_*``) which
forms to offer.

* The authority, the administrator and the auditor see every project; a department's staff see their
  department's (another department's is 404 to them).
* A department's catalog officer files a project of their own department.
* The authority reviews (初审) a project just filed.
* Acceptance follows the policy switch ``project_acceptor`` (POL-1): the building department's
  officer or head (the record is reported to the authority), or the authority as the approving
  department. The other side is refused (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy import ColumnElement, false, true

from govdata.core.auth import Actor, Authenticator, Refusal, Role, lacks, permission
from govdata.core.errors import Conflict, NotFound, PermissionDenied
from govdata.core.policy import ProjectAcceptor
from govdata.projects.enums import AWAITING_ACCEPTANCE, ProjectStatus
from govdata.projects.models import Project

SEES_ALL = frozenset({Role.authority, Role.admin, Role.auditor})

PROJECT_READ = permission(
    "projects.read",
    SEES_ALL | {Role.dept_officer, Role.dept_head, Role.dept_user},
    "查看政务信息化项目（部门只看本部门的）",
    writes=False,
)
PROJECT_FILE = permission("projects.file", {Role.dept_officer}, "申报政务信息化项目（附预编目录）")
PROJECT_REVIEW = permission("projects.review", {Role.authority}, "初审政务信息化项目")
PROJECT_ACCEPT = permission(
    "projects.accept", {Role.dept_officer, Role.dept_head, Role.authority}, "验收政务信息化项目"
)

ProjectReader = Annotated[Actor, Depends(Authenticator(PROJECT_READ))]
ProjectFiler = Annotated[Actor, Depends(Authenticator(PROJECT_FILE))]
ProjectReviewer = Annotated[Actor, Depends(Authenticator(PROJECT_REVIEW))]
ProjectAcceptorActor = Annotated[Actor, Depends(Authenticator(PROJECT_ACCEPT))]


def sees_every_project(actor: Actor) -> bool:
    return actor.has(PROJECT_READ) and bool(actor.roles & SEES_ALL)


def readable(actor: Actor) -> ColumnElement[bool]:
    """The projects the caller may see, as SQL: every list starts from it."""
    if sees_every_project(actor):
        return true()
    if not actor.has(PROJECT_READ) or actor.department_id is None:
        return false()
    return Project.department_id == actor.department_id


def can_see(actor: Actor, project: Project) -> bool:
    return sees_every_project(actor) or (
        actor.has(PROJECT_READ)
        and actor.department_id is not None
        and actor.department_id == project.department_id
    )


def read_refusal(actor: Actor, project: Project) -> Refusal:
    if refusal := lacks(actor, PROJECT_READ):
        return refusal
    return None if can_see(actor, project) else NotFound(f"项目 {project.id} 不存在。")


def file_refusal(actor: Actor, department_id: int) -> Refusal:
    """A department's catalog officer files projects of their own department only."""
    if refusal := lacks(actor, PROJECT_FILE):
        return refusal
    if actor.department_id is None or actor.department_id != department_id:
        return PermissionDenied("只能申报本部门的项目。", slug="not-own-department")
    return None


def _state(project: Project, allowed: tuple[ProjectStatus, ...], action: str) -> Refusal:
    if project.status in allowed:
        return None
    return Conflict(
        f"该项目{ProjectStatus(project.status).label}，不能{action}。",
        slug="invalid-state",
        status_now=project.status,
    )


def review_refusal(actor: Actor, project: Project) -> Refusal:
    """The authority reviews a project just filed, once."""
    return (
        lacks(actor, PROJECT_REVIEW)
        or read_refusal(actor, project)
        or _state(project, (ProjectStatus.filed,), "再初审")
    )


def acceptor_refusal(actor: Actor, project: Project, acceptor: ProjectAcceptor | str) -> Refusal:
    """Whether the caller is the acceptor the policy names (403 otherwise)."""
    if refusal := lacks(actor, PROJECT_ACCEPT):
        return refusal
    if ProjectAcceptor(acceptor) == ProjectAcceptor.approving_authority:
        if Role.authority in actor.roles:
            return None
        return PermissionDenied(
            "按现行策略，项目由审批部门（数据资源主管部门）验收。", slug="not-the-acceptor"
        )
    if actor.has_role(Role.dept_officer, Role.dept_head) and actor.department_id == project.department_id:
        return None
    return PermissionDenied("按现行策略，项目由建设单位验收并报主管部门备案。", slug="not-the-acceptor")


def accept_refusal(actor: Actor, project: Project, acceptor: ProjectAcceptor | str) -> Refusal:
    """The acceptor the policy names asks for acceptance of an approved project (again after a
    failed acceptance)."""
    return (
        lacks(actor, PROJECT_ACCEPT)
        or read_refusal(actor, project)
        or acceptor_refusal(actor, project, acceptor)
        or _state(project, AWAITING_ACCEPTANCE, "验收")
    )


def can_file(actor: Actor) -> bool:
    return actor.department_id is not None and file_refusal(actor, actor.department_id) is None


def can_review(actor: Actor, project: Project) -> bool:
    return review_refusal(actor, project) is None


def can_accept(actor: Actor, project: Project, acceptor: ProjectAcceptor | str) -> bool:
    return accept_refusal(actor, project, acceptor) is None
