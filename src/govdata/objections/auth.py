"""Permissions and object rules of objections (COR-1 … COR-4, POL-1).

Services enforce the ``*_refusal`` predicates (a problem or None) and pages ask the same predicates
(``can_*``) to decide whether to show an action. A role check (403) comes before the object's state
(409), as SPEC §15 says.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from fastapi import Depends

from govdata.core.auth import INTERNAL_ROLES, Actor, Authenticator, Refusal, Role, lacks, permission
from govdata.core.errors import Conflict, PermissionDenied, field_error
from govdata.core.policy import ObjectionsOffPlatform, Objector, ReviewExtensionBy
from govdata.objections.enums import ObjectionStatus

FILE = permission(
    "objections.file", {Role.dept_user, Role.dept_officer, Role.dept_head}, "对共享数据或本部门数据提出疑义"
)
REVIEW = permission(
    "objections.review",
    {Role.dept_officer},
    "复核本部门数据的疑义：更正或维持原数据、申请延期、录入线下提出的疑义",
)
EXTEND = permission("objections.extend", {Role.dept_head}, "批准延长疑义复核期限")
READ = permission("objections.read", INTERNAL_ROLES, "查看疑义与复核情况", writes=False)
SWEEP = permission("objections.sweep", {Role.admin, Role.authority}, "运行疑义复核期限巡检")

Filer = Annotated[Actor, Depends(Authenticator(FILE))]
Reviewer = Annotated[Actor, Depends(Authenticator(REVIEW))]
Extender = Annotated[Actor, Depends(Authenticator(EXTEND))]
Reader = Annotated[Actor, Depends(Authenticator(READ))]
Sweeper = Annotated[Actor, Depends(Authenticator(SWEEP))]


def in_department(actor: Actor, department_id: int | None) -> bool:
    return actor.department_id is not None and actor.department_id == department_id


def is_authority(actor: Actor) -> bool:
    return Role.authority in actor.roles


# --- reading ------------------------------------------------------------------------------------


def sees_record(actor: Actor, objection: Any) -> bool:
    """The filer's department and the provider see the key and the values; they were entitled to the
    record. The authority supervises deadlines and sees neither."""
    return actor.has(READ) and (
        in_department(actor, objection.filer_department_id) or in_department(actor, objection.provider_id)
    )


def can_read(actor: Actor, objection: Any) -> bool:
    return actor.has(READ) and (is_authority(actor) or sees_record(actor, objection))


# --- filing (COR-1) -----------------------------------------------------------------------------


def objector_kind(actor: Actor) -> Objector | None:
    """What kind of objector the caller is under POL-1's "who may object" (public accounts come later)."""
    if actor.department_id is not None and actor.has(FILE):
        return Objector.consumer_department
    return None


def file_refusal(actor: Actor, objectors: Collection[str]) -> Refusal:
    """A department's user files, when the profile lets departments object."""
    if refused := lacks(actor, FILE):
        return refused
    kind = objector_kind(actor)
    if kind is None:
        return PermissionDenied("只有部门用户可以提出疑义。", slug="not-objector")
    if kind not in objectors:
        return PermissionDenied(
            f"当前策略不允许{kind.label}提出疑义（可提出疑义的主体：{'、'.join(Objector(o).label for o in objectors)}）。",
            slug="objector-not-allowed",
        )
    return None


def off_platform_refusal(actor: Actor, provider_id: int, switch: str) -> Refusal:
    """An objection raised off the platform is entered by the provider's officer, if the profile allows."""
    if refused := lacks(actor, REVIEW):
        return refused
    if not in_department(actor, provider_id):
        return PermissionDenied("线下提出的疑义由数据提供部门录入。", slug="not-provider")
    if switch != ObjectionsOffPlatform.allowed:
        return field_error(
            "received_on",
            "当前策略规定疑义只能通过平台提出（objections_off_platform = not_allowed），不能录入线下提出的疑义",
        )
    return None


def attach_refusal(actor: Actor, objection: Any) -> Refusal:
    """The filer's department adds evidence while the objection is under review (the provider's officer
    too, for one raised off the platform)."""
    filer = actor.has(FILE) and in_department(actor, objection.filer_department_id)
    provider = actor.has(REVIEW) and in_department(actor, objection.provider_id)
    if not (filer or provider):
        return lacks(actor, FILE) or PermissionDenied(
            "只有提出疑义的部门可以上传证明材料。", slug="not-filer"
        )
    if objection.status != ObjectionStatus.under_review:
        return Conflict("复核已办结，不能再上传材料。", slug="invalid-state", status_now=objection.status)
    return None


def can_attach(actor: Actor, objection: Any) -> bool:
    return attach_refusal(actor, objection) is None


# --- review (COR-2, COR-4) ----------------------------------------------------------------------


def _provider(actor: Actor, objection: Any, perm, message: str) -> Refusal:
    if refused := lacks(actor, perm):
        return refused
    if not in_department(actor, objection.provider_id):
        return PermissionDenied(message, slug="not-provider")
    return None


def _open(objection: Any) -> Refusal:
    if objection.status != ObjectionStatus.under_review:
        return Conflict("该疑义已复核办结。", slug="invalid-state", status_now=objection.status)
    return None


def resolve_refusal(actor: Actor, objection: Any) -> Refusal:
    """The provider's officer corrects or keeps the data, once, while no correction is being applied."""
    if refused := _provider(actor, objection, REVIEW, "只有数据提供部门可以复核该疑义。"):
        return refused
    if refused := _open(objection):
        return refused
    if objection.correction_batch_id is not None:
        return Conflict(
            f"更正数据正在入库（批次 #{objection.correction_batch_id}），请等待其完成。",
            slug="correction-pending",
            batch_id=objection.correction_batch_id,
        )
    return None


def request_extension_refusal(actor: Actor, objection: Any) -> Refusal:
    """The provider's officer asks the head for the one extension."""
    if refused := _provider(actor, objection, REVIEW, "只有数据提供部门可以申请延长复核期限。"):
        return refused
    if refused := _open(objection):
        return refused
    if objection.extended:
        return Conflict("复核期限已延长过一次，不能再次延长。", slug="already-extended")
    if objection.extension_requested_at is not None:
        return Conflict("已申请延长复核期限，等待部门负责人批准。", slug="extension-requested")
    return None


def extend_refusal(actor: Actor, objection: Any, *, switch: str, principal_head: str | None) -> Refusal:
    """The provider's head (any ``dept_head``, or its principal head, as POL-1 says) extends once."""
    if refused := _provider(actor, objection, EXTEND, "只有数据提供部门的负责人可以批准延长复核期限。"):
        return refused
    if switch == ReviewExtensionBy.principal_head:
        if not principal_head:
            return PermissionDenied(
                "当前策略规定由主要负责人批准延期，但本部门未登记主要负责人。", slug="no-principal-head"
            )
        if (actor.display_name or "").strip() != principal_head.strip():
            return PermissionDenied(
                f"当前策略规定延长复核期限须经本部门主要负责人（{principal_head}）批准。",
                slug="not-principal-head",
            )
    if refused := _open(objection):
        return refused
    if objection.extended:
        return Conflict("复核期限已延长过一次，不能再次延长。", slug="already-extended")
    return None


def can_resolve(actor: Actor, objection: Any) -> bool:
    return resolve_refusal(actor, objection) is None


def can_request_extension(actor: Actor, objection: Any) -> bool:
    return request_extension_refusal(actor, objection) is None


def can_extend(actor: Actor, objection: Any, *, switch: str, principal_head: str | None) -> bool:
    return extend_refusal(actor, objection, switch=switch, principal_head=principal_head) is None
