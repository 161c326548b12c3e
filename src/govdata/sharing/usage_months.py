"""The usage log rolled up per China month (``share_usage_months``): written with every batch of the
usage log, in the same transaction (``sharing.usage``), and rebuilt from the log when needed (the
migration that adds it, a benchmark's bulk load). Periods of evaluation are whole months, so a
period's calls per department are a sum over this table, never a scan of the log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, literal, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from govdata.core.clock import china_date
from govdata.core.sqltime import china_month
from govdata.sharing.models import UsageMonth, UsageRecord


def roll_up(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Add the usage rows just written to their months (an upsert per month, department, side and
    outcome)."""
    counts: Counter[tuple[str, int, str, str]] = Counter()
    for row in rows:
        month = china_date(row["at"]).strftime("%Y-%m")
        for side, department in (
            ("provider", row.get("provider_id")),
            ("consumer", row.get("consumer_department_id")),
        ):
            if department is not None:
                counts[(month, department, side, row["outcome"])] += 1
    if not counts:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(UsageMonth)
    statement = statement.on_conflict_do_update(
        index_elements=["month", "department_id", "side", "outcome"],
        set_={"calls": UsageMonth.calls + statement.excluded.calls},
    )
    session.execute(
        statement,
        [
            {"month": m, "department_id": d, "side": s, "outcome": o, "calls": n}
            for (m, d, s, o), n in sorted(counts.items())
        ],
    )


def rebuild(session: Session) -> int:
    """Recount every month from the usage log; returns the rows written."""
    session.execute(delete(UsageMonth))
    month = china_month(UsageRecord.at)
    sides = [
        select(
            month.label("month"),
            column.label("department_id"),
            literal(side).label("side"),
            UsageRecord.outcome,
            func.count().label("calls"),
        )
        .where(column.is_not(None))
        .group_by(month, column, UsageRecord.outcome)
        for side, column in (
            ("provider", UsageRecord.provider_id),
            ("consumer", UsageRecord.consumer_department_id),
        )
    ]
    result = session.execute(
        insert(UsageMonth).from_select(
            ["month", "department_id", "side", "outcome", "calls"], union_all(*sides)
        )
    )
    return result.rowcount or 0
