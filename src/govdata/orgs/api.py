"""Routes of organisations and identity (SPEC §15). Thin: parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status

from govdata.core.auth import DbSession, bearer_token, client_address
from govdata.core.labels import label
from govdata.core.schemas import ApiRoute, Page, PagingParams
from govdata.orgs import service
from govdata.orgs.auth import (
    DepartmentManager,
    DepartmentReader,
    MeReader,
    SystemManager,
    SystemReader,
    UserManager,
    UserReader,
)
from govdata.orgs.models import OrgType
from govdata.orgs.schemas import (
    CredentialIn,
    CredentialOut,
    DepartmentIn,
    DepartmentOut,
    IssuedCredential,
    MeOut,
    SystemIn,
    SystemOut,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)

router = APIRouter(prefix="/api/v1", tags=["机构与身份"], route_class=ApiRoute)


def _department_out(department) -> DepartmentOut:
    out = DepartmentOut.model_validate(department)
    out.region_name = department.region.name if department.region else None
    out.org_type_label = label(OrgType, department.org_type)
    return out


@router.post("/auth/token", response_model=TokenOut, summary="以用户名和密码换取访问令牌（公开）")
def issue_token(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> TokenOut:
    token, expires_at = service.authenticate(
        session,
        request.app.state.settings,
        username,
        password,
        client_address(request),
        unknown_names=request.app.state.login_failures,
    )
    return TokenOut(access_token=token, expires_at=expires_at)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="吊销当前访问令牌")
def revoke_token(request: Request, session: DbSession, actor: MeReader) -> None:
    token = bearer_token(request)
    if token:
        service.logout(session, actor, token)


@router.get("/me", response_model=MeOut, summary="当前调用者")
def read_me(session: DbSession, actor: MeReader) -> dict:
    return service.me(session, actor)


@router.get("/departments", response_model=Page[DepartmentOut], summary="部门列表")
def list_departments(
    session: DbSession, actor: DepartmentReader, paging: PagingParams
) -> Page[DepartmentOut]:
    items, total = service.list_departments(session, actor, limit=paging.limit, offset=paging.offset)
    return Page(items=[_department_out(d) for d in items], total=total)


@router.post("/departments", response_model=DepartmentOut, status_code=201, summary="登记部门")
def create_department(session: DbSession, actor: DepartmentManager, body: DepartmentIn) -> DepartmentOut:
    return _department_out(service.create_department(session, actor, body))


@router.get("/departments/{department_id}", response_model=DepartmentOut, summary="部门详情")
def read_department(session: DbSession, actor: DepartmentReader, department_id: int) -> DepartmentOut:
    return _department_out(service.get_department(session, actor, department_id))


@router.get("/users", response_model=Page[UserOut], summary="用户列表")
def list_users(
    session: DbSession, actor: UserReader, paging: PagingParams, department_id: int | None = None
) -> Page[UserOut]:
    items, total = service.list_users(
        session, actor, limit=paging.limit, offset=paging.offset, department_id=department_id
    )
    return Page(items=[UserOut.model_validate(u) for u in items], total=total)


@router.post("/users", response_model=UserOut, status_code=201, summary="创建用户（平台管理员）")
def create_user(session: DbSession, actor: UserManager, body: UserIn) -> UserOut:
    return UserOut.model_validate(service.create_user(session, actor, body))


@router.get("/users/{user_id}", response_model=UserOut, summary="用户详情")
def read_user(session: DbSession, actor: UserReader, user_id: int) -> UserOut:
    return UserOut.model_validate(service.get_user(session, actor, user_id))


@router.patch(
    "/users/{user_id}", response_model=UserOut, summary="修改用户：姓名、角色、停用、重置密码（并解锁）"
)
def update_user(session: DbSession, actor: UserManager, user_id: int, body: UserPatch) -> UserOut:
    return UserOut.model_validate(service.update_user(session, actor, user_id, body))


@router.get("/departments/{department_id}/systems", response_model=list[SystemOut], summary="部门的应用系统")
def list_systems(session: DbSession, actor: SystemReader, department_id: int) -> list[SystemOut]:
    return [SystemOut.model_validate(s) for s in service.list_systems(session, actor, department_id)]


@router.post(
    "/departments/{department_id}/systems", response_model=SystemOut, status_code=201, summary="登记应用系统"
)
def create_system(session: DbSession, actor: SystemManager, department_id: int, body: SystemIn) -> SystemOut:
    return SystemOut.model_validate(service.create_system(session, actor, department_id, body))


@router.get(
    "/systems/{system_id}/credentials", response_model=list[CredentialOut], summary="访问凭证列表（不含令牌）"
)
def list_credentials(session: DbSession, actor: SystemReader, system_id: int) -> list[CredentialOut]:
    return [CredentialOut.model_validate(c) for c in service.list_credentials(session, actor, system_id)]


@router.post(
    "/systems/{system_id}/credentials",
    response_model=IssuedCredential,
    status_code=201,
    summary="签发访问凭证：令牌仅此一次显示，平台只保存其摘要",
)
def issue_credential(
    session: DbSession, actor: SystemManager, system_id: int, body: CredentialIn | None = None
) -> IssuedCredential:
    credential, token = service.issue_credential(session, actor, system_id, body or CredentialIn())
    return IssuedCredential(**CredentialOut.model_validate(credential).model_dump(), token=token)


@router.post(
    "/systems/{system_id}/credentials/{credential_id}/revoke",
    response_model=CredentialOut,
    summary="吊销访问凭证",
)
def revoke_credential(
    session: DbSession, actor: SystemManager, system_id: int, credential_id: int
) -> CredentialOut:
    return CredentialOut.model_validate(service.revoke_credential(session, actor, system_id, credential_id))
