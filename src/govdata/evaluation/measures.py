"""The measures of a department scorecard (SUP-1), their default weights and the rule that turns each
into a 0–100 indicator score (SUP-3). Pure functions of the figures: ``facts`` gathers the figures,
``service`` stores weights and closes periods. The rules are documented in docs/evaluation.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["rate", "score", "count", "days", "manual"]


@dataclass(frozen=True)
class Measure:
    """One measure: ``kind`` says how its indicator score is computed (rates ×100, scores as they are,
    counts and days scaled against the best department, manual scores as the evaluator gave them)."""

    name: str
    label_zh: str
    unit: str
    higher_is_better: bool
    description_zh: str
    kind: Kind = "rate"


def _m(name: str, label: str, unit: str, higher: bool, kind: Kind, description: str) -> Measure:
    return Measure(name, label, unit, higher, description, kind)


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        _m(
            "catalog_completeness",
            "目录编制完整率",
            "%",
            True,
            "rate",
            "期末已发布资源数 ÷ 期末已登记（未停用）资源数：采集责任清单中已编目发布的比例（CAT-7、CAT-8）。",
        ),
        _m(
            "catalog_update_timeliness",
            "目录更新及时率",
            "%",
            True,
            "rate",
            "本期到期的目录更新任务中按期完成的比例（CAT-7）。",
        ),
        _m(
            "aggregation_timeliness",
            "数据归集及时率",
            "%",
            True,
            "rate",
            "已发布的表格类资源中，本期按更新周期应归集的批次数都已归集的资源比例（AGG-7）。",
        ),
        _m(
            "aggregation_completeness",
            "数据归集完整率",
            "%",
            True,
            "rate",
            "期末已发布的表格类资源中已有数据（至少一个已应用批次）的比例。",
        ),
        _m(
            "quality_score",
            "数据质量平均分",
            "分",
            True,
            "score",
            "本期每个资源最近一次质量评分（综合得分）的平均（QUA-1）。",
        ),
        _m(
            "response_days",
            "共享申请平均答复时长",
            "个工作日",
            False,
            "days",
            "作为提供方，本期答复的共享申请从提交到答复的平均工作日数（SHR-3）。",
        ),
        _m(
            "response_on_time_rate",
            "共享申请按时答复率",
            "%",
            True,
            "rate",
            "作为提供方，本期答复的共享申请中在期限内答复的比例（SHR-3）。",
        ),
        _m(
            "refusals_with_basis",
            "有依据不予共享数",
            "件",
            False,
            "count",
            "本期以法律、行政法规或党中央、国务院政策为依据不予共享的申请数（仅供参考，默认权重为 0）。",
        ),
        _m(
            "refusals_without_basis",
            "无依据不予共享数",
            "件",
            False,
            "count",
            "本期没有有效依据而不予共享的申请数（SHR-3、SUP-2）。",
        ),
        _m(
            "objection_review_timeliness",
            "疑义按时复核率",
            "%",
            True,
            "rate",
            "作为提供方，本期办结的数据疑义中按期复核的比例（COR）。",
        ),
        _m(
            "services_provided",
            "提供共享服务次数",
            "次",
            True,
            "count",
            "本期作为提供方被成功调用共享服务的次数（服务使用日志，SHR-7）。",
        ),
        _m(
            "services_consumed",
            "使用共享服务次数",
            "次",
            True,
            "count",
            "本期作为使用方成功调用共享服务的次数（服务使用日志，SHR-7）。",
        ),
        _m(
            "open_datasets",
            "开放数据集数",
            "个",
            True,
            "count",
            "期末已开放的数据集数（OPN-1）。",
        ),
        _m(
            "open_uses",
            "开放数据利用次数",
            "次",
            True,
            "count",
            "本期开放数据集的下载与接口调用次数（OPN-3、OPN-9）。",
        ),
        _m(
            "violations_confirmed",
            "确认违规数",
            "件",
            False,
            "count",
            "本期发现并经主管部门确认（含已整改）的违规数（SUP-2）。",
        ),
        _m(
            "notices_rectified_rate",
            "整改完成率",
            "%",
            True,
            "rate",
            "本期发出的整改通知中已整改销号的比例（SUP-2）。",
        ),
        _m(
            "manual_assessment",
            "第三方评估得分",
            "分",
            True,
            "manual",
            "第三方评估机构给出的评分（0–100），须附评估依据。",
        ),
    )
}

DEFAULT_WEIGHTS: dict[str, float] = {
    "catalog_completeness": 10,
    "catalog_update_timeliness": 5,
    "aggregation_timeliness": 10,
    "aggregation_completeness": 10,
    "quality_score": 10,
    "response_days": 5,
    "response_on_time_rate": 10,
    "refusals_with_basis": 0,
    "refusals_without_basis": 5,
    "objection_review_timeliness": 5,
    "services_provided": 5,
    "services_consumed": 5,
    "open_datasets": 5,
    "open_uses": 5,
    "violations_confirmed": 5,
    "notices_rectified_rate": 5,
    "manual_assessment": 10,
}
"""Used for a period whose weights the authority has not set (documented in docs/evaluation.md)."""

MAIN_MEASURES = (
    "catalog_completeness",
    "aggregation_timeliness",
    "quality_score",
    "response_on_time_rate",
    "services_provided",
    "violations_confirmed",
)
"""The columns the ranking page shows; every measure is on the department's figures page."""


def indicator_scores(values: dict[int, dict[str, float | int | None]]) -> dict[int, dict[str, float | None]]:
    """Department id → measure → its indicator score 0–100 (None where the measure is None).

    * rate: value × 100; score and manual: the value (clipped to 0–100);
    * count or days where higher is better: 100 × value ÷ the best (largest) value of the period
      (0 when every department's value is 0);
    * where lower is better: 100 × (1 + best) ÷ (1 + value), the best being the smallest value, so the
      best department scores 100 and no division by zero can happen.
    """
    best: dict[str, float] = {}
    for name, measure in MEASURES.items():
        present = [v[name] for v in values.values() if v.get(name) is not None]
        if present and measure.kind in ("count", "days"):
            best[name] = max(present) if measure.higher_is_better else min(present)
    scores: dict[int, dict[str, float | None]] = {}
    for department, measures in values.items():
        row: dict[str, float | None] = {}
        for name, measure in MEASURES.items():
            value = measures.get(name)
            if value is None:
                row[name] = None
            elif measure.kind == "rate":
                row[name] = _clip(100 * float(value))
            elif measure.kind in ("score", "manual"):
                row[name] = _clip(float(value))
            elif measure.higher_is_better:
                row[name] = _clip(100 * float(value) / best[name]) if best[name] else 0.0
            else:
                row[name] = _clip(100 * (1 + best[name]) / (1 + float(value)))
        scores[department] = row
    return scores


def weighted_score(indicators: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """The weighted mean of the indicators that are not None and weigh more than 0; None if none."""
    total = weight_sum = 0.0
    for name, weight in weights.items():
        score = indicators.get(name)
        if score is None or weight <= 0:
            continue
        total += weight * score
        weight_sum += weight
    return round(total / weight_sum, 2) if weight_sum else None


def ranks(scores: dict[int, float | None]) -> dict[int, int | None]:
    """Competition ranking (1, 1, 3): equal scores share a rank; no score, no rank."""
    ordered = sorted((s, d) for d, s in scores.items() if s is not None)
    ordered.reverse()
    result: dict[int, int | None] = {d: None for d, s in scores.items() if s is None}
    previous: float | None = None
    rank = 0
    for position, (score, department) in enumerate(ordered, start=1):
        if score != previous:
            rank, previous = position, score
        result[department] = rank
    return result


def _clip(value: float) -> float:
    return round(min(100.0, max(0.0, value)), 2)
