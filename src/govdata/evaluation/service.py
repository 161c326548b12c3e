"""Scorecards (SUP-1, SUP-3): per period, every department's measures computed from the facts of the
capabilities (``facts``), turned into 0–100 indicator scores and a weighted score (``measures``),
ranked; the authority's weights per period; manual scores by a third-party evaluator; closing a
period freezes its scorecard; the counties of the node ranked from their departments.

Reading an open period computes it from the facts now, so recomputing from the same facts gives the
same numbers; a closed period returns what was stored when it was closed (docs/evaluation.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import fmean
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from govdata.core import audit, clock
from govdata.core.auth import Actor, enforce, require
from govdata.core.db import utcnow
from govdata.core.errors import Conflict, NotFound, fields_error
from govdata.evaluation import facts
from govdata.evaluation.auth import (
    SCORECARD_CLOSE,
    SCORECARD_MANUAL,
    SCORECARD_READ,
    SCORECARD_WEIGHTS,
    figures_refusal,
    follows_figure_links,
)
from govdata.evaluation.facts import Figure
from govdata.evaluation.measures import (  # noqa: F401  (the public surface)
    DEFAULT_WEIGHTS,
    MAIN_MEASURES,
    MEASURES,
    Measure,
    indicator_scores,
    ranks,
    weighted_score,
)
from govdata.evaluation.models import ClosedPeriod, ManualScore, PeriodWeight
from govdata.orgs import service as orgs

MAX_WEIGHT = 1000
"""Weights are relative; the bound keeps them readable (and refuses NaN and infinity)."""

# --- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A period of evaluation: ``2026`` (a year) or ``2026-Q3`` (a quarter); ``end`` is exclusive
    (China dates)."""

    label: str
    start: date
    end: date


_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4]))?$")


def parse_period(label: str) -> Period:
    """``2026`` → the year, ``2026-Q3`` → the quarter; anything else is a 422 problem."""
    match = _PERIOD.match((label or "").strip())
    year = int(match.group(1)) if match else 0
    if not match or not 2000 <= year <= 2999:
        raise fields_error(
            f"考核周期“{label}”无效：应为年份（如 2026）或季度（如 2026-Q3）。",
            {"period": "应为 YYYY 或 YYYY-Qn"},
        )
    if match.group(2):
        quarter = int(match.group(2))
        start = date(year, 3 * quarter - 2, 1)
        end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return Period(f"{year}-Q{quarter}", start, end)
    return Period(str(year), date(year, 1, 1), date(year + 1, 1, 1))


# --- what a scorecard is -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScorecardItem:
    department_id: int
    department_name: str
    score: float | None
    rank: int | None
    measures: dict[str, float | int | None]
    indicator_scores: dict[str, float | None]


@dataclass(frozen=True)
class Scorecard:
    period: str
    frozen: bool
    computed_at: datetime
    weights: dict[str, float]
    items: list[ScorecardItem] = field(default_factory=list)  # ranked, best first


@dataclass(frozen=True)
class RegionItem:
    """A county (or other region below the node's) ranked by the mean score of its departments."""

    region_code: str
    region_name: str
    departments: int
    scored: int
    score: float | None
    rank: int | None
    measures: dict[str, float | None]


@dataclass(frozen=True)
class RegionScorecard:
    period: str
    frozen: bool
    computed_at: datetime
    weights: dict[str, float]
    node_region: str | None
    items: list[RegionItem]


@dataclass(frozen=True)
class FigureView:
    measure: str
    label_zh: str
    unit: str
    description_zh: str
    value: float | int | None
    numerator: float | int | None
    denominator: float | int | None
    indicator_score: float | None
    weight: float
    link: str | None


@dataclass(frozen=True)
class ManualView:
    department_id: int
    indicator: str
    score: float
    evidence: str
    entered_by: str
    entered_at: datetime


@dataclass(frozen=True)
class DepartmentFigures:
    period: str
    frozen: bool
    department_id: int
    department_name: str
    score: float | None
    rank: int | None
    figures: list[FigureView]
    manual: list[ManualView]


# --- computing -----------------------------------------------------------------------------------


@dataclass
class _Computed:
    computed_at: datetime
    weights: dict[str, float]
    figures: dict[int, dict[str, Figure]]
    manual: list[ManualView]
    names: dict[int, str]
    regions: dict[int, str]
    items: list[ScorecardItem]


def weights_of(session: Session, period: str) -> dict[str, float]:
    """The weights the authority set for a period, or the defaults (actor-free)."""
    rows = session.execute(
        select(PeriodWeight.measure, PeriodWeight.weight).where(PeriodWeight.period == period)
    )
    weights = {m: float(w) for m, w in rows.all() if m in MEASURES}
    return weights or dict(DEFAULT_WEIGHTS)


def _manual(session: Session, period: str) -> list[ManualView]:
    rows = session.scalars(
        select(ManualScore)
        .where(ManualScore.period == period)
        .order_by(ManualScore.department_id, ManualScore.id)
    )
    return [
        ManualView(r.department_id, r.indicator, r.score, r.evidence, r.entered_by, r.entered_at)
        for r in rows
    ]


def _compute(session: Session, period: Period) -> _Computed:
    figures = facts.gather(session, period.start, period.end)
    manual = _manual(session, period.label)
    for entry in manual:
        figures.setdefault(entry.department_id, {})[entry.indicator] = Figure(entry.score)
    departments = orgs.department_refs(session)
    names = {d.id: d.name for d in departments}
    regions = {d.id: d.region_code for d in departments}
    weights = weights_of(session, period.label)
    return _Computed(utcnow(), weights, figures, manual, names, regions, _rank(names, figures, weights))


def _rank(
    names: dict[int, str], figures: dict[int, dict[str, Figure]], weights: dict[str, float]
) -> list[ScorecardItem]:
    values = {d: {m: f.value for m, f in figures.get(d, {}).items()} for d in names}
    indicators = indicator_scores(values)
    scores = {d: weighted_score(indicators[d], weights) for d in names}
    ranked = ranks(scores)
    items = [
        ScorecardItem(
            d,
            names[d],
            scores[d],
            ranked[d],
            {m: values[d].get(m) for m in MEASURES},
            indicators[d],
        )
        for d in names
    ]
    items.sort(key=lambda i: (i.rank is None, i.rank or 0, i.department_id))
    return items


# --- closed periods: stored as computed ----------------------------------------------------------


def _closed(session: Session, period: str) -> ClosedPeriod | None:
    return session.get(ClosedPeriod, period)


def _payload(computed: _Computed) -> dict[str, Any]:
    return {
        "computed_at": computed.computed_at.isoformat(),
        "weights": computed.weights,
        "names": {str(d): n for d, n in computed.names.items()},
        "regions": {str(d): r for d, r in computed.regions.items()},
        "figures": {
            str(d): {m: [f.value, f.numerator, f.denominator] for m, f in row.items()}
            for d, row in computed.figures.items()
        },
        "manual": [
            {
                "department_id": m.department_id,
                "indicator": m.indicator,
                "score": m.score,
                "evidence": m.evidence,
                "entered_by": m.entered_by,
                "entered_at": m.entered_at.isoformat(),
            }
            for m in computed.manual
        ],
        "items": [
            {
                "department_id": i.department_id,
                "department_name": i.department_name,
                "score": i.score,
                "rank": i.rank,
                "measures": i.measures,
                "indicator_scores": i.indicator_scores,
            }
            for i in computed.items
        ],
    }


def _from_payload(payload: dict[str, Any]) -> _Computed:
    return _Computed(
        computed_at=datetime.fromisoformat(payload["computed_at"]),
        weights={m: float(w) for m, w in payload["weights"].items()},
        figures={int(d): {m: Figure(*f) for m, f in row.items()} for d, row in payload["figures"].items()},
        manual=[
            ManualView(
                m["department_id"],
                m["indicator"],
                m["score"],
                m["evidence"],
                m["entered_by"],
                datetime.fromisoformat(m["entered_at"]),
            )
            for m in payload["manual"]
        ],
        names={int(d): n for d, n in payload["names"].items()},
        regions={int(d): r for d, r in payload["regions"].items()},
        items=[ScorecardItem(**i) for i in payload["items"]],
    )


def _current(session: Session, period: Period) -> tuple[_Computed, bool]:
    """The period's scorecard: the stored one when closed, else computed now."""
    if closed := _closed(session, period.label):
        return _from_payload(closed.payload), True
    return _compute(session, period), False


# --- use cases -----------------------------------------------------------------------------------


def scorecard(session: Session, actor: Actor, period_label: str) -> Scorecard:
    """Every department's score, rank and measures in the period, best first. The ranking is read by
    the authority, the evaluator, the administrator, the auditor and department staff alike."""
    require(actor, SCORECARD_READ)
    period = parse_period(period_label)
    computed, frozen = _current(session, period)
    return Scorecard(period.label, frozen, computed.computed_at, computed.weights, computed.items)


def region_scorecard(session: Session, actor: Actor, period_label: str) -> RegionScorecard:
    """The regions below the node's (the counties of a city node) ranked by the mean score of their
    departments; each measure the mean over the departments that have it. The node's own departments
    are not a region below it and are left out."""
    require(actor, SCORECARD_READ)
    period = parse_period(period_label)
    computed, frozen = _current(session, period)
    node = orgs.node_ref(session)
    region_names = {r.code: r.name for r in orgs.node_regions(session)}
    groups: dict[str, list[ScorecardItem]] = {}
    for item in computed.items:
        code = computed.regions.get(item.department_id)
        if code and (node is None or code != node.region_code):
            groups.setdefault(code, []).append(item)
    scores: dict[str, float | None] = {}
    measures: dict[str, dict[str, float | None]] = {}
    for code, members in groups.items():
        scored = [i.score for i in members if i.score is not None]
        scores[code] = round(fmean(scored), 2) if scored else None
        measures[code] = {}
        for name in MEASURES:
            present = [float(i.measures[name]) for i in members if i.measures.get(name) is not None]
            measures[code][name] = round(fmean(present), 4) if present else None
    order = {code: n for n, code in enumerate(sorted(groups))}
    ranked = ranks({order[c]: s for c, s in scores.items()})
    items = [
        RegionItem(
            code,
            region_names.get(code, code),
            len(groups[code]),
            sum(1 for i in groups[code] if i.score is not None),
            scores[code],
            ranked[order[code]],
            measures[code],
        )
        for code in groups
    ]
    items.sort(key=lambda i: (i.rank is None, i.rank or 0, i.region_code))
    return RegionScorecard(
        period.label,
        frozen,
        computed.computed_at,
        computed.weights,
        node.region_code if node else None,
        items,
    )


def department_figures(
    session: Session, actor: Actor, period_label: str, department_id: int
) -> DepartmentFigures:
    """The figures behind every score of one department: per measure the value, its numerator and
    denominator, its indicator score and weight, and the link to the list behind it."""
    enforce(figures_refusal(actor, department_id))
    period = parse_period(period_label)
    computed, frozen = _current(session, period)
    item = next((i for i in computed.items if i.department_id == department_id), None)
    if item is None:
        raise NotFound(f"部门 {department_id} 不存在。")
    row = computed.figures.get(department_id, {})
    links = follows_figure_links(actor)
    views = [
        FigureView(
            name,
            measure.label_zh,
            measure.unit,
            measure.description_zh,
            row.get(name, facts.NONE).value,
            row.get(name, facts.NONE).numerator,
            row.get(name, facts.NONE).denominator,
            item.indicator_scores.get(name),
            computed.weights.get(name, 0.0),
            list_link(name, department_id, period) if links else None,
        )
        for name, measure in MEASURES.items()
    ]
    manual = [m for m in computed.manual if m.department_id == department_id]
    return DepartmentFigures(
        period.label, frozen, department_id, item.department_name, item.score, item.rank, views, manual
    )


def set_weights(
    session: Session, actor: Actor, period_label: str, weights: dict[str, float]
) -> dict[str, float]:
    """The authority picks the indicators of a period and their weights (a measure left out weighs
    nothing). Weights are ≥ 0, at least one > 0; an unknown measure is 422; a closed period's are
    fixed (409)."""
    require(actor, SCORECARD_WEIGHTS)
    period = parse_period(period_label)
    unknown = sorted(set(weights) - set(MEASURES))
    if unknown:
        raise fields_error(
            f"未知的考核指标：{'、'.join(unknown)}。",
            {f"weights.{name}": "未知的考核指标" for name in unknown},
        )
    invalid = sorted(name for name, w in weights.items() if w is None or not 0 <= w <= MAX_WEIGHT)
    if invalid:
        raise fields_error(
            f"权重须是 0 到 {MAX_WEIGHT} 之间的数：{'、'.join(invalid)}。",
            {f"weights.{name}": f"权重须在 0 到 {MAX_WEIGHT} 之间" for name in invalid},
        )
    if not any(w > 0 for w in weights.values()):
        raise fields_error("至少要有一个考核指标的权重大于 0。", {"weights": "全为 0"})
    if _closed(session, period.label):
        raise Conflict(f"考核周期 {period.label} 已锁定，权重不能再修改。", slug="period-closed")
    session.execute(delete(PeriodWeight).where(PeriodWeight.period == period.label))
    for name, weight in weights.items():
        session.add(PeriodWeight(period=period.label, measure=name, weight=float(weight), set_by=actor.name))
    session.flush()
    audit.record(
        session,
        actor,
        "scorecard.weights_set",
        "scorecard_period",
        period.label,
        details={"weights": weights},
    )
    return weights_of(session, period.label)


def close_period(session: Session, actor: Actor, period_label: str) -> Scorecard:
    """The authority closes a period whose end has passed: its scorecard is stored and frozen."""
    require(actor, SCORECARD_CLOSE)
    period = parse_period(period_label)
    if _closed(session, period.label):
        raise Conflict(f"考核周期 {period.label} 已经锁定。", slug="period-closed")
    if clock.today() < period.end:
        raise Conflict(
            f"考核周期 {period.label} 尚未结束（{period.end.isoformat()} 起才能锁定）。",
            slug="period-not-over",
        )
    computed = _compute(session, period)
    session.add(ClosedPeriod(period=period.label, closed_by=actor.name, payload=_payload(computed)))
    session.flush()
    audit.record(
        session,
        actor,
        "scorecard.closed",
        "scorecard_period",
        period.label,
        details={"departments": len(computed.items), "weights": computed.weights},
    )
    return Scorecard(period.label, True, computed.computed_at, computed.weights, computed.items)


def enter_manual_score(
    session: Session,
    actor: Actor,
    period_label: str,
    department_id: int,
    indicator: str,
    score: float,
    evidence: str,
) -> ManualView:
    """A third-party evaluator scores a department on a manual indicator (0–100) with evidence; a new
    entry for the same department and indicator replaces the previous one. Closed periods are fixed."""
    require(actor, SCORECARD_MANUAL)
    period = parse_period(period_label)
    measure = MEASURES.get(indicator)
    if measure is None or measure.kind != "manual":
        manual = "、".join(n for n, m in MEASURES.items() if m.kind == "manual")
        raise fields_error(
            f"“{indicator}”不是人工评分指标（可用：{manual}）。", {"indicator": "不是人工评分指标"}
        )
    if not 0 <= score <= 100:
        raise fields_error("评分须在 0 到 100 之间。", {"score": "0–100"})
    evidence = (evidence or "").strip()
    if not evidence:
        raise fields_error("人工评分须附评估依据。", {"evidence": "不能为空"})
    if department_id not in orgs.department_names(session, [department_id]):
        raise fields_error(f"部门 {department_id} 不存在。", {"department_id": "不存在"})
    if _closed(session, period.label):
        raise Conflict(f"考核周期 {period.label} 已锁定，不能再录入评分。", slug="period-closed")
    row = session.scalar(
        select(ManualScore).where(
            ManualScore.period == period.label,
            ManualScore.department_id == department_id,
            ManualScore.indicator == indicator,
        )
    )
    if row is None:
        row = ManualScore(period=period.label, department_id=department_id, indicator=indicator)
        session.add(row)
    row.score, row.evidence, row.entered_by, row.entered_at = float(score), evidence, actor.name, utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "scorecard.manual_score",
        "department",
        department_id,
        details={"period": period.label, "indicator": indicator, "score": score, "evidence": evidence},
    )
    return ManualView(department_id, indicator, row.score, evidence, actor.name, row.entered_at)


# --- the lists behind the figures ----------------------------------------------------------------


def list_link(measure: str, department_id: int, period: Period) -> str | None:
    """The list page behind a measure, filtered to the department where the list can be (the
    department's page for its catalog tasks, responsibilities and quality; the sharing and
    objections lists show what the reader may see)."""
    d = department_id
    links = {
        "catalog_completeness": f"/catalog?provider_id={d}",
        "catalog_update_timeliness": f"/supervision/violations?kind=catalog_update_late&department_id={d}",
        "aggregation_timeliness": f"/supervision/violations?kind=aggregation_late&department_id={d}",
        "aggregation_completeness": f"/region/departments/{d}",
        "quality_score": f"/region/departments/{d}",
        "response_days": "/sharing?tab=all",
        "response_on_time_rate": "/sharing?tab=all",
        "refusals_with_basis": "/sharing?tab=all",
        "refusals_without_basis": f"/supervision/violations?kind=refusal_without_basis&department_id={d}",
        "objection_review_timeliness": "/objections",
        "services_provided": "/sharing/usage?side=provider",
        "services_consumed": "/sharing/usage?side=consumer",
        "open_datasets": "/opening",
        "open_uses": "/opening",
        "violations_confirmed": f"/supervision/violations?status=confirmed&department_id={d}",
        "notices_rectified_rate": f"/supervision/notices?department_id={d}",
        "manual_assessment": f"/evaluation/scorecards/{period.label}/departments/{d}#manual",
    }
    return links.get(measure)
