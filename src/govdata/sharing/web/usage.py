"""The 共享调用记录 page (SHR-7, 使用反馈): the calls of the sharing services a caller may see — the
authority all of them, a department the calls on its data (as provider) and its own calls (as
consumer) — with filters, and charts of calls per day, per resource and by outcome.

The log is read through ``sharing.usage.list_usage``, the function behind ``GET /api/v1/usage``, so
the page shows exactly what the API would. The charts and the provider/consumer split are computed
here over the calls of the chosen period, at most :data:`WINDOW_CAP` of the newest.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.catalog.enums import ShareMode
from govdata.core import clock
from govdata.core.auth import DbSession
from govdata.core.labels import label, labels
from govdata.orgs import service as orgs
from govdata.sharing import usage
from govdata.sharing.auth import UsageReader, sees_all_usage
from govdata.sharing.enums import UsageOutcome
from govdata.sharing.web import charts
from govdata.sharing.web.common import HOME, OUTCOME_BADGES, names_for, page, router
from govdata.web import local_time, offset_links

PAGE_SIZE = 50
WINDOW_CAP = 5000
PERIODS = {"7": "最近 7 天", "30": "最近 30 天", "90": "最近 90 天"}
SIDES = {"provider": "本部门数据被调用", "consumer": "本部门的调用"}
TOP_RESOURCES = 8


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.CHINA)


def _caller(row, names: dict[str, dict], people: dict[str, str]) -> str:
    if row.system_id is not None and row.caller.startswith("system:"):
        return names["systems"].get(row.system_id, row.caller)
    return people.get(row.caller, row.caller)


def _views(session: Session, rows: list) -> list[dict[str, Any]]:
    names = names_for(session, usage=rows)
    people = orgs.display_names(session, [r.caller for r in rows if not r.caller.startswith("system:")])
    return [
        {
            "at": local_time(r.at, seconds=True),
            "caller": _caller(r, names, people),
            "end_user": r.end_user if r.caller.startswith("system:") else None,
            "consumer": names["departments"].get(r.consumer_department_id, "—"),
            "provider": names["departments"].get(r.provider_id, "—"),
            "resource_code": r.resource_code,
            "mode": label(ShareMode, r.mode),
            "item_count": len(r.items or []),
            "rows": r.rows,
            "outcome": r.outcome,
            "outcome_label": label(UsageOutcome, r.outcome),
            "outcome_badge": OUTCOME_BADGES.get(r.outcome, ""),
            "status_code": r.status_code,
            "latency": f"{r.latency_ms:.0f}",
            "grant_id": r.grant_id,
            "purpose": r.purpose,
        }
        for r in rows
    ]


def _charts(session: Session, rows: list, first: date, last: date) -> dict[str, Any]:
    per_day: dict[date, list[int]] = {}
    day = first
    while day <= last:
        per_day[day] = [0, 0]
        day += timedelta(days=1)
    for row in rows:
        bucket = per_day.get(clock.china_date(row.at))
        if bucket is not None:
            bucket[0 if row.outcome == UsageOutcome.ok else 1] += 1
    by_resource = Counter(r.resource_code for r in rows).most_common(TOP_RESOURCES)
    resource_names = {}
    for code, _ in by_resource:
        ref = catalog.resource_ref(session, code=code)
        resource_names[code] = ref.name if ref else code
    return {
        "daily": charts.daily_calls([(d, ok, failed) for d, (ok, failed) in per_day.items()]),
        "resources": charts.resource_calls([(resource_names[c], n) for c, n in by_resource]),
        "outcomes": charts.outcome_split(Counter(r.outcome for r in rows), labels(UsageOutcome)),
    }


@router.get(f"{HOME}/usage")
def usage_page(
    request: Request,
    session: DbSession,
    actor: UsageReader,
    resource_code: Annotated[str, Query(max_length=64)] = "",
    outcome: Annotated[str, Query(max_length=16)] = "",
    mode: Annotated[str, Query(max_length=16)] = "",
    side: Annotated[str, Query(max_length=16)] = "",
    period: Annotated[str, Query(max_length=4)] = "30",
    offset: Annotated[int, Query(ge=0, le=WINDOW_CAP)] = 0,
) -> Response:
    outcome = outcome if outcome in UsageOutcome.__members__ else ""
    mode = mode if mode in ShareMode.__members__ else ""
    everything = sees_all_usage(actor)
    side = side if side in SIDES and not everything else ""
    period = period if period in PERIODS else "30"
    last = clock.today()
    first = last - timedelta(days=int(period) - 1)
    rows, in_window = usage.list_usage(
        session,
        actor,
        resource_code=resource_code.strip() or None,
        outcome=outcome or None,
        mode=mode or None,
        since=_start_of(first),
        until=_start_of(last + timedelta(days=1)),
        limit=WINDOW_CAP,
        offset=0,
    )
    if side == "provider":
        rows = [r for r in rows if r.provider_id == actor.department_id]
    elif side == "consumer":
        rows = [r for r in rows if r.consumer_department_id == actor.department_id]
    kept = {
        "resource_code": resource_code.strip(),
        "outcome": outcome,
        "mode": mode,
        "side": side,
        "period": period,
    }

    def link(new_offset: int) -> str:
        query = {k: v for k, v in {**kept, "offset": str(new_offset or "")}.items() if v}
        return f"{HOME}/usage?{urlencode(query)}"

    previous, following = offset_links(link, offset, PAGE_SIZE, len(rows))
    # the resource filter picks a resource by name among those called in the period (#13 item 22)
    called = sorted(
        {r.resource_code for r in rows} | ({kept["resource_code"]} if kept["resource_code"] else set())
    )
    resource_choices = []
    for code in called[:200]:
        ref = catalog.resource_ref(session, code=code)
        resource_choices.append((code, ref.name if ref else code))
    return page(
        request,
        "sharing/usage.html",
        actor,
        resource_choices=resource_choices,
        calls=_views(session, rows[offset : offset + PAGE_SIZE]),
        total=len(rows),
        capped=in_window > WINDOW_CAP,
        cap=WINDOW_CAP,
        charts=_charts(session, rows, first, last),
        filters=kept,
        everything=everything,
        periods=PERIODS,
        sides=SIDES,
        modes=labels(ShareMode),
        first=first,
        last=last,
        previous=previous,
        next=following,
        section="usage",
    )
