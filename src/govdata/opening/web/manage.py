"""The staff pages of opening (OPN-1, OPN-5, OPN-6), in Chinese, at desktop and phone width:

* ``/opening``: the candidates and the open datasets with their status;
* ``/opening/{code}``: a resource's opening — the plan per item, the quasi-identifiers and the
  k-anonymity report with a small bar chart (groups by size), the confidentiality reviews, and the
  forms of whoever may act now (publish, withdraw, emergency, non-open reason, consent);
* ``/opening/priorities``: the yearly priority list (开放重点) with its fulfilment.

Every form goes through :mod:`govdata.opening.service`, which checks the caller again; which forms a
caller gets is asked of :mod:`govdata.opening.auth`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from govdata.core import clock
from govdata.core.auth import DbSession
from govdata.core.errors import Problem, field_error
from govdata.core.labels import labels
from govdata.opening import auth, service
from govdata.opening.auth import EmergencyPublisher, Preparer, PriorityKeeper, Publisher, Reader, Reviewer
from govdata.opening.enums import (
    Basis,
    Conclusion,
    Generalisation,
    IncidentCategory,
    Method,
    NonOpenReason,
    OpenStatus,
    OpenType,
)
from govdata.orgs import service as orgs
from govdata.web import check_same_origin, error_messages, form_action, local_time, nav_item, render

router = APIRouter(include_in_schema=False)
HOME = "/opening"
nav_item("数据开放", HOME, auth.READ, order=67)

STATUS = {"candidate": "候选", **labels(OpenStatus)}
DONE = {
    "plan": "脱敏方案已保存。",
    "review": "保密审查结论已登记。",
    "published": "已发布到开放目录。",
    "withdrawn": "已从开放目录撤回。",
    "emergency": "已应急开放，门户首页即时展示。",
    "reason": "不予开放理由已登记。",
    "consent": "权利人同意已登记。",
    "priority": "开放重点已增加。",
}


def _href(code: str) -> str:
    return f"{HOME}/{quote(code)}"


@router.get(HOME)
def index(
    request: Request, session: DbSession, actor: Reader, status: str | None = None, done: str = ""
) -> Response:
    rows = service.list_openings(session, actor, status=status or None)
    counts: dict[str, int] = {}
    for row in service.list_openings(session, actor):
        counts[row.status] = counts.get(row.status, 0) + 1
    return render(
        request,
        "opening/index.html",
        actor,
        rows=rows,
        counts=counts,
        status=status,
        status_labels=STATUS,
        open_types=labels(OpenType),
        incidents=labels(IncidentCategory),
        href=_href,
        when=local_time,
        done=DONE.get(done),
    )


def _bars(report: service.KReport | None) -> list[dict[str, Any]]:
    """The chart's bars: groups by size (1 … k-1, then k or more), widths in percent of the largest."""
    if report is None or report.smallest is None:
        return []
    sizes = {size: (groups, rows) for size, groups, rows in report.below}
    bars = [
        {"label": f"{s} 条", "groups": sizes.get(s, (0, 0))[0], "rows": sizes.get(s, (0, 0))[1], "ok": False}
        for s in range(1, report.k)
    ]
    bars.append(
        {
            "label": f"≥{report.k} 条",
            "groups": report.groups - report.groups_below_k,
            "rows": report.rows - report.rows_below_k,
            "ok": True,
        }
    )
    top = max((b["groups"] for b in bars), default=0) or 1
    for i, b in enumerate(bars):
        b["width"] = round(100 * b["groups"] / top, 1)
        b["y"] = i * 26
    return bars


def _page(
    request: Request,
    session,
    actor,
    code: str,
    *,
    quasi: str | None = None,
    problem: Problem | None = None,
    done: str = "",
    status_code: int = 200,
) -> Response:
    found = service.get_opening(session, actor, code)
    provider = found.ref.provider_id
    report, report_error = None, None
    chosen = [c.strip() for c in quasi.split(",") if c.strip()] if quasi else None
    if found.ref.is_published and auth.sees(actor, provider) and (chosen or found.quasi_identifiers):
        try:
            report = service.k_report(session, actor, request.app.state.store, code, chosen)
        except Problem as exc:
            report_error = exc.detail
    items = []
    for item in found.items:
        c = item["code"].lower()
        rule = found.plan.get(c, {})
        level = int(item.get("level") or 1)
        items.append(
            {
                "code": c,
                "name": item.get("name") or c,
                "level": level,
                "method": rule.get("method"),
                "generalise": rule.get("generalise"),
                "served": service.deid.servable(level, rule.get("method", "suppress")),
                "quasi": c in found.quasi_identifiers,
            }
        )
    entry = found.entry
    return render(
        request,
        "opening/dataset.html",
        actor,
        status_code=status_code,
        found=found,
        entry=entry,
        publisher_name=(
            orgs.display_names(session, [entry.published_by]).get(entry.published_by, entry.published_by)
            if entry is not None and entry.published_by
            else ""
        ),
        items=items,
        report=report,
        report_error=report_error,
        bars=_bars(report),
        quasi_text=",".join(chosen) if chosen else ",".join(found.quasi_identifiers),
        status_label=STATUS.get(found.status, found.status),
        methods=Method.choices(),
        generalisations=Generalisation.choices(),
        reasons=NonOpenReason.choices(),
        incidents=IncidentCategory.choices(),
        conclusions=labels(Conclusion),
        bases=labels(Basis),
        open_types=labels(OpenType),
        may_prepare=auth.can_prepare(actor, provider) and found.status != OpenStatus.published,
        may_review=auth.can_review(actor, provider) and found.status != OpenStatus.published,
        may_publish=auth.can_publish(actor) and found.status != OpenStatus.published,
        may_withdraw=entry is not None and auth.can_withdraw(actor, entry),
        may_emergency=auth.can_emergency(actor, provider) and not (entry and entry.emergency),
        is_none=found.ref.open_type not in ("unconditional", "conditional"),
        errors=error_messages(problem) if problem else [],
        problem=problem,
        done=DONE.get(done),
        when=local_time,
        href=_href(code),
        today=clock.today().isoformat(),
    )


@router.get(HOME + "/priorities")
def priorities(
    request: Request, session: DbSession, actor: Reader, year: int | None = None, done: str = ""
) -> Response:
    return _priorities(request, session, actor, year=year, done=done)


def _priorities(request, session, actor, *, year=None, done="", problem: Problem | None = None) -> Response:
    rows = service.list_priorities(session, actor, year=year)
    return render(
        request,
        "opening/priorities.html",
        actor,
        status_code=problem.status if problem else 200,
        rows=rows,
        year=year,
        this_year=clock.today().year,
        may_add=auth.can_keep_priorities(actor),
        errors=error_messages(problem) if problem else [],
        done=DONE.get(done),
        href=_href,
    )


@router.post(HOME + "/priorities")
def add_priority(
    request: Request,
    session: DbSession,
    actor: PriorityKeeper,
    year: Annotated[str, Form(max_length=4)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    resource_code: Annotated[str, Form(max_length=64)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> str:
        if not year.isdigit():
            raise field_error("year", "应为四位年份")
        service.add_priority(
            session,
            actor,
            year=int(year),
            title=title,
            resource_code=resource_code.strip() or None,
            comment=comment,
        )
        return f"{HOME}/priorities?year={year}&done=priority"

    return form_action(request, session, run, lambda p: _priorities(request, session, actor, problem=p))


@router.get(HOME + "/{code:rcode}")
def dataset(
    request: Request,
    session: DbSession,
    actor: Reader,
    code: str,
    quasi: Annotated[str | None, Query(max_length=500)] = None,
    done: str = "",
) -> Response:
    return _page(request, session, actor, code, quasi=quasi, done=done)


def _act(request, session, actor, code: str, run) -> Response:
    check_same_origin(request)

    def action() -> str:
        return f"{_href(code)}?done={run()}"

    return form_action(
        request,
        session,
        action,
        lambda p: _page(request, session, actor, code, problem=p, status_code=p.status),
    )


@router.post(HOME + "/{code:rcode}/plan")
async def save_plan(request: Request, session: DbSession, actor: Preparer, code: str) -> Response:
    form = await request.form()
    plan: dict[str, Any] = {}
    quasi = []
    for key, value in form.multi_items():
        if key.startswith("method_"):
            c = key[len("method_") :]
            entry = {"method": str(value)}
            how = form.get(f"generalise_{c}")
            if value == Method.generalise and how:
                entry["generalise"] = str(how)
            plan[c] = entry
        elif key == "quasi":
            quasi.append(str(value))
    open_type = str(form.get("open_type") or "") or None

    def run() -> str:
        service.save_plan(session, actor, code, plan=plan, quasi_identifiers=quasi, open_type=open_type)
        return "plan"

    return _act(request, session, actor, code, run)


@router.post(HOME + "/{code:rcode}/review")
def review(
    request: Request,
    session: DbSession,
    actor: Reviewer,
    code: str,
    conclusion: Annotated[str, Form(max_length=16)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def run() -> str:
        service.review(session, actor, code, conclusion=conclusion, comment=comment)
        return "review"

    return _act(request, session, actor, code, run)


@router.post(HOME + "/{code:rcode}/publish")
def publish(request: Request, session: DbSession, actor: Publisher, code: str) -> Response:
    def run() -> str:
        service.publish(session, actor, request.app.state.store, code)
        return "published"

    return _act(request, session, actor, code, run)


@router.post(HOME + "/{code:rcode}/withdraw")
def withdraw(
    request: Request,
    session: DbSession,
    actor: Publisher,
    code: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def run() -> str:
        service.withdraw(session, actor, code, reason=reason)
        return "withdrawn"

    return _act(request, session, actor, code, run)


@router.post(HOME + "/{code:rcode}/emergency")
def emergency(
    request: Request,
    session: DbSession,
    actor: EmergencyPublisher,
    code: str,
    category: Annotated[str, Form(max_length=32)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    def run() -> str:
        service.emergency_open(session, actor, request.app.state.store, code, category=category, title=title)
        return "emergency"

    return _act(request, session, actor, code, run)


@router.post(HOME + "/{code:rcode}/non-open-reason")
def non_open_reason(
    request: Request,
    session: DbSession,
    actor: Preparer,
    code: str,
    reason: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def run() -> str:
        service.set_non_open_reason(session, actor, code, reason, note or None)
        return "reason"

    return _act(request, session, actor, code, run)


@router.post(HOME + "/{code:rcode}/consent")
def consent(
    request: Request,
    session: DbSession,
    actor: Preparer,
    code: str,
    holder: Annotated[str, Form(max_length=200)] = "",
    consented_on: Annotated[str, Form(max_length=10)] = "",
    document: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    def run() -> str:
        try:
            day = date.fromisoformat(consented_on)
        except ValueError:
            raise field_error("date", "应为日期（年-月-日）") from None
        service.record_consent(session, actor, code, holder=holder, consented_on=day, document=document)
        return "consent"

    return _act(request, session, actor, code, run)
