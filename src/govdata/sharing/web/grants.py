"""The grant page (SHR-5, SHR-6): the grant, its items (clear or masked), its status history, the
provider's suspend, resume and revoke forms, and the consumer's query and verification forms, which
run the sharing services themselves (``sharing.service.data``): answers masked as granted, with the
under-review flag, freshness and the signed receipt; a refusal (a suspended grant) shown in Chinese.

Queries and verifications are posted, not fetched: each is a data access, logged and audited.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.core import audit
from govdata.core.auth import Actor, DbSession
from govdata.core.errors import NotFound, Problem, field_error
from govdata.orgs import service as orgs
from govdata.sharing import service
from govdata.sharing.auth import (
    USE,
    GrantManager,
    Reader,
    User,
    can_change_grant,
    in_department,
)
from govdata.sharing.enums import GrantStatus
from govdata.sharing.service import data
from govdata.sharing.web.common import (
    DONE_MESSAGES,
    HOME,
    form_errors,
    grant_href,
    grant_row,
    item_facts,
    names_for,
    page,
    router,
    safe_back,
    with_done,
)
from govdata.web import check_same_origin, form_action, local_time, render_error

QUERY_LIMIT = 50
MAX_KEYS = 50
ACTION_LABELS = {"suspend": "暂停授权", "resume": "恢复授权", "revoke": "撤销授权"}


def _history(session: Session, grant) -> list[dict[str, Any]]:
    """The grant's status changes: issued, then each suspension, resumption and revocation as the
    audit trail recorded it (who, when, why), then its expiry."""
    events = list(
        session.scalars(
            select(audit.AuditEvent)
            .where(
                audit.AuditEvent.object_type == "grant",
                audit.AuditEvent.object_id == str(grant.id),
                audit.AuditEvent.action.in_([f"sharing.grant.{a}" for a in ACTION_LABELS]),
            )
            .order_by(audit.AuditEvent.seq)
        )
    )
    people = orgs.display_names(session, [e.actor for e in events])
    history = [{"when": local_time(grant.created_at), "what": "授权生效", "who": "", "note": None}]
    for event in events:
        details = json.loads(event.details or "{}")
        history.append(
            {
                "when": local_time(event.occurred_at),
                "what": ACTION_LABELS[event.action.rsplit(".", 1)[1]],
                "who": people.get(event.actor, event.actor),
                "note": details.get("reason"),
            }
        )
    if grant.status == GrantStatus.expired:
        history.append({"when": local_time(grant.status_at), "what": "授权到期", "who": "平台", "note": None})
    return history


def _uses(actor: Actor, grant) -> bool:
    """Whether the page offers this caller the services: the consumer department's own staff."""
    return actor.has(USE) and in_department(actor, grant.consumer_department_id)


def _grant_page(
    request: Request,
    session: Session,
    actor: Actor,
    grant_id: int,
    *,
    form: str | None = None,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    fields: dict[str, str] | None = None,
    answer: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    grant = service.get_grant(session, actor, grant_id)
    names = names_for(session, grants=[grant])
    row = grant_row(grant, names)
    row["can"] = {a: can_change_grant(actor, grant, a) for a in ACTION_LABELS}
    application = service.get_application(session, actor, grant.application_id)
    _, facts = item_facts(session, grant.resource_id, application.catalog_version)
    by_code = {i["code"]: i for i in facts}
    items = []
    for entry in grant.items:
        code = entry["code"].lower()
        known = by_code.get(code) or {"code": code, "name": code, "level": 1, "level_label": ""}
        items.append({**known, "masked": bool(entry.get("masked"))})
    uses = _uses(actor, grant)
    return page(
        request,
        "sharing/grant.html",
        actor,
        status_code=status_code,
        g=grant,
        row=row,
        items=items,
        item_names={i["code"]: i["name"] for i in items},
        filterable=[i for i in items if not i["masked"]],
        key_codes=[i["code"] for i in items if i.get("key")],
        masked_codes={i["code"] for i in items if i["masked"]},
        history=_history(session, grant),
        may_query=uses and "query" in grant.modes,
        may_verify=uses and "verify" in grant.modes,
        may_export=uses and "exchange" in grant.modes,
        form=form,
        values=values or {},
        errors=errors or [],
        fields=fields or {},
        answer=answer,
        done=DONE_MESSAGES.get(request.query_params.get("done") or ""),
        section="overview",
    )


@router.get(f"{HOME}/grants/{{grant_id}}")
def grant_page(request: Request, session: DbSession, actor: Reader, grant_id: int) -> Response:
    try:
        return _grant_page(request, session, actor, grant_id)
    except Problem as exc:
        return render_error(request, exc)


def _change(
    request: Request, session: Session, actor: Actor, grant_id: int, action: str, reason: str, back: str
):
    def run() -> str:
        service.change_grant(session, actor, grant_id, action, reason)
        return with_done(safe_back(back, grant_href(grant_id)), action)

    def show_error(exc: Problem) -> Response:
        errors, fields = form_errors(exc)
        return _grant_page(
            request,
            session,
            actor,
            grant_id,
            form=action,
            values={"reason": reason},
            errors=errors,
            fields=fields,
            status_code=exc.status,
        )

    return form_action(
        request,
        session,
        run,
        show_error,
        gone=lambda exc: isinstance(exc, NotFound) and exc.detail.startswith("共享授权"),
    )


@router.post(f"{HOME}/grants/{{grant_id}}/suspend")
def suspend(
    request: Request,
    session: DbSession,
    actor: GrantManager,
    grant_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_same_origin(request)
    return _change(request, session, actor, grant_id, "suspend", reason, back)


@router.post(f"{HOME}/grants/{{grant_id}}/resume")
def resume(
    request: Request,
    session: DbSession,
    actor: GrantManager,
    grant_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_same_origin(request)
    return _change(request, session, actor, grant_id, "resume", reason, back)


@router.post(f"{HOME}/grants/{{grant_id}}/revoke")
def revoke(
    request: Request,
    session: DbSession,
    actor: GrantManager,
    grant_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_same_origin(request)
    return _change(request, session, actor, grant_id, "revoke", reason, back)


# --- using the grant: query and verification --------------------------------------------------------


def _use(
    request: Request,
    session: Session,
    actor: Actor,
    grant_id: int,
    form: str,
    values: dict[str, Any],
    call,
) -> Response:
    """Run a sharing service for the grant's consumer and show its answer on the grant page; a
    refusal (the grant suspended, an item outside it, a malformed key) is shown there in Chinese.

    A refused call is logged by the service whatever happens here; the page's own transaction (the
    answered call's audit event comes after it commits) is rolled back with the refusal."""
    try:
        grant = service.get_grant(session, actor, grant_id)
        answer = call(grant)
    except Problem as exc:
        session.rollback()
        if isinstance(exc, NotFound) and exc.detail.startswith("共享授权"):
            return render_error(request, exc)
        errors, fields = form_errors(exc)
        try:
            return _grant_page(
                request,
                session,
                actor,
                grant_id,
                form=form,
                values=values,
                errors=errors,
                fields=fields,
                status_code=exc.status,
            )
        except Problem as again:
            return render_error(request, again)
    return _grant_page(request, session, actor, grant_id, form=form, values=values, answer=answer)


def _keys(text: str) -> list[str]:
    keys = [k.strip() for k in text.replace("，", "\n").replace(",", "\n").splitlines() if k.strip()]
    if len(keys) > MAX_KEYS:
        raise field_error("key", f"一次最多查询 {MAX_KEYS} 个关键标识")
    return keys


@router.post(f"{HOME}/grants/{{grant_id}}/query")
def query(
    request: Request,
    session: DbSession,
    actor: User,
    grant_id: int,
    keys: Annotated[str, Form(max_length=20_000)] = "",
    item: Annotated[str, Form(max_length=64)] = "",
    value: Annotated[str, Form(max_length=500)] = "",
    offset: Annotated[int, Form(ge=0, le=1_000_000)] = 0,
) -> Response:
    check_same_origin(request)
    values = {"keys": keys, "item": item, "value": value, "offset": offset}
    state = request.app.state

    def call(grant) -> dict[str, Any]:
        wanted = _keys(keys)
        filters = {item: value.strip()} if item and value.strip() else {}
        if not wanted and not filters:
            raise field_error("key", "请输入公民身份号码等关键标识，或选择信息项并填写筛选值")
        answer = data.query(
            session,
            actor,
            state.store,
            state.settings,
            grant.resource_code,
            keys=wanted or None,
            filters=filters,
            limit=QUERY_LIMIT,
            offset=offset,
            grant_id=grant.id,
        )
        return {"kind": "query", **answer, "offset": offset, "limit": QUERY_LIMIT}

    return _use(request, session, actor, grant_id, "query", values, call)


@router.post(f"{HOME}/grants/{{grant_id}}/verify")
def verify(
    request: Request,
    session: DbSession,
    actor: User,
    grant_id: int,
    key: Annotated[str, Form(max_length=200)] = "",
    claim_item: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006  (one per granted item)
    claim_value: Annotated[list[str], Form(max_length=500)] = [],  # noqa: B006
) -> Response:
    """The claimed values come as pairs of ``claim_item`` and ``claim_value``; blank values are skipped."""
    check_same_origin(request)
    claimed = {c: v for c, v in zip(claim_item, claim_value, strict=False) if v.strip()}
    values = {"key": key, "claimed": claimed}
    state = request.app.state

    def call(grant) -> dict[str, Any]:
        if not key.strip():
            raise field_error("key", "请输入要比对的关键标识")
        if not claimed:
            raise field_error("values", "请至少填写一个要比对的信息项的值")
        answer = data.verify(
            session, actor, state.store, state.settings, grant.resource_code, key, claimed, grant_id=grant.id
        )
        return {"kind": "verify", **answer}

    return _use(request, session, actor, grant_id, "verify", values, call)
