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
from govdata.supervision.enums import ESCALATION_STEPS, UNDECIDED, NoticeStatus, ViolationStatus
from govdata.supervision.models import Notice, Violation

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


# --- rectification notices (通知整改) ---------------------------------------------------------------
#
# * Seen like violations: the authority, the administrator and the auditor see every notice, a
#   department's staff their department's (another department's is 404 to them).
# * The department's catalog officer or head answers an open notice with what it did.
# * The authority accepts an answered notice or reopens it; it escalates an open notice one step.

NOTICE_READ = permission(
    "supervision.notice.read",
    SEES_ALL | {Role.dept_officer, Role.dept_head, Role.dept_user},
    "查看整改通知（部门只看本部门的）",
    writes=False,
)
NOTICE_ANSWER = permission(
    "supervision.notice.answer", {Role.dept_officer, Role.dept_head}, "答复本部门的整改通知"
)
NOTICE_DECIDE = permission("supervision.notice.decide", {Role.authority}, "验收、退回或升级督办整改通知")
SWEEP = permission("supervision.sweep", {Role.admin, Role.authority}, "运行整改期限与违规巡检")

NoticeReader = Annotated[Actor, Depends(Authenticator(NOTICE_READ))]
NoticeAnswerer = Annotated[Actor, Depends(Authenticator(NOTICE_ANSWER))]
NoticeDecider = Annotated[Actor, Depends(Authenticator(NOTICE_DECIDE))]
Sweeper = Annotated[Actor, Depends(Authenticator(SWEEP))]


def sees_every_notice(actor: Actor) -> bool:
    return actor.has(NOTICE_READ) and bool(actor.roles & SEES_ALL)


def readable_notices(actor: Actor) -> ColumnElement[bool]:
    """The notices the caller may see, as SQL."""
    if sees_every_notice(actor):
        return true()
    if not actor.has(NOTICE_READ) or actor.department_id is None:
        return false()
    return Notice.department_id == actor.department_id


def notice_read_refusal(actor: Actor, notice: Notice) -> Refusal:
    if refusal := lacks(actor, NOTICE_READ):
        return refusal
    if sees_every_notice(actor) or (
        actor.department_id is not None and actor.department_id == notice.department_id
    ):
        return None
    return NotFound(f"整改通知 {notice.id} 不存在。")


def _notice_state(notice: Notice, allowed: tuple[NoticeStatus, ...], action: str) -> Refusal:
    if notice.status in allowed:
        return None
    return Conflict(
        f"该整改通知{NoticeStatus(notice.status).label}，不能{action}。",
        slug="invalid-state",
        status_now=notice.status,
    )


def answer_refusal(actor: Actor, notice: Notice) -> Refusal:
    """The department's officer or head answers its open notice."""
    if refusal := lacks(actor, NOTICE_ANSWER) or notice_read_refusal(actor, notice):
        return refusal
    if actor.department_id != notice.department_id:
        return PermissionDenied("只有被通知整改的部门可以答复。", slug="not-own-department")
    return _notice_state(notice, (NoticeStatus.open,), "答复")


def accept_refusal(actor: Actor, notice: Notice) -> Refusal:
    """The authority accepts or reopens an answered notice."""
    return (
        lacks(actor, NOTICE_DECIDE)
        or notice_read_refusal(actor, notice)
        or _notice_state(notice, (NoticeStatus.answered,), "验收或退回")
    )


def escalate_refusal(actor: Actor, notice: Notice) -> Refusal:
    """The authority escalates an open notice by one step, while a step is left."""
    if refusal := (
        lacks(actor, NOTICE_DECIDE)
        or notice_read_refusal(actor, notice)
        or _notice_state(notice, (NoticeStatus.open,), "升级督办")
    ):
        return refusal
    if notice.step >= len(ESCALATION_STEPS):
        return Conflict("该整改通知已升级到最后一步（通报批评），不能再升级。", slug="last-step")
    return None


def can_answer(actor: Actor, notice: Notice) -> bool:
    return answer_refusal(actor, notice) is None


def can_accept(actor: Actor, notice: Notice) -> bool:
    return accept_refusal(actor, notice) is None


def can_escalate(actor: Actor, notice: Notice) -> bool:
    return escalate_refusal(actor, notice) is None
