"""Permissions and object rules of opening's public side (ORG-4, OPN-3, OPN-4, OPN-9, SEC-2).

Registration is open to anyone (rate-limited with the logins); everything else a public account
does needs its login. Services enforce the ``*_refusal`` predicates and pages ask the same ones.
A role check (403) comes before the object's state (409), as SPEC §15 says.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from govdata.core.auth import Actor, Authenticator, Refusal, Role, lacks, permission
from govdata.core.errors import Conflict, PermissionDenied

APPLY = permission("opening.apply", {Role.public}, "申请有条件开放数据")
DECIDE = permission("opening.decide", {Role.dept_officer}, "决定本部门有条件开放数据的申请")
APPLICATIONS_READ = permission(
    "opening.applications.read",
    {Role.public, Role.authority, Role.dept_officer, Role.dept_head},
    "查看有条件开放申请",
    writes=False,
)
KEYS = permission("opening.keys", {Role.public}, "为获准的有条件开放申请创建或吊销接口密钥")
ACCOUNT = permission("opening.account", {Role.public}, "查看本人的公众账号", writes=False)
PROPOSE = permission("opening.demand.propose", {Role.public}, "提出开放需求")
ANSWER = permission("opening.demand.answer", {Role.authority}, "答复开放需求")
REUSE = permission("opening.reuse.register", {Role.public}, "登记开放数据的利用成果")

Applicant = Annotated[Actor, Depends(Authenticator(APPLY))]
Decider = Annotated[Actor, Depends(Authenticator(DECIDE))]
ApplicationsReader = Annotated[Actor, Depends(Authenticator(APPLICATIONS_READ))]
KeyHolder = Annotated[Actor, Depends(Authenticator(KEYS))]
AccountHolder = Annotated[Actor, Depends(Authenticator(ACCOUNT))]
Proposer = Annotated[Actor, Depends(Authenticator(PROPOSE))]
Answerer = Annotated[Actor, Depends(Authenticator(ANSWER))]
ReuseRegistrar = Annotated[Actor, Depends(Authenticator(REUSE))]
Anyone = Annotated[Actor, Depends(Authenticator(None))]


def _signed_out(actor: Anyone) -> Actor:
    """Registration is for visitors: someone logged in (staff, an auditor, a public account) is refused."""
    if actor.is_authenticated:
        raise PermissionDenied("已登录的账号不能再注册公众账号，请先退出登录。", slug="already-signed-in")
    return actor


Registrant = Annotated[Actor, Depends(_signed_out)]


def is_authority(actor: Actor) -> bool:
    return Role.authority in actor.roles


def is_provider_staff(actor: Actor, provider_id: int | None) -> bool:
    return (
        actor.department_id is not None
        and actor.department_id == provider_id
        and actor.has_role(Role.dept_officer, Role.dept_head)
    )


def is_applicant(actor: Actor, application: Any) -> bool:
    return (
        actor.user_id is not None and Role.public in actor.roles and actor.user_id == application.account_id
    )


def can_read_application(actor: Actor, application: Any) -> bool:
    """The applicant, the provider's officers and head, and the authority see an application."""
    return actor.has(APPLICATIONS_READ) and (
        is_authority(actor)
        or is_applicant(actor, application)
        or is_provider_staff(actor, application.provider_id)
    )


def decide_refusal(actor: Actor, application: Any) -> Refusal:
    """The provider's catalog officer decides a pending application."""
    if refused := lacks(actor, DECIDE):
        return refused
    if actor.department_id != application.provider_id:
        return PermissionDenied("只能决定本部门数据的开放申请。", slug="not-provider")
    if application.status != "pending":
        return Conflict("该申请已作出决定。", slug="already-decided")
    return None


def can_decide(actor: Actor, application: Any) -> bool:
    return decide_refusal(actor, application) is None


def key_refusal(actor: Actor, application: Any) -> Refusal:
    """The applicant makes keys for its own approved application."""
    if refused := lacks(actor, KEYS):
        return refused
    if not is_applicant(actor, application):
        return PermissionDenied("只能为本人的申请创建接口密钥。", slug="not-applicant")
    if application.status not in ("approved", "partially_approved"):
        return Conflict("申请尚未获准，不能创建接口密钥。", slug="not-approved")
    return None


def can_make_key(actor: Actor, application: Any) -> bool:
    return key_refusal(actor, application) is None


def answer_refusal(actor: Actor, demand: Any) -> Refusal:
    if refused := lacks(actor, ANSWER):
        return refused
    if demand.status != "pending":
        return Conflict("该开放需求已答复。", slug="already-answered")
    return None


def can_answer(actor: Actor, demand: Any) -> bool:
    return answer_refusal(actor, demand) is None
