"""Pages of the data element dictionary (数据元, CAT-4): browse and search it, see which resources
reference an element, and — the authority — add elements and keep their synonyms and definitions.

Every page calls :mod:`govdata.catalog.elements`, which checks the caller's right again; a refused
or invalid form is shown again with the entered values and the errors next to their fields.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from govdata.catalog import elements
from govdata.catalog.auth import CATALOG_DEPARTMENT_READ, CATALOG_MANAGE, CatalogManager, DictionaryReader
from govdata.catalog.enums import DataType
from govdata.catalog.schemas_elements import ELEMENT_FIELD_LABELS, DataElementIn, DataElementPatch
from govdata.catalog.web.forms import Form
from govdata.catalog.web.presenters import helpers
from govdata.core.auth import Actor, DbSession
from govdata.core.errors import Problem
from govdata.web import (
    check_same_origin,
    field_messages,
    nav_item,
    parse_input,
    problem_errors,
    render,
    render_error,
)

router = APIRouter(include_in_schema=False)

nav_item("数据元", "/catalog/elements", CATALOG_DEPARTMENT_READ, order=45)

DONE = {"created": "已新增数据元。", "saved": "已保存修改。"}
FIELDS = tuple(ELEMENT_FIELD_LABELS)
_SEPARATORS = re.compile(r"[\n\r、，,；;]+")


def element_href(code: str, suffix: str = "") -> str:
    return "/catalog/elements/" + quote(code, safe="") + suffix


def _context() -> dict[str, Any]:
    return {
        **helpers(),
        "element_href": element_href,
        "subjects": elements.SUBJECT_LABELS,
        "key_kinds": elements.KEY_KIND_LABELS,
        "data_types": DataType.choices(),
        "field_labels": ELEMENT_FIELD_LABELS,
    }


def _page(request: Request, template: str, actor: Actor, status_code: int = 200, **context: Any) -> Response:
    return render(
        request,
        template,
        actor,
        status_code=status_code,
        active_href="/catalog/elements",
        **_context(),
        **context,
    )


# --- browsing ----------------------------------------------------------------------------------------


@router.get("/catalog/elements")
def elements_page(
    request: Request,
    session: DbSession,
    actor: DictionaryReader,
    q: Annotated[str, Query(max_length=100)] = "",
    subject: Annotated[str, Query(max_length=20)] = "",
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    q = q.strip()
    subject = subject if subject in (*elements.SUBJECT_LABELS, "none") else ""
    found = elements.browse(session, actor, q=q, subject=subject)
    return _page(
        request,
        "catalog/elements.html",
        actor,
        elements=found,
        counts=elements.usage_counts(session, actor),
        q=q,
        subject=subject,
        can_manage=actor.has(CATALOG_MANAGE),
        done=DONE.get(done),
    )


@router.get("/catalog/elements/new")
def new_element_page(request: Request, session: DbSession, actor: CatalogManager) -> Response:
    return _form(request, actor, values={"data_type": "C", "level": "1"})


@router.get("/catalog/elements/{code}")
def element_page(
    request: Request,
    session: DbSession,
    actor: DictionaryReader,
    code: str,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    try:
        element = elements.get_element(session, actor, code)
    except Problem as exc:
        return render_error(request, exc)
    return _page(
        request,
        "catalog/element.html",
        actor,
        element=elements.element_view(element),
        uses=elements.element_uses(session, actor, element),
        can_manage=actor.has(CATALOG_MANAGE),
        done=DONE.get(done),
    )


# --- keeping the dictionary (the authority) ----------------------------------------------------------


def _values_of(element: dict[str, Any]) -> dict[str, str]:
    """An element as the form shows it."""
    return {
        "code": element["code"],
        "name": element["name"],
        "synonyms": "、".join(element["synonyms"]),
        "data_type": element["data_type"],
        "length": "" if element["length"] is None else str(element["length"]),
        "subject": element["subject"] or "",
        "key_kind": element["key_kind"] or "",
        "level": str(element["level"]),
        "code_list": "、".join(element["code_list"] or []),
        "pattern": element["pattern"] or "",
        "description": element["description"] or "",
    }


def _read(form) -> dict[str, str]:
    return {field: str(form.get(field) or "").strip()[:4000] for field in FIELDS}


def _payload(values: dict[str, str], *, fixed: dict[str, str] | None = None) -> dict[str, Any]:
    """The form's values as the schema takes them (fields that cannot change are left out)."""

    def listed(text: str) -> list[str]:
        return [part.strip() for part in _SEPARATORS.split(text) if part.strip()]

    data: dict[str, Any] = {
        "code": values["code"],
        "name": values["name"],
        "synonyms": listed(values["synonyms"]),
        "data_type": values["data_type"],
        "length": values["length"] or None,
        "subject": values["subject"] or None,
        "key_kind": values["key_kind"] or None,
        "level": values["level"] or "1",
        "code_list": listed(values["code_list"]) or None,
        "pattern": values["pattern"] or None,
        "description": values["description"] or None,
    }
    for field in fixed or {}:
        data.pop(field, None)
    return data


def _form(
    request: Request,
    actor: Actor,
    *,
    values: dict[str, str],
    element: dict[str, Any] | None = None,
    fixed: dict[str, str] | None = None,
    problem: Problem | None = None,
) -> Response:
    return _page(
        request,
        "catalog/element_form.html",
        actor,
        status_code=problem.status if problem else 200,
        values=values,
        element=element,
        fixed=fixed or {},
        errors=problem_errors(problem) if problem else [],
        field_errors=field_messages(problem) if problem else {},
    )


@router.post("/catalog/elements/new")
def create_element(request: Request, session: DbSession, actor: CatalogManager, form: Form) -> Response:
    check_same_origin(request)
    values = _read(form)
    try:
        data = parse_input(DataElementIn, _payload(values), prefix="数据元有误")
        element = elements.create_element(session, actor, data)
    except Problem as exc:
        session.rollback()
        return _form(request, actor, values=values, problem=exc)
    return RedirectResponse(element_href(element.code, "?done=created"), status_code=303)


def _edit_context(session: Session, actor: Actor, code: str) -> tuple[dict[str, Any], dict[str, str]]:
    element = elements.get_element(session, actor, code)
    return elements.element_view(element), elements.fixed_fields(session, element)


@router.get("/catalog/elements/{code}/edit")
def edit_element_page(request: Request, session: DbSession, actor: CatalogManager, code: str) -> Response:
    try:
        view, fixed = _edit_context(session, actor, code)
    except Problem as exc:
        return render_error(request, exc)
    return _form(request, actor, values=_values_of(view), element=view, fixed=fixed)


@router.post("/catalog/elements/{code}/edit")
def update_element(
    request: Request, session: DbSession, actor: CatalogManager, code: str, form: Form
) -> Response:
    check_same_origin(request)
    try:
        view, fixed = _edit_context(session, actor, code)
    except Problem as exc:
        return render_error(request, exc)
    values = {**_read(form), "code": view["code"]}
    for field in fixed:  # what cannot change is shown as it is
        values[field] = _values_of(view)[field]
    try:
        payload = _payload(values, fixed=fixed)
        payload.pop("code", None)
        patch = parse_input(DataElementPatch, payload, prefix="数据元有误")
        elements.update_element(session, actor, code, patch)
    except Problem as exc:
        session.rollback()
        return _form(request, actor, values=values, element=view, fixed=fixed, problem=exc)
    return RedirectResponse(element_href(view["code"], "?done=saved"), status_code=303)
