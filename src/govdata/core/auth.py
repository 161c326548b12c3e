"""Who is calling, what they may do (SEC-2, SEC-6).

The shape follows Polar: each capability declares its permissions once (in its ``auth.py``) and
names them in route signatures as typed dependencies::

    DepartmentsWrite = Annotated[Actor, Depends(Authenticator(DEPARTMENT_CREATE))]

The dependency rejects an anonymous caller with 401 and a caller without the permission with 403
before any object is loaded. Services check again with :func:`require`, so the CLI and the web
pages, which call services directly, get the same rules. Object scope (own department, grants) is a
service concern on top of the permission.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from govdata.core.errors import NotAuthenticated, PermissionDenied, Problem


class Role(StrEnum):
    """SPEC §0 personas."""

    authority = "authority"
    dept_officer = "dept_officer"
    dept_head = "dept_head"
    app = "app"
    dept_user = "dept_user"
    auditor = "auditor"
    public = "public"
    admin = "admin"
    evaluator = "evaluator"


ROLE_LABELS: dict[Role, str] = {
    Role.authority: "数据资源主管部门",
    Role.dept_officer: "部门目录管理员",
    Role.dept_head: "部门负责人",
    Role.app: "应用系统",
    Role.dept_user: "部门数据用户",
    Role.auditor: "审计员",
    Role.public: "社会公众",
    Role.admin: "平台管理员",
    Role.evaluator: "第三方评估机构",
}

# Roles of department staff: every internal user may search the internal catalog etc.
INTERNAL_ROLES = frozenset({Role.authority, Role.dept_officer, Role.dept_head, Role.dept_user})


@dataclass(frozen=True)
class Permission:
    """A named right held by some roles. ``writes`` marks rights that change state."""

    name: str
    roles: frozenset[Role]
    label: str
    writes: bool = True

    def __post_init__(self) -> None:
        if self.writes and Role.auditor in self.roles:
            raise ValueError(f"{self.name}: an auditor reads and never writes")
        REGISTRY[self.name] = self


REGISTRY: dict[str, Permission] = {}


def permission(
    name: str, roles: set[Role] | frozenset[Role], label: str, *, writes: bool = True
) -> Permission:
    return Permission(name, frozenset(roles), label, writes)


@dataclass(frozen=True)
class Actor:
    """The caller of a use case: a user, an application system, or nobody."""

    kind: Literal["user", "system", "anonymous"]
    roles: frozenset[Role] = frozenset()
    user_id: int | None = None
    username: str | None = None
    display_name: str | None = None
    department_id: int | None = None
    system_id: int | None = None
    end_user: str | None = None
    source: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    def has(self, perm: Permission) -> bool:
        return bool(self.roles & perm.roles)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def name(self) -> str:
        if self.kind == "system":
            return f"system:{self.system_id}"
        return self.username or "anonymous"


ANONYMOUS = Actor(kind="anonymous")
SYSTEM_ACTOR = Actor(kind="user", roles=frozenset({Role.admin}), username="govdata", display_name="系统")
"""The platform itself (migrations, scheduled sweeps, the demo): audited under this name."""


def require(actor: Actor, perm: Permission) -> None:
    """Raise 401 for an anonymous caller, 403 for one without ``perm``."""
    if not actor.is_authenticated:
        raise NotAuthenticated()
    if not actor.has(perm):
        raise PermissionDenied(f"当前账号无权执行此操作：{perm.label}。", permission=perm.name)


# Object rules as values: a capability's predicate returns the problem its service raises (the
# message and status the API answers) or None; ``enforce`` raises it, a page asks ``is None``.
Refusal = Problem | None


def enforce(refusal: Refusal) -> None:
    """Raise the refusal, if there is one."""
    if refusal is not None:
        raise refusal


def lacks(actor: Actor, perm: Permission) -> Refusal:
    """What :func:`require` raises for this caller, as a value."""
    try:
        require(actor, perm)
    except Problem as problem:
        return problem
    return None


# --- passwords and tokens -------------------------------------------------------------------

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters (RFC 9106 low-memory)


def use_password_parameters(parameters: Parameters) -> None:
    """Change the argon2id cost (the test suite uses argon2's cheapest profile for speed)."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(parameters)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token(prefix: str) -> tuple[str, str]:
    """A random bearer token and the digest to store. Tokens carry 256 bits, so SHA-256 suffices."""
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- request dependencies ---------------------------------------------------------------------

TokenResolver = Callable[[Session, str, str | None], Actor | None]
"""Looks a bearer token up; installed on ``app.state.resolve_token`` by the app factory."""

SESSION_COOKIE = "govdata_session"


def get_session(request: Request):
    """One unit of work per request: committed after the route returns, rolled back on error."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": commit before the response is sent. With FastAPI's default ("request") the
# commit would run after the client already has its answer, so a browser following a redirect
# (login → /home) could arrive before the new session token is committed, and a failed commit
# would follow a success response.
DbSession = Annotated[Session, Depends(get_session, scope="function")]


def client_address(request: Request) -> str | None:
    """The address of the peer that sent the request. ``X-Forwarded-For`` is never read here: the
    server honours it (rewriting the peer) only from the proxies ``GOVDATA_TRUSTED_PROXIES`` lists."""
    return request.client.host if request.client else None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def header_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header (the scheme in any case, the token trimmed)."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def presented_token(authorization: str | None, session_cookie: str | None) -> str | None:
    """The credential a request presents: its bearer header, else its session cookie. The rate limiter
    asks this too, so that it counts exactly the credential the request is authenticated by."""
    return header_token(authorization) or session_cookie or None


def bearer_token(request: Request) -> str | None:
    return presented_token(request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE))


def _origin(scheme: str, netloc: str) -> str:
    scheme, netloc = scheme.lower(), netloc.lower()
    default_port = {"http": ":80", "https": ":443"}.get(scheme)
    if default_port and netloc.endswith(default_port):
        netloc = netloc[: -len(default_port)]
    return f"{scheme}://{netloc}"


def same_origin(request: Request) -> bool:
    """Whether the request says it comes from a page of this server: its ``Origin`` header, or
    without one its ``Referer``, names this server's scheme, host and port. A request naming
    neither does not count as same-origin."""
    expected = _origin(request.url.scheme, request.url.netloc)
    origin = request.headers.get("origin")
    if origin is None:
        origin = request.headers.get("referer")
    if not origin:
        return False
    parts = urlsplit(origin.strip())
    return bool(parts.scheme and parts.netloc) and _origin(parts.scheme, parts.netloc) == expected


def _refuse_cross_site_cookie(request: Request) -> None:
    """A browser sends the session cookie with every request to this host, also those a page of
    another origin makes it send: SameSite=Lax does not stop a page on another port of the same
    host, which is the same site. State-changing API calls therefore take the cookie only with an
    ``Origin`` (or ``Referer``) of this server; the platform's pages call the API only to read, and
    API clients authenticate with a bearer token, which a browser never adds by itself."""
    if request.method in SAFE_METHODS or not request.url.path.startswith("/api/"):
        return
    if not same_origin(request):
        raise PermissionDenied(
            "接口的写操作只接受本站页面发出的会话凭据；其他来源请使用访问令牌（Authorization: Bearer）。",
            slug="cross-origin",
        )


def current_actor(request: Request, session: DbSession) -> Actor:
    """The caller, resolved once per request (cached on ``request.state``)."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    from_header = header_token(request.headers.get("authorization"))
    token = from_header or request.cookies.get(SESSION_COOKIE)
    if token and from_header is None:
        _refuse_cross_site_cookie(request)
    actor = ANONYMOUS
    if token:
        # The end user on whose behalf a system calls (X-Road's userId); percent-encoded UTF-8.
        end_user = unquote(request.headers.get("x-end-user", "")) or None
        resolved = request.app.state.resolve_token(session, token, end_user)
        if resolved is None:
            if request.headers.get("authorization"):
                raise NotAuthenticated("访问令牌无效、已过期或已被吊销。", slug="invalid-token")
        else:
            actor = resolved
    actor = dataclasses.replace(actor, source=client_address(request))
    request.state.actor = actor
    return actor


class Authenticator:
    """A route dependency: authenticates the caller and checks one permission.

    ``Authenticator(None)`` admits anonymous callers too (public pages, the public portal); it is
    still an explicit declaration that the route was considered, which the route-walking test checks.
    """

    def __init__(self, perm: Permission | None, *, allow_anonymous: bool = False) -> None:
        self.permission = perm
        self.allow_anonymous = allow_anonymous or perm is None

    async def __call__(self, actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        # async: it only reads the actor, so it runs on the loop instead of taking a thread
        return self.admit(actor)

    def admit(self, actor: Actor) -> Actor:
        """``actor`` if it may pass (401 for an anonymous caller, 403 without the permission)."""
        if self.permission is None:
            return actor
        if not actor.is_authenticated:
            if self.allow_anonymous:
                return actor
            raise NotAuthenticated()
        require(actor, self.permission)
        return actor


class DeferredAuthenticator(Authenticator):
    """The permission check of a route that does all its work in one unit of work of its own, in one
    worker thread: the services an application system calls most (a lookup by key), where the
    request's own session, its credential and its body each taking a thread of the pool would cost
    more than the work.

    As a dependency it only refuses, on the loop, a request that presents no credential at all
    (401, as :class:`Authenticator` would); the route then calls :meth:`resolve` with its session,
    which resolves the credential exactly as :func:`current_actor` does (an unknown, expired or
    revoked one is 401 there) and checks the permission. The caller is therefore still authenticated
    and authorised on every call, before the route reads anything."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        if self.allow_anonymous or self.permission is None:
            return
        if not presented_token(request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE)):
            raise NotAuthenticated()

    def resolve(self, request: Request, session: Session) -> Actor:
        """The caller of ``request``, admitted to the permission, read in ``session``."""
        return self.admit(current_actor(request, session))


def authenticated(perm: Permission) -> object:
    """``Annotated`` metadata for a route parameter: ``actor: Annotated[Actor, authenticated(P)]``."""
    return Depends(Authenticator(perm))


AnyActor = Annotated[Actor, Depends(Authenticator(None))]
