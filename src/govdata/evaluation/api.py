"""Routes of the scorecards (SPEC §15 supervision: ``GET /api/v1/scorecards?period=2026``,
``PUT /api/v1/scorecards/weights``; SUP-1, SUP-3)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from govdata.core import clock
from govdata.core.auth import DbSession
from govdata.core.errors import register_field_labels
from govdata.core.schemas import ApiRoute
from govdata.evaluation import service
from govdata.evaluation.auth import ManualScorer, PeriodCloser, ScorecardReader, WeightsSetter
from govdata.evaluation.schemas import (
    DepartmentFiguresOut,
    FigureOut,
    ManualIn,
    ManualOut,
    MeasureOut,
    RegionScorecardOut,
    ScorecardOut,
    WeightsIn,
    WeightsOut,
)

router = APIRouter(prefix="/api/v1", tags=["监督考核"], route_class=ApiRoute)

register_field_labels(
    {
        "period": "考核周期",
        "weights": "指标权重",
        "indicator": "考核指标",
        "score": "评分",
        "evidence": "评估依据",
        "department_id": "部门",
    }
)


def _card(card: service.Scorecard) -> dict:
    return asdict(card)


@router.get(
    "/scorecards",
    response_model=ScorecardOut | RegionScorecardOut,
    summary="考核评估排名：各部门（level=department）或下级地区（level=region）",
)
def read_scorecard(
    session: DbSession,
    actor: ScorecardReader,
    period: Annotated[str | None, Query(max_length=16, description="2026 或 2026-Q3；不填即本年度")] = None,
    level: Annotated[str, Query(pattern="^(department|region)$")] = "department",
) -> dict:
    period = period or this_year()
    if level == "region":
        return {**asdict(service.region_scorecard(session, actor, period)), "level": "region"}
    return _card(service.scorecard(session, actor, period))


@router.get("/scorecards/measures", response_model=list[MeasureOut], summary="考核指标及默认权重")
def list_measures(actor: ScorecardReader) -> list[MeasureOut]:
    return [
        MeasureOut(
            name=m.name,
            label=m.label_zh,
            unit=m.unit,
            higher_is_better=m.higher_is_better,
            kind=m.kind,
            description=m.description_zh,
            default_weight=service.DEFAULT_WEIGHTS.get(m.name, 0.0),
        )
        for m in service.MEASURES.values()
    ]


@router.put(
    "/scorecards/weights", response_model=WeightsOut, summary="设置一个考核周期的指标与权重（主管部门）"
)
def set_weights(session: DbSession, actor: WeightsSetter, body: WeightsIn) -> WeightsOut:
    period = body.period or this_year()
    weights = service.set_weights(session, actor, period, body.weights)
    return WeightsOut(period=service.parse_period(period).label, weights=weights)


def this_year() -> str:
    """The period a request that names none is about: this year (China time)."""
    return str(clock.today().year)


@router.post(
    "/scorecards/{period}/close", response_model=ScorecardOut, summary="锁定已结束的考核周期（主管部门）"
)
def close_period(session: DbSession, actor: PeriodCloser, period: str) -> dict:
    return _card(service.close_period(session, actor, period))


@router.post(
    "/scorecards/{period}/manual",
    response_model=ManualOut,
    status_code=201,
    summary="录入第三方评估得分（评估机构）",
)
def enter_manual(session: DbSession, actor: ManualScorer, period: str, body: ManualIn) -> ManualOut:
    entry = service.enter_manual_score(
        session, actor, period, body.department_id, body.indicator, body.score, body.evidence
    )
    return ManualOut(period=service.parse_period(period).label, **asdict(entry))


@router.get(
    "/scorecards/{period}/departments/{department_id}",
    response_model=DepartmentFiguresOut,
    summary="部门考核明细：每个得分背后的数字及其清单链接",
)
def department_figures(session: DbSession, actor: ScorecardReader, period: str, department_id: int) -> dict:
    result = service.department_figures(session, actor, period, department_id)
    return {
        **asdict(result),
        "figures": [
            FigureOut(
                measure=f.measure,
                label=f.label_zh,
                unit=f.unit,
                description=f.description_zh,
                value=f.value,
                numerator=f.numerator,
                denominator=f.denominator,
                indicator_score=f.indicator_score,
                weight=f.weight,
                link=f.link,
            )
            for f in result.figures
        ],
        "manual": [ManualOut(period=result.period, **asdict(m)) for m in result.manual],
    }
