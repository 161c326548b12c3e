"""Permissions and object rules of sharing (SHR, SEC-2).

Services enforce the ``*_refusal`` predicates (a problem or None) and pages ask the same predicates
(``can_*``) to decide whether to show an action. A role check (403) comes before the object's state
(409), as SPEC §15 says.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from govdata.core.auth import INTERNAL_ROLES, Actor, Authenticator, Refusal, Role, lacks, permission
from govdata.core.errors import Conflict, PermissionDenied
from govdata.sharing.enums import ApplicationStatus, DemandStatus, GrantStatus, Phase

APPLY = permission(
    "sharing.apply", {Role.dept_user, Role.dept_officer, Role.dept_head}, "为本部门的应用系统申请共享数据"
)
DECIDE = permission("sharing.decide", {Role.dept_officer, Role.dept_head}, "答复本部门资源的共享申请")
CHECK = permission("sharing.check", {Role.authority}, "对共享申请进行合规审查")
COORDINATE = permission("sharing.coordinate", {Role.authority}, "协调共享争议")
READ = permission("sharing.read", INTERNAL_ROLES, "查看共享申请与授权", writes=False)
GRANT_MANAGE = permission(
    "sharing.grant.manage", {Role.dept_officer, Role.dept_head}, "暂停、恢复或撤销本部门资源的共享授权"
)
USE = permission(
    "sharing.use",
    {Role.app, Role.dept_user, Role.dept_officer, Role.dept_head},
    "调用共享服务（比对验证、检索查询、数据交换）",
    writes=False,
)
USAGE_READ = permission("sharing.usage.read", INTERNAL_ROLES, "查看共享调用记录", writes=False)
EVIDENCE = permission("sharing.evidence", {Role.authority}, "标记可直接采信的共享数据")
SWEEP = permission("sharing.sweep", {Role.admin, Role.authority}, "运行共享期限巡检")

Applicant = Annotated[Actor, Depends(Authenticator(APPLY))]
Decider = Annotated[Actor, Depends(Authenticator(DECIDE))]
Checker = Annotated[Actor, Depends(Authenticator(CHECK))]
Coordinator = Annotated[Actor, Depends(Authenticator(COORDINATE))]
Reader = Annotated[Actor, Depends(Authenticator(READ))]
GrantManager = Annotated[Actor, Depends(Authenticator(GRANT_MANAGE))]
User = Annotated[Actor, Depends(Authenticator(USE))]
UsageReader = Annotated[Actor, Depends(Authenticator(USAGE_READ))]
EvidenceMarker = Annotated[Actor, Depends(Authenticator(EVIDENCE))]
Sweeper = Annotated[Actor, Depends(Authenticator(SWEEP))]


def in_department(actor: Actor, department_id: int | None) -> bool:
    return actor.department_id is not None and actor.department_id == department_id


def is_authority(actor: Actor) -> bool:
    return Role.authority in actor.roles


# --- applications -------------------------------------------------------------------------------


def can_read_application(actor: Actor, application: Any) -> bool:
    """The consumer department, the provider department and the authority see an application."""
    return actor.has(READ) and (
        is_authority(actor)
        or in_department(actor, application.consumer_department_id)
        or in_department(actor, application.provider_id)
    )


def apply_refusal(actor: Actor, consumer_department_id: int | None) -> Refusal:
    """Applications are made for the applicant's own department's systems."""
    if refused := lacks(actor, APPLY):
        return refused
    if not in_department(actor, consumer_department_id):
        return PermissionDenied("只能为本部门的应用系统申请共享数据。", slug="not-own-system")
    return None


def attach_refusal(actor: Actor, application: Any) -> Refusal:
    """The applicant department adds materials while its application is open."""
    if refused := lacks(actor, APPLY):
        return refused
    if not in_department(actor, application.consumer_department_id):
        return PermissionDenied("只有申请部门可以上传申请材料。", slug="not-consumer")
    if application.phase not in (
        Phase.compliance_check,
        Phase.awaiting_receipt,
        Phase.awaiting_decision,
        Phase.coordination,
    ):
        return Conflict(
            "申请已答复或已办结，不能再上传材料。", slug="invalid-state", status_now=application.status
        )
    return None


def apply_resource_refusal(actor: Actor, resource: Any) -> Refusal:
    """A resource is applied for when published and provided by another department."""
    if resource.published_version is None or resource.status == "retired":
        return Conflict("资源未发布或已停用，不能申请共享。", slug="not-published")
    if in_department(actor, resource.provider_id):
        return Conflict("本部门的资源无需申请，可直接查询。", slug="own-resource")
    return None


def can_apply(actor: Actor, resource: Any) -> bool:
    """Whether the page offers "申请共享" for ``resource`` (the caller's department's systems are checked
    when the application names one)."""
    return (
        actor.has(APPLY)
        and actor.department_id is not None
        and apply_resource_refusal(actor, resource) is None
    )


def _state(application: Any, phases: set[str], message: str) -> Refusal:
    if application.phase not in phases:
        return Conflict(message, slug="invalid-state", status_now=application.status)
    return None


def check_refusal(actor: Actor, application: Any) -> Refusal:
    return lacks(actor, CHECK) or _state(application, {Phase.compliance_check}, "该申请不在合规审查阶段。")


def _provider(actor: Actor, application: Any, perm) -> Refusal:
    if refused := lacks(actor, perm):
        return refused
    if not in_department(actor, application.provider_id):
        return PermissionDenied("只有提供部门可以办理该申请。", slug="not-provider")
    return None


def receive_refusal(actor: Actor, application: Any) -> Refusal:
    return _provider(actor, application, DECIDE) or _state(
        application, {Phase.awaiting_receipt}, "该申请无需签收或已签收。"
    )


def decide_refusal(actor: Actor, application: Any) -> Refusal:
    return _provider(actor, application, DECIDE) or _state(
        application,
        {Phase.awaiting_receipt, Phase.awaiting_decision},
        "该申请当前不能答复（尚在合规审查、已答复或已办结）。",
    )


def dispute_refusal(actor: Actor, application: Any) -> Refusal:
    if refused := lacks(actor, APPLY):
        return refused
    if not in_department(actor, application.consumer_department_id):
        return PermissionDenied("只有申请部门可以提出异议。", slug="not-consumer")
    if application.decision is None or application.status not in (
        ApplicationStatus.refused,
        ApplicationStatus.partially_approved,
    ):
        return Conflict(
            "只有被拒绝或部分同意的申请可以提出异议。", slug="invalid-state", status_now=application.status
        )
    return None


def coordinate_refusal(actor: Actor, application: Any) -> Refusal:
    return lacks(actor, COORDINATE) or _state(
        application, {Phase.coordination}, "该申请不在协调阶段（尚无异议或已协调完毕）。"
    )


def can_check(actor: Actor, application: Any) -> bool:
    return check_refusal(actor, application) is None


def can_receive(actor: Actor, application: Any) -> bool:
    return receive_refusal(actor, application) is None


def can_decide(actor: Actor, application: Any) -> bool:
    return decide_refusal(actor, application) is None


def can_dispute(actor: Actor, application: Any) -> bool:
    return dispute_refusal(actor, application) is None


def can_attach(actor: Actor, application: Any) -> bool:
    return attach_refusal(actor, application) is None


def can_coordinate(actor: Actor, application: Any) -> bool:
    return coordinate_refusal(actor, application) is None


# --- grants -------------------------------------------------------------------------------------


def can_read_grant(actor: Actor, grant: Any) -> bool:
    return actor.has(READ) and (
        is_authority(actor)
        or in_department(actor, grant.consumer_department_id)
        or in_department(actor, grant.provider_id)
    )


_GRANT_FROM = {
    "suspend": ({GrantStatus.active}, "只有有效的授权可以暂停。"),
    "resume": ({GrantStatus.suspended}, "只有已暂停的授权可以恢复。"),
    "revoke": ({GrantStatus.active, GrantStatus.suspended}, "该授权已撤销或已到期。"),
}


def grant_change_refusal(actor: Actor, grant: Any, action: str) -> Refusal:
    """The provider suspends, resumes or revokes its grants (SHR-5)."""
    if refused := lacks(actor, GRANT_MANAGE):
        return refused
    if not in_department(actor, grant.provider_id):
        return PermissionDenied("只有提供部门可以暂停、恢复或撤销授权。", slug="not-provider")
    allowed, message = _GRANT_FROM[action]
    if grant.status not in allowed:
        return Conflict(message, slug="invalid-state", status_now=grant.status)
    return None


def can_change_grant(actor: Actor, grant: Any, action: str) -> bool:
    return grant_change_refusal(actor, grant, action) is None


# --- usage --------------------------------------------------------------------------------------


def sees_all_usage(actor: Actor) -> bool:
    """The authority sees every call; a department its calls as provider and as consumer (SHR-7)."""
    return actor.has(USAGE_READ) and is_authority(actor)


# --- share demands ------------------------------------------------------------------------------


def demand_refusal(actor: Actor) -> Refusal:
    if refused := lacks(actor, APPLY):
        return refused
    if actor.department_id is None:
        return PermissionDenied("只有部门用户可以提出共享需求。")
    return None


def demand_assign_refusal(actor: Actor, demand: Any) -> Refusal:
    if refused := lacks(actor, COORDINATE):
        return refused
    if demand.status != DemandStatus.submitted:
        return Conflict("该需求已指定提供部门。", slug="invalid-state", status_now=demand.status)
    return None


def demand_answer_refusal(actor: Actor, demand: Any) -> Refusal:
    if refused := lacks(actor, DECIDE):
        return refused
    if not in_department(actor, demand.provider_id):
        return PermissionDenied("只有被指定的提供部门可以答复该需求。", slug="not-provider")
    if demand.status != DemandStatus.assigned:
        return Conflict("该需求不在待答复状态。", slug="invalid-state", status_now=demand.status)
    return None


def can_assign_demand(actor: Actor, demand: Any) -> bool:
    return demand_assign_refusal(actor, demand) is None


def can_answer_demand(actor: Actor, demand: Any) -> bool:
    return demand_answer_refusal(actor, demand) is None
