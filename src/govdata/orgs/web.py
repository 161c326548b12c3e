"""Pages of organisations and identity: login, logout, home, departments (NF-5)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from govdata.core.auth import (
    ANONYMOUS,
    SESSION_COOKIE,
    Actor,
    AnyActor,
    Authenticator,
    DbSession,
    Role,
    bearer_token,
    client_address,
)
from govdata.core.errors import NotAuthenticated
from govdata.core.labels import labels
from govdata.orgs import service
from govdata.orgs.auth import DEPARTMENT_MANAGE, DEPARTMENT_READ, ME_READ, DepartmentReader, MeReader
from govdata.orgs.models import Department, Node, OrgType
from govdata.web import check_same_origin, home_cards, nav_item, render

router = APIRouter(include_in_schema=False)

nav_item("首页", "/home", ME_READ, order=0)
nav_item("部门", "/departments", DEPARTMENT_READ, order=90)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login would help phishing.

    Browsers read ``/\\host`` as ``//host`` and drop tabs and newlines inside a URL, so paths
    holding a backslash or a control character are refused too.
    """
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 or ord(c) == 127 for c in target)
        or urlparse(target).netloc
    ):
        return "/home"
    return target


@router.get("/login")
def login_page(request: Request, actor: AnyActor, next: str | None = None) -> Response:
    return render(request, "orgs/login.html", actor, next=_safe_next(next), error=None)


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    actor: Annotated[Actor, Depends(Authenticator(None))],
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form()] = "/home",
) -> Response:
    check_same_origin(request)
    settings = request.app.state.settings
    try:
        token, expires_at = service.authenticate(
            session,
            settings,
            username,
            password,
            client_address(request),
            unknown_names=request.app.state.login_failures,
        )
    except NotAuthenticated as exc:
        return render(
            request,
            "orgs/login.html",
            actor,
            status_code=401,
            next=_safe_next(next),
            error=exc.detail,
            username=username,
        )
    target = _safe_next(next)
    if target == "/home" and Role.public in (service.resolve_token(session, token) or ANONYMOUS).roles:
        target = "/account"  # a public account has no workbench: its own page (ORG-4)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.token_ttl_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, actor: AnyActor) -> Response:
    check_same_origin(request)
    token = bearer_token(request)
    if token and actor.is_authenticated:
        service.logout(session, actor, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/home")
def home(request: Request, session: DbSession, actor: MeReader) -> Response:
    department = session.get(Department, actor.department_id) if actor.department_id else None
    node = session.scalar(select(Node).limit(1))
    cards = home_cards(session, actor)
    return render(request, "orgs/home.html", actor, department=department, node=node, cards=cards)


@router.get("/departments")
def departments_page(
    request: Request,
    session: DbSession,
    actor: DepartmentReader,
    offset: Annotated[int, Query(ge=0)] = 0,
    done: Annotated[str, Query(max_length=20)] = "",
    name: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    items, total = service.list_departments(session, actor, limit=50, offset=offset)
    return render(
        request,
        "orgs/departments.html",
        actor,
        departments=items,
        total=total,
        offset=offset,
        org_types=labels(OrgType),
        department_manage=DEPARTMENT_MANAGE,
        registered=name if done == "registered" else "",
    )
