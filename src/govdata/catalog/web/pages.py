"""Routes of the catalog pages: search, the department's catalog, compilation, the resource page with
its review actions and the review queue (duplicate collection, CAT-9, is the libraries' ``/sources``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from govdata.catalog import auth, code_tables, events, returns, service
from govdata.catalog.auth import (
    CATALOG_COMPILE,
    CATALOG_DEPARTMENT_READ,
    CATALOG_READ,
    CATALOG_REVIEW,
    CatalogCompiler,
    CatalogPublisher,
    CatalogReader,
    CatalogReviewer,
)
from govdata.catalog.enums import (
    DataType,
    Grade,
    LegalBasisKind,
    OpenType,
    ResourceFormat,
    ResourceStatus,
    ShareMethod,
    ShareMode,
    ShareType,
    Subject,
    UpdateCycle,
)
from govdata.catalog.schemas import ResourceIn, ResourcePatch, ReturnIn, SearchParams
from govdata.catalog.web import forms, presenters
from govdata.catalog.web.forms import Form, blank_row
from govdata.catalog.web.presenters import (
    DONE_MESSAGES,
    FACET_TITLES,
    ITEM_FIELDS,
    SORTS,
    resource_href,
)
from govdata.core import clock
from govdata.core.auth import INTERNAL_ROLES, Actor, DbSession, Role, enforce
from govdata.core.errors import PermissionDenied, Problem, field_error
from govdata.orgs import service as orgs
from govdata.orgs.auth import DEPARTMENT_READ
from govdata.web import (
    HeaderSearch,
    check_same_origin,
    field_messages,
    form_action,
    header_search,
    home_card,
    nav_item,
    parse_input,
    problem_errors,
    render,
    render_error,
    resource_panels,
)

router = APIRouter(include_in_schema=False)


def _catalog_card(session: Session, actor: Actor) -> dict | None:
    """目录概况 on the home page: the caller's department's resources by status (all, for the
    authority) and open catalog update tasks — real counts, nothing else."""
    if not actor.has(CATALOG_READ) or not (actor.roles & INTERNAL_ROLES):
        return None
    counts = service.count_by_status(session, actor)
    tasks, open_tasks = [], 0
    if actor.department_id is not None or Role.authority in actor.roles:
        items, open_tasks = events.list_tasks(
            session, actor, department_id=None, status="open", limit=5, offset=0
        )
        tasks = [events.task_view(session, t) for t in items]
    authority = Role.authority in actor.roles
    return {
        "counts": counts,
        "links": {status: _count_link(status, authority) for status in counts},  # the list each counts
        "tasks": tasks,
        "open_tasks": open_tasks,
        "authority": authority,
    }


def _count_link(status: str, authority: bool) -> str:
    """Where a count of the home card leads: the list it counts (#13 item 14). The authority's
    counts are of every department (the catalog search by status, the review queue for what waits);
    a department's are of its own catalog."""
    if not authority:
        return f"/catalog/mine?status={status}"
    return "/catalog/review" if status == ResourceStatus.submitted else f"/catalog?status={status}"


home_card("catalog/_home_card.html", _catalog_card, order=10)

nav_item("目录检索", "/catalog", CATALOG_READ, order=10)
nav_item("本部门目录", "/catalog/mine", CATALOG_DEPARTMENT_READ, order=20)
nav_item("目录编制", "/catalog/new", CATALOG_COMPILE, order=30)
nav_item("审核队列", "/catalog/review", CATALOG_REVIEW, order=40)


@header_search
def _catalog_search_box(actor: Actor) -> HeaderSearch | None:
    """The header's search box on every page (#13 item 25): the catalog, for whoever may read it."""
    if not actor.has(CATALOG_READ):
        return None
    return HeaderSearch("/catalog", "搜索目录：资源、信息项、部门，如 人口、身份证号")


PAGE_SIZE = 20


def _page(request: Request, template: str, actor: Actor, status_code: int = 200, **context: Any) -> Response:
    return render(request, template, actor, status_code=status_code, **presenters.helpers(), **context)


def _classification_names(session: Session, actor: Actor) -> dict[str, str]:
    return {c.code: c.name for c in service.list_classifications(session, actor)}


def _department_names(session: Session, actor: Actor, ids: set[int]) -> dict[int, str]:
    """The names of these departments, for a caller who may read departments."""
    return orgs.department_names(session, ids) if actor.has(DEPARTMENT_READ) else {}


def _page_links(link: Callable[[int], str], page: int, total: int) -> tuple[int, str | None, str | None]:
    """The number of pages, and the previous and next page's address (``link(page)``)."""
    pages = max(1, -(-total // PAGE_SIZE))
    return pages, link(page - 1) if page > 1 else None, link(page + 1) if page < pages else None


# --- search (CAT-11) --------------------------------------------------------------------------------


@router.get("/catalog")
def catalog_search(
    request: Request,
    session: DbSession,
    actor: CatalogReader,
    q: Annotated[str, Query(max_length=200)] = "",
    provider_id: Annotated[str, Query(max_length=12)] = "",
    classification: Annotated[str, Query(max_length=32)] = "",
    share_type: Annotated[str, Query(max_length=20)] = "",
    open_type: Annotated[str, Query(max_length=20)] = "",
    format: Annotated[str, Query(max_length=20)] = "",
    update_cycle: Annotated[str, Query(max_length=20)] = "",
    grade: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    sort: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    q = q.strip()
    filters = forms.clean_filters(
        {
            "provider_id": provider_id,
            "classification": classification,
            "share_type": share_type,
            "open_type": open_type,
            "format": format,
            "update_cycle": update_cycle,
            "grade": grade,
            "status": status,
        }
    )
    # each order once: the default one (relevance with a keyword, else the latest) as ""
    default_sort = "relevance" if q else "updated"
    sort = sort if sort in SORTS and sort != default_sort else ""
    sort_options = [("", f"{SORTS[default_sort]}（默认）")] + [
        (value, text) for value, text in SORTS.items() if value not in (default_sort, "relevance")
    ]
    params = SearchParams.model_validate({**filters, "q": q or None, "sort": sort or None})
    result = service.search_resources(
        session, actor, params.to_query(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    )
    providers = {int(v) for v in result.facets.get("provider_id", {}) if v.isdigit()}
    if "provider_id" in filters:
        providers.add(int(filters["provider_id"]))
    departments = _department_names(session, actor, providers)
    for resource in result.items:
        departments.setdefault(resource.provider_id, resource.provider.name)
    classifications = _classification_names(session, actor)
    state = {"q": q, **filters, "sort": sort}

    def link(**changes: Any) -> str:
        params = {**state, **changes}
        return "/catalog?" + urlencode({k: v for k, v in params.items() if v not in ("", None, 1)})

    facets = []
    for name, title in FACET_TITLES.items():
        values = result.facets.get(name, {})
        if not values:
            continue
        entries = [
            {
                "label": presenters.facet_label(name, value, departments, classifications),
                "count": count,
                "active": filters.get(name) == value,
                "href": link(**{name: "" if filters.get(name) == value else value, "page": 1}),
            }
            for value, count in values.items()
        ]
        facets.append({"name": name, "title": title, "entries": entries})
    chips = [
        {
            "title": FACET_TITLES[name],
            "label": presenters.facet_label(name, value, departments, classifications),
            "href": link(**{name: "", "page": 1}),
        }
        for name, value in filters.items()
    ]
    if q:
        chips.insert(0, {"title": "关键词", "label": q, "href": link(q="", page=1)})
    pages, prev_href, next_href = _page_links(lambda p: link(page=p), page, result.total)
    return _page(
        request,
        "catalog/search.html",
        actor,
        q=q,
        sort=sort,
        sort_options=sort_options,
        export_href="/catalog/export?"
        + urlencode(
            {("resource_format" if k == "format" else k): v for k, v in {"q": q, **filters}.items() if v}
            or {"q": ""}
        ),
        filters=filters,
        results=result.items,
        total=result.total,
        facets=facets,
        chips=chips,
        clear_href="/catalog",
        page=page,
        pages=pages,
        prev_href=prev_href,
        next_href=next_href,
        classifications=classifications,
        is_public=not (actor.roles & auth.SEES_PUBLISHED),
    )


# --- the department's catalog (CAT-5, CAT-6) ------------------------------------------------------


def _department_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Resources per status of the caller's department."""
    if Role.authority not in actor.roles:
        return {str(k): v for k, v in service.count_by_status(session, actor).items()}
    # count_by_status gives the authority every department's counts; this page is about its own.
    counts = {}
    for status in ResourceStatus:
        found = service.search_resources(
            session,
            actor,
            SearchParams(provider_id=actor.department_id, status=status).to_query(limit=1),
        )
        counts[status.value] = found.total
    return counts


@router.get("/catalog/mine")
def catalog_mine(
    request: Request,
    session: DbSession,
    actor: CatalogReader,
    status: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    if actor.department_id is None:
        return render_error(request, PermissionDenied("本部门目录只对部门用户开放；请使用目录检索。"))
    status = status if status in {s.value for s in ResourceStatus} else ""
    params = SearchParams(provider_id=actor.department_id, status=status or None, sort="updated")
    result = service.search_resources(
        session, actor, params.to_query(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    )
    counts = _department_counts(session, actor)
    department = (
        orgs.get_department(session, actor, actor.department_id) if actor.has(DEPARTMENT_READ) else None
    )
    tabs = [
        {
            "value": "",
            "label": "全部（不含已停用）",
            "count": sum(v for k, v in counts.items() if k != "retired"),
        }
    ]
    tabs += [{"value": s.value, "label": s.label, "count": counts.get(s.value, 0)} for s in ResourceStatus]

    def link(new_page: int) -> str:
        return "/catalog/mine?" + urlencode(
            {k: v for k, v in {"status": status, "page": new_page}.items() if v}
        )

    pages, prev_href, next_href = _page_links(link, page, result.total)

    return _page(
        request,
        "catalog/mine.html",
        actor,
        department=department,
        status=status,
        tabs=tabs,
        results=result.items,
        total=result.total,
        can_compile=actor.has(CATALOG_COMPILE),
        notes=returns.return_notes(session, actor, result.items),  # the authority's comments (CAT-5)
        page=page,
        pages=pages,
        prev_href=prev_href,
        next_href=next_href,
    )


# --- compilation (CAT-1, CAT-3) ---------------------------------------------------------------------


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any],
    rows: list[dict[str, Any]],
    errors: list[dict[str, str]] | None = None,
    status_code: int = 200,
    resource: dict[str, Any] | None = None,
    revision: dict[str, Any] | None = None,
    locked: str | None = None,
) -> Response:
    errors = errors or []
    by_field = forms.field_errors(errors)
    elements = service.list_elements(session, actor)
    classifications = service.list_classifications(session, actor)
    # the related resources are picked by name (#13 item 22): the published ones, by name
    published = service.search_resources(
        session, actor, SearchParams(status="published", sort="name").to_query(limit=300)
    )
    return _page(
        request,
        "catalog/edit.html",
        actor,
        status_code=status_code,
        values=values,
        rows=[*rows, blank_row()],
        row_errors=forms.row_errors(by_field, len(rows) + 1),
        errors=errors,
        field_errors=by_field,
        elements=elements,
        classifications=classifications,
        related_choices=[
            (r.code, r.name, r.provider.short_name or r.provider.name)
            for r in published.items
            if not resource or r.code != resource["code"]
        ],
        resource=resource,
        revision=revision,
        locked=locked,
        choices={
            "format": ResourceFormat.choices(),
            "share_type": ShareType.choices(),
            "open_type": OpenType.choices(),
            "update_cycle": UpdateCycle.choices(),
            "grade": Grade.choices(),
            "legal_basis_kind": LegalBasisKind.choices(),
            "share_modes": ShareMode.choices(),
            "share_methods": ShareMethod.choices(),
            "data_type": DataType.choices(),
            "subject": Subject.choices(),
        },
        action=resource_href(resource["code"], "/edit") if resource else "/catalog/new",
    )


def _form_failed(request: Request, session: Session, actor: Actor, exc: Problem, **form: Any) -> Response:
    """The form again, after a refused save: the entered ``values`` and ``rows``, and the errors."""
    session.rollback()
    return _form_page(request, session, actor, errors=problem_errors(exc), status_code=exc.status, **form)


@router.get("/catalog/new")
def new_resource_page(request: Request, session: DbSession, actor: CatalogCompiler) -> Response:
    values, _ = forms.values_from_body({**forms.NEW_DEFAULTS, "share_modes": []})
    return _form_page(request, session, actor, values=values, rows=[])


@router.post("/catalog/new")
def create_resource(request: Request, session: DbSession, actor: CatalogCompiler, form: Form) -> Response:
    check_same_origin(request)
    values, rows = forms.read_form(form)
    if form.get("_action") == "add_row":
        return _form_page(request, session, actor, values=values, rows=[*rows, blank_row()])
    try:
        payload = forms.payload(values, rows, with_classification=True)
        data = parse_input(ResourceIn, payload, prefix="资源元数据有误")
        resource, _ = service.create_resource(session, actor, data)
    except Problem as exc:
        return _form_failed(request, session, actor, exc, values=values, rows=rows)
    return RedirectResponse(resource_href(resource.code, "?done=created"), status_code=303)


def _edit_context(session: Session, actor: Actor, code: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The body the form edits, and the page's context: the resource as shown, the revision being
    prepared (if any), and why it cannot be changed now (if so)."""
    resource = service.get_resource(session, actor, code)
    enforce(auth.compile_refusal(actor, resource))
    view = service.resource_view(session, actor, resource)
    revision = view["revision"]
    body = view
    if revision is not None:
        body = service.get_version(session, actor, code, revision["version"]).body
    locked = presenters.locked_reason(resource, service.working_version(session, resource))
    return body, {"resource": view, "revision": revision, "locked": locked}


@router.get("/catalog/r/{code:path}/edit")
def edit_resource_page(request: Request, session: DbSession, actor: CatalogCompiler, code: str) -> Response:
    try:
        body, context = _edit_context(session, actor, code)
    except Problem as exc:
        return render_error(request, exc)
    values, rows = forms.values_from_body(body)
    revision = context["revision"]
    if revision and revision.get("reason"):
        values["reason"] = revision["reason"]
    return _form_page(request, session, actor, values=values, rows=rows, **context)


@router.post("/catalog/r/{code:path}/edit")
def update_resource(
    request: Request, session: DbSession, actor: CatalogCompiler, code: str, form: Form
) -> Response:
    check_same_origin(request)
    try:
        _, context = _edit_context(session, actor, code)
    except Problem as exc:
        return render_error(request, exc)
    view, revision = context["resource"], context["revision"]
    values, rows = forms.read_form(form)
    values["classification"] = view["classification"]
    if form.get("_action") == "add_row":
        return _form_page(request, session, actor, values=values, rows=[*rows, blank_row()], **context)
    opens_revision = view["published_version"] is not None and revision is None
    try:
        payload = forms.payload(values, rows, with_classification=False)
        payload["reason"] = values["reason"].strip() or None
        patch = parse_input(ResourcePatch, payload, prefix="资源元数据有误")
        resource, _ = service.update_resource(session, actor, code, patch)
    except Problem as exc:
        return _form_failed(request, session, actor, exc, values=values, rows=rows, **context)
    done = "saved"
    if opens_revision:
        # The service opens no revision when nothing really changes.
        opened = service.resource_view(session, actor, resource)["revision"] is not None
        done = "revision" if opened else "unchanged"
    return RedirectResponse(resource_href(code, f"?done={done}"), status_code=303)


# --- the resource page (CAT-1, CAT-5) --------------------------------------------------------------


def _detail_page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    version: int | None = None,
    done: str | None = None,
    action_error: str | None = None,
    action_errors: dict[str, str] | None = None,
    comment: str = "",
    status_code: int = 200,
) -> Response:
    resource = service.get_resource(session, actor, code)
    view = service.resource_view(session, actor, resource)
    versions = service.list_versions(session, actor, code)
    log = service.resource_log(session, actor, code)
    classifications = _classification_names(session, actor)
    body: dict[str, Any] = view
    shown_version = view["version"]
    # each version's page shows its own status and dates (#13 item 22)
    shown = next((v for v in versions if v.version == view["version"]), None)
    if version is not None and version != view["version"]:
        shown = service.get_version(session, actor, code, version)
        body = shown.body
        shown_version = version
    names = orgs.display_names(
        session, [u for v in versions for u in (v.created_by, v.published_by)] + [e.actor for e in log]
    )
    revision = view["revision"]
    revision_changes = None
    if revision is not None:
        published = service.get_version(session, actor, code, view["published_version"]).body
        draft = service.get_version(session, actor, code, revision["version"]).body
        revision_changes = presenters.describe_diff(service.diff_bodies(published, draft), classifications)
    working = service.working_version(session, resource)
    actions = presenters.actions(actor, resource, working, service.catalog_publisher(session))
    warnings: list[str] = []
    if working is not None and (actions["submit"] or actions["publish"]):
        # Rules that do not block (e.g. 4 级 items of an open resource) are worth seeing before review.
        try:
            warnings = service.validate_resource(session, service.parse_resource(working.body))
        except Problem as exc:
            warnings = [exc.detail]
    # What the shown version was published with (rules the policy only flags, CAT-13, legal basis), or
    # breaks since a rule or the policy changed: the provider and the authority see it (``resource_view``).
    notices = [w for w in view["warnings"] if w not in warnings]
    # Panels of other capabilities (data quality …) are about the resource's data: once published.
    panels = (
        resource_panels(request, session, actor, code) if view["status"] in ("published", "retired") else []
    )
    return _page(
        request,
        "catalog/detail.html",
        actor,
        status_code=status_code,
        view=view,
        body=body,
        shown_version=shown_version,
        shown=presenters.version_facts(shown, view, names),
        revision=revision,
        revision_changes=revision_changes,
        history=presenters.history_rows(versions, classifications, names),
        log=presenters.log_rows(log, names),
        actions=actions,
        classifications=classifications,
        warnings=warnings,
        notices=notices,
        done=DONE_MESSAGES.get(done or ""),
        action_error=action_error,
        action_errors=action_errors or {},
        comment=comment,
        item_fields=ITEM_FIELDS,
        code_labels=code_tables.labels_of,
        panels=panels,
    )


@router.get("/catalog/r/{code:path}")
def resource_page(
    request: Request,
    session: DbSession,
    actor: CatalogReader,
    code: str,
    v: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    try:
        return _detail_page(request, session, actor, code, version=v, done=done)
    except Problem as exc:
        return render_error(request, exc)


def _lifecycle(request: Request, session: Session, actor: Actor, code: str, run, done: str) -> Response:
    def action() -> str:
        run()
        return resource_href(code, f"?done={done}")

    def show_error(exc: Problem) -> Response:
        return _detail_page(request, session, actor, code, action_error=exc.detail, status_code=exc.status)

    return form_action(request, session, action, show_error)


@router.post("/catalog/r/{code:path}/submit")
def submit_resource(request: Request, session: DbSession, actor: CatalogCompiler, code: str) -> Response:
    check_same_origin(request)
    return _lifecycle(
        request, session, actor, code, lambda: service.submit_resource(session, actor, code), "submitted"
    )


@router.post("/catalog/r/{code:path}/return")
def return_resource(
    request: Request, session: DbSession, actor: CatalogReviewer, code: str, form: Form
) -> Response:
    check_same_origin(request)
    comment = str(form.get("comment", ""))[:5000]

    def run() -> str:
        if not comment.strip():
            raise field_error("comment", "必填，请写明需要提供部门修改的内容")
        data = parse_input(ReturnIn, {"comment": comment.strip()}, prefix="退回失败")
        service.return_resource(session, actor, code, data.comment)
        return resource_href(code, "?done=returned")

    def show_error(exc: Problem) -> Response:
        messages = field_messages(exc)
        return _detail_page(
            request,
            session,
            actor,
            code,
            action_error=None if messages else exc.detail,
            action_errors={"comment": f"退回意见：{messages['comment']}"} if "comment" in messages else {},
            comment=comment,
            status_code=exc.status,
        )

    return form_action(request, session, run, show_error)


@router.post("/catalog/r/{code:path}/publish")
def publish_resource(request: Request, session: DbSession, actor: CatalogPublisher, code: str) -> Response:
    check_same_origin(request)
    store = request.app.state.store  # a revision that would change stored data needs a migration
    return _lifecycle(
        request,
        session,
        actor,
        code,
        lambda: service.publish_resource(session, actor, code, store=store),
        "published",
    )


@router.post("/catalog/r/{code:path}/retire")
def retire_resource(
    request: Request, session: DbSession, actor: CatalogReviewer, code: str, form: Form
) -> Response:
    """停用 asks for a reason (#13 item 22): it is kept in the resource's log and the audit trail."""
    check_same_origin(request)
    reason = str(form.get("reason", ""))[:2000].strip()

    def run() -> str:
        if not reason:
            raise field_error("reason", "必填，请写明停用的原因")
        service.retire_resource(session, actor, code, reason)
        return resource_href(code, "?done=retired")

    def show_error(exc: Problem) -> Response:
        messages = field_messages(exc)
        return _detail_page(
            request,
            session,
            actor,
            code,
            action_error=None if messages else exc.detail,
            action_errors={"reason": f"停用原因：{messages['reason']}"} if "reason" in messages else {},
            status_code=exc.status,
        )

    return form_action(request, session, run, show_error)


# --- review queue and supervision (CAT-5, CAT-9) ---------------------------------------------------


@router.get("/catalog/review")
def review_page(request: Request, session: DbSession, actor: CatalogReviewer) -> Response:
    now = clock.now()
    rows = []
    for resource, version in service.review_queue(session, actor):
        submitted = version.submitted_at
        if submitted is not None and submitted.tzinfo is None:
            submitted = submitted.replace(tzinfo=UTC)
        waited = (now - submitted).days if submitted else 0
        rows.append(
            {
                "code": resource.code,
                "name": version.body.get("name", resource.name),
                "provider": resource.provider.name,
                "version": version.version,
                "revision": resource.published_version is not None,
                "published_version": resource.published_version,
                "reason": version.reason,
                "submitted_at": version.submitted_at,
                "waited": waited,
                "share_type": version.body.get("share_type"),
                "item_count": len(version.body.get("items") or []),
            }
        )
    return _page(request, "catalog/review.html", actor, rows=rows)
