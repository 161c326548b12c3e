"""Pages of data quality (QUA-1, QUA-2, NF-5): a resource's quality page with its charts, criteria and
problems (report form for consumers, answer forms for the provider), and the 数据质量 overview.

Like the API, every page calls :mod:`govdata.quality.service`, which checks the caller's right and the
resource's visibility again; a refused or invalid form is shown on the page in Chinese with the
entered values kept.

The catalog's resource page shows the scores in the partial ``quality/_panel.html``: this module
registers :func:`quality_panel` as a resource panel (``govdata.web.register_resource_panel``), so the
catalog renders it without knowing quality.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.core.auth import Actor, DbSession
from govdata.core.errors import NotFound, PermissionDenied, Problem
from govdata.quality import charts, service
from govdata.quality.auth import (
    PROBLEM_READ,
    DepartmentQualityReader,
    ProblemAnswerer,
    ProblemReporter,
    QualityComputer,
    QualityReader,
    can_answer,
    can_recompute,
    can_report,
    is_consumer,
    sees_every_department,
)
from govdata.quality.models import PROBLEM_STATUS_LABELS
from govdata.quality.schemas import AnswerAction, AnswerIn, ProblemIn
from govdata.web import (
    check_same_origin,
    field_messages,
    form_action,
    local_time,
    nav_item,
    register_resource_panel,
    render,
)

router = APIRouter(include_in_schema=False)

nav_item("数据质量", "/quality", PROBLEM_READ, order=60)

DONE_MESSAGES = {
    "reported": "已提交质量问题，提供部门将在答复期限内答复。",
    "confirm": "已确认该问题，请整改后标记为已整改。",
    "fix": "已标记为已整改，反馈方将看到整改说明。",
    "reject": "已驳回，反馈方将看到驳回理由。",
    "computed": "已重新计算质量评分。",
}
STATUS_BADGES = {"open": "warn", "confirmed": "info", "fixed": "ok", "rejected": "off"}


def quality_href(code: str, suffix: str = "") -> str:
    return "/quality/" + quote(code, safe="/") + suffix


def score_text(score: float | None) -> str:
    return "—" if score is None else f"{score:.2f}".rstrip("0").rstrip(".")


def _helpers() -> dict[str, Any]:
    return {
        "local_time": local_time,
        "score_text": score_text,
        "score_colour": charts.score_colour,
        "quality_href": quality_href,
        "status_badges": STATUS_BADGES,
        "status_labels": PROBLEM_STATUS_LABELS,
    }


def _data_dir(request: Request):
    return request.app.state.settings.data_dir


def quality_panel(request: Request, session: Session, actor: Actor, code: str) -> dict[str, Any] | None:
    """The context ``quality/_panel.html`` expects, or None when the caller may not see the scores.
    Reads only: showing the scores never computes or stores them."""
    try:
        view = service.resource_quality(session, actor, code)
    except (NotFound, PermissionDenied):
        return None
    return {
        **view,
        "bars": charts.dimension_bars(view["dimensions"]),
        "line": charts.overall_line(view["history"]),
        "href": quality_href(code),
        **_helpers(),
    }


register_resource_panel("quality", quality_panel, order=10)


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    code: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    quality = quality_panel(request, session, actor, code)
    if quality is None:
        raise NotFound(f"资源 {code} 不存在。")
    resource = service.quality_resource(session, actor, code)
    # the report form picks an item by name rather than asking for its code (#13 item 22)
    report_items = [
        (i.get("code"), i.get("name")) for i in catalog.published_body(session, resource).get("items", [])
    ]
    problems: list[dict[str, Any]] = []
    if actor.has(PROBLEM_READ):
        items, _ = service.list_problems(session, actor, code, limit=200)
        problems = service.problem_views(session, actor, items)
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    return render(
        request,
        "quality/resource.html",
        actor,
        status_code=status_code,
        quality=quality,
        problems=problems,
        open_problems=[p for p in problems if p["status"] in ("open", "confirmed")],
        closed_problems=[p for p in problems if p["status"] not in ("open", "confirmed")],
        may_report=can_report(actor, resource),
        report_items=report_items,
        may_answer=can_answer(actor, resource),
        may_recompute=can_recompute(actor, resource) and resource.published_version is not None,
        is_provider=not is_consumer(actor, resource),
        done=done,
        active_href="/quality",
        **_helpers(),
        **context,
    )


@router.get("/quality/{code:rcode}")
def quality_page(request: Request, session: DbSession, actor: QualityReader, code: str) -> Response:
    return _page(request, session, actor, code)


def _action(request: Request, session: Session, actor: Actor, code: str, run, **context) -> Response:
    """Run a form's action (``run`` returns where to go next); a refusal shows the resource's quality
    page again with the error and ``context`` (the entered values)."""

    def show_error(exc: Problem) -> Response:
        return _page(
            request,
            session,
            actor,
            code,
            status_code=exc.status,
            error=exc.detail,
            error_fields=field_messages(exc),
            **context,
        )

    return form_action(request, session, run, show_error)


@router.post("/quality/{code:rcode}/problems")
def report_problem(
    request: Request,
    session: DbSession,
    actor: ProblemReporter,
    code: str,
    description: Annotated[str, Form(max_length=4000)] = "",
    record_key: Annotated[str, Form(max_length=200)] = "",
    item: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    check_same_origin(request)
    form = {"description": description, "record_key": record_key, "item": item}

    def run() -> str:
        data = ProblemIn(description=description, record_key=record_key or None, item=item or None)
        service.report_problem(session, actor, code, data)
        return quality_href(code, "?done=reported#problems")

    return _action(request, session, actor, code, run, form=form, form_target="report")


@router.post("/quality/{code:rcode}/problems/{problem_id}/answer")
def answer_problem(
    request: Request,
    session: DbSession,
    actor: ProblemAnswerer,
    code: str,
    problem_id: int,
    action: Annotated[str, Form(max_length=16)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)

    def run() -> str:
        if action not in AnswerAction.__members__:
            raise service.invalid_field("action", "处理方式", "请选择确认、已整改或驳回")
        problem = service.get_problem(session, actor, problem_id)
        if problem.resource_code != code:
            raise NotFound(f"质量问题 {problem_id} 不存在。")
        service.answer_problem(session, actor, problem_id, AnswerIn(action=action, reason=reason or None))
        return quality_href(code, f"?done={action}#problems")

    answer_form = {"id": problem_id, "action": action, "reason": reason}
    return _action(request, session, actor, code, run, answer_form=answer_form)


@router.post("/quality/{code:rcode}/compute")
def recompute(request: Request, session: DbSession, actor: QualityComputer, code: str) -> Response:
    check_same_origin(request)

    def run() -> str:
        service.recompute(session, actor, request.app.state.store, code, data_dir=_data_dir(request))
        return quality_href(code, "?done=computed")

    return _action(request, session, actor, code, run)


@router.get("/quality")
def overview(request: Request, session: DbSession, actor: DepartmentQualityReader) -> Response:
    """The authority sees every department's score; a department its own score, resources and problems."""
    departments: list[dict[str, Any]] = []
    mine = None
    if sees_every_department(actor):
        departments = service.departments_overview(session, actor)
    elif actor.department_id is not None:
        mine = service.department_quality(session, actor, actor.department_id)
        mine["line"] = charts.overall_line(mine["history"], title="本部门综合得分变化")
        mine["bars"] = charts.dimension_bars(
            {d: {"score": s, "label": service.LABELS[d]} for d, s in mine["dimensions"].items()},
            title="本部门各维度平均得分",
        )
    received, _ = service.department_problems(session, actor, side="received", status="unresolved", limit=100)
    reported, _ = service.department_problems(session, actor, side="reported", limit=100)
    every: list = []
    if sees_every_department(actor):
        every, _ = service.department_problems(session, actor, status="unresolved", limit=100)
    return render(
        request,
        "quality/overview.html",
        actor,
        departments=departments,
        mine=mine,
        received=service.problem_views(session, actor, received),
        reported=service.problem_views(session, actor, reported),
        every=service.problem_views(session, actor, every),
        labels=service.LABELS,
        active_href="/quality",
        **_helpers(),
    )
