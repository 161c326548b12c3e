"""The watermark of incremental pulls: the highest value of the watermark column that was read, stored
as typed JSON (``{"type", "value"}``) so that the next run compares like with like.

It moves only when a run's batch is *applied* (see ``runner``); a failed or rejected batch leaves it
where it was, so the next run reads the same rows again.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from govdata.aggregation.pull_models import PullMode
from govdata.aggregation.pulls.source import Plan, PullStopped


def watermark_index(plan: Plan, columns: list[str]) -> int | None:
    if plan.mode != PullMode.incremental:
        return None
    for i, column in enumerate(columns):
        if column == plan.watermark_column:
            return i
    raise PullStopped(f"查询结果中没有水位列 {plan.watermark_column}。")


def max_watermark(current: Any, values: tuple) -> Any:
    try:
        present = [v for v in values if v is not None]
        if not present:
            return current
        high = max(present)
        return high if current is None or high > current else current
    except TypeError as exc:
        raise PullStopped("水位列的取值类型不一致（如文本与数字混杂），无法比较。") from exc


def dump_watermark(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise PullStopped("水位列不能是逻辑值。")
    if isinstance(value, datetime):
        kind, shown = "datetime", value.isoformat()
    elif isinstance(value, date):
        kind, shown = "date", value.isoformat()
    elif isinstance(value, int):
        kind, shown = "int", str(value)
    elif isinstance(value, float):
        kind, shown = "float", repr(value)
    elif isinstance(value, Decimal):
        kind, shown = "decimal", str(value)
    elif isinstance(value, str):
        kind, shown = "str", value
    else:
        raise PullStopped(f"水位列的类型（{type(value).__name__}）不能用于增量拉取。")
    return json.dumps({"type": kind, "value": shown}, ensure_ascii=False)


def load_watermark(stored: str | None) -> Any:
    if not stored:
        return None
    data = json.loads(stored)
    kind, value = data["type"], data["value"]
    return {
        "datetime": datetime.fromisoformat,
        "date": date.fromisoformat,
        "int": int,
        "float": float,
        "decimal": Decimal,
        "str": str,
    }[kind](value)


def shown_watermark(stored: str | None) -> str | None:
    return json.loads(stored)["value"] if stored else None
