"""Pages that manage organisations and identity (ORG-2, ORG-3, #13 item 23): users, the registration of
departments, application systems and their credentials — what the API offers, as forms.

Every page calls :mod:`govdata.orgs.service`, which checks the caller's right again: the platform
administrator manages users; the administrator and the authority register departments; a department's
officers and head manage its application systems (the administrator any department's), and the
authority reads them. Errors are shown next to the fields they concern, in Chinese.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govdata.core.auth import ROLE_LABELS, Actor, DbSession, Role, require
from govdata.core.errors import Problem, field_error
from govdata.orgs import service
from govdata.orgs.auth import (
    DEPARTMENT_MANAGE,
    SYSTEM_MANAGE,
    SYSTEM_READ,
    USER_MANAGE,
    USER_READ,
    DepartmentManager,
    SystemManager,
    SystemReader,
    UserManager,
    UserReader,
    system_refusal,
)
from govdata.orgs.models import IdentityKind, OrgType
from govdata.orgs.schemas import CredentialIn, DepartmentIn, SystemIn, UserIn, UserPatch
from govdata.web import (
    check_same_origin,
    error_messages,
    field_messages,
    local_time,
    nav_item,
    offset_links,
    parse_input,
    render,
    render_error,
)

router = APIRouter(include_in_schema=False)

nav_item("用户管理", "/users", USER_READ, order=92)
nav_item("应用系统", "/systems", SYSTEM_READ, order=94)

PAGE_SIZE = 50
# Roles a person may hold (the application system's role belongs to its credentials).
PERSON_ROLES = [r for r in Role if r != Role.app]
IDENTITY_LABELS = {
    IdentityKind.natural_person: "自然人（公民身份号码）",
    IdentityKind.legal_person: "法人（统一社会信用代码）",
    IdentityKind.unincorporated_organization: "非法人组织（统一社会信用代码）",
}
CREDENTIAL_DAYS = [(30, "30 天"), (90, "90 天"), (180, "半年"), (365, "一年"), (730, "两年")]


def _form_text(form: FormData, name: str, limit: int = 500) -> str:
    return str(form.get(name) or "").strip()[:limit]


def _departments(session: Session) -> list[tuple[int, str]]:
    return sorted(service.department_names(session).items())


def _helpers() -> dict[str, Any]:
    return {"local_time": local_time, "role_label": lambda r: ROLE_LABELS.get(Role(r), r)}


# --- users ------------------------------------------------------------------------------------------


@router.get("/users")
def users_page(
    request: Request,
    session: DbSession,
    actor: UserReader,
    department_id: Annotated[str, Query(max_length=12)] = "",
    role: Annotated[str, Query(max_length=20)] = "",
    active: Annotated[str, Query(max_length=5)] = "",
    name: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    filters = {
        "department_id": department_id if department_id.isdigit() else "",
        "role": role if role in {r.value for r in PERSON_ROLES} else "",
        "active": active if active in ("1", "0") else "",
        "name": name.strip(),
    }
    users, total = service.list_users(
        session,
        actor,
        limit=PAGE_SIZE,
        offset=offset,
        department_id=int(filters["department_id"]) if filters["department_id"] else None,
        role=Role(filters["role"]) if filters["role"] else None,
        active={"1": True, "0": False}.get(filters["active"]),
        name=filters["name"] or None,
    )

    def link(new_offset: int) -> str:
        return "/users?" + urlencode({k: v for k, v in {**filters, "offset": new_offset}.items() if v})

    previous, following = offset_links(link, offset, PAGE_SIZE, total)
    return render(
        request,
        "orgs/users.html",
        actor,
        users=users,
        total=total,
        filters=filters,
        departments=_departments(session),
        roles=[(r.value, ROLE_LABELS[r]) for r in PERSON_ROLES],
        can_manage=actor.has(USER_MANAGE),
        prev_href=previous,
        next_href=following,
        **_helpers(),
    )


def _user_form(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any],
    problem: Problem | None = None,
) -> Response:
    return render(
        request,
        "orgs/user_new.html",
        actor,
        status_code=problem.status if problem else 200,
        values=values,
        errors=error_messages(problem) if problem else [],
        field_errors=field_messages(problem) if problem else {},
        departments=_departments(session),
        roles=[(r.value, ROLE_LABELS[r]) for r in PERSON_ROLES],
        identity_kinds=list(IDENTITY_LABELS.items()),
    )


@router.get("/users/new")
def new_user_page(request: Request, session: DbSession, actor: UserManager) -> Response:
    require(actor, USER_MANAGE)
    return _user_form(request, session, actor, values={"roles": []})


@router.post("/users/new")
async def create_user(request: Request, session: DbSession, actor: UserManager) -> Response:
    check_same_origin(request)
    form = await request.form()
    values = {
        "username": _form_text(form, "username", 64),
        "display_name": _form_text(form, "display_name", 100),
        "password": str(form.get("password") or "")[:256],
        "department_id": _form_text(form, "department_id", 12),
        "roles": [str(r)[:20] for r in form.getlist("roles")],
        "identity_kind": _form_text(form, "identity_kind", 40),
        "identity_number": _form_text(form, "identity_number", 40),
    }
    try:
        data = parse_input(
            UserIn,
            {
                **values,
                "department_id": values["department_id"] or None,
                "identity_kind": values["identity_kind"] or None,
                "identity_number": values["identity_number"] or None,
            },
            prefix="用户信息有误",
        )
        user = service.create_user(session, actor, data)
    except Problem as exc:
        session.rollback()
        values["password"] = ""
        return _user_form(request, session, actor, values=values, problem=exc)
    return RedirectResponse(f"/users/{user.id}?done=created", status_code=303)


USER_DONE = {
    "created": "已创建用户。请将登录名和初始密码告知本人，并提醒其首次登录后修改密码。",
    "saved": "已保存修改。",
    "deactivated": "已停用账号，该账号的登录会话已全部失效。",
    "activated": "已启用账号。",
    "password": "已重置密码并解除锁定，该账号的登录会话已全部失效。",
}


def _user_page(
    request: Request,
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    done: str = "",
    problem: Problem | None = None,
    form: str = "",
    entered: dict[str, Any] | None = None,
) -> Response:
    user = service.get_user(session, actor, user_id)
    return render(
        request,
        "orgs/user.html",
        actor,
        status_code=problem.status if problem else 200,
        user=user,
        done=USER_DONE.get(done),
        problem_form=form,
        errors=error_messages(problem) if problem else [],
        field_errors=field_messages(problem) if problem else {},
        entered=entered or {},
        roles=[(r.value, ROLE_LABELS[r]) for r in PERSON_ROLES],
        identity_label=IDENTITY_LABELS.get(user.identity_kind, "") if user.identity_kind else "",
        can_manage=actor.has(USER_MANAGE),
        is_self=user.id == actor.user_id,
        **_helpers(),
    )


@router.get("/users/{user_id}")
def user_page(
    request: Request,
    session: DbSession,
    actor: UserReader,
    user_id: int,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    try:
        return _user_page(request, session, actor, user_id, done=done)
    except Problem as exc:
        return render_error(request, exc)


def _patch_user(
    request: Request,
    session: Session,
    actor: Actor,
    user_id: int,
    values: dict[str, Any],
    *,
    done: str,
    form: str,
    entered: dict[str, Any] | None = None,
) -> Response:
    try:
        patch = parse_input(UserPatch, values, prefix="修改未保存")
        service.update_user(session, actor, user_id, patch)
    except Problem as exc:
        session.rollback()
        try:
            return _user_page(request, session, actor, user_id, problem=exc, form=form, entered=entered)
        except Problem as again:
            return render_error(request, again)
    return RedirectResponse(f"/users/{user_id}?done={done}", status_code=303)


@router.post("/users/{user_id}")
async def update_user(request: Request, session: DbSession, actor: UserManager, user_id: int) -> Response:
    check_same_origin(request)
    form = await request.form()
    values = {
        "display_name": _form_text(form, "display_name", 100) or None,
        "roles": [str(r)[:20] for r in form.getlist("roles")],
    }
    return _patch_user(request, session, actor, user_id, values, done="saved", form="edit", entered=values)


@router.post("/users/{user_id}/deactivate")
async def deactivate_user(request: Request, session: DbSession, actor: UserManager, user_id: int) -> Response:
    check_same_origin(request)
    form = await request.form()
    reason = _form_text(form, "reason", 500)
    return _patch_user(
        request,
        session,
        actor,
        user_id,
        {"active": False, "reason": reason},
        done="deactivated",
        form="deactivate",
        entered={"reason": reason},
    )


@router.post("/users/{user_id}/activate")
async def activate_user(request: Request, session: DbSession, actor: UserManager, user_id: int) -> Response:
    check_same_origin(request)
    form = await request.form()
    reason = _form_text(form, "reason", 500) or None
    values = {"active": True, "reason": reason}
    return _patch_user(request, session, actor, user_id, values, done="activated", form="activate")


@router.post("/users/{user_id}/password")
async def reset_password(request: Request, session: DbSession, actor: UserManager, user_id: int) -> Response:
    check_same_origin(request)
    form = await request.form()
    values = {"password": str(form.get("password") or "")[:256] or None, "reason": "重置密码"}
    if values["password"] is None:
        values["password"] = ""
    return _patch_user(request, session, actor, user_id, values, done="password", form="password")


# --- departments --------------------------------------------------------------------------------


def _department_form(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any],
    problem: Problem | None = None,
) -> Response:
    regions = service.node_regions(session)
    return render(
        request,
        "orgs/department_new.html",
        actor,
        status_code=problem.status if problem else 200,
        values=values,
        errors=error_messages(problem) if problem else [],
        field_errors=field_messages(problem) if problem else {},
        departments=_departments(session),
        regions=[(r.code, r.name) for r in regions],
        org_types=OrgType.choices(),
    )


@router.get("/departments/register")
def new_department_page(request: Request, session: DbSession, actor: DepartmentManager) -> Response:
    require(actor, DEPARTMENT_MANAGE)
    node_regions = service.node_regions(session)
    default_region = node_regions[0].code if node_regions else ""
    return _department_form(
        request, session, actor, values={"region_code": default_region, "org_type": OrgType.government}
    )


@router.post("/departments/register")
async def create_department(request: Request, session: DbSession, actor: DepartmentManager) -> Response:
    check_same_origin(request)
    form = await request.form()
    values = {
        name: _form_text(form, name, 200)
        for name in (
            "name",
            "short_name",
            "uscc",
            "region_code",
            "parent_id",
            "org_type",
            "principal_head",
            "code",
        )
    }
    values["is_authority"] = bool(form.get("is_authority"))
    try:
        data = parse_input(
            DepartmentIn,
            {k: (v if v != "" else None) for k, v in values.items() if not (k == "org_type" and v == "")},
            prefix="部门信息有误",
        )
        department = service.create_department(session, actor, data)
    except Problem as exc:
        session.rollback()
        return _department_form(request, session, actor, values=values, problem=exc)
    return RedirectResponse(
        "/departments?" + urlencode({"done": "registered", "name": department.name}), status_code=303
    )


# --- application systems and credentials ----------------------------------------------------------


def _visible_departments(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """The departments whose systems this caller sees: all for the administrator and the authority,
    else the caller's own."""
    everyone = _departments(session)
    if actor.has_role(Role.admin, Role.authority):
        return everyone
    return [(i, n) for i, n in everyone if i == actor.department_id]


def _systems_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any] | None = None,
    problem: Problem | None = None,
) -> Response:
    groups = []
    for department_id, name in _visible_departments(session, actor):
        systems = service.list_systems(session, actor, department_id)
        if systems or not actor.has_role(Role.admin, Role.authority):
            groups.append({"id": department_id, "name": name, "systems": systems})
    can_manage = actor.has(SYSTEM_MANAGE)
    return render(
        request,
        "orgs/systems.html",
        actor,
        status_code=problem.status if problem else 200,
        groups=groups,
        can_manage=can_manage,
        pick_department=actor.has_role(Role.admin),
        departments=_departments(session) if actor.has_role(Role.admin) else [],
        values=values or {},
        errors=error_messages(problem) if problem else [],
        field_errors=field_messages(problem) if problem else {},
        **_helpers(),
    )


@router.get("/systems")
def systems_page(request: Request, session: DbSession, actor: SystemReader) -> Response:
    if actor.department_id is None and not actor.has_role(Role.admin, Role.authority):
        return render_error(request, Problem("没有所属部门的账号没有应用系统。", slug="no-department"))
    return _systems_page(request, session, actor)


@router.post("/systems")
async def create_system(request: Request, session: DbSession, actor: SystemManager) -> Response:
    check_same_origin(request)
    form = await request.form()
    values = {
        "name": _form_text(form, "name", 200),
        "description": _form_text(form, "description", 500),
        "department_id": _form_text(form, "department_id", 12),
    }
    department_id = (
        int(values["department_id"])
        if actor.has_role(Role.admin) and values["department_id"].isdigit()
        else actor.department_id
    )
    try:
        if department_id is None:
            raise field_error("department_id", "请选择应用系统所属的部门。")
        data = parse_input(
            SystemIn,
            {"name": values["name"], "description": values["description"] or None},
            prefix="应用系统信息有误",
        )
        system = service.create_system(session, actor, department_id, data)
    except Problem as exc:
        session.rollback()
        return _systems_page(request, session, actor, values=values, problem=exc)
    return RedirectResponse(f"/systems/{system.id}?done=created", status_code=303)


SYSTEM_DONE = {
    "created": "已登记应用系统。签发访问凭证后，该系统即可调用共享服务。",
    "revoked": "已吊销访问凭证。",
}


def _system_page(
    request: Request,
    session: Session,
    actor: Actor,
    system_id: int,
    *,
    done: str = "",
    issued: str | None = None,
    problem: Problem | None = None,
) -> Response:
    system = service.get_system(session, actor, system_id)
    credentials = service.list_credentials(session, actor, system_id)
    names = service.display_names(session, [c.created_by for c in credentials])
    response = render(
        request,
        "orgs/system.html",
        actor,
        status_code=problem.status if problem else 200,
        system=system,
        credentials=credentials,
        creators=names,
        done=SYSTEM_DONE.get(done),
        issued=issued,
        errors=error_messages(problem) if problem else [],
        can_manage=actor.has(SYSTEM_MANAGE)
        and system_refusal(actor, system.department_id, write=True) is None,
        credential_days=CREDENTIAL_DAYS,
        **_helpers(),
    )
    if issued:
        response.headers["Cache-Control"] = "no-store"  # the token is shown once, never kept
    return response


@router.get("/systems/{system_id}")
def system_page(
    request: Request,
    session: DbSession,
    actor: SystemReader,
    system_id: int,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    try:
        return _system_page(request, session, actor, system_id, done=done)
    except Problem as exc:
        return render_error(request, exc)


@router.post("/systems/{system_id}/credentials")
async def issue_credential(
    request: Request, session: DbSession, actor: SystemManager, system_id: int
) -> Response:
    check_same_origin(request)
    form = await request.form()
    days = _form_text(form, "expires_in_days", 5)
    try:
        data = parse_input(CredentialIn, {"expires_in_days": days or 365}, prefix="访问凭证")
        _, token = service.issue_credential(session, actor, system_id, data)
    except Problem as exc:
        session.rollback()
        try:
            return _system_page(request, session, actor, system_id, problem=exc)
        except Problem as again:
            return render_error(request, again)
    return _system_page(request, session, actor, system_id, issued=token)


@router.post("/systems/{system_id}/credentials/{credential_id}/revoke")
def revoke_credential(
    request: Request, session: DbSession, actor: SystemManager, system_id: int, credential_id: int
) -> Response:
    check_same_origin(request)
    try:
        service.revoke_credential(session, actor, system_id, credential_id)
    except Problem as exc:
        session.rollback()
        try:
            return _system_page(request, session, actor, system_id, problem=exc)
        except Problem as again:
            return render_error(request, again)
    return RedirectResponse(f"/systems/{system_id}?done=revoked", status_code=303)
