"""Use cases of data quality (QUA-1, QUA-2).

Scores (QUA-1) follow uData's shape: each GB/T 36344 dimension is a score from 0 to 100 computed from
explicit criteria over the real data — the batch reports of aggregation, the current rows in the data
store, the batch history against the update cycle and a probe of the records service. A dimension
that cannot be measured for a resource says so (``measured: false``, score ``null``) and is left
out of the overall score; nothing is ever made up. The criteria (also shown on the page):

规范性 conformance
    The *window* is the resource's latest applied data batches (``replace``/``upsert``): at most
    :data:`WINDOW_BATCHES`, and none older than the latest ``replace`` (which renewed all rows).
    Checked cells = Σ rows × items of each batch's catalog version; failed cells = cells whose first
    broken rule was ``type``, ``length``, ``code_list`` or ``pattern`` (from the batch's error file).
    score = 100 × (1 − failed cells / checked cells).
完整性 completeness
    No current rows in the store → 0 (records absent). Otherwise
    score = 100 × (½ × required fill + ½ × item fill), where required fill = 1 − (cells reported
    ``required`` in the window) / (rows × required items of the window), and item fill = mean over the
    items of (non-null values / rows) in the *current* rows of the store.
准确性 accuracy
    score = 100 × (1 − rows with an accuracy error / rows of the window) − 10 per window batch whose
    reconciliation with the provider's declared row count or checksum failed (floor 0). Accuracy errors
    are ``range``, ``ric`` (GB 11643), ``uscc`` (GB 32100) and ``duplicate_key``.
一致性 consistency
    For the other published resources whose single key item names the same data element (e.g.
    公民身份号码), every further data element both name is compared for the same key in the store:
    score = 100 × agreeing pairs / compared pairs (pairs where both values are present; numbers compared
    as numbers, everything else as trimmed text). No such resource or no common key → not measured.
时效性 timeliness
    From the update cycle (``irregular`` → not measured). On-time share H = intervals not longer than
    the cycle among the last :data:`TIMELINESS_INTERVALS` intervals between publication and the applied
    batches; current state C = 1 when not overdue, else max(0, 1 − overdue days / max(cycle, 7 days)).
    score = 100 × (½ H + ½ C), or 100 × C before the first interval.
可访问性 accessibility
    A probe asks the store for one row of the resource as the records service would (success and
    latency recorded): 100 when it answers within :data:`SLOW_PROBE_MS`, 50 when slower, 0 when it
    fails. score = mean of the last :data:`PROBE_WINDOW` probes (an availability rate).

Overall = Σ weight × score / Σ weight over the measured dimensions; every weight is 1
(:data:`WEIGHTS`): GB/T 36344 ranks no dimension above another.

A snapshot (``quality_snapshots``) is stored whenever scores are computed: after each applied batch
(:func:`record_after_batch`, called by the batch job), on demand, when a reader finds that the data
changed since the last snapshot, and when only the clock moved the timeliness score (a ``clock``
snapshot that carries the other dimensions over). So the history is the scores as they were.

Problems (QUA-2, 谁使用、谁反馈): consumers — department users and officers of *other* departments,
and the authority — report a problem on a resource or on one record; the provider's catalog officer
confirms (and later marks it fixed) or rejects it with a reason, within the policy's
``deadlines.quality_problem_reply`` working days (tracked by ``core.calendar``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from govdata.aggregation import service as aggregation
from govdata.aggregation.models import Batch, BatchStatus
from govdata.catalog import service as catalog
from govdata.catalog.enums import ResourceStatus
from govdata.catalog.models import Resource, ResourceItem
from govdata.core import audit, calendar, policy
from govdata.core.auth import INTERNAL_ROLES, SYSTEM_ACTOR, Actor, Role, require
from govdata.core.db import unit_of_work, utcnow
from govdata.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from govdata.core.observability import log
from govdata.orgs.models import Department
from govdata.quality.auth import (
    DEPARTMENT_QUALITY_READ,
    PROBLEM_ANSWER,
    PROBLEM_READ,
    PROBLEM_REPORT,
    QUALITY_COMPUTE,
    QUALITY_READ,
)
from govdata.quality.models import (
    PROBLEM_STATUS_LABELS,
    UNRESOLVED,
    ProblemStatus,
    QualityProblem,
    QualitySnapshot,
    SnapshotTrigger,
)
from govdata.quality.schemas import AnswerAction, AnswerIn, ProblemIn
from govdata.store.base import KEY, TableSpec
from govdata.store.sql import SqlStore, q

CHINA = ZoneInfo("Asia/Shanghai")

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

CONFORMANCE_RULES = ("type", "length", "code_list", "pattern")
COMPLETENESS_RULES = ("required",)
ACCURACY_RULES = ("range", "ric", "uscc", "duplicate_key")
NUMERIC_TYPES = frozenset("NYBFI")

CRITERIA = {
    "conformance": (
        "最近已入库的数据批次（最多 5 个，且不早于最近一次全量替换）中，"
        "未出现类型、长度、代码表、格式错误的单元格占全部校验单元格（行数 × 信息项数）的比例 × 100。"
    ),
    "completeness": (
        "当前库中没有记录时为 0；否则 = 100 ×（½ × 必填项填写率 + ½ × 信息项填充率）。"
        "必填项填写率取自上述批次的必填项校验；信息项填充率为当前库中各信息项非空值比例的平均。"
    ),
    "accuracy": (
        "上述批次中没有取值范围、公民身份号码（GB 11643）、统一社会信用代码（GB 32100）校验错误"
        "且关键标识未重复的行所占比例 × 100；每有一个批次与提供方申报的行数或校验值不一致，扣 10 分。"
    ),
    "consistency": (
        "与以同一数据元为关键标识的其他已发布资源比对：对同一关键标识、同一数据元，两边都有值的记录中"
        "取值一致的比例 × 100。没有可比对的资源或记录时不测量、不计入综合得分。"
    ),
    "timeliness": (
        "按更新周期：100 ×（½ × 最近 12 个更新间隔中未超过周期的比例 + ½ × 当前状态）。"
        "当前状态未逾期为 1，逾期时为 1 − 逾期天数 ÷ max(更新周期, 7 天)（不低于 0）。不定期更新的资源不测量。"
    ),
    "accessibility": (
        "以记录查询服务的方式向数据存储查询一条记录：1 秒内应答得 100，应答较慢得 50，失败得 0；"
        "取最近 10 次探测的平均（可用率）。"
    ),
}


def today() -> date:
    """The date in China, where working-day deadlines are counted."""
    return datetime.now(CHINA).date()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


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


# --- the inputs: batches of the window, their error files ------------------------------------------


def _window(session: Session, resource: Resource) -> list[Batch]:
    """Latest applied data batches, newest first, back to (and including) the latest full replace."""
    latest = session.scalars(
        select(Batch)
        .where(
            Batch.resource_id == resource.id,
            Batch.status == BatchStatus.applied,
            Batch.mode.in_(["replace", "upsert"]),
        )
        .order_by(Batch.id.desc())
        .limit(WINDOW_BATCHES)
    ).all()
    window: list[Batch] = []
    for batch in latest:
        window.append(batch)
        if batch.mode == "replace":
            break
    return window


def _errors_file(batch: Batch, data_dir: Path | None) -> Path | None:
    if data_dir is not None:
        return aggregation.batch_dir(Path(data_dir), batch.id) / "errors.parquet"
    if batch.upload_path:  # the batch's directory holds its source and its error file
        return Path(batch.upload_path).parent / "errors.parquet"
    return None


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class BatchErrors:
    by_rule: dict[str, int]
    by_item: dict[str, dict[str, int]]
    accuracy_rows: int
    found: bool


def _batch_errors(batch: Batch, data_dir: Path | None) -> BatchErrors:
    """Counts of a batch's error file by rule and item, read with DuckDB (the file is Parquet)."""
    path = _errors_file(batch, data_dir)
    if path is None or not path.exists():
        return BatchErrors({}, {}, 0, found=False)
    source = f"read_parquet({_literal(str(path))})"
    rules = ", ".join(_literal(r) for r in ACCURACY_RULES)
    with duckdb.connect() as con:
        grouped = con.execute(f"SELECT rule, item, count(*) FROM {source} GROUP BY rule, item").fetchall()
        accuracy_rows = con.execute(
            f"SELECT count(DISTINCT row) FROM {source} WHERE rule IN ({rules})"
        ).fetchall()[0][0]
    by_rule: dict[str, int] = {}
    by_item: dict[str, dict[str, int]] = {}
    for rule, item, count in grouped:
        by_rule[rule] = by_rule.get(rule, 0) + count
        by_item.setdefault(item, {})[rule] = count
    return BatchErrors(by_rule, by_item, int(accuracy_rows or 0), found=True)


@dataclass
class WindowFacts:
    batches: list[Batch]
    errors: dict[int, BatchErrors]
    items: dict[int, int]  # batch id → items of its catalog version
    required: dict[int, int]  # batch id → required items of its catalog version

    @property
    def rows(self) -> int:
        return sum(b.rows_total for b in self.batches)


def _window_facts(session: Session, resource: Resource, data_dir: Path | None) -> WindowFacts:
    batches = _window(session, resource)
    bodies: dict[int, dict[str, Any]] = {}
    items: dict[int, int] = {}
    required: dict[int, int] = {}
    for batch in batches:
        if batch.catalog_version not in bodies:
            try:
                bodies[batch.catalog_version] = catalog.get_version(
                    session, SYSTEM_ACTOR, resource.code, batch.catalog_version
                ).body
            except NotFound:
                bodies[batch.catalog_version] = catalog.shown_version(session, resource).body
        body_items = bodies[batch.catalog_version].get("items", [])
        items[batch.id] = len(body_items)
        required[batch.id] = sum(1 for i in body_items if i.get("required"))
    errors = {b.id: _batch_errors(b, data_dir) for b in batches}
    return WindowFacts(batches, errors, items, required)


def _merge_counts(target: dict, source: dict) -> None:
    for key, value in source.items():
        if isinstance(value, dict):
            _merge_counts(target.setdefault(key, {}), value)
        else:
            target[key] = target.get(key, 0) + value


# --- the dimensions --------------------------------------------------------------------------------


def conformance(facts: WindowFacts) -> Measure:
    if not facts.batches:
        return not_measured("尚无已入库的数据批次。")
    cells = sum(b.rows_total * facts.items[b.id] for b in facts.batches)
    failed = 0
    by_rule: dict[str, int] = {}
    by_item: dict[str, dict[str, int]] = {}
    missing_files = []
    for batch in facts.batches:
        errors = facts.errors[batch.id]
        if not errors.found and batch.errors_count:
            # the error file is gone: count every reported error against conformance (the harsher reading)
            missing_files.append(batch.id)
            failed += batch.errors_count
            continue
        for rule in CONFORMANCE_RULES:
            failed += errors.by_rule.get(rule, 0)
            if errors.by_rule.get(rule):
                by_rule[rule] = by_rule.get(rule, 0) + errors.by_rule[rule]
        for item, rules in errors.by_item.items():
            picked = {r: n for r, n in rules.items() if r in CONFORMANCE_RULES}
            if picked:
                _merge_counts(by_item.setdefault(item, {}), picked)
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
    bad_rows = sum(facts.errors[b.id].accuracy_rows for b in facts.batches)
    by_rule: dict[str, int] = {}
    for batch in facts.batches:
        for rule in ACCURACY_RULES:
            if n := facts.errors[batch.id].by_rule.get(rule):
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


def completeness(store: SqlStore, spec: TableSpec | None, facts: WindowFacts) -> Measure:
    if spec is None:
        return not_measured("资源尚未发布，没有数据。")
    existing = store.existing_columns(spec.name)
    rows = 0
    counts: dict[str, int] = {}
    codes = [c for c in spec.codes if c in existing]
    if existing:
        select_list = ", ".join(["count(*)", *(f"count({q(c)})" for c in codes)])
        result = store.fetchall(f"SELECT {select_list} FROM {store.table_name(spec.name)}")[0]
        rows = int(result[0])
        counts = {c: int(n) for c, n in zip(codes, result[1:], strict=True)}
    if rows == 0:
        return Measure(0.0, {"rows": 0, "records_present": False}, "数据存储中没有该资源的记录。")
    fill = {c: counts.get(c, 0) / rows for c in spec.codes}
    item_fill = sum(fill.values()) / len(fill) if fill else 1.0
    required_cells = sum(b.rows_total * facts.required[b.id] for b in facts.batches)
    missing = sum(facts.errors[b.id].by_rule.get("required", 0) for b in facts.batches)
    required_fill = 1 - missing / required_cells if required_cells else 1.0
    details = {
        "rows": rows,
        "records_present": True,
        "item_fill": round(item_fill, 4),
        "fill_by_item": {c: round(v, 4) for c, v in fill.items()},
        "required_cells": required_cells,
        "required_missing": missing,
        "required_fill": round(required_fill, 4),
        "batches": [b.id for b in facts.batches],
    }
    return Measure(_round(100.0 * (0.5 * required_fill + 0.5 * item_fill)), details)


def _items(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body.get("items", []))


def consistency(session: Session, store: SqlStore, resource: Resource, spec: TableSpec | None) -> Measure:
    if spec is None:
        return not_measured("资源尚未发布，没有数据。")
    items = _items(catalog.shown_version(session, resource).body)
    keys = [i for i in items if i.get("key")]
    if len(keys) != 1 or not keys[0].get("element"):
        return not_measured("资源没有引用数据元的单一关键标识，无法与其他资源按同一对象比对。")
    key_element = keys[0]["element"]
    mine = {i["element"]: i["code"].lower() for i in items if i.get("element") and not i.get("key")}
    mine_existing = store.existing_columns(spec.name)
    if not mine or not mine_existing:
        return not_measured("没有可比对的数据元或数据。", key_element=key_element)
    others = session.scalars(
        select(Resource)
        .join(ResourceItem, ResourceItem.resource_id == Resource.id)
        .where(
            ResourceItem.key.is_(True),
            ResourceItem.element == key_element,
            Resource.id != resource.id,
            Resource.status == ResourceStatus.published,
        )
        .order_by(Resource.id)
        .limit(CONSISTENCY_MAX_RESOURCES)
    ).all()
    my_types = {c.code: c.data_type for c in spec.columns}
    compared_total = agreed_total = 0
    compared_resources = []
    for other in others:
        other_items = _items(catalog.shown_version(session, other).body)
        if sum(1 for i in other_items if i.get("key")) != 1:
            continue
        try:
            other_spec, _ = aggregation.table_of(session, other)
        except Conflict:
            continue
        other_existing = store.existing_columns(other_spec.name)
        other_types = {c.code: c.data_type for c in other_spec.columns}
        pairs = [
            (element, mine[element], i["code"].lower())
            for i in other_items
            if not i.get("key")
            and (element := i.get("element")) in mine
            and mine[element] in mine_existing
            and i["code"].lower() in other_existing
        ]
        if not other_existing or not pairs:
            continue
        parts = []
        for _, a, b in pairs:
            present = f"a.{q(a)} IS NOT NULL AND b.{q(b)} IS NOT NULL"
            if my_types.get(a) in NUMERIC_TYPES and other_types.get(b) in NUMERIC_TYPES:
                equal = f"CAST(a.{q(a)} AS DOUBLE PRECISION) = CAST(b.{q(b)} AS DOUBLE PRECISION)"
            else:
                equal = f"trim(CAST(a.{q(a)} AS VARCHAR)) = trim(CAST(b.{q(b)} AS VARCHAR))"
            parts.append(f"sum(CASE WHEN {present} THEN 1 ELSE 0 END)")
            parts.append(f"sum(CASE WHEN {present} AND {equal} THEN 1 ELSE 0 END)")
        row = store.fetchall(
            f"SELECT {', '.join(parts)} FROM {store.table_name(spec.name)} a "
            f"JOIN {store.table_name(other_spec.name)} b ON a.{KEY} = b.{KEY}"
        )[0]
        elements = []
        for index, (element, a, b) in enumerate(pairs):
            compared, agreed = int(row[2 * index] or 0), int(row[2 * index + 1] or 0)
            compared_total += compared
            agreed_total += agreed
            elements.append(
                {"element": element, "item": a, "other_item": b, "compared": compared, "agreed": agreed}
            )
        compared_resources.append(
            {
                "code": other.code,
                "name": other.name,
                "provider": other.provider.name,
                "elements": elements,
            }
        )
    details = {
        "key_element": key_element,
        "resources": compared_resources,
        "compared": compared_total,
        "agreed": agreed_total,
    }
    if compared_total == 0:
        return not_measured("没有与本资源共享关键标识、且有可比对记录的其他资源。", **details)
    return Measure(_round(100.0 * agreed_total / compared_total), details)


def timeliness(session: Session, resource: Resource, now: datetime) -> Measure:
    days = aggregation.CYCLE_DAYS.get(resource.update_cycle)
    if resource.published_version is None or resource.published_at is None:
        return not_measured("资源尚未发布。")
    if not days:
        return not_measured("更新周期为不定期，没有可考核的更新期限。", cycle=resource.update_cycle)
    finished = list(
        session.scalars(
            select(Batch.finished_at)
            .where(
                Batch.resource_id == resource.id,
                Batch.status == BatchStatus.applied,
                Batch.finished_at.is_not(None),
            )
            .order_by(Batch.finished_at)
        )
    )
    events = list(finished)
    if not events or resource.published_at < events[0]:
        events.insert(0, resource.published_at)
    events = events[-(TIMELINESS_INTERVALS + 1) :]
    gaps = [(b - a).total_seconds() / 86400 for a, b in zip(events, events[1:], strict=False)]
    on_time = sum(1 for g in gaps if g <= days)
    fresh = aggregation.freshness(session, resource, now)
    overdue_days = 0
    if fresh["overdue"] and fresh["next_due"] is not None:
        overdue_days = math.ceil((now - fresh["next_due"]).total_seconds() / 86400)
    current = max(0.0, 1 - overdue_days / max(days, MIN_GRACE_DAYS)) if fresh["overdue"] else 1.0
    history = on_time / len(gaps) if gaps else None
    score = 100.0 * (0.5 * history + 0.5 * current) if history is not None else 100.0 * current
    details = {
        "cycle": resource.update_cycle,
        "cycle_days": days,
        "intervals": len(gaps),
        "on_time_intervals": on_time,
        "last_batch_at": fresh["last_batch_at"].isoformat() if fresh["last_batch_at"] else None,
        "next_due": fresh["next_due"].isoformat() if fresh["next_due"] else None,
        "overdue": bool(fresh["overdue"]),
        "overdue_days": overdue_days,
        "current_state": round(current, 4),
    }
    note = f"已逾期 {overdue_days} 天未更新。" if fresh["overdue"] else None
    return Measure(_round(score), details, note)


def _probe_score(ok: bool, latency_ms: float) -> float:
    if not ok:
        return 0.0
    return 100.0 if latency_ms <= SLOW_PROBE_MS else 50.0


def probe(store: SqlStore, spec: TableSpec) -> dict[str, Any]:
    """Ask the store for one row as the records service does; never raises."""
    started = time.perf_counter()
    error = None
    try:
        store.ensure_table(spec)
        store.query(spec, limit=1)
        ok = True
    except Exception as exc:  # any failure is what this dimension measures
        ok, error = False, f"{type(exc).__name__}: {str(exc)[:200]}"
    latency = round((time.perf_counter() - started) * 1000, 1)
    return {
        "ok": ok,
        "latency_ms": latency,
        "score": _probe_score(ok, latency),
        "error": error,
        "at": utcnow().isoformat(),
    }


def accessibility(session: Session, store: SqlStore, resource: Resource, spec: TableSpec | None) -> Measure:
    if spec is None:
        return not_measured("资源尚未发布，没有记录查询服务。")
    result = probe(store, spec)
    earlier = session.scalars(
        select(QualitySnapshot.details)
        .where(QualitySnapshot.resource_id == resource.id, QualitySnapshot.trigger != SnapshotTrigger.clock)
        .order_by(QualitySnapshot.computed_at.desc(), QualitySnapshot.id.desc())
        .limit(PROBE_WINDOW * 2)
    ).all()
    scores = [result["score"]]
    for details in earlier:
        previous = ((details or {}).get("accessibility") or {}).get("probe")
        if previous and not previous.get("carried") and len(scores) < PROBE_WINDOW:
            scores.append(float(previous["score"]))
    details = {"probe": result, "probes": len(scores), "successful": sum(1 for s in scores if s > 0)}
    note = None if result["ok"] else "记录查询服务本次探测失败。"
    return Measure(_round(sum(scores) / len(scores)), details, note)


# --- computing and storing ------------------------------------------------------------------------


@dataclass
class Computed:
    scores: dict[str, float | None]
    details: dict[str, dict[str, Any]]

    @property
    def overall(self) -> float | None:
        return overall_of(self.scores)


def _spec(session: Session, resource: Resource) -> TableSpec | None:
    if resource.published_version is None:
        return None
    try:
        spec, _ = aggregation.table_of(session, resource)
    except Conflict:
        return None
    return spec


def compute(
    session: Session,
    store: SqlStore,
    resource: Resource,
    *,
    now: datetime | None = None,
    data_dir: Path | None = None,
) -> Computed:
    """All six dimensions of one resource, from its batches, its rows and a probe (nothing stored)."""
    now = now or utcnow()
    spec = _spec(session, resource)
    facts = _window_facts(session, resource, data_dir) if spec is not None else WindowFacts([], {}, {}, {})
    measures = {
        "conformance": conformance(facts),
        "completeness": completeness(store, spec, facts),
        "accuracy": accuracy(facts),
        "consistency": consistency(session, store, resource, spec),
        "timeliness": timeliness(session, resource, now),
        "accessibility": accessibility(session, store, resource, spec),
    }
    return Computed({d: m.score for d, m in measures.items()}, {d: m.body() for d, m in measures.items()})


def _save(
    session: Session,
    resource: Resource,
    computed: Computed,
    trigger: SnapshotTrigger,
    *,
    batch: Batch | None = None,
    now: datetime | None = None,
) -> QualitySnapshot:
    details = dict(computed.details)
    if batch is not None:
        details["batch"] = {"id": batch.id, "status": batch.status}
    snapshot = QualitySnapshot(
        resource_id=resource.id,
        department_id=resource.provider_id,
        batch_id=batch.id if batch is not None else None,
        trigger=trigger,
        computed_at=now or utcnow(),
        scores=computed.scores,
        overall=computed.overall,
        details=details,
    )
    session.add(snapshot)
    session.flush()
    return snapshot


def latest_snapshot(session: Session, resource_id: int) -> QualitySnapshot | None:
    return session.scalars(
        select(QualitySnapshot)
        .where(QualitySnapshot.resource_id == resource_id)
        .order_by(QualitySnapshot.computed_at.desc(), QualitySnapshot.id.desc())
        .limit(1)
    ).first()


def _data_changed_at(session: Session, resource: Resource) -> datetime | None:
    applied = session.scalar(
        select(func.max(Batch.finished_at)).where(
            Batch.resource_id == resource.id, Batch.status.in_([BatchStatus.applied, BatchStatus.rolled_back])
        )
    )
    rolled = session.scalar(select(func.max(Batch.rolled_back_at)).where(Batch.resource_id == resource.id))
    moments = [m for m in (applied, rolled) if m is not None]
    return max(moments) if moments else None


def _carry(snapshot: QualitySnapshot, dimension: str, measure: Measure) -> Computed:
    """The snapshot's scores with one dimension replaced (the others carried over, marked as such)."""
    scores = dict(snapshot.scores or {})
    details = {k: v for k, v in (snapshot.details or {}).items() if k in DIMENSIONS}
    for name, body in details.items():
        if name == "accessibility" and isinstance(body, dict) and body.get("probe"):
            details[name] = {**body, "probe": {**body["probe"], "carried": True}}
    scores[dimension] = measure.score
    details[dimension] = measure.body()
    return Computed(scores, details)


def current_snapshot(
    session: Session,
    store: SqlStore,
    resource: Resource,
    *,
    now: datetime | None = None,
    data_dir: Path | None = None,
) -> QualitySnapshot | None:
    """The snapshot that describes the resource now, storing a new one when needed.

    A full computation when there is none yet or the data changed since (a batch applied or rolled
    back after it); a ``clock`` snapshot when only the timeliness score moved with time. A resource
    with nothing measurable (a draft) gets no snapshot.
    """
    now = now or utcnow()
    latest = latest_snapshot(session, resource.id)
    changed = _data_changed_at(session, resource)
    if latest is None or (changed is not None and changed > latest.computed_at):
        computed = compute(session, store, resource, now=now, data_dir=data_dir)
        if computed.overall is None and latest is None:
            return None
        return _save(session, resource, computed, SnapshotTrigger.on_demand, now=now)
    fresh = timeliness(session, resource, now)
    if fresh.score != (latest.scores or {}).get("timeliness"):
        return _save(session, resource, _carry(latest, "timeliness", fresh), SnapshotTrigger.clock, now=now)
    return latest


def record_after_batch(
    session_factory: sessionmaker, store: SqlStore, batch_id: int, *, data_dir: Path | None = None
) -> int | None:
    """Store the resource's scores after a batch was applied (or rolled back); returns the snapshot id.

    Called by the batch job after it finished a batch, in its own transaction. Idempotent: a batch
    that already has its snapshot (for its current status) is not computed again. Never raises — a
    failure to score must not fail the batch — and logs instead. Resources that share the key data
    element get a fresh consistency score too (their other dimensions are carried over).
    """
    try:
        with unit_of_work(session_factory) as session:
            batch = session.get(Batch, batch_id)
            if batch is None or batch.status not in (BatchStatus.applied, BatchStatus.rolled_back):
                return None
            for existing in session.scalars(
                select(QualitySnapshot).where(
                    QualitySnapshot.batch_id == batch_id, QualitySnapshot.trigger == SnapshotTrigger.batch
                )
            ):
                if ((existing.details or {}).get("batch") or {}).get("status") == batch.status:
                    return existing.id
            resource = session.get(Resource, batch.resource_id)
            computed = compute(session, store, resource, data_dir=data_dir)
            snapshot = _save(session, resource, computed, SnapshotTrigger.batch, batch=batch)
            _refresh_related(session, store, computed)
            return snapshot.id
    except Exception:
        log.exception("quality scoring after batch failed", batch=batch_id)
        return None


def _refresh_related(session: Session, store: SqlStore, computed: Computed) -> None:
    """Recompute consistency of the resources just compared with (their side of the same pairs)."""
    related = (computed.details.get("consistency") or {}).get("resources") or []
    for entry in related:
        other = session.scalar(select(Resource).where(Resource.code == entry["code"]))
        latest = latest_snapshot(session, other.id) if other is not None else None
        if other is None or latest is None:
            continue  # its first reader computes it in full
        measure = consistency(session, store, other, _spec(session, other))
        if measure.score != (latest.scores or {}).get("consistency"):
            _save(session, other, _carry(latest, "consistency", measure), SnapshotTrigger.on_demand)


# --- reading scores (API and pages) ----------------------------------------------------------------


def _is_internal(actor: Actor) -> bool:
    return bool(actor.roles & (INTERNAL_ROLES | {Role.admin}))


def _may_recompute(actor: Actor, resource: Resource) -> bool:
    return actor.has(QUALITY_COMPUTE) and (
        Role.authority in actor.roles or actor.department_id == resource.provider_id
    )


def _dimensions(snapshot: QualitySnapshot | None, *, with_details: bool) -> dict[str, dict[str, Any]]:
    scores = (snapshot.scores if snapshot else None) or {}
    details = (snapshot.details if snapshot else None) or {}
    out = {}
    for name in DIMENSIONS:
        body = dict(details.get(name) or {})
        note = body.pop("note", None)
        score = scores.get(name)
        if snapshot is None:
            note = "尚未计算（资源尚未发布或没有数据）。"
        out[name] = {
            "score": score,
            "label": LABELS[name],
            "criteria": CRITERIA[name],
            "measured": score is not None,
            "weight": WEIGHTS[name],
            "note": note,
            "details": body if with_details else None,
        }
    return out


def history(session: Session, resource_id: int, limit: int = HISTORY_POINTS) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(QualitySnapshot)
        .where(QualitySnapshot.resource_id == resource_id)
        .order_by(QualitySnapshot.computed_at.desc(), QualitySnapshot.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "computed_at": s.computed_at,
            "overall": s.overall,
            "dimensions": {d: (s.scores or {}).get(d) for d in DIMENSIONS},
            "trigger": s.trigger,
            "batch_id": s.batch_id,
        }
        for s in reversed(rows)
    ]


def resource_quality(
    session: Session,
    actor: Actor,
    store: SqlStore,
    code: str,
    *,
    data_dir: Path | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``GET /resources/{code}/quality``: the current scores, their criteria, history and problems."""
    require(actor, QUALITY_READ)
    resource = catalog.get_resource(session, actor, code)
    snapshot = current_snapshot(session, store, resource, now=now, data_dir=data_dir)
    return {
        "resource_code": resource.code,
        "resource_name": resource.name,
        "provider": resource.provider.name,
        "provider_id": resource.provider_id,
        "computed_at": snapshot.computed_at if snapshot else None,
        "overall": snapshot.overall if snapshot else None,
        "dimensions": _dimensions(snapshot, with_details=_is_internal(actor)),
        "history": history(session, resource.id),
        "problems": problem_counts(session, [resource.id]),
    }


def recompute(
    session: Session, actor: Actor, store: SqlStore, code: str, *, data_dir: Path | None = None
) -> dict[str, Any]:
    """Compute and store the scores now (on demand), for the provider and the authority."""
    require(actor, QUALITY_COMPUTE)
    resource = catalog.get_resource(session, actor, code)
    if not _may_recompute(actor, resource):
        raise PermissionDenied("只有提供部门和数据资源主管部门可以重新计算质量评分。")
    if resource.published_version is None:
        raise Conflict("资源尚未发布，没有可评价的数据。", slug="not-published")
    snapshot = _save(
        session, resource, compute(session, store, resource, data_dir=data_dir), SnapshotTrigger.on_demand
    )
    audit.record(
        session,
        actor,
        "quality.computed",
        "resource",
        resource.code,
        details={"overall": snapshot.overall, "scores": snapshot.scores},
    )
    return resource_quality(session, actor, store, code, data_dir=data_dir)


# --- department scores ----------------------------------------------------------------------------


def _department_resources(session: Session, department_id: int) -> list[Resource]:
    """The department's published resources that hold data (at least one applied batch)."""
    with_data = select(Batch.resource_id).where(Batch.status == BatchStatus.applied).distinct()
    return list(
        session.scalars(
            select(Resource)
            .where(
                Resource.provider_id == department_id,
                Resource.status == ResourceStatus.published,
                Resource.id.in_(with_data),
            )
            .order_by(Resource.code)
        )
    )


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return _round(sum(present) / len(present)) if present else None


def _department_history(session: Session, resource_ids: list[int]) -> list[dict[str, Any]]:
    """One point per day: the mean over the resources of each one's latest snapshot by that day."""
    if not resource_ids:
        return []
    rows = session.execute(
        select(
            QualitySnapshot.resource_id,
            QualitySnapshot.computed_at,
            QualitySnapshot.overall,
            QualitySnapshot.scores,
        )
        .where(QualitySnapshot.resource_id.in_(resource_ids))
        .order_by(QualitySnapshot.computed_at, QualitySnapshot.id)
    ).all()
    latest: dict[int, tuple[float | None, dict]] = {}
    by_day: dict[date, dict[str, Any]] = {}
    for resource_id, computed_at, overall, scores in rows:
        latest[resource_id] = (overall, scores or {})
        by_day[computed_at.astimezone(CHINA).date()] = {
            "computed_at": computed_at,
            "overall": _mean(o for o, _ in latest.values()),
            "dimensions": {d: _mean(s.get(d) for _, s in latest.values()) for d in DIMENSIONS},
        }
    return list(by_day.values())[-HISTORY_POINTS:]


def department_quality(
    session: Session,
    actor: Actor,
    store: SqlStore,
    department_id: int,
    *,
    data_dir: Path | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """``GET /departments/{id}/quality``: the mean over the department's resources with data."""
    require(actor, DEPARTMENT_QUALITY_READ)
    department = session.get(Department, department_id)
    if department is None:
        raise NotFound(f"部门 {department_id} 不存在。")
    if not (actor.roles & {Role.authority, Role.admin}) and actor.department_id != department_id:
        raise PermissionDenied("只能查看本部门的数据质量评分。")
    resources = _department_resources(session, department_id)
    snapshots = {r.id: current_snapshot(session, store, r, now=now, data_dir=data_dir) for r in resources}
    scored = [s for s in snapshots.values() if s is not None]
    return {
        "department_id": department.id,
        "department_name": department.name,
        "overall": _mean(s.overall for s in scored),
        "dimensions": {d: _mean((s.scores or {}).get(d) for s in scored) for d in DIMENSIONS},
        "resources": [
            {
                "resource_code": r.code,
                "resource_name": r.name,
                "overall": snapshots[r.id].overall if snapshots[r.id] else None,
                "computed_at": snapshots[r.id].computed_at if snapshots[r.id] else None,
            }
            for r in resources
        ],
        "history": _department_history(session, [r.id for r in resources]),
        "problems": problem_counts(session, None, provider_id=department_id),
    }


def departments_overview(
    session: Session, actor: Actor, store: SqlStore, *, data_dir: Path | None = None
) -> list[dict[str, Any]]:
    """Every department's score (the authority's and the administrator's overview), best first."""
    require(actor, DEPARTMENT_QUALITY_READ)
    if not actor.roles & {Role.authority, Role.admin}:
        raise PermissionDenied("只有数据资源主管部门可以查看各部门的数据质量评分。")
    ids = session.scalars(
        select(Resource.provider_id)
        .where(Resource.status == ResourceStatus.published)
        .where(Resource.id.in_(select(Batch.resource_id).where(Batch.status == BatchStatus.applied)))
        .distinct()
    ).all()
    out = [department_quality(session, actor, store, i, data_dir=data_dir) for i in ids]
    return sorted(out, key=lambda d: (d["overall"] is None, -(d["overall"] or 0), d["department_name"]))


# --- quality problems (QUA-2) ---------------------------------------------------------------------

DEADLINE_SUBJECT = "quality_problem"


def _invalid(field_name: str, label: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"{label}：{message}", errors=[{"field": field_name, "label": label, "message": message}]
    )


def _problem_visible(session: Session, actor: Actor, problem: QualityProblem) -> Resource | None:
    resource = session.get(Resource, problem.resource_id)
    if resource is None or not catalog.is_visible(actor, resource):
        return None
    return resource


def may_report(actor: Actor, resource: Resource) -> bool:
    """Consumers report: users of other departments, and the authority (谁使用、谁反馈)."""
    if not actor.has(PROBLEM_REPORT) or resource.published_version is None:
        return False
    return Role.authority in actor.roles or actor.department_id != resource.provider_id


def may_answer(actor: Actor, resource_or_problem: Resource | QualityProblem) -> bool:
    provider = getattr(resource_or_problem, "provider_id", None)
    return actor.has(PROBLEM_ANSWER) and actor.department_id is not None and actor.department_id == provider


def report_problem(session: Session, actor: Actor, code: str, data: ProblemIn) -> QualityProblem:
    require(actor, PROBLEM_REPORT)
    resource = catalog.get_resource(session, actor, code)
    if Role.authority not in actor.roles and actor.department_id == resource.provider_id:
        raise PermissionDenied("提供部门不能对本部门的资源反馈质量问题，请直接整改数据。")
    if resource.published_version is None:
        raise Conflict("资源尚未发布，不能反馈数据质量问题。", slug="not-published")
    description = data.description.strip()
    if not description:
        raise _invalid("description", "问题描述", "必填，请说明发现的数据质量问题")
    spec, rules = aggregation.table_of(session, resource)
    item = (data.item or "").strip().lower() or None
    if item is not None and item not in spec.codes:
        raise _invalid("item", "信息项", f"“{data.item}”不是该资源的信息项")
    # The key is normalised as the store keeps it but not looked up: telling a consumer without a
    # grant whether a person's record exists would disclose it (the provider checks the key).
    record_key = (data.record_key or "").strip() or None
    if record_key is not None:
        keys = [r for r in rules if r.key]
        if len(keys) == 1 and keys[0].key_kind in ("ric", "uscc"):
            record_key = record_key.upper()
    problem = QualityProblem(
        resource_id=resource.id,
        resource_code=resource.code,
        provider_id=resource.provider_id,
        reporter_department_id=actor.department_id,
        reporter_user_id=actor.user_id,
        reporter=actor.name,
        reporter_name=actor.display_name,
        description=description,
        record_key=record_key,
        item=item,
        status=ProblemStatus.open,
    )
    session.add(problem)
    session.flush()
    working_days = policy.active_policy(session).deadlines.quality_problem_reply.working_days
    problem.tracked = calendar.track_deadline(
        session,
        calendar.WorkingCalendar.load(session),
        DEADLINE_SUBJECT,
        problem.id,
        "quality_problem_reply",
        today(),
        working_days,
    )
    session.flush()
    audit.record(
        session,
        actor,
        "quality.problem.reported",
        "quality_problem",
        problem.id,
        details={
            "resource": resource.code,
            "record_key": record_key,
            "item": item,
            "deadline": problem.deadline.isoformat() if problem.deadline else None,
        },
    )
    return problem


def get_problem(session: Session, actor: Actor, problem_id: int) -> QualityProblem:
    require(actor, PROBLEM_READ)
    problem = session.get(QualityProblem, problem_id)
    if problem is None or _problem_visible(session, actor, problem) is None:
        raise NotFound(f"质量问题 {problem_id} 不存在。")
    return problem


def answer_problem(session: Session, actor: Actor, problem_id: int, data: AnswerIn) -> QualityProblem:
    """The provider's officer confirms, marks fixed, or rejects with a reason."""
    require(actor, PROBLEM_ANSWER)
    problem = get_problem(session, actor, problem_id)
    if not may_answer(actor, problem):
        raise PermissionDenied("只有提供部门的目录管理员可以答复该质量问题。")
    reason = (data.reason or "").strip() or None
    if data.action == AnswerAction.reject and reason is None:
        raise _invalid("reason", "驳回理由", "驳回质量问题时必须说明理由")
    allowed = {
        AnswerAction.confirm: (ProblemStatus.open,),
        AnswerAction.reject: (ProblemStatus.open,),
        AnswerAction.fix: (ProblemStatus.open, ProblemStatus.confirmed),
    }[data.action]
    if problem.status not in allowed:
        raise Conflict(
            f"该问题当前状态为“{PROBLEM_STATUS_LABELS[problem.status]}”，不能再{ACTION_LABELS[data.action]}。",
            slug="invalid-state",
            status_now=problem.status,
        )
    now = utcnow()
    first_answer = problem.answered_at is None
    if first_answer:
        problem.answered_at, problem.answered_by = now, actor.name
    if data.action == AnswerAction.fix:
        problem.status = ProblemStatus.fixed
        problem.fixed_at, problem.fixed_by, problem.fixed_note = now, actor.name, reason
        if first_answer:
            problem.answer_reason = reason
    else:
        problem.status = (
            ProblemStatus.confirmed if data.action == AnswerAction.confirm else ProblemStatus.rejected
        )
        problem.answer_reason = reason
    session.flush()
    audit.record(
        session,
        actor,
        f"quality.problem.{ACTION_EVENTS[data.action]}",
        "quality_problem",
        problem.id,
        details={
            "resource": problem.resource_code,
            "reason": reason,
            "late": bool(first_answer and problem.deadline and _local_date(now) > problem.deadline),
        },
    )
    return problem


ACTION_LABELS = {AnswerAction.confirm: "确认", AnswerAction.fix: "标记为已整改", AnswerAction.reject: "驳回"}
ACTION_EVENTS = {
    AnswerAction.confirm: "confirmed",
    AnswerAction.fix: "fixed",
    AnswerAction.reject: "rejected",
}


def _local_date(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def list_problems(
    session: Session,
    actor: Actor,
    code: str,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[QualityProblem], int]:
    """A resource's problems, for every internal user who may see the resource."""
    require(actor, PROBLEM_READ)
    resource = catalog.get_resource(session, actor, code)
    stmt = select(QualityProblem).where(QualityProblem.resource_id == resource.id)
    return _page(session, _status_filter(stmt, status), limit, offset)


def _status_filter(stmt, status: str | None):
    if status == "unresolved":
        return stmt.where(QualityProblem.status.in_(UNRESOLVED))
    if status:
        if status not in ProblemStatus.__members__:
            raise _invalid("status", "状态", "应为 open、confirmed、fixed、rejected 或 unresolved")
        return stmt.where(QualityProblem.status == status)
    return stmt


def _page(session: Session, stmt, limit: int, offset: int) -> tuple[list[QualityProblem], int]:
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(stmt.order_by(QualityProblem.id.desc()).limit(limit).offset(offset)).all()
    return list(items), total


def department_problems(
    session: Session,
    actor: Actor,
    *,
    side: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[QualityProblem], int]:
    """Problems the caller's department reported (``reported``) or received as provider
    (``received``); both when unsaid. The authority sees every problem."""
    require(actor, PROBLEM_READ)
    stmt = select(QualityProblem)
    if side not in (None, "reported", "received"):
        raise _invalid("side", "范围", "应为 reported 或 received")
    if Role.authority in actor.roles and side is None:
        pass
    elif actor.department_id is None:
        return [], 0
    elif side == "reported":
        stmt = stmt.where(QualityProblem.reporter_department_id == actor.department_id)
    elif side == "received":
        stmt = stmt.where(QualityProblem.provider_id == actor.department_id)
    else:
        stmt = stmt.where(
            (QualityProblem.reporter_department_id == actor.department_id)
            | (QualityProblem.provider_id == actor.department_id)
        )
    return _page(session, _status_filter(stmt, status), limit, offset)


def problem_counts(
    session: Session, resource_ids: list[int] | None, *, provider_id: int | None = None
) -> dict[str, int]:
    stmt = select(QualityProblem.status, func.count()).group_by(QualityProblem.status)
    if resource_ids is not None:
        stmt = stmt.where(QualityProblem.resource_id.in_(resource_ids))
    if provider_id is not None:
        stmt = stmt.where(QualityProblem.provider_id == provider_id)
    counts = dict(session.execute(stmt).all())
    overdue_stmt = (
        select(func.count())
        .select_from(QualityProblem)
        .join(calendar.TrackedDeadline, calendar.TrackedDeadline.id == QualityProblem.tracked_deadline_id)
        .where(QualityProblem.status == ProblemStatus.open, calendar.TrackedDeadline.due_date < today())
    )
    if resource_ids is not None:
        overdue_stmt = overdue_stmt.where(QualityProblem.resource_id.in_(resource_ids))
    if provider_id is not None:
        overdue_stmt = overdue_stmt.where(QualityProblem.provider_id == provider_id)
    return {
        "open": sum(n for s, n in counts.items() if s in UNRESOLVED),
        "total": sum(counts.values()),
        "overdue": session.scalar(overdue_stmt) or 0,
    }


def problem_view(session: Session, problem: QualityProblem) -> dict[str, Any]:
    deadline = problem.deadline
    answered_day = _local_date(problem.answered_at) if problem.answered_at else None
    resource = session.get(Resource, problem.resource_id)
    names = dict(
        session.execute(
            select(Department.id, Department.name).where(
                Department.id.in_([problem.provider_id, problem.reporter_department_id or -1])
            )
        ).all()
    )
    return {
        "id": problem.id,
        "resource_code": problem.resource_code,
        "resource_name": resource.name if resource else None,
        "provider_id": problem.provider_id,
        "provider": names.get(problem.provider_id),
        "reporter": problem.reporter,
        "reporter_name": problem.reporter_name,
        "reporter_department_id": problem.reporter_department_id,
        "reporter_department": names.get(problem.reporter_department_id),
        "description": problem.description,
        "record_key": problem.record_key,
        "item": problem.item,
        "status": problem.status,
        "status_label": PROBLEM_STATUS_LABELS[problem.status],
        "deadline": deadline,
        "deadline_provisional": problem.deadline_provisional,
        "overdue": bool(problem.status == ProblemStatus.open and deadline and today() > deadline),
        "answered_late": bool(answered_day and deadline and answered_day > deadline),
        "answer_reason": problem.answer_reason,
        "answered_by": problem.answered_by,
        "answered_at": problem.answered_at,
        "fixed_note": problem.fixed_note,
        "fixed_by": problem.fixed_by,
        "fixed_at": problem.fixed_at,
        "created_at": problem.created_at,
    }
