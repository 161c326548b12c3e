"""The figures of the annual report (SUP-4), gathered section by section.

Every per-department figure is the scorecard's of the period ``YYYY`` (``evaluation.service``), so the
report and the ranking never disagree; the region's figure of a measure is the sum of the departments'
counts, or the mean of their rates, scores and durations. Violations and rectification come from
supervision's facts (``supervision.service.violations_detected``) for the China calendar year.

The sections are gathered one at a time (:data:`SECTIONS`), so that the command line can show its
progress over them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from statistics import fmean

from markupsafe import Markup
from sqlalchemy.orm import Session

from govdata.core import clock
from govdata.core.auth import Actor, require
from govdata.evaluation import charts
from govdata.evaluation import service as evaluation
from govdata.evaluation.report.auth import REPORT_READ
from govdata.orgs import service as orgs
from govdata.supervision import service as supervision
from govdata.supervision.enums import ESCALATION_STEPS, NoticeStatus, ViolationKind, ViolationStatus

# The areas of SUP-4, in the report's order: (key, title, what the measures' names start with).
AREAS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("catalog", "目录编制", ("catalog",)),
    ("aggregation", "数据归集", ("aggregation", "batch")),
    ("quality", "数据质量", ("quality",)),
    ("sharing", "共享服务", ("response", "refusal", "objection", "services", "shar", "application")),
    ("opening", "数据开放", ("open",)),
)
CHART_ROWS = 20  # departments drawn in an area's chart; every department is in its table
MONTHS = tuple(f"{m}月" for m in range(1, 13))


@dataclass(frozen=True)
class MeasureRef:
    """A measure as the report shows it: counts add up over departments, rates (kept as fractions
    by the scorecard) are shown as percentages, and every other measure is averaged."""

    name: str
    label: str
    unit: str
    higher_is_better: bool
    kind: str

    @property
    def adds_up(self) -> bool:
        return self.kind == "count"

    def shown(self, value: float | int | None) -> float | None:
        """The value as printed (a rate as a percentage), rounded to two places."""
        if value is None:
            return None
        return round(float(value) * (100 if self.kind == "rate" else 1), 2)


@dataclass(frozen=True)
class RegionFigure:
    """A measure over the region: its figure (sum or mean), over how many departments it was
    measured, and the best and the worst department."""

    measure: MeasureRef
    value: float | None
    how: str  # 合计 | 平均
    measured: int
    best: tuple[str, float] | None
    worst: tuple[str, float] | None


@dataclass(frozen=True)
class DepartmentRow:
    department_id: int
    name: str
    rank: int | None
    score: float | None
    values: dict[str, float | int | None]


@dataclass
class AreaSection:
    key: str
    title: str
    headline: MeasureRef | None
    measures: list[MeasureRef]
    figures: list[RegionFigure]
    rows: list[DepartmentRow]
    chart: Markup
    chart_note: str
    has_data: bool


@dataclass
class ViolationSection:
    total: int
    by_status: list[tuple[str, int]]
    by_kind: list[tuple[str, int, int, int]]  # label, detected, confirmed or rectified, rectified
    by_department: list[tuple[str, int, int, int]]  # name, violations, notices open, escalated
    notices_opened: int
    notices_closed: int
    notices_escalated: int
    steps: list[tuple[str, int]]
    status_chart: Markup
    monthly_chart: Markup


@dataclass
class AnnualReport:
    year: int
    region: str
    authority: str
    generated_at: datetime
    frozen: bool
    weights: dict[str, float] = field(default_factory=dict)
    departments: list[DepartmentRow] = field(default_factory=list)
    measures: list[MeasureRef] = field(default_factory=list)
    overview: dict[str, object] = field(default_factory=dict)
    other_figures: list[RegionFigure] = field(default_factory=list)  # measures of no area
    score_chart: Markup = Markup("")
    areas: list[AreaSection] = field(default_factory=list)
    violations: ViolationSection | None = None

    @property
    def has_data(self) -> bool:
        measured = any(
            row.score is not None or any(v is not None for v in row.values.values())
            for row in self.departments
        )
        return measured or bool(self.violations and self.violations.total)


# --- helpers ------------------------------------------------------------------------------------


def _measure_refs() -> list[MeasureRef]:
    return [
        MeasureRef(name, m.label_zh, m.unit, m.higher_is_better, m.kind)
        for name, m in evaluation.MEASURES.items()
    ]


def _area_of(name: str) -> str | None:
    for key, _, prefixes in AREAS:
        if name.startswith(prefixes):
            return key
    return None


def _region_figure(measure: MeasureRef, rows: list[DepartmentRow]) -> RegionFigure:
    measured = [
        (row.name, measure.shown(row.values[measure.name]))
        for row in rows
        if row.values.get(measure.name) is not None
    ]
    if not measured:
        return RegionFigure(measure, None, "合计" if measure.adds_up else "平均", 0, None, None)
    values = [v for _, v in measured]
    value = round(sum(values) if measure.adds_up else fmean(values), 2)
    ordered = sorted(measured, key=lambda nv: nv[1], reverse=measure.higher_is_better)
    return RegionFigure(
        measure, value, "合计" if measure.adds_up else "平均", len(measured), ordered[0], ordered[-1]
    )


def _headline(measures: list[MeasureRef]) -> MeasureRef:
    """The measure an area's chart shows: its first rate or score, else its first measure."""
    return next((m for m in measures if m.kind in ("rate", "score")), measures[0])


def _year_span(year: int) -> tuple[datetime, datetime]:
    """The China calendar year as UTC instants."""
    start = datetime.combine(date(year, 1, 1), time(), clock.CHINA)
    end = datetime.combine(date(year + 1, 1, 1), time(), clock.CHINA)
    return start, end


# --- the sections --------------------------------------------------------------------------------


def _gather_overview(session: Session, actor: Actor, report: AnnualReport) -> None:
    """The year's scorecard: every department's score, rank and measures."""
    card = evaluation.scorecard(session, actor, str(report.year))
    report.frozen = card.frozen
    report.weights = dict(card.weights)
    report.measures = _measure_refs()
    report.departments = [
        DepartmentRow(item.department_id, item.department_name, item.rank, item.score, dict(item.measures))
        for item in sorted(card.items, key=lambda i: (i.rank is None, i.rank or 0, i.department_name))
    ]
    scores = [row.score for row in report.departments if row.score is not None]
    report.overview = {
        "departments": len(report.departments),
        "scored": len(scores),
        "mean": fmean(scores) if scores else None,
        "best": report.departments[0] if scores else None,
        "worst": next((row for row in reversed(report.departments) if row.score is not None), None),
    }
    report.other_figures = [
        _region_figure(m, report.departments) for m in report.measures if _area_of(m.name) is None
    ]
    shown = [row for row in report.departments if row.score is not None][:CHART_ROWS]
    report.score_chart = charts.horizontal_bars(
        [charts.Bar(row.name, round(row.score, 2)) for row in shown if row.score is not None],
        title=f"{report.year} 年度各部门综合得分",
        unit="分",
        maximum=100,
        empty="本年度没有部门的综合得分",
    )


def _area(report: AnnualReport, key: str, title: str) -> AreaSection:
    measures = [m for m in report.measures if _area_of(m.name) == key]
    rows = report.departments
    if not measures:
        empty = charts.horizontal_bars([], title=title)
        return AreaSection(key, title, None, [], [], rows, empty, "", False)
    figures = [_region_figure(m, rows) for m in measures]
    headline = _headline(measures)
    measured = [(row, headline.shown(row.values.get(headline.name))) for row in rows]
    measured = [(row, value) for row, value in measured if value is not None]
    measured.sort(key=lambda rv: rv[1], reverse=headline.higher_is_better)
    shown = measured[:CHART_ROWS]
    chart = charts.horizontal_bars(
        [charts.Bar(row.name, value) for row, value in shown],
        title=f"{report.year} 年度各部门{headline.label}",
        unit=headline.unit,
        maximum=100 if headline.unit in ("%", "分") else None,
        empty=f"本年度没有部门的{headline.label}数据",
    )
    best = "最好" if headline.higher_is_better else "用时最短"
    note = (
        f"图示{headline.label}{best}的 {len(shown)} 个部门，全部 {len(measured)} 个部门见下表。"
        if len(measured) > len(shown)
        else f"图示{headline.label}，共 {len(measured)} 个部门有数据。"
    )
    has_data = any(f.value is not None for f in figures)
    return AreaSection(key, title, headline, measures, figures, rows, chart, note, has_data)


def _area_gatherer(key: str, title: str) -> Callable[[Session, Actor, AnnualReport], None]:
    def gather(session: Session, actor: Actor, report: AnnualReport) -> None:
        report.areas.append(_area(report, key, title))

    gather.__doc__ = f"The {key} section: the region's figures, the chart and the table."
    return gather


def _gather_violations(session: Session, actor: Actor, report: AnnualReport) -> None:
    """Violations detected in the year and their rectification notices."""
    facts = supervision.violations_detected(session, *_year_span(report.year))
    names = orgs.department_names(session, {f.department_id for f in facts})
    by_status = Counter(f.status for f in facts)
    statuses = [(ViolationStatus(s).label, by_status[s]) for s in ViolationStatus if by_status[s]]
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    departments: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    detected, rectified = [0] * 12, [0] * 12
    steps = Counter()
    for fact in facts:
        counts = kinds[fact.kind]
        counts[0] += 1
        counts[1] += fact.status in (ViolationStatus.confirmed, ViolationStatus.rectified)
        counts[2] += fact.status == ViolationStatus.rectified
        row = departments[fact.department_id]
        row[0] += 1
        row[1] += fact.notice_status in (NoticeStatus.open, NoticeStatus.answered)
        row[2] += fact.notice_step > 0
        detected[fact.detected_at.astimezone(clock.CHINA).month - 1] += 1
        closed = fact.notice_closed_at
        if closed is not None and closed.astimezone(clock.CHINA).year == report.year:
            rectified[closed.astimezone(clock.CHINA).month - 1] += 1
        for number in range(1, fact.notice_step + 1):
            steps[number] += 1
    report.violations = ViolationSection(
        total=len(facts),
        by_status=statuses,
        by_kind=[(ViolationKind(k).label, *v) for k, v in sorted(kinds.items(), key=lambda kv: -kv[1][0])],
        by_department=sorted(
            ((names.get(d, str(d)), *v) for d, v in departments.items()), key=lambda r: (-r[1], r[0])
        ),
        notices_opened=sum(1 for f in facts if f.notice_status is not None),
        notices_closed=sum(1 for f in facts if f.notice_status == NoticeStatus.closed),
        notices_escalated=sum(1 for f in facts if f.notice_step > 0),
        steps=[(step.label, steps[n]) for n, step in enumerate(ESCALATION_STEPS, start=1)],
        status_chart=charts.split_bar(
            [charts.Share(label, count) for label, count in statuses],
            title=f"{report.year} 年度违规记录处理状态",
            unit="条",
            empty="本年度未发现违规",
        ),
        monthly_chart=charts.columns(
            MONTHS,
            [charts.Series("发现违规", detected), charts.Series("整改销号", rectified)],
            title=f"{report.year} 年度每月发现违规与整改销号",
            unit="条",
            empty="本年度未发现违规",
        ),
    )


# (title shown by the progress bar, gatherer), in the report's order
SECTIONS: tuple[tuple[str, Callable[[Session, Actor, AnnualReport], None]], ...] = (
    ("总体情况与综合得分", _gather_overview),
    *((title, _area_gatherer(key, title)) for key, title, _ in AREAS),
    ("违规与整改", _gather_violations),
)


def annual_report(
    session: Session,
    actor: Actor,
    year: int,
    *,
    progress: Callable[[str], None] | None = None,
) -> AnnualReport:
    """The year's report, for the authority or an evaluator; ``progress`` is told each section's title
    once it is gathered."""
    require(actor, REPORT_READ)
    evaluation.parse_period(str(year))  # the year's bounds are the scorecard's
    node = orgs.node_ref(session)
    authority = orgs.authority_department(session)
    report = AnnualReport(
        year=year,
        region=node.name if node else "",
        authority=authority[1] if authority else "数据资源主管部门",
        generated_at=clock.now(),
        frozen=False,
    )
    for title, gather in SECTIONS:
        gather(session, actor, report)
        if progress:
            progress(title)
    return report
