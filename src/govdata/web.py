"""Shared pieces of the server-rendered pages (NF-5): templates, navigation by role, error pages.

Pages call the same services as the API; a capability adds its menu entries with :func:`nav_item`,
each tied to a permission, so a user sees only what they may open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from govdata.core.auth import ANONYMOUS, ROLE_LABELS, SESSION_COOKIE, Actor, Permission, Role
from govdata.core.clock import CHINA
from govdata.core.errors import NotFound, PayloadTooLarge, PermissionDenied, Problem, validation_problem
from govdata.core.labels import LabelledEnum, label

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

Model = TypeVar("Model", bound=BaseModel)


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


# --- links in the page header ------------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderLink:
    """A link beside the user menu of every page (the message centre's "消息 (3)")."""

    label: str
    href: str
    highlight: bool = False


HEADER_LINKS: dict[str, Callable[[Request, Actor], HeaderLink | None]] = {}


def header_link(loader: Callable[[Request, Actor], HeaderLink | None]):
    """Register ``loader(request, actor)``, which returns the link to show or None. It runs on every
    page, error pages too, so it must be cheap and must not fail; a page GET never writes."""
    HEADER_LINKS[f"{loader.__module__}.{loader.__qualname__}"] = loader
    return loader


def header_links(request: Request, actor: Actor) -> list[HeaderLink]:
    if not actor.is_authenticated:
        return []
    return [link for loader in HEADER_LINKS.values() if (link := loader(request, actor)) is not None]


@dataclass(frozen=True)
class HeaderSearch:
    """The search box in the header of every page (``GET action?q=…``)."""

    action: str
    placeholder: str
    label: str = "搜索"


HEADER_SEARCHES: list[Callable[[Actor], HeaderSearch | None]] = []


def header_search(loader: Callable[[Actor], HeaderSearch | None]):
    """Register ``loader(actor)``, which returns the header's search box for this caller or None; the
    first registered loader that offers one wins. Like a header link, it runs on every page."""
    if loader not in HEADER_SEARCHES:
        HEADER_SEARCHES.append(loader)
    return loader


def header_search_for(actor: Actor) -> HeaderSearch | None:
    if not actor.is_authenticated:
        return None
    return next((box for loader in HEADER_SEARCHES if (box := loader(actor)) is not None), None)


# --- panels of the catalog's resource page ---------------------------------------------------------


@dataclass(frozen=True)
class ResourcePanel:
    """A section another capability adds to the catalog's resource page.

    ``loader(request, session, actor, code)`` returns the context of ``template`` (given to it as the
    variable ``name``), or None to stay hidden. A loader only reads: a GET of a page never writes.
    """

    name: str
    loader: Callable[[Request, Session, Actor, str], Any]
    template: str
    order: int = 100


RESOURCE_PANELS: list[ResourcePanel] = []


def register_resource_panel(
    name: str,
    fn: Callable[[Request, Session, Actor, str], Any],
    *,
    template: str | None = None,
    order: int = 100,
) -> None:
    """Show a panel on every resource page; its template is ``<name>/_panel.html`` unless given.

    The catalog knows nothing of the capabilities that register here, so they may build on it
    without a cycle.
    """
    if all(panel.name != name for panel in RESOURCE_PANELS):
        RESOURCE_PANELS.append(ResourcePanel(name, fn, template or f"{name}/_panel.html", order))
        RESOURCE_PANELS.sort(key=lambda p: p.order)


def resource_panels(request: Request, session: Session, actor: Actor, code: str) -> list[Markup]:
    """The registered panels of resource ``code`` that this caller may see, rendered in order."""
    shown = []
    for panel in RESOURCE_PANELS:
        context = panel.loader(request, session, actor, code)
        if context is None:
            continue
        template = templates.get_template(panel.template)
        shown.append(
            Markup(
                template.render(request=request, actor=actor, path=request.url.path, **{panel.name: context})
            )
        )
    return shown


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
            "header_links": header_links(request, actor),
            "header_search": header_search_for(actor),
            "path": request.url.path,
            "role_labels": role_labels,
            **context,
        },
        status_code=status_code,
    )


def render_error(request: Request, problem: Problem) -> Response:
    return render(request, "error.html", page_actor(request), status_code=problem.status, problem=problem)


def page_actor(request: Request) -> Actor:
    """The caller of a page, also where no route resolved one: an address that matches no route
    (404) is shown inside the layout, with the menu of the person whose session cookie came with it.
    Only reads: the session is closed without a commit."""
    actor = getattr(request.state, "actor", None)
    if actor is not None:
        return actor
    token = request.cookies.get(SESSION_COOKIE)
    resolve = getattr(request.app.state, "resolve_token", None)
    if not token or resolve is None:
        return ANONYMOUS
    session = request.app.state.sessionmaker()
    try:
        return resolve(session, token, None) or ANONYMOUS
    except SQLAlchemyError:
        return ANONYMOUS
    finally:
        session.close()


def check_same_origin(request: Request) -> None:
    """Form posts from pages must come from this site (the session cookie is also SameSite=Lax)."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise PermissionDenied("请求来源不是本站页面。", slug="cross-origin")


# --- helpers of the pages ---------------------------------------------------------------------------


def local_time(moment: dt.datetime | str | None, *, seconds: bool = False) -> str:
    """A timestamp (or its ISO text) as Beijing time, to the minute or the second; naive means UTC.
    Text that is not a timestamp is shown as it is."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        try:
            moment = dt.datetime.fromisoformat(moment)
        except ValueError:
            return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def enum_label(enum: type[LabelledEnum] | None, value: Any) -> str:
    """A stored enumeration value as a page shows it: its label, or the value itself when unknown."""
    return label(enum, value)


def upload_limit(request: Request) -> int:
    """The largest file one may upload, in bytes (``max_upload_mb``). A request declaring a body larger
    than that plus 1 MiB for the form's other parts is refused before anything is read; the file itself
    is measured as it is saved (``core.uploads.receive_form``)."""
    settings = request.app.state.settings
    limit = settings.max_upload_mb * 1024 * 1024
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 1024 * 1024:
        raise PayloadTooLarge(f"文件超过上限 {settings.max_upload_mb} MiB。")
    return limit


def offset_links(
    link: Callable[[int], str], offset: int, page_size: int, total: int
) -> tuple[str | None, str | None]:
    """The previous and next page of an offset-paged list (``link(offset)`` is a page's address)."""
    previous = link(max(offset - page_size, 0)) if offset > 0 else None
    following = link(offset + page_size) if offset + page_size < total else None
    return previous, following


def parse_input(model: type[Model], data: dict[str, Any], *, prefix: str = "输入有误") -> Model:
    """A form's values as ``model``; invalid values become the 422 the page shows, fields in Chinese."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc.errors(), prefix=prefix) from None


def problem_errors(problem: Problem) -> list[dict[str, str]]:
    """The field errors of a problem (``field``, ``label``, ``message``), or the problem itself."""
    errors = problem.extra.get("errors")
    errors = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    if not errors:
        return [{"field": "", "label": "", "message": problem.detail}]
    return [
        {
            "field": str(e.get("field") or ""),
            "label": str(e.get("label") or ""),
            "message": str(e.get("message") or ""),
        }
        for e in errors
    ]


def error_messages(problem: Problem) -> list[str]:
    """A problem as lines for a page: each field error as ``label：message``, or the problem's detail."""
    return [f"{e['label']}：{e['message']}" if e["label"] else e["message"] for e in problem_errors(problem)]


def field_messages(problem: Problem) -> dict[str, str]:
    """The message of each field a problem names (none for a problem without field errors)."""
    return {e["field"]: e["message"] for e in problem_errors(problem) if e["field"]}


def _not_found(problem: Problem) -> bool:
    return isinstance(problem, NotFound)


def form_action(
    request: Request,
    session: Session,
    action: Callable[[], str],
    show_error: Callable[[Problem], Response],
    *,
    gone: Callable[[Problem], bool] = _not_found,
) -> Response:
    """Run a form's action and redirect (303) to the address it returns.

    If it fails, roll back and show ``show_error(problem)``, the page again with the error; or the error
    page when the page's object is gone (``gone``, a NotFound by default) or cannot be shown any more.
    """
    try:
        target = action()
    except Problem as exc:
        session.rollback()
        if gone(exc):
            return render_error(request, exc)
        try:
            return show_error(exc)
        except Problem as again:
            return render_error(request, again)
    return RedirectResponse(target, status_code=303)
