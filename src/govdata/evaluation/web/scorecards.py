"""The 考核评估 pages (SUP-1, SUP-3): the ranking of a period, with the weights form and the close
button for the authority; a department's figures, every one linking to the list behind it, with the
manual score form for the third-party evaluator. Forms are offered as ``auth`` allows and enforced
again by the services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.core import clock
from govdata.core.auth import Actor, DbSession
from govdata.core.errors import InvalidInput, Problem, fields_error
from govdata.evaluation import service
from govdata.evaluation.auth import (
    SCORECARD_READ,
    ManualScorer,
    PeriodCloser,
    ScorecardReader,
    WeightsSetter,
    can_close,
    can_enter_manual,
    can_set_weights,
    figures_refusal,
)
from govdata.web import (
    check_same_origin,
    error_messages,
    form_action,
    local_time,
    nav_item,
    render,
    render_error,
)

router = APIRouter(include_in_schema=False)

PAGE = "/evaluation/scorecards"
nav_item("考核评估", PAGE, SCORECARD_READ, order=72)

DONE = {
    "weights": "已保存本期考核指标与权重。",
    "closed": "已锁定本期成绩。",
    "manual": "已录入第三方评估得分。",
}


def _default_period() -> str:
    return str(clock.today().year)


def _fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{100 * float(value):.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}"
    return f"{int(value)}"


def _ranking(
    request: Request,
    session: Session,
    actor: Actor,
    period: str,
    level: str,
    *,
    status_code: int = 200,
    error: str = "",
    done: str = "",
) -> Response:
    period = period or _default_period()
    try:
        card = service.scorecard(session, actor, period)
        regions = service.region_scorecard(session, actor, period) if level == "region" else None
    except InvalidInput as exc:
        return render_error(request, exc)
    measures = {name: service.MEASURES[name] for name in service.MAIN_MEASURES}
    return render(
        request,
        "evaluation/scorecards.html",
        actor,
        status_code=status_code,
        card=card,
        regions=regions,
        level=level,
        measures=measures,
        all_measures=service.MEASURES,
        fmt=_fmt,
        computed_at=local_time(card.computed_at),
        can_set_weights=can_set_weights(actor) and not card.frozen,
        can_close=can_close(actor) and not card.frozen and clock.today() >= service.parse_period(period).end,
        can_open_figures=lambda department_id: figures_refusal(actor, department_id) is None,
        error=error,
        done=DONE.get(done, ""),
    )


@router.get(PAGE)
def scorecards_page(
    request: Request,
    session: DbSession,
    actor: ScorecardReader,
    period: Annotated[str, Query(max_length=16)] = "",
    level: Annotated[str, Query(pattern="^(department|region)$")] = "department",
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return _ranking(request, session, actor, period, level, done=done)


def _ranking_error(request: Request, session: Session, actor: Actor, period: str):
    """A form's refusal shown on the ranking page, with the reason."""

    def show(exc: Problem) -> Response:
        return _ranking(
            request,
            session,
            actor,
            period,
            "department",
            status_code=exc.status,
            error="；".join(error_messages(exc)),
        )

    return show


@router.post(PAGE + "/weights")
async def weights_form(request: Request, session: DbSession, actor: WeightsSetter) -> Response:
    check_same_origin(request)
    form = await request.form()
    period = str(form.get("period", ""))[:16]

    def action() -> str:
        weights: dict[str, float] = {}
        for name in service.MEASURES:
            raw = str(form.get(f"w_{name}", "")).strip()
            if not raw:
                continue
            try:
                weights[name] = float(raw)
            except ValueError:
                raise fields_error(
                    f"“{service.MEASURES[name].label_zh}”的权重须为数字。", {f"weights.{name}": "须为数字"}
                ) from None
        service.set_weights(session, actor, period, weights)
        return f"{PAGE}?period={period}&done=weights"

    return form_action(request, session, action, _ranking_error(request, session, actor, period))


@router.post(PAGE + "/{period}/close")
def close_form(request: Request, session: DbSession, actor: PeriodCloser, period: str) -> Response:
    check_same_origin(request)

    def action() -> str:
        service.close_period(session, actor, period)
        return f"{PAGE}?period={period}&done=closed"

    return form_action(request, session, action, _ranking_error(request, session, actor, period))


def _figures_page(
    request: Request,
    session: Session,
    actor: Actor,
    period: str,
    department_id: int,
    *,
    status_code: int = 200,
    error: str = "",
    done: str = "",
) -> Response:
    result = service.department_figures(session, actor, period, department_id)
    return render(
        request,
        "evaluation/scorecard_department.html",
        actor,
        status_code=status_code,
        result=result,
        fmt=_fmt,
        local_time=local_time,
        manual_indicators={n: m for n, m in service.MEASURES.items() if m.kind == "manual"},
        can_enter_manual=can_enter_manual(actor) and not result.frozen,
        error=error,
        done=DONE.get(done, ""),
    )


@router.get(PAGE + "/{period}/departments/{department_id}")
def department_page(
    request: Request,
    session: DbSession,
    actor: ScorecardReader,
    period: str,
    department_id: int,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    try:
        return _figures_page(request, session, actor, period, department_id, done=done)
    except Problem as exc:
        return render_error(request, exc)


@router.post(PAGE + "/{period}/departments/{department_id}/manual")
def manual_form(
    request: Request,
    session: DbSession,
    actor: ManualScorer,
    period: str,
    department_id: int,
    indicator: Annotated[str, Form(max_length=40)] = "",
    score: Annotated[str, Form(max_length=20)] = "",
    evidence: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_same_origin(request)

    def action() -> str:
        try:
            value = float(score)
        except ValueError:
            raise fields_error("评分须为 0 到 100 之间的数字。", {"score": "须为数字"}) from None
        service.enter_manual_score(session, actor, period, department_id, indicator, value, evidence)
        return f"{PAGE}/{period}/departments/{department_id}?done=manual"

    def show_error(exc: Problem) -> Response:
        return _figures_page(
            request,
            session,
            actor,
            period,
            department_id,
            status_code=exc.status,
            error="；".join(error_messages(exc)),
        )

    return form_action(request, session, action, show_error)
