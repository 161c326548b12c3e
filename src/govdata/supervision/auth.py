"""Permissions of the violations register (SUP-2): who sees which violation and who may act on it in
its current state. Services raise what these rules refuse; the page asks the same rules (``can_*``)
which forms to offer.

* The authority, the administrator and the auditor see every violation; a department's staff see
  their department's (another department's is 404 to them).
* The department's catalog officer or head contests a violation just detected.
* The authority confirms or withdraws a violation detected or contested.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy import ColumnElement, false, true

from govdata.core.auth import Actor, Authenticator, Refusal, Role, lacks, permission
from govdata.core.errors import Conflict, NotFound, PermissionDenied
from govdata.supervision.enums import UNDECIDED, ViolationStatus
from govdata.supervision.models import Violation

SEES_ALL = frozenset({Role.authority, Role.admin, Role.auditor})

VIOLATION_READ = permission(
    "supervision.violation.read",
    SEES_ALL | {Role.dept_officer, Role.dept_head, Role.dept_user},
    "查看违规记录（部门只看本部门的）",
    writes=False,
)
VIOLATION_DECIDE = permission("supervision.violation.decide", {Role.authority}, "确认或撤销违规记录")
VIOLATION_CONTEST = permission(
    "supervision.violation.contest", {Role.dept_officer, Role.dept_head}, "对本部门的违规记录提出异议"
)

ViolationReader = Annotated[Actor, Depends(Authenticator(VIOLATION_READ))]
ViolationDecider = Annotated[Actor, Depends(Authenticator(VIOLATION_DECIDE))]
ViolationContester = Annotated[Actor, Depends(Authenticator(VIOLATION_CONTEST))]


def sees_every_violation(actor: Actor) -> bool:
    return actor.has(VIOLATION_READ) and bool(actor.roles & SEES_ALL)


def readable(actor: Actor) -> ColumnElement[bool]:
    """The violations the caller may see, as SQL: every list and count starts from it."""
    if sees_every_violation(actor):
        return true()
    if not actor.has(VIOLATION_READ) or actor.department_id is None:
        return false()
    return Violation.department_id == actor.department_id


def can_see(actor: Actor, violation: Violation) -> bool:
    return sees_every_violation(actor) or (
        actor.has(VIOLATION_READ)
        and actor.department_id is not None
        and actor.department_id == violation.department_id
    )


def read_refusal(actor: Actor, violation: Violation) -> Refusal:
    if refusal := lacks(actor, VIOLATION_READ):
        return refusal
    return None if can_see(actor, violation) else NotFound(f"违规记录 {violation.id} 不存在。")


def _state(violation: Violation, allowed: tuple[ViolationStatus, ...], action: str) -> Refusal:
    if violation.status in allowed:
        return None
    return Conflict(
        f"该违规记录{ViolationStatus(violation.status).label}，不能{action}。",
        slug="invalid-state",
        status_now=violation.status,
    )


def decide_refusal(actor: Actor, violation: Violation) -> Refusal:
    """The authority confirms or withdraws a violation not decided yet."""
    return (
        lacks(actor, VIOLATION_DECIDE)
        or read_refusal(actor, violation)
        or _state(violation, UNDECIDED, "再确认或撤销")
    )


def contest_refusal(actor: Actor, violation: Violation) -> Refusal:
    """The department's officer or head contests a violation just detected, once."""
    if refusal := lacks(actor, VIOLATION_CONTEST) or read_refusal(actor, violation):
        return refusal
    if actor.department_id != violation.department_id:
        return PermissionDenied("只有被记录违规的部门可以提出异议。", slug="not-own-department")
    return _state(violation, (ViolationStatus.detected,), "提出异议")


def can_decide(actor: Actor, violation: Violation) -> bool:
    return decide_refusal(actor, violation) is None


def can_contest(actor: Actor, violation: Violation) -> bool:
    return contest_refusal(actor, violation) is None
