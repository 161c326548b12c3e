"""Permissions and object rules of opening's core (OPN-1, OPN-5, OPN-6).

The provider's ``dept_officer`` prepares an opening of its own resource (plan, quasi-identifiers,
non-open reason, consent); a confidentiality review is recorded by the provider's officer or head,
or by the authority; the ``authority`` publishes into the open catalog and withdraws; an emergency
opening is published by the authority or by the officer of the department handling the incident, on
its own resource. Predicates return the problem the service raises (or None); pages ask ``can_*``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from govdata.core.auth import INTERNAL_ROLES, Actor, Authenticator, Refusal, Role, lacks, permission
from govdata.core.errors import Conflict, PermissionDenied

READ = permission("opening.read", INTERNAL_ROLES | {Role.auditor}, "查看开放目录与开放准备情况", writes=False)
PREPARE = permission(
    "opening.prepare",
    {Role.dept_officer},
    "准备本部门资源的开放：脱敏方案、准标识符、不予开放理由、权利人同意",
)
REVIEW = permission(
    "opening.review", {Role.dept_officer, Role.dept_head, Role.authority}, "登记开放前的保密审查结论"
)
PUBLISH = permission("opening.publish", {Role.authority}, "发布开放目录、撤回已开放的数据")
EMERGENCY = permission(
    "opening.emergency", {Role.authority, Role.dept_officer}, "突发事件应急开放（主管部门或处置部门）"
)
PRIORITIES = permission("opening.priorities", {Role.authority}, "编制年度开放重点清单")

Reader = Annotated[Actor, Depends(Authenticator(READ))]
Preparer = Annotated[Actor, Depends(Authenticator(PREPARE))]
Reviewer = Annotated[Actor, Depends(Authenticator(REVIEW))]
Publisher = Annotated[Actor, Depends(Authenticator(PUBLISH))]
EmergencyPublisher = Annotated[Actor, Depends(Authenticator(EMERGENCY))]
PriorityKeeper = Annotated[Actor, Depends(Authenticator(PRIORITIES))]


def is_authority(actor: Actor) -> bool:
    return Role.authority in actor.roles


def in_department(actor: Actor, department_id: int | None) -> bool:
    return actor.department_id is not None and actor.department_id == department_id


def sees(actor: Actor, provider_id: int) -> bool:
    """Who sees a resource's opening work: the authority, the auditor, the provider's staff."""
    return actor.has(READ) and (
        is_authority(actor) or Role.auditor in actor.roles or in_department(actor, provider_id)
    )


def prepare_refusal(actor: Actor, provider_id: int, status: str | None = None) -> Refusal:
    if refused := lacks(actor, PREPARE):
        return refused
    if not in_department(actor, provider_id):
        return PermissionDenied("只有数据提供部门可以准备该资源的开放。", slug="not-provider")
    return None


def review_refusal(actor: Actor, provider_id: int) -> Refusal:
    if refused := lacks(actor, REVIEW):
        return refused
    if not (is_authority(actor) or in_department(actor, provider_id)):
        return PermissionDenied("保密审查由数据提供部门或主管部门登记。", slug="not-reviewer")
    return None


def publish_refusal(actor: Actor, entry: Any | None = None) -> Refusal:
    if refused := lacks(actor, PUBLISH):
        return refused
    if not is_authority(actor):
        return PermissionDenied("开放目录由数据资源主管部门发布。", slug="not-authority")
    return None


def withdraw_refusal(actor: Actor, entry: Any) -> Refusal:
    if refused := publish_refusal(actor):
        return refused
    if entry.status != "published":
        return Conflict("该数据集未处于开放状态。", slug="invalid-state", status_now=entry.status)
    return None


def emergency_refusal(actor: Actor, provider_id: int) -> Refusal:
    if refused := lacks(actor, EMERGENCY):
        return refused
    if not (is_authority(actor) or in_department(actor, provider_id)):
        return PermissionDenied("处置部门只能应急开放本部门的资源。", slug="not-provider")
    return None


def priorities_refusal(actor: Actor) -> Refusal:
    return lacks(actor, PRIORITIES)


def can_prepare(actor: Actor, provider_id: int) -> bool:
    return prepare_refusal(actor, provider_id) is None


def can_review(actor: Actor, provider_id: int) -> bool:
    return review_refusal(actor, provider_id) is None


def can_publish(actor: Actor) -> bool:
    return publish_refusal(actor) is None


def can_withdraw(actor: Actor, entry: Any) -> bool:
    return withdraw_refusal(actor, entry) is None


def can_emergency(actor: Actor, provider_id: int) -> bool:
    return emergency_refusal(actor, provider_id) is None


def can_keep_priorities(actor: Actor) -> bool:
    return priorities_refusal(actor) is None
