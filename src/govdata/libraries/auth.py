"""Permissions of base libraries, fusion conflicts and department resource pools (AGG-8, CAT-13, QUA-3):
the rights, and who may do what to a library or a conflict in its current state. Services raise what
these rules refuse; pages ask the same rules to decide which forms to offer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends

from govdata.core import clock
from govdata.core.auth import (
    INTERNAL_ROLES,
    Actor,
    Authenticator,
    Refusal,
    Role,
    lacks,
    permission,
)
from govdata.core.errors import Conflict, NotFound, PermissionDenied, Problem
from govdata.libraries.models import (
    CONFLICT_STATUS_LABELS,
    NEGOTIABLE,
    UNSETTLED,
    ConflictStatus,
    Library,
    LibraryConflict,
)

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
    {Role.dept_officer, Role.dept_head},
    "将协商不成的数据冲突提交主管部门裁决（主管部门不向自己提交，期限届满后直接裁决）",
)
CONFLICT_DECIDE = permission("libraries.conflict.decide", {Role.authority}, "裁决数据冲突")
POOL_READ = permission(
    "libraries.pool.read",
    INTERNAL_ROLES,
    "查看部门数据资源池，含所属单位（主管部门看全部）",
    writes=False,
)
SOURCE_READ = permission(
    "libraries.source.read", INTERNAL_ROLES, "查看数据元的权威来源（一数一源）", writes=False
)
SOURCE_MANAGE = permission(
    "libraries.source.manage", {Role.authority}, "指定权威来源、查看重复采集并要求部门停止重复采集"
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
SourceReader = Annotated[Actor, Depends(Authenticator(SOURCE_READ))]
SourceManager = Annotated[Actor, Depends(Authenticator(SOURCE_MANAGE))]


# --- object rules: services raise the refusal, pages ask ``can_*`` to offer a form ----------------
# Each ``*_refusal`` returns the problem that forbids an action (None when it is allowed), with the
# message and status the API answers; ``can_*`` is the same rule as a yes/no for a page.


# base libraries


def can_define_libraries(actor: Actor) -> bool:
    """Define libraries, name authoritative sources, build: the authority."""
    return actor.has(LIBRARY_MANAGE)


def can_edit_library(actor: Actor, library: Library) -> bool:
    return can_define_libraries(actor)


def records_refusal(actor: Actor, library: Library) -> Refusal:
    """The fused rows are read by the authority and the library's lead department."""
    if refusal := lacks(actor, LIBRARY_DATA_READ):
        return refusal
    if Role.authority in actor.roles or (
        actor.department_id is not None and actor.department_id == library.lead_department_id
    ):
        return None
    return PermissionDenied("只有数据资源主管部门和该基础库的牵头部门可以查询融合数据。", slug="not-lead")


def can_read_records(actor: Actor, library: Library) -> bool:
    return records_refusal(actor, library) is None


# department resource pools


def reads_every_pool(actor: Actor) -> bool:
    """The authority reads every department's pool (and chooses among them)."""
    return actor.has(POOL_READ) and Role.authority in actor.roles


def pool_refusal(actor: Actor, department_id: int, own_units: Iterable[int] = ()) -> Refusal:
    """A department reads its own pool and those of its subordinate units (``own_units``: the
    caller's department and the units below it), whose data its own pool gathers anyway."""
    if refusal := lacks(actor, POOL_READ):
        return refusal
    if reads_every_pool(actor) or actor.department_id == department_id or department_id in set(own_units):
        return None
    return PermissionDenied("只能查看本部门及所属单位的数据资源池。")


# conflicts (QUA-3)


def sees_every_conflict(actor: Actor) -> bool:
    """The authority sees every conflict; a department only those it is a party to."""
    return Role.authority in actor.roles


def is_party(actor: Actor, conflict: LibraryConflict) -> bool:
    """The caller's department holds one of the disagreeing values."""
    return actor.department_id is not None and actor.department_id in conflict.department_ids


def can_see_conflict(actor: Actor, conflict: LibraryConflict) -> bool:
    return sees_every_conflict(actor) or is_party(actor, conflict)


def _unseen(actor: Actor, conflict: LibraryConflict) -> Refusal:
    return None if can_see_conflict(actor, conflict) else NotFound(f"数据冲突 {conflict.id} 不存在。")


def _not_a_party(actor: Actor, conflict: LibraryConflict) -> Refusal:
    if is_party(actor, conflict):
        return None
    return PermissionDenied("只有涉及该冲突的部门可以进行此操作。", slug="not-a-party")


def settled(conflict: LibraryConflict) -> Problem:
    return Conflict(
        f"该冲突已{CONFLICT_STATUS_LABELS[conflict.status]}，不能再进行此操作。",
        slug="invalid-state",
        status_now=conflict.status,
    )


def _not_negotiable(conflict: LibraryConflict, when_escalated: str) -> Refusal:
    """Only a conflict still being negotiated can be resolved or escalated."""
    if conflict.status in NEGOTIABLE:
        return None
    if conflict.status not in UNSETTLED:
        return settled(conflict)
    return Conflict(when_escalated, slug="invalid-state", status_now=conflict.status)


def comment_refusal(actor: Actor, conflict: LibraryConflict) -> Refusal:
    """The parties and the authority comment until the conflict is settled."""
    if refusal := lacks(actor, CONFLICT_COMMENT) or _unseen(actor, conflict):
        return refusal
    return None if conflict.status in UNSETTLED else settled(conflict)


def resolve_refusal(actor: Actor, conflict: LibraryConflict) -> Refusal:
    """Each party confirms the value it agrees to while the conflict is being negotiated; the
    conflict is resolved once every department involved has confirmed the same value (QUA-3)."""
    return (
        lacks(actor, CONFLICT_RESOLVE)
        or _unseen(actor, conflict)
        or _not_a_party(actor, conflict)
        or _not_negotiable(conflict, "该冲突已提交主管部门裁决，等待裁决。")
    )


def escalate_refusal(actor: Actor, conflict: LibraryConflict) -> Refusal:
    """A party escalates a conflict being negotiated to the authority. The authority does not
    escalate to itself: past the coordination deadline it decides directly (``decide_refusal``)."""
    if (
        refusal := lacks(actor, CONFLICT_ESCALATE)
        or _unseen(actor, conflict)
        or _not_a_party(actor, conflict)
    ):
        return refusal
    return _not_negotiable(conflict, "该冲突已提交主管部门裁决。")


def decide_refusal(actor: Actor, conflict: LibraryConflict) -> Refusal:
    """The authority decides an escalated conflict, or one past its coordination deadline."""
    if refusal := lacks(actor, CONFLICT_DECIDE) or _unseen(actor, conflict):
        return refusal
    if conflict.status == ConflictStatus.escalated or conflict.overdue_on(clock.today()):
        return None
    if conflict.status not in UNSETTLED:
        return settled(conflict)
    return Conflict(
        "该冲突仍在协商期限内且未提交裁决；部门协商不成时提交裁决，或期限届满后由主管部门裁决。",
        slug="not-escalated",
        status_now=conflict.status,
    )


def can_comment(actor: Actor, conflict: LibraryConflict) -> bool:
    return comment_refusal(actor, conflict) is None


def can_resolve(actor: Actor, conflict: LibraryConflict) -> bool:
    return resolve_refusal(actor, conflict) is None


def can_escalate(actor: Actor, conflict: LibraryConflict) -> bool:
    return escalate_refusal(actor, conflict) is None


def can_decide_conflict(actor: Actor, conflict: LibraryConflict) -> bool:
    return decide_refusal(actor, conflict) is None
