"""Use cases of organisations and identity. Each takes the session and the caller, checks the
caller's right (again: routes check first), changes state and appends an audit event."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govdata.core import audit, clock
from govdata.core.auth import (
    ANONYMOUS,
    Actor,
    Role,
    enforce,
    hash_password,
    new_token,
    password_needs_rehash,
    require,
    token_digest,
    verify_password,
)
from govdata.core.config import Settings
from govdata.core.db import paginate, utcnow
from govdata.core.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    field_error,
)
from govdata.core.ids import ric_problem, uscc_problem
from govdata.core.ratelimit import LoginFailures
from govdata.orgs.auth import (
    DEPARTMENT_MANAGE,
    DEPARTMENT_READ,
    SYSTEM_MANAGE,
    SYSTEM_READ,
    USER_MANAGE,
    USER_READ,
    system_refusal,
)
from govdata.orgs.models import (
    AccessToken,
    ApplicationSystem,
    Department,
    IdentityKind,
    Node,
    Region,
    SystemCredential,
    User,
    UserRole,
)
from govdata.orgs.schemas import CredentialIn, DepartmentIn, SystemIn, UserIn, UserPatch

USER_TOKEN_PREFIX = "gdu"
SYSTEM_TOKEN_PREFIX = "gds"
_DUMMY_HASH = hash_password("timing-equaliser")

# --- authentication ---------------------------------------------------------------------------


def authenticate(
    session: Session,
    settings: Settings,
    username: str,
    password: str,
    source: str | None,
    *,
    unknown_names: LoginFailures | None = None,
):
    """Check a password and issue a session token (SEC-6).

    Five failures lock the account for 15 minutes (configurable). Failures are committed even
    though the login fails, otherwise the counter would roll back with the request. A name that is
    no account is answered exactly like one: the same argon2 check, the same audited and committed
    failure, and after as many failures the same lockout, counted in ``unknown_names`` (the
    server's, else this module's), so neither the answers nor their timing tell which names exist.
    """
    now = utcnow()
    # No login name holds a NUL character, and PostgreSQL refuses one in a query parameter.
    user = None if "\x00" in username else session.scalar(select(User).where(User.username == username))
    if user is None:
        names = _UNKNOWN_NAMES if unknown_names is None else unknown_names
        _fail_unknown(session, settings, names, username, password, source, now)
    actor = actor_for_user(user, source=source)
    if user.locked_until and user.locked_until > now:
        raise _still_locked(user.locked_until, now)
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        locked = user.failed_logins >= settings.login_max_failures
        if locked:
            user.locked_until = now + timedelta(minutes=settings.login_lock_minutes)
            user.failed_logins = 0
        audit.record(
            session,
            actor,
            "auth.account_locked" if locked else "auth.login_failed",
            "user",
            user.id,
            details={"locked_until": user.locked_until.isoformat() if locked else None},
        )
        session.commit()
        if locked:
            raise _just_locked(settings)
        raise NotAuthenticated(_BAD_CREDENTIALS, slug="invalid-credentials")
    if not user.active:
        raise NotAuthenticated("账号已停用，请联系平台管理员。", slug="account-disabled")
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    token, digest = new_token(USER_TOKEN_PREFIX)
    expires_at = now + timedelta(minutes=settings.token_ttl_minutes)
    session.add(AccessToken(user_id=user.id, digest=digest, expires_at=expires_at))
    audit.record(session, actor, "auth.login", "user", user.id)
    return token, expires_at


_BAD_CREDENTIALS = "用户名或密码错误。"
_UNKNOWN_NAMES = LoginFailures()


def _fail_unknown(
    session: Session,
    settings: Settings,
    names: LoginFailures,
    username: str,
    password: str,
    source: str | None,
    now: datetime,
) -> NoReturn:
    """A failed login under a name that is no account, answered as a real account's would be."""
    until = names.locked_until(username, now)
    if until:
        raise _still_locked(until, now)
    verify_password(_DUMMY_HASH, password)  # same cost as a real check
    locked = names.fail(
        username, now, max_failures=settings.login_max_failures, lock_minutes=settings.login_lock_minutes
    )
    audit.record(
        session,
        dataclasses.replace(ANONYMOUS, source=source),
        "auth.login_failed",
        "user",
        None,
        details={
            "username": username,
            "unknown": True,
            "locked_until": locked.isoformat() if locked else None,
        },
    )
    session.commit()  # as a real account's failure is: the same work, the same time
    if locked:
        raise _just_locked(settings)
    raise NotAuthenticated(_BAD_CREDENTIALS, slug="invalid-credentials")


def _still_locked(until: datetime, now: datetime) -> NotAuthenticated:
    return NotAuthenticated(
        f"连续登录失败次数过多，账号已锁定，请于 {_local(until)} 后再试。",
        slug="account-locked",
        headers={"Retry-After": str(int((until - now).total_seconds()) + 1)},
    )


def _just_locked(settings: Settings) -> NotAuthenticated:
    return NotAuthenticated(
        f"连续 {settings.login_max_failures} 次登录失败，账号已锁定 {settings.login_lock_minutes} 分钟。",
        slug="account-locked",
        headers={"Retry-After": str(settings.login_lock_minutes * 60)},
    )


def logout(session: Session, actor: Actor, token: str) -> None:
    row = session.scalar(select(AccessToken).where(AccessToken.digest == token_digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(session, actor, "auth.logout", "user", row.user_id)


def actor_for_user(user: User, *, source: str | None = None) -> Actor:
    return Actor(
        kind="user",
        roles=frozenset(Role(r) for r in user.roles),
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        department_id=user.department_id,
        source=source,
    )


END_USER_MAX = 100


def clean_end_user(value: str | None) -> str | None:
    """The end user a system names (``X-End-User``), as the logs keep it: control characters dropped,
    at most ``END_USER_MAX`` characters; None when nothing is left."""
    if not value:
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()[:END_USER_MAX]
    return cleaned or None


# built once: every call of a system (each lookup of a sharing service) resolves its credential
_SYSTEM_CREDENTIAL = (
    select(
        SystemCredential.id,
        SystemCredential.revoked_at,
        SystemCredential.expires_at,
        SystemCredential.last_used_at,
        SystemCredential.system_id,
        ApplicationSystem.active,
        ApplicationSystem.department_id,
        ApplicationSystem.name,
    )
    .join(ApplicationSystem, ApplicationSystem.id == SystemCredential.system_id)
    .where(SystemCredential.digest == bindparam("digest"))
)


def resolve_token(session: Session, token: str, end_user: str | None = None) -> Actor | None:
    """The actor behind a bearer token, or None when it is unknown, expired or revoked."""
    now = utcnow()
    digest = token_digest(token)
    if token.startswith(SYSTEM_TOKEN_PREFIX + "_"):
        # the columns it needs, not the objects: every call of a sharing service comes this way
        cred = session.execute(_SYSTEM_CREDENTIAL, {"digest": digest}).one_or_none()
        if cred is None or cred.revoked_at or cred.expires_at <= now or not cred.active:
            return None
        if cred.last_used_at is None or now - cred.last_used_at > timedelta(minutes=1):
            session.execute(
                update(SystemCredential).where(SystemCredential.id == cred.id).values(last_used_at=now)
            )
        return Actor(
            kind="system",
            roles=frozenset({Role.app}),
            department_id=cred.department_id,
            system_id=cred.system_id,
            display_name=cred.name,
            end_user=clean_end_user(end_user),
        )
    row = session.execute(
        select(AccessToken, User)
        .join(User, User.id == AccessToken.user_id)
        .where(AccessToken.digest == digest)
    ).one_or_none()
    if row is None:
        return None
    access, user = row
    if access.revoked_at or access.expires_at <= now or not user.active:
        return None
    return actor_for_user(user)


def me(session: Session, actor: Actor) -> dict:
    department = session.get(Department, actor.department_id) if actor.department_id else None
    return {
        "id": actor.user_id,
        "username": actor.username,
        "display_name": actor.display_name,
        "department_id": actor.department_id,
        "department_name": department.name if department else None,
        "roles": sorted(actor.roles),
        "kind": actor.kind,
        "system_id": actor.system_id,
    }


def _local(moment: datetime) -> str:
    return moment.astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M")


# --- departments ------------------------------------------------------------------------------


def list_departments(
    session: Session, actor: Actor, *, limit: int, offset: int
) -> tuple[list[Department], int]:
    require(actor, DEPARTMENT_READ)
    total = session.scalar(select(func.count()).select_from(Department))
    items = session.scalars(select(Department).order_by(Department.id).limit(limit).offset(offset)).all()
    return list(items), total or 0


def get_department(session: Session, actor: Actor, department_id: int) -> Department:
    require(actor, DEPARTMENT_READ)
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound(f"部门 {department_id} 不存在。")
    return department


def create_department(session: Session, actor: Actor, data: DepartmentIn) -> Department:
    require(actor, DEPARTMENT_MANAGE)
    uscc = data.uscc.strip().upper()
    if problem := uscc_problem(uscc):
        raise field_error("uscc", f"统一社会信用代码无效：{problem}")
    region = session.get(Region, data.region_code)
    if region is None:
        raise field_error("region_code", f"行政区划代码 {data.region_code} 不存在（GB/T 2260）。")
    if not region.active:
        raise field_error("region_code", f"行政区划代码 {data.region_code}（{region.name}）已撤销。")
    if data.parent_id is not None and session.get(Department, data.parent_id) is None:
        raise field_error("parent_id", f"上级部门 {data.parent_id} 不存在。")
    if session.scalar(select(Department.id).where(Department.uscc == uscc)):
        raise Conflict(f"统一社会信用代码 {uscc} 已被其他部门使用。", slug="duplicate-uscc")
    if data.code and session.scalar(select(Department.id).where(Department.code == data.code)):
        raise Conflict(f"部门编码 {data.code} 已被使用。", slug="duplicate-department-code")
    if data.is_authority and session.scalar(
        select(Department.id).where(Department.is_authority, Department.region_code == data.region_code)
    ):
        raise Conflict("本地区已有数据资源主管部门。", slug="authority-exists")
    department = Department(**{**data.model_dump(), "uscc": uscc})
    session.add(department)
    session.flush()
    audit.record(
        session, actor, "orgs.department.created", "department", department.id, details={"name": data.name}
    )
    return department


# --- users ------------------------------------------------------------------------------------

DEPARTMENT_ROLES = {Role.authority, Role.dept_officer, Role.dept_head, Role.dept_user}


def check_password_strength(password: str) -> None:
    if len(password) < 10:
        raise field_error("password", "密码至少 10 位。")
    kinds = sum(
        [
            any(c.isdigit() for c in password),
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if kinds < 3:
        raise field_error("password", "密码须包含大写字母、小写字母、数字、符号中的至少三类。")


def _check_roles(session: Session, roles: set[Role], department_id: int | None) -> None:
    if Role.app in roles:
        raise field_error("roles", "“应用系统”角色属于应用系统的访问凭证，不能授予用户。")
    if Role.public in roles:
        if roles != {Role.public}:
            raise field_error("roles", "社会公众账号不能兼有其他角色。")
        if department_id is not None:
            raise field_error("department_id", "社会公众账号不属于任何部门。")
    if roles & DEPARTMENT_ROLES and department_id is None:
        raise field_error("department_id", "部门角色的用户必须属于一个部门。")
    if department_id is not None:
        department = session.get(Department, department_id)
        if department is None:
            raise field_error("department_id", f"部门 {department_id} 不存在。")
        if Role.authority in roles and not department.is_authority:
            raise field_error("roles", f"“{department.name}”不是数据资源主管部门，不能授予主管部门角色。")


def _check_identity(data: UserIn) -> str | None:
    if Role.public not in data.roles:
        if data.identity_kind or data.identity_number:
            raise field_error("identity_number", "只有社会公众账号登记身份号码。")
        return None
    if not data.identity_kind or not data.identity_number:
        raise field_error("identity_number", "社会公众账号须登记主体类型及公民身份号码或统一社会信用代码。")
    number = data.identity_number.strip().upper()
    if data.identity_kind == IdentityKind.natural_person:
        if problem := ric_problem(number):
            raise field_error("identity_number", f"公民身份号码无效：{problem}")
    elif problem := uscc_problem(number):
        raise field_error("identity_number", f"统一社会信用代码无效：{problem}")
    return number


def list_users(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    offset: int,
    department_id: int | None = None,
    role: Role | None = None,
    active: bool | None = None,
    name: str | None = None,
) -> tuple[list[User], int]:
    """Users, filtered by department, role, whether active, and a part of the name or login name."""
    require(actor, USER_READ)
    stmt = select(User)
    if department_id is not None:
        stmt = stmt.where(User.department_id == department_id)
    if role is not None:
        stmt = stmt.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if name and "\x00" not in name:
        stmt = stmt.where(
            User.display_name.contains(name, autoescape=True) | User.username.contains(name, autoescape=True)
        )
    return paginate(session, stmt, User.id, limit=limit, offset=offset)


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    require(actor, USER_READ)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在。")
    return user


def create_user(session: Session, actor: Actor, data: UserIn) -> User:
    require(actor, USER_MANAGE)
    roles = set(data.roles)
    _check_roles(session, roles, data.department_id)
    identity_number = _check_identity(data)
    check_password_strength(data.password)
    if session.scalar(select(User.id).where(User.username == data.username)):
        raise Conflict(f"登录名 {data.username} 已存在。", slug="duplicate-username")
    if identity_number and session.scalar(select(User.id).where(User.identity_number == identity_number)):
        raise Conflict("该身份号码已注册账号。", slug="duplicate-identity")
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        department_id=data.department_id,
        identity_kind=data.identity_kind,
        identity_number=identity_number,
        role_rows=[UserRole(role=r) for r in sorted(roles)],
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request took the name
        raise Conflict(f"登录名 {data.username} 已存在。", slug="duplicate-username") from exc
    audit.record(
        session,
        actor,
        "orgs.user.created",
        "user",
        user.id,
        details={"username": user.username, "roles": sorted(roles), "department_id": user.department_id},
    )
    return user


def create_public_user(session: Session, data: UserIn, *, source: str | None = None) -> User:
    """A public account registering itself (ORG-4): the one role ``public``, no department, its
    identity kind and number. Actor-free: the registration (opening's ``accounts``) verified the
    identity first; the audit event names the new account as its own author."""
    if set(data.roles) != {Role.public} or data.department_id is not None:
        raise field_error("roles", "自助注册只能创建社会公众账号。")
    identity_number = _check_identity(data)
    check_password_strength(data.password)
    if session.scalar(select(User.id).where(User.username == data.username)):
        raise Conflict(f"登录名 {data.username} 已存在。", slug="duplicate-username")
    if session.scalar(select(User.id).where(User.identity_number == identity_number)):
        raise Conflict("该身份号码已注册账号。", slug="duplicate-identity")
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        department_id=None,
        identity_kind=data.identity_kind,
        identity_number=identity_number,
        role_rows=[UserRole(role=Role.public)],
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration took the name or the number
        raise Conflict("登录名或身份号码已注册账号。", slug="duplicate-account") from exc
    audit.record(
        session,
        actor_for_user(user, source=source),
        "orgs.user.registered",
        "user",
        user.id,
        details={"username": user.username, "identity_kind": user.identity_kind},
    )
    return user


def update_user(session: Session, actor: Actor, user_id: int, patch: UserPatch) -> User:
    require(actor, USER_MANAGE)
    user = get_user(session, actor, user_id)
    changes: dict = {}
    if patch.display_name is not None:
        user.display_name = patch.display_name
        changes["display_name"] = patch.display_name
    if patch.roles is not None:
        roles = set(patch.roles)
        _check_roles(session, roles, user.department_id)
        if user.id == actor.user_id and Role.admin not in roles:
            raise Conflict("不能移除自己的平台管理员角色。", slug="self-demotion")
        kept = {row.role: row for row in user.role_rows}  # a role kept is the same row, not a new one
        user.role_rows = [kept.get(r) or UserRole(role=r) for r in sorted(roles)]
        changes["roles"] = sorted(roles)
    if patch.active is not None:
        if user.id == actor.user_id and not patch.active:
            raise Conflict("不能停用自己的账号。", slug="self-deactivation")
        user.active = patch.active
        changes["active"] = patch.active
        if not patch.active:
            _revoke_user_tokens(session, user.id)
    if patch.password is not None:
        check_password_strength(patch.password)
        user.password_hash = hash_password(patch.password)
        user.failed_logins = 0
        user.locked_until = None
        _revoke_user_tokens(session, user.id)
        changes["password"] = "reset"
    if not changes:
        raise InvalidInput("没有要修改的内容。")
    if patch.active is False and not (patch.reason or "").strip():
        raise field_error("reason", "停用账号须说明原因。")
    if patch.reason and patch.reason.strip():
        changes["reason"] = patch.reason.strip()
    session.flush()
    audit.record(session, actor, "orgs.user.updated", "user", user.id, details=changes)
    return user


def _revoke_user_tokens(session: Session, user_id: int) -> None:
    now = utcnow()
    for row in session.scalars(
        select(AccessToken).where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
    ):
        row.revoked_at = now


# --- application systems and credentials -------------------------------------------------------


def _check_department_scope(actor: Actor, department_id: int, what: str) -> None:
    """Department officers act only for their own department; the admin for any."""
    enforce(system_refusal(actor, department_id, write=what == "write"))


def list_systems(session: Session, actor: Actor, department_id: int) -> list[ApplicationSystem]:
    require(actor, SYSTEM_READ)
    get_department(session, actor, department_id)
    _check_department_scope(actor, department_id, "read")
    return list(
        session.scalars(
            select(ApplicationSystem)
            .where(ApplicationSystem.department_id == department_id)
            .order_by(ApplicationSystem.id)
        )
    )


def create_system(session: Session, actor: Actor, department_id: int, data: SystemIn) -> ApplicationSystem:
    require(actor, SYSTEM_MANAGE)
    _check_department_scope(actor, department_id, "write")
    get_department(session, actor, department_id)
    if session.scalar(
        select(ApplicationSystem.id).where(
            ApplicationSystem.department_id == department_id, ApplicationSystem.name == data.name
        )
    ):
        raise Conflict(f"本部门已有名为“{data.name}”的应用系统。", slug="duplicate-system")
    system = ApplicationSystem(department_id=department_id, name=data.name, description=data.description)
    session.add(system)
    session.flush()
    audit.record(
        session, actor, "orgs.system.created", "application_system", system.id, details={"name": data.name}
    )
    return system


def get_system(session: Session, actor: Actor, system_id: int, *, write: bool = False) -> ApplicationSystem:
    require(actor, SYSTEM_MANAGE if write else SYSTEM_READ)
    system = session.get(ApplicationSystem, system_id)
    if system is None:
        raise NotFound(f"应用系统 {system_id} 不存在。")
    _check_department_scope(actor, system.department_id, "write" if write else "read")
    return system


def issue_credential(
    session: Session, actor: Actor, system_id: int, data: CredentialIn
) -> tuple[SystemCredential, str]:
    system = get_system(session, actor, system_id, write=True)
    if not system.active:
        raise Conflict("应用系统已停用，不能签发访问凭证。", slug="system-inactive")
    token, digest = new_token(SYSTEM_TOKEN_PREFIX)
    credential = SystemCredential(
        system_id=system.id,
        digest=digest,
        hint=token[:10],
        created_by=actor.name,
        expires_at=utcnow() + timedelta(days=data.expires_in_days),
    )
    session.add(credential)
    session.flush()
    audit.record(
        session,
        actor,
        "orgs.credential.issued",
        "system_credential",
        credential.id,
        details={
            "system_id": system.id,
            "hint": credential.hint,
            "expires_at": credential.expires_at.isoformat(),
        },
    )
    return credential, token


def list_credentials(session: Session, actor: Actor, system_id: int) -> list[SystemCredential]:
    system = get_system(session, actor, system_id)
    return list(
        session.scalars(
            select(SystemCredential)
            .where(SystemCredential.system_id == system.id)
            .order_by(SystemCredential.id)
        )
    )


def revoke_credential(session: Session, actor: Actor, system_id: int, credential_id: int) -> SystemCredential:
    system = get_system(session, actor, system_id, write=True)
    credential = session.get(SystemCredential, credential_id)
    if credential is None or credential.system_id != system.id:
        raise NotFound(f"访问凭证 {credential_id} 不存在。")
    if credential.revoked_at is not None:
        raise Conflict("该访问凭证已被吊销。", slug="already-revoked")
    credential.revoked_at = utcnow()
    audit.record(session, actor, "orgs.credential.revoked", "system_credential", credential.id)
    return credential


# --- facts for other capabilities ------------------------------------------------------------------


def node_regions(session: Session) -> list[Region]:
    """The active regions of this node's area (its own and those below it): what a department form
    offers to pick."""
    node = session.scalar(select(Node).limit(1))
    if node is None:
        return []
    prefix = node.region_code.rstrip("0")
    prefix = prefix[: len(prefix) + len(prefix) % 2] or node.region_code
    return list(
        session.scalars(
            select(Region)
            .where(Region.active.is_(True), Region.code.startswith(prefix))
            .order_by(Region.code)
        )
    )


def department_names(session: Session, ids: Iterable[int] | None = None) -> dict[int, str]:
    """Department id → name, for every department or those in ``ids`` (never capped)."""
    stmt = select(Department.id, Department.name)
    if ids is not None:
        wanted = sorted({i for i in ids if i is not None})
        if not wanted:
            return {}
        stmt = stmt.where(Department.id.in_(wanted))
    return dict(session.execute(stmt).all())


@dataclass(frozen=True)
class DepartmentRef:
    """A department as the public may know it (the provider of open data): what an open-data feed
    carries to an internet-facing portal instance, which registers the department under it."""

    id: int
    name: str
    short_name: str | None
    uscc: str
    region_code: str
    org_type: str
    code: str | None


def department_refs(session: Session, ids: Iterable[int] | None = None) -> list[DepartmentRef]:
    """The departments in ``ids`` (every department when None), in id order."""
    stmt = select(Department).order_by(Department.id)
    if ids is not None:
        stmt = stmt.where(Department.id.in_(sorted({i for i in ids if i is not None})))
    return [
        DepartmentRef(d.id, d.name, d.short_name, d.uscc, d.region_code, d.org_type, d.code)
        for d in session.scalars(stmt)
    ]


def principal_head(session: Session, department_id: int) -> str | None:
    """The name of a department's principal head (主要负责人, ORG-2), as registered, or None."""
    name = session.scalar(select(Department.principal_head).where(Department.id == department_id))
    return (name or "").strip() or None


def subordinate_units(session: Session, department_id: int) -> list[int]:
    """The department and every unit below it (``parent_id``, at any depth), the department first,
    then level by level in id order: whose data its resource pool gathers (seed 002: 政务部门应当归集
    本部门所属机构和单位的政务数据资源)."""
    children: dict[int, list[int]] = {}
    for unit_id, parent_id in session.execute(
        select(Department.id, Department.parent_id).where(Department.parent_id.is_not(None))
    ):
        children.setdefault(parent_id, []).append(unit_id)
    found, level = [department_id], [department_id]
    while level:
        level = [c for parent in level for c in sorted(children.get(parent, [])) if c not in found]
        found.extend(level)
    return found


def display_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """Username → display name of the users among ``usernames`` (unknown names are left out)."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    return dict(
        session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all()
    )


def user_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """User id → display name of the users among ``user_ids`` (unknown ids are left out)."""
    wanted = sorted({i for i in user_ids if i is not None})
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all())


def public_identity(session: Session, user_id: int | None) -> tuple[str, str] | None:
    """A public account's identity kind and number (ORG-4), or None for anyone else."""
    if user_id is None:
        return None
    row = session.execute(
        select(User.identity_kind, User.identity_number).where(
            User.id == user_id, User.identity_number.is_not(None)
        )
    ).one_or_none()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class MemberRef:
    """A person of a department, as a department's page lists its people (ORG-2)."""

    username: str
    display_name: str
    roles: tuple[str, ...]
    active: bool


def department_members(session: Session, department_id: int) -> list[MemberRef]:
    """The department's users, by name, with their roles."""
    users = session.scalars(
        select(User).where(User.department_id == department_id).order_by(User.display_name, User.id)
    ).all()
    roles: dict[int, list[str]] = {}
    if users:
        for user_id, role in session.execute(
            select(UserRole.user_id, UserRole.role).where(UserRole.user_id.in_([u.id for u in users]))
        ):
            roles.setdefault(user_id, []).append(role)
    return [
        MemberRef(u.username, u.display_name, tuple(sorted(roles.get(u.id, []))), bool(u.active))
        for u in users
    ]


@dataclass(frozen=True)
class SystemRef:
    """What another capability may know of an application system (ORG-3)."""

    id: int
    department_id: int
    name: str
    active: bool


def system_ref(session: Session, system_id: int) -> SystemRef | None:
    system = session.get(ApplicationSystem, system_id)
    if system is None:
        return None
    return SystemRef(system.id, system.department_id, system.name, system.active)


def system_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(ApplicationSystem.id, ApplicationSystem.name).where(ApplicationSystem.id.in_(wanted))
    )
    return {id_: name for id_, name in rows}


def department_systems(session: Session, department_id: int) -> list[SystemRef]:
    """The active application systems of a department (an applicant picks one)."""
    rows = session.scalars(
        select(ApplicationSystem)
        .where(ApplicationSystem.department_id == department_id, ApplicationSystem.active.is_(True))
        .order_by(ApplicationSystem.id)
    )
    return [SystemRef(s.id, s.department_id, s.name, s.active) for s in rows]


@dataclass(frozen=True)
class NodeRef:
    """This installation: its region and level (ORG-1), as other capabilities may know it."""

    region_code: str
    name: str
    level: str


def node_ref(session: Session) -> NodeRef | None:
    node = session.scalar(select(Node).limit(1))
    return NodeRef(node.region_code, node.name, node.level) if node else None


def authority_department(session: Session) -> tuple[int, str] | None:
    """(id, name) of the node's data authority (数据资源主管部门): the publisher of its open catalog."""
    node = session.scalar(select(Node).limit(1))
    stmt = select(Department.id, Department.name).where(Department.is_authority.is_(True))
    if node is not None:
        stmt = stmt.order_by((Department.region_code == node.region_code).desc(), Department.id)
    row = session.execute(stmt.limit(1)).first()
    return (row[0], row[1]) if row else None


def actor_named(session: Session, username: str) -> Actor:
    """The actor of an active user by username (the demo and command-line ``--as`` act as a person)."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        raise NotFound(f"用户 {username} 不存在或已停用。")
    return actor_for_user(user)
