"""Shared pieces of the server-rendered pages (NF-5): templates, navigation by role, error pages.

Pages call the same services as the API; a capability adds its menu entries with :func:`nav_item`,
each tied to a permission, so a user sees only what they may open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from govdata.core.auth import ROLE_LABELS, Actor, Permission, Role
from govdata.core.errors import PermissionDenied, Problem

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    permission: Permission | None
    order: int = 100


NAV: list[NavItem] = []


def nav_item(label: str, href: str, permission: Permission | None, order: int = 100) -> None:
    if all(item.href != href for item in NAV):
        NAV.append(NavItem(label, href, permission, order))
        NAV.sort(key=lambda i: i.order)


def nav_for(actor: Actor) -> list[NavItem]:
    if not actor.is_authenticated:
        return []
    return [i for i in NAV if i.permission is None or actor.has(i.permission)]


@dataclass(frozen=True)
class HomeCard:
    """A card on the home page: ``loader(session, actor)`` returns the template's context or None."""

    template: str
    loader: Callable[[Any, Actor], dict | None]
    order: int = 100


HOME_CARDS: list[HomeCard] = []


def home_card(template: str, loader: Callable[[Any, Actor], dict | None], order: int = 100) -> None:
    if all(card.template != template for card in HOME_CARDS):
        HOME_CARDS.append(HomeCard(template, loader, order))
        HOME_CARDS.sort(key=lambda c: c.order)


def home_cards(session, actor: Actor) -> list[tuple[str, dict]]:
    """The cards this caller may see, with their figures (a loader returns None to stay hidden)."""
    cards = []
    for card in HOME_CARDS:
        context = card.loader(session, actor)
        if context is not None:
            cards.append((card.template, context))
    return cards


def role_labels(roles) -> list[str]:
    return [ROLE_LABELS[Role(r)] for r in sorted(roles)]


def active_href(items: list[NavItem], path: str) -> str | None:
    """The menu entry a page belongs to: the longest entry that is the path or a prefix of it."""
    matches = [
        i.href
        for i in items
        if path == i.href or (i.href != "/home" and path.startswith(i.href.rstrip("/") + "/"))
    ]
    return max(matches, key=len) if matches else None


def render(request: Request, template: str, actor: Actor, status_code: int = 200, **context: Any) -> Response:
    nav = nav_for(actor)
    return templates.TemplateResponse(
        request,
        template,
        {
            "actor": actor,
            "nav": nav,
            "active_href": active_href(nav, request.url.path),
            "path": request.url.path,
            "role_labels": role_labels,
            **context,
        },
        status_code=status_code,
    )


def render_error(request: Request, problem: Problem) -> Response:
    actor = getattr(request.state, "actor", None) or Actor(kind="anonymous")
    return render(request, "error.html", actor, status_code=problem.status, problem=problem)


def check_same_origin(request: Request) -> None:
    """Form posts from pages must come from this site (the session cookie is also SameSite=Lax)."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise PermissionDenied("请求来源不是本站页面。", slug="cross-origin")
