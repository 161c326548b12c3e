"""Pages of the public side (ORG-4, OPN-3, OPN-4, OPN-9): registration, the account page with its
applications, API keys, downloads, demands and reuses, the application form of a conditional dataset,
the public lists of demands and reuses, and the provider's queue of open applications in the
workbench. They call the same services as the API and ask the same predicates."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from govdata.core import clock
from govdata.core.auth import DbSession, Role, client_address
from govdata.core.errors import Problem, validation_problem
from govdata.opening import service as core
from govdata.opening.public_auth import (
    DECIDE,
    PROPOSE,
    REUSE,
    AccountHolder,
    Answerer,
    Anyone,
    Applicant,
    ApplicationsReader,
    Decider,
    KeyHolder,
    Proposer,
    Registrant,
    ReuseRegistrar,
    can_answer,
    can_decide,
    can_make_key,
)
from govdata.opening.public_schemas import (
    AccountIn,
    AccountKind,
    DemandAnswerIn,
    DemandIn,
    DemandKind,
    DemandOutcome,
    OpenApplicationIn,
    OpenDecisionIn,
    ReuseIn,
)
from govdata.opening.service import accounts, applications, demands, keys, reuses
from govdata.opening.web.portal import page
from govdata.orgs import service as orgs
from govdata.web import check_same_origin, error_messages, field_messages, local_time, nav_item, render

router = APIRouter(include_in_schema=False)

nav_item("开放申请", "/opening/applications", DECIDE, order=64)

KIND_HINTS = {
    AccountKind.natural_person: ("公民身份号码", "姓名", "依据人口基础库核验姓名与公民身份号码"),
    AccountKind.legal_person: (
        "统一社会信用代码",
        "单位名称",
        "依据法人基础库核验单位名称与统一社会信用代码",
    ),
    AccountKind.unincorporated_org: (
        "统一社会信用代码",
        "组织名称",
        "依据法人基础库核验组织名称与统一社会信用代码",
    ),
    AccountKind.developer: ("统一社会信用代码", "企业名称", "依据法人基础库核验企业名称与统一社会信用代码"),
}


def _text(form: FormData, name: str, limit: int = 4000) -> str:
    return str(form.get(name) or "").strip()[:limit]


def _parse(model, data: dict[str, Any]):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc.errors(), prefix="输入有误") from None


# --- registration ------------------------------------------------------------------------------------


def _kind(value: str | None) -> AccountKind:
    try:
        return AccountKind(value or AccountKind.natural_person)
    except ValueError:
        return AccountKind.natural_person


@router.get("/register")
def register_page(
    request: Request, actor: Anyone, kind: Annotated[str, Query(max_length=32)] = ""
) -> Response:
    chosen = _kind(kind)
    return page(
        request,
        "portal/register.html",
        actor,
        kind=chosen,
        kinds=list(AccountKind),
        hints=KIND_HINTS,
        values={},
        errors=[],
        fields={},
    )


@router.post("/register")
async def register(request: Request, session: DbSession, actor: Registrant) -> Response:
    check_same_origin(request)
    form = await request.form()
    chosen = _kind(_text(form, "kind", 32))
    values = {
        "kind": chosen.value,
        "identity_number": _text(form, "identity_number", 32),
        "name": _text(form, "name", 100),
        "username": _text(form, "username", 64),
        "password": str(form.get("password") or "")[:256],
        "phone": _text(form, "phone", 32) or None,
        "email": _text(form, "email", 200) or None,
    }
    try:
        data = _parse(AccountIn, values)
        accounts.register(session, request.app.state.store, data, source=client_address(request))
    except Problem as problem:
        session.rollback()
        shown = {k: v for k, v in values.items() if k != "password"}
        return page(
            request,
            "portal/register.html",
            actor,
            status_code=problem.status,
            kind=chosen,
            kinds=list(AccountKind),
            hints=KIND_HINTS,
            values=shown,
            errors=error_messages(problem),
            fields=field_messages(problem),
        )
    return RedirectResponse(f"/login?next=/account&registered={quote(data.username)}", status_code=303)


# --- the account page ---------------------------------------------------------------------------------


@router.get("/account")
def account_page(request: Request, session: DbSession, actor: AccountHolder) -> Response:
    return _account(request, session, actor)


def _account(
    request: Request, session, actor, *, new_key: tuple[int, str] | None = None, errors=None, status=200
):
    account = accounts.my_account(session, actor)
    apps, _ = applications.list_applications(session, actor, limit=100)
    my_keys: dict[int, list] = {}
    for key in keys.list_keys(session, actor):
        my_keys.setdefault(key.application_id, []).append(key)
    uses, uses_total = applications.uses(session, actor, limit=50)
    my_demands, _ = demands.list_demands(session, actor, mine=True, limit=100)
    my_reuses, _ = reuses.list_reuses(session, mine_of=actor.user_id, limit=100)
    return page(
        request,
        "portal/account.html",
        actor,
        status_code=status,
        account=account,
        applications=[(a, applications.application_view(session, a), can_make_key(actor, a)) for a in apps],
        keys=my_keys,
        new_key=new_key,
        uses=uses,
        uses_total=uses_total,
        demands=my_demands,
        reuses=my_reuses,
        errors=errors or [],
        today=clock.today(),
    )


@router.post("/account/applications/{application_id}/keys")
def create_key(request: Request, session: DbSession, actor: KeyHolder, application_id: int) -> Response:
    check_same_origin(request)
    try:
        key, token = keys.create_key(session, actor, application_id)
    except Problem as problem:
        session.rollback()
        return _account(request, session, actor, errors=error_messages(problem), status=problem.status)
    session.commit()  # the key is shown once, on this answer: it must exist before it is shown
    return _account(request, session, actor, new_key=(key.application_id, token))


@router.post("/account/applications/{application_id}/keys/{key_id}/revoke")
def revoke_key(
    request: Request, session: DbSession, actor: KeyHolder, application_id: int, key_id: int
) -> Response:
    check_same_origin(request)
    try:
        keys.revoke_key(session, actor, application_id, key_id)
    except Problem as problem:
        session.rollback()
        return _account(request, session, actor, errors=error_messages(problem), status=problem.status)
    return RedirectResponse("/account#keys", status_code=303)


# --- applying for a conditional dataset ----------------------------------------------------------------


def _apply_page(request, session, actor, code: str, *, values=None, errors=None, fields=None, status=200):
    dataset = applications.conditional_dataset(session, code)
    eligible = set(applications.applicable_items(dataset))
    items = [i for i in dataset.items if i.code in eligible]
    rule = applications.deadline_statutory(session)
    return page(
        request,
        "portal/apply.html",
        actor,
        status_code=status,
        dataset=dataset,
        items=items,
        values=values or {"items": [i.code for i in items]},
        errors=errors or [],
        fields=fields or {},
        statutory=rule,
        today=clock.today(),
    )


@router.get("/datasets/{code:rcode}/apply")
def apply_page(request: Request, session: DbSession, actor: Applicant, code: str) -> Response:
    return _apply_page(request, session, actor, code)


@router.post("/datasets/{code:rcode}/apply")
async def apply(request: Request, session: DbSession, actor: Applicant, code: str) -> Response:
    check_same_origin(request)
    form = await request.form()
    values = {
        "dataset_code": code,
        "items": [str(v)[:64] for v in form.getlist("items")][:500],
        "purpose": _text(form, "purpose", 2000),
        "scenario": _text(form, "scenario", 2000),
        "commitments": _text(form, "commitments"),
        "period_end": _text(form, "period_end", 10) or None,
    }
    try:
        if form.get("agree") != "1":
            raise validation_problem(
                [{"loc": ("body", "agree"), "msg": "须勾选确认遵守数据安全承诺", "type": "value_error"}],
                prefix="输入有误",
            )
        applications.apply(session, actor, _parse(OpenApplicationIn, values))
    except Problem as problem:
        session.rollback()
        if problem.status in (404, 409) and not field_messages(problem):
            raise
        return _apply_page(
            request,
            session,
            actor,
            code,
            values=values,
            errors=error_messages(problem),
            fields=field_messages(problem),
            status=problem.status,
        )
    return RedirectResponse("/account#applications", status_code=303)


# --- the provider's queue (workbench) --------------------------------------------------------------------


@router.get("/opening/applications")
def queue_page(
    request: Request,
    session: DbSession,
    actor: ApplicationsReader,
    status: Annotated[str, Query(pattern="^(|pending|approved|partially_approved|refused)$")] = "pending",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    if Role.public in actor.roles:
        return RedirectResponse("/account#applications", status_code=303)
    rows, total = applications.list_applications(
        session, actor, status=status or None, limit=50, offset=offset
    )
    return render(
        request,
        "portal/apply_queue.html",
        actor,
        rows=[applications.application_view(session, a) for a in rows],
        total=total,
        status=status,
        offset=offset,
        statutory=applications.deadline_statutory(session),
        local_time=local_time,
    )


def _decide_page(request, session, actor, application_id: int, *, errors=None, values=None, status=200):
    application = applications.get_application(session, actor, application_id)
    view = applications.application_view(session, application)
    dataset = core.open_dataset(session, application.dataset_code)
    names = {i.code: i.name for i in dataset.items} if dataset else {}
    uses, _ = applications.uses(session, actor, dataset_code=application.dataset_code, limit=20)
    return render(
        request,
        "portal/apply_decide.html",
        actor,
        status_code=status,
        app=view,
        names=names,
        may_decide=can_decide(actor, application),
        uses=[u for u in uses if u.application_id == application.id],
        errors=errors or [],
        values=values or {},
    )


@router.get("/opening/applications/{application_id}")
def decide_page(
    request: Request, session: DbSession, actor: ApplicationsReader, application_id: int
) -> Response:
    return _decide_page(request, session, actor, application_id)


@router.post("/opening/applications/{application_id}/decision")
async def decide(request: Request, session: DbSession, actor: Decider, application_id: int) -> Response:
    check_same_origin(request)
    form = await request.form()
    values = {
        "decision": _text(form, "decision", 16),
        "items": [str(v)[:64] for v in form.getlist("items")][:500] or None,
        "period_end": _text(form, "period_end", 10) or None,
        "reason": _text(form, "reason", 2000) or None,
    }
    try:
        applications.decide(session, actor, application_id, _parse(OpenDecisionIn, values))
    except Problem as problem:
        session.rollback()
        return _decide_page(
            request,
            session,
            actor,
            application_id,
            errors=error_messages(problem),
            values=values,
            status=problem.status,
        )
    return RedirectResponse(f"/opening/applications/{application_id}", status_code=303)


# --- demands ---------------------------------------------------------------------------------------------


def _demands_page(request, session, actor, *, offset=0, errors=None, values=None, status=200):
    items, total = demands.list_demands(session, actor, limit=50, offset=offset)
    return page(
        request,
        "portal/demands.html",
        actor,
        status_code=status,
        demands=items,
        total=total,
        offset=offset,
        overdue=demands.overdue_count(session),
        may_propose=actor.has(PROPOSE),
        may_answer={d["id"]: can_answer(actor, _Shown(d)) for d in items},
        departments=sorted(orgs.department_names(session).items(), key=lambda kv: kv[0]),
        datasets=core.open_datasets(session),
        kinds=list(DemandKind),
        outcomes=list(DemandOutcome),
        errors=errors or [],
        values=values or {},
    )


class _Shown:
    def __init__(self, view: dict) -> None:
        self.status = view["status"]


@router.get("/demands")
def demands_page(
    request: Request, session: DbSession, actor: Anyone, offset: Annotated[int, Query(ge=0)] = 0
) -> Response:
    return _demands_page(request, session, actor, offset=offset)


@router.post("/demands")
async def propose(request: Request, session: DbSession, actor: Proposer) -> Response:
    check_same_origin(request)
    form = await request.form()
    department = _text(form, "department_id", 12)
    values = {
        "title": _text(form, "title", 200),
        "description": _text(form, "description"),
        "kind": _text(form, "kind", 16) or DemandKind.new_dataset.value,
        "department_id": int(department) if department.isdigit() else None,
        "dataset_code": _text(form, "dataset_code", 64) or None,
    }
    try:
        demands.propose(session, actor, _parse(DemandIn, values))
    except Problem as problem:
        session.rollback()
        return _demands_page(
            request, session, actor, errors=error_messages(problem), values=values, status=problem.status
        )
    return RedirectResponse("/demands", status_code=303)


@router.post("/demands/{demand_id}/answer")
async def answer(request: Request, session: DbSession, actor: Answerer, demand_id: int) -> Response:
    check_same_origin(request)
    form = await request.form()
    values = {
        "answer": _text(form, "answer"),
        "outcome": _text(form, "outcome", 16),
        "dataset_code": _text(form, "dataset_code", 64) or None,
    }
    try:
        demands.answer(session, actor, demand_id, _parse(DemandAnswerIn, values))
    except Problem as problem:
        session.rollback()
        return _demands_page(request, session, actor, errors=error_messages(problem), status=problem.status)
    return RedirectResponse(f"/demands#demand-{demand_id}", status_code=303)


# --- reuses ----------------------------------------------------------------------------------------------


def _reuses_page(request, session, actor, *, offset=0, errors=None, values=None, status=200):
    items, total = reuses.list_reuses(session, limit=50, offset=offset)
    datasets = core.open_datasets(session)
    return page(
        request,
        "portal/reuses.html",
        actor,
        status_code=status,
        reuses=items,
        total=total,
        offset=offset,
        names={d.code: d.name for d in datasets},
        datasets=datasets,
        may_register=actor.has(REUSE),
        errors=errors or [],
        values=values or {},
    )


@router.get("/reuses")
def reuses_page(
    request: Request, session: DbSession, actor: Anyone, offset: Annotated[int, Query(ge=0)] = 0
) -> Response:
    return _reuses_page(request, session, actor, offset=offset)


@router.post("/reuses")
async def register_reuse(request: Request, session: DbSession, actor: ReuseRegistrar) -> Response:
    check_same_origin(request)
    form = await request.form()
    values = {
        "title": _text(form, "title", 200),
        "description": _text(form, "description"),
        "url": _text(form, "url", 500) or None,
        "dataset_codes": [str(v)[:64] for v in form.getlist("dataset_codes")][:50],
    }
    try:
        reuses.register(session, actor, _parse(ReuseIn, values))
    except Problem as problem:
        session.rollback()
        return _reuses_page(
            request, session, actor, errors=error_messages(problem), values=values, status=problem.status
        )
    return RedirectResponse("/reuses", status_code=303)
