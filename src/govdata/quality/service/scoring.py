"""The scores per GB/T 36344 dimension (QUA-1): pure functions of facts, no session, no store.

Each dimension is a score from 0 to 100 computed from explicit criteria over the real data — the batch
reports of aggregation, the current rows in the data store, the batch history against the update
cycle and a probe of the records service (the facts are gathered by :mod:`.facts`). A dimension that
cannot be measured for a resource says so (``measured: false``, score ``null``) and is left out of the
overall score; nothing is ever made up. The criteria, as the pages show them (:data:`CRITERIA`, built
from the constants below):

规范性 conformance
    The *window* is the resource's latest applied data batches (``replace``/``upsert``): at most
    :data:`WINDOW_BATCHES`, and none older than the latest ``replace`` (which renewed all rows).
    Checked cells = Σ rows × items of each batch's catalog version; failed cells = cells whose first
    broken rule is one of :data:`CONFORMANCE_RULES` (from the batch's error file).
    score = 100 × (1 − failed cells / checked cells).
完整性 completeness
    score = 100 × (½ × required fill + ½ × item fill), where required fill = 1 − (cells reported
    ``required`` in the window) / (rows × required items of the window), and item fill = mean over the
    items of (non-null values / rows) in the *current* rows of the store.
准确性 accuracy
    score = 100 × (1 − rows with an error of :data:`ACCURACY_RULES` / rows of the window) −
    :data:`RECONCILIATION_PENALTY` per window batch whose reconciliation with the provider's declared
    row count or checksum failed (floor 0).
一致性 consistency
    For the other published resources whose single key item names the same data element (e.g.
    公民身份号码), every further data element both name is compared for the same key in the store:
    score = 100 × agreeing pairs / compared pairs (pairs where both values are present; values agree
    by the platform's one rule, ``core.values``). No such resource or no common key → not measured.
时效性 timeliness
    From the update cycle (``irregular`` → not measured). On-time share H = intervals not longer than
    the cycle among the last :data:`TIMELINESS_INTERVALS` intervals between publication and the applied
    batches; current state C = 1 when not overdue, else max(0, 1 − overdue days / max(cycle,
    :data:`MIN_GRACE_DAYS` days)). score = 100 × (½ H + ½ C), or 100 × C before the first interval.
可访问性 accessibility
    A probe asks the store for one row of the resource as the records service would (success and
    latency recorded): 100 when it answers within :data:`SLOW_PROBE_MS`, 50 when slower, 0 when it
    fails. score = mean of the last :data:`PROBE_WINDOW` probes (an availability rate).

Overall = Σ weight × score / Σ weight over the measured dimensions; every weight is 1
(:data:`WEIGHTS`): GB/T 36344 ranks no dimension above another.

No data yet: a resource without current rows in the store (none loaded yet, or every batch rolled
back) is not scored — every dimension is "not measured" with :data:`NO_DATA` (an empty table answers
the probe and is "on time" before its first due date, which would make up a score of nothing), except
timeliness once the first data are overdue: that is a real failing, scored by the formula above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from govdata.aggregation.service import BatchErrorCounts, BatchFacts

DIMENSIONS = ("conformance", "completeness", "accuracy", "consistency", "timeliness", "accessibility")
LABELS = {
    "conformance": "规范性",
    "completeness": "完整性",
    "accuracy": "准确性",
    "consistency": "一致性",
    "timeliness": "时效性",
    "accessibility": "可访问性",
}
WEIGHTS = dict.fromkeys(DIMENSIONS, 1.0)

WINDOW_BATCHES = 5
RECONCILIATION_PENALTY = 10.0
TIMELINESS_INTERVALS = 12
MIN_GRACE_DAYS = 7
SLOW_PROBE_MS = 1000.0
PROBE_WINDOW = 10
CONSISTENCY_MAX_RESOURCES = 10
HISTORY_POINTS = 100

NO_DATA = "暂无数据：资源尚未归集数据（或已全部回滚），首批数据入库后评分。"

CONFORMANCE_RULES = ("type", "length", "code_list", "pattern")
ACCURACY_RULES = ("range", "ric", "uscc", "duplicate_key")
RULE_LABELS = {
    "type": "类型",
    "length": "长度",
    "code_list": "代码表",
    "pattern": "格式",
    "range": "取值范围",
    "ric": "公民身份号码（GB 11643）",
    "uscc": "统一社会信用代码（GB 32100）",
}


def _n(value: float) -> str:
    return f"{value:g}"


def _criteria() -> dict[str, str]:
    """The criteria text shown to users, from the constants the formulas use."""
    conformance_rules = "、".join(RULE_LABELS[r] for r in CONFORMANCE_RULES)
    accuracy_rules = "、".join(RULE_LABELS[r] for r in ACCURACY_RULES if r != "duplicate_key")
    unique_key = "且关键标识未重复" if "duplicate_key" in ACCURACY_RULES else ""
    return {
        "conformance": (
            f"最近已入库的数据批次（最多 {WINDOW_BATCHES} 个，且不早于最近一次全量替换）中，"
            f"未出现{conformance_rules}错误的单元格占全部校验单元格（行数 × 信息项数）的比例 × 100。"
        ),
        "completeness": (
            "= 100 ×（½ × 必填项填写率 + ½ × 信息项填充率）；当前库中没有记录时暂无数据，不评分。"
            "必填项填写率取自上述批次的必填项校验；信息项填充率为当前库中各信息项非空值比例的平均。"
        ),
        "accuracy": (
            f"上述批次中没有{accuracy_rules}校验错误{unique_key}的行所占比例 × 100；"
            f"每有一个批次与提供方申报的行数或校验值不一致，扣 {_n(RECONCILIATION_PENALTY)} 分。"
        ),
        "consistency": (
            "与以同一数据元为关键标识的其他已发布资源比对：对同一关键标识、同一数据元，两边都有值的记录中"
            "取值一致的比例 × 100。没有可比对的资源或记录时不测量、不计入综合得分。"
        ),
        "timeliness": (
            f"按更新周期：100 ×（½ × 最近 {TIMELINESS_INTERVALS} 个更新间隔中未超过周期的比例 + ½ × 当前状态）。"
            f"当前状态未逾期为 1，逾期时为 1 − 逾期天数 ÷ 更新周期天数（不足 {MIN_GRACE_DAYS} 天按 {MIN_GRACE_DAYS} 天计）（不低于 0）。"
            "不定期更新的资源不测量。"
        ),
        "accessibility": (
            f"以记录查询服务的方式向数据存储查询一条记录：{_n(SLOW_PROBE_MS / 1000)} 秒内应答得 100，"
            f"应答较慢得 50，失败得 0；取最近 {PROBE_WINDOW} 次探测的平均（可用率）。"
        ),
    }


CRITERIA = _criteria()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return _round(sum(present) / len(present)) if present else None


@dataclass
class Measure:
    score: float | None
    details: dict[str, Any] = field(default_factory=dict)
    note: str | None = None

    @property
    def measured(self) -> bool:
        return self.score is not None

    def body(self) -> dict[str, Any]:
        return {**self.details, "note": self.note}


def not_measured(note: str, **details: Any) -> Measure:
    return Measure(None, details, note)


def overall_of(scores: dict[str, float | None]) -> float | None:
    measured = [(WEIGHTS[d], s) for d, s in scores.items() if s is not None and d in WEIGHTS]
    if not measured:
        return None
    return _round(sum(w * s for w, s in measured) / sum(w for w, _ in measured))


@dataclass
class Computed:
    """Scores of the six dimensions and the inputs of their formulas."""

    scores: dict[str, float | None]
    details: dict[str, dict[str, Any]]

    @property
    def overall(self) -> float | None:
        return overall_of(self.scores)


def carry(scores: dict, details: dict, dimension: str, measure: Measure) -> Computed:
    """Stored scores with one dimension replaced (the others carried over, the probe marked as such)."""
    scores = dict(scores or {})
    details = {k: v for k, v in (details or {}).items() if k in DIMENSIONS}
    for name, body in details.items():
        if name == "accessibility" and isinstance(body, dict) and body.get("probe"):
            details[name] = {**body, "probe": {**body["probe"], "carried": True}}
    scores[dimension] = measure.score
    details[dimension] = measure.body()
    return Computed(scores, details)


# --- 规范性, 准确性, 完整性: the batches of the window ------------------------------------------------


@dataclass
class WindowFacts:
    batches: list[BatchFacts]
    errors: dict[int, BatchErrorCounts | None]  # batch id → its error counts (None: no error file)
    items: dict[int, int]  # batch id → items of its catalog version
    required: dict[int, int]  # batch id → required items of its catalog version

    @property
    def rows(self) -> int:
        return sum(b.rows_total for b in self.batches)

    def rule_counts(self, batch_id: int) -> dict[str, int]:
        errors = self.errors.get(batch_id)
        if errors is None:
            return {}
        return {rule: sum(items.values()) for rule, items in errors.by_rule.items()}


NO_WINDOW = WindowFacts([], {}, {}, {})


def conformance(facts: WindowFacts) -> Measure:
    if not facts.batches:
        return not_measured("尚无已入库的数据批次。")
    cells = sum(b.rows_total * facts.items[b.id] for b in facts.batches)
    failed = 0
    by_rule: dict[str, int] = {}
    by_item: dict[str, dict[str, int]] = {}
    missing_files = []
    for batch in facts.batches:
        errors = facts.errors.get(batch.id)
        if errors is None:
            if batch.errors_count:
                # the error file is gone: count every reported error against conformance (the harsher reading)
                missing_files.append(batch.id)
                failed += batch.errors_count
            continue
        for rule in CONFORMANCE_RULES:
            for item, count in errors.by_rule.get(rule, {}).items():
                failed += count
                by_rule[rule] = by_rule.get(rule, 0) + count
                item_counts = by_item.setdefault(item, {})
                item_counts[rule] = item_counts.get(rule, 0) + count
    details = {
        "batches": [b.id for b in facts.batches],
        "checked_cells": cells,
        "failed_cells": failed,
        "by_rule": by_rule,
        "by_item": by_item,
    }
    if missing_files:
        details["missing_error_files"] = missing_files
    if cells == 0:
        return not_measured("最近的批次没有数据行。", **details)
    return Measure(_round(100.0 * (1 - failed / cells)), details)


def accuracy(facts: WindowFacts) -> Measure:
    if not facts.batches:
        return not_measured("尚无已入库的数据批次。")
    rows = facts.rows
    bad_rows = sum(e.rows for b in facts.batches if (e := facts.errors.get(b.id)) is not None)
    by_rule: dict[str, int] = {}
    for batch in facts.batches:
        counts = facts.rule_counts(batch.id)
        for rule in ACCURACY_RULES:
            if n := counts.get(rule):
                by_rule[rule] = by_rule.get(rule, 0) + n
    mismatched = [b.id for b in facts.batches if b.reconciliation == "mismatch"]
    details = {
        "batches": [b.id for b in facts.batches],
        "rows": rows,
        "rows_with_errors": bad_rows,
        "by_rule": by_rule,
        "reconciliation_mismatches": mismatched,
        "penalty": RECONCILIATION_PENALTY * len(mismatched),
    }
    if rows == 0:
        return not_measured("最近的批次没有数据行。", **details)
    base = 100.0 * (1 - bad_rows / rows)
    return Measure(_round(max(0.0, base - RECONCILIATION_PENALTY * len(mismatched))), details)


@dataclass
class Fill:
    """The current rows of a resource and the non-null values per item (``store.column_fill``)."""

    codes: list[str]
    rows: int
    non_null: dict[str, int]


def has_data(fill: Fill | None) -> bool:
    """Whether the resource holds current rows in the store (else it is not scored: :data:`NO_DATA`)."""
    return fill is not None and fill.rows > 0


def no_data(timeliness_measure: Measure) -> dict[str, Measure]:
    """The measures of a resource without data: none, but timeliness once its first data are late."""
    measures = {d: not_measured(NO_DATA, records_present=False) for d in DIMENSIONS}
    if timeliness_measure.measured and timeliness_measure.details.get("overdue"):
        measures["timeliness"] = timeliness_measure
    else:
        due = timeliness_measure.details.get("next_due")
        note = NO_DATA + (f"首批数据应于 {due[:10]} 前归集。" if due else "")
        measures["timeliness"] = not_measured(note, records_present=False, next_due=due)
    return measures


def completeness(fill: Fill | None, facts: WindowFacts) -> Measure:
    if fill is None:
        return not_measured("资源尚未发布，没有数据。")
    rows = fill.rows
    if rows == 0:
        return not_measured(NO_DATA, rows=0, records_present=False)
    ratios = {c: fill.non_null.get(c, 0) / rows for c in fill.codes}
    item_fill = sum(ratios.values()) / len(ratios) if ratios else 1.0
    required_cells = sum(b.rows_total * facts.required[b.id] for b in facts.batches)
    missing = sum(facts.rule_counts(b.id).get("required", 0) for b in facts.batches)
    required_fill = 1 - missing / required_cells if required_cells else 1.0
    details = {
        "rows": rows,
        "records_present": True,
        "item_fill": round(item_fill, 4),
        "fill_by_item": {c: round(v, 4) for c, v in ratios.items()},
        "required_cells": required_cells,
        "required_missing": missing,
        "required_fill": round(required_fill, 4),
        "batches": [b.id for b in facts.batches],
    }
    return Measure(_round(100.0 * (0.5 * required_fill + 0.5 * item_fill)), details)


# --- 一致性: the same data element of the same object in other resources ----------------------------


@dataclass
class Comparison:
    """One other resource compared with: per shared data element, the compared and agreeing keys."""

    code: str
    name: str
    provider: str
    elements: list[dict[str, Any]]  # {element, item, other_item, compared, agreed}


@dataclass
class ConsistencyFacts:
    measurable: bool  # False: not published, or no single key item naming a data element
    note: str | None = None
    key_element: str | None = None
    comparisons: list[Comparison] = field(default_factory=list)


def consistency(facts: ConsistencyFacts) -> Measure:
    if not facts.measurable:
        if facts.key_element is not None:
            return not_measured(facts.note or "", key_element=facts.key_element)
        return not_measured(facts.note or "")
    compared = sum(e["compared"] for c in facts.comparisons for e in c.elements)
    agreed = sum(e["agreed"] for c in facts.comparisons for e in c.elements)
    details = {
        "key_element": facts.key_element,
        "resources": [
            {"code": c.code, "name": c.name, "provider": c.provider, "elements": c.elements}
            for c in facts.comparisons
        ],
        "compared": compared,
        "agreed": agreed,
    }
    if compared == 0:
        return not_measured("没有与本资源共享关键标识、且有可比对记录的其他资源。", **details)
    return Measure(_round(100.0 * agreed / compared), details)


# --- 时效性: the update cycle ------------------------------------------------------------------------


@dataclass
class TimelinessFacts:
    published: bool
    cycle: str
    cycle_days: int | None
    published_at: datetime | None
    applied_at: list[datetime]  # when each applied batch finished, oldest first
    last_batch_at: datetime | None  # aggregation's freshness (AGG-7) at the moment scored
    next_due: datetime | None
    overdue: bool


def timeliness(facts: TimelinessFacts, now: datetime) -> Measure:
    if not facts.published or facts.published_at is None:
        return not_measured("资源尚未发布。")
    days = facts.cycle_days
    if not days:
        return not_measured("更新周期为不定期，没有可考核的更新期限。", cycle=facts.cycle)
    moments = list(facts.applied_at)
    if not moments or facts.published_at < moments[0]:
        moments.insert(0, facts.published_at)
    moments = moments[-(TIMELINESS_INTERVALS + 1) :]
    gaps = [(b - a).total_seconds() / 86400 for a, b in zip(moments, moments[1:], strict=False)]
    on_time = sum(1 for g in gaps if g <= days)
    overdue = facts.overdue and facts.next_due is not None
    overdue_days = math.ceil((now - facts.next_due).total_seconds() / 86400) if overdue else 0
    current = max(0.0, 1 - overdue_days / max(days, MIN_GRACE_DAYS)) if overdue else 1.0
    history = on_time / len(gaps) if gaps else None
    score = 100.0 * (0.5 * history + 0.5 * current) if history is not None else 100.0 * current
    details = {
        "cycle": facts.cycle,
        "cycle_days": days,
        "intervals": len(gaps),
        "on_time_intervals": on_time,
        "last_batch_at": facts.last_batch_at.isoformat() if facts.last_batch_at else None,
        "next_due": facts.next_due.isoformat() if facts.next_due else None,
        "overdue": overdue,
        "overdue_days": overdue_days,
        "current_state": round(current, 4),
    }
    note = f"已逾期 {overdue_days} 天未更新。" if overdue else None
    return Measure(_round(score), details, note)


# --- 可访问性: probes of the records service ---------------------------------------------------------


def probe_score(ok: bool, latency_ms: float) -> float:
    if not ok:
        return 0.0
    return 100.0 if latency_ms <= SLOW_PROBE_MS else 50.0


def accessibility(probe: dict[str, Any] | None, earlier: list[dict[str, Any]]) -> Measure:
    """``probe``: this probe (None when there is no table to probe); ``earlier``: the probes of earlier
    snapshots, newest first (carried-over ones are skipped)."""
    if probe is None:
        return not_measured("资源尚未发布，没有记录查询服务。")
    scores = [probe["score"]]
    for previous in earlier:
        if previous and not previous.get("carried") and len(scores) < PROBE_WINDOW:
            scores.append(float(previous["score"]))
    details = {"probe": probe, "probes": len(scores), "successful": sum(1 for s in scores if s > 0)}
    note = None if probe["ok"] else "记录查询服务本次探测失败。"
    return Measure(_round(sum(scores) / len(scores)), details, note)
