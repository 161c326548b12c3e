"""Pages of a resource's stored data (AGG-6, #13 item 17): browse the records page by page, search by
key, filter on items, look at the data as of a batch or a time; and one record's history, every
version with its batch.

Like the other aggregation pages, each calls the service (:mod:`govdata.aggregation.records`), which
checks the caller and audits the read; bad input is explained on the page in Chinese.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.aggregation import records
from govdata.aggregation.auth import DataReader
from govdata.aggregation.models import MODE_LABELS
from govdata.aggregation.web import SOURCE_LABELS, STATUS_BADGES, data_href, freshness_view
from govdata.catalog import service as catalog
from govdata.core.auth import DbSession
from govdata.core.clock import CHINA
from govdata.core.errors import Problem, field_error
from govdata.orgs import service as orgs
from govdata.web import local_time, render, render_error

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
_KEYS = re.compile(r"[\s,，、；;]+")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?")
FILTER_PREFIX = "f_"
MAX_FILTERS = 5


def records_href(code: str, suffix: str = "", **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in ("", None)})
    return "/data/" + quote(code, safe="/") + "/records" + suffix + (f"?{query}" if query else "")


def _person(session: Session, usernames) -> Any:
    found = orgs.display_names(session, usernames)

    def person(username: str | None) -> str:
        if not username:
            return "—"
        if username == "govdata":
            return "平台（定时任务）"
        if username.startswith("system:"):
            return "应用系统 " + username.removeprefix("system:")
        return found.get(username) or username

    return person


def _shown(session: Session, resource: catalog.ResourceRef) -> Any:
    """A stored value as a page shows it: a code with what it means (``1 男``), "—" for none."""
    labels = catalog.value_labels(session, resource)

    def shown(code: str, value: Any) -> str:
        if value is None:
            return "—"
        meaning = labels.get(code, {}).get(str(value))
        return f"{value} {meaning}" if meaning else str(value)

    return shown


def _as_of(batch: str, moment: str) -> tuple[int | None, datetime | None]:
    """The point in time asked for: a batch number, or a China time (``YYYY-MM-DDTHH:MM``)."""
    batch, moment = batch.strip().lstrip("#"), moment.strip()
    if batch:
        if not batch.isdigit() or len(batch) > 9:
            raise field_error("as_of_batch", "应为批次编号")
        return int(batch), None
    if moment:
        if not _TIME.fullmatch(moment):
            raise field_error("as_of", "应为日期和时间，如 2026-09-25 14:30")
        try:
            return None, datetime.fromisoformat(moment.replace(" ", "T")).replace(tzinfo=CHINA)
        except ValueError:
            raise field_error("as_of", f"“{moment}”不是真实存在的时间") from None
    return None, None


def _filters(request: Request, item: str, value: str) -> dict[str, str]:
    """Filters carried as ``f_<item code>=value``, plus the one the form adds (``item``, ``value``)."""
    found = {
        name.removeprefix(FILTER_PREFIX): v.strip()[:200]
        for name, v in request.query_params.items()
        if name.startswith(FILTER_PREFIX) and v.strip()
    }
    if item.strip() and value.strip():
        found[item.strip()] = value.strip()[:200]
    if len(found) > MAX_FILTERS:
        raise field_error("item", f"最多同时按 {MAX_FILTERS} 个信息项筛选")
    return found


@router.get("/data/{code:rcode}/records")
def records_page(
    request: Request,
    session: DbSession,
    actor: DataReader,
    code: str,
    key: Annotated[str, Query(max_length=2000)] = "",
    item: Annotated[str, Query(max_length=64)] = "",
    value: Annotated[str, Query(max_length=200)] = "",
    as_of_batch: Annotated[str, Query(max_length=12)] = "",
    as_of: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    keys = [k for k in _KEYS.split(key) if k]
    state: dict[str, Any] = {
        "key": " ".join(keys),
        "as_of_batch": as_of_batch.strip(),
        "as_of": as_of.strip(),
    }
    error, filters, result = None, {}, None
    try:
        batches = records.applied_batches(session, actor, code)
        try:
            filters = _filters(request, item, value)
            batch_no, moment = _as_of(as_of_batch, as_of)
            result = records.browse(
                session,
                actor,
                request.app.state.store,
                code,
                keys=keys or None,
                filters=filters or None,
                as_of_batch=batch_no,
                as_of=moment,
                limit=PAGE_SIZE,
                offset=offset,
            )
        except Problem as exc:
            if exc.status not in (409, 422):
                raise
            session.rollback()
            error = exc.detail
        table, _ = records.stored_table(session, actor, code)
    except Problem as exc:
        return render_error(request, exc)
    carried = {f"{FILTER_PREFIX}{c}": v for c, v in filters.items()}

    def link(**changes: Any) -> str:
        return records_href(code, **{**state, **carried, **changes})

    names = {r.code: r.name for r in table.rules}
    chips = [
        {
            "label": f"{names.get(c, c)} = {v}",
            "href": records_href(
                code, **{**state, **{k: x for k, x in carried.items() if k != FILTER_PREFIX + c}}
            ),
        }
        for c, v in filters.items()
    ]
    total = result["total"] if result else 0
    return render(
        request,
        "aggregation/records.html",
        actor,
        resource=table.resource,
        rules=table.rules,
        result=result,
        error=error,
        state=state,
        filters=filters,
        carried=carried,
        chips=chips,
        batches=batches,
        offset=offset,
        page_size=PAGE_SIZE,
        prev_href=link(offset=max(offset - PAGE_SIZE, 0)) if offset > 0 else None,
        next_href=link(offset=offset + PAGE_SIZE) if offset + PAGE_SIZE < total else None,
        history_href=lambda k: records_href(
            code, "/history", key=k, **{n: state[n] for n in ("as_of_batch", "as_of")}
        ),
        clear_href=records_href(code),
        fresh=freshness_view(result["freshness"] if result else None, table.resource.update_cycle),
        shown=_shown(session, table.resource),
        data_href=data_href,
        local_time=local_time,
        mode_labels=MODE_LABELS,
        active_href="/data",
    )


@router.get("/data/{code:rcode}/records/history")
def history_page(
    request: Request,
    session: DbSession,
    actor: DataReader,
    code: str,
    key: Annotated[str, Query(max_length=200)] = "",
    as_of_batch: Annotated[str, Query(max_length=12)] = "",
    as_of: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    store = request.app.state.store
    try:
        found = records.history(session, actor, store, code, key)
        batches = records.applied_batches(session, actor, code)
    except Problem as exc:
        return render_error(request, exc)
    table, versions = found["table"], found["versions"]
    point, point_error, point_label = None, None, None
    try:
        batch_no, moment = _as_of(as_of_batch, as_of)
        if batch_no is not None or moment is not None:
            answer = records.browse(
                session, actor, store, code, keys=[found["key"]], as_of_batch=batch_no, as_of=moment, limit=1
            )
            point = answer["rows"][0] if answer["rows"] else {}
            point_label = f"截至批次 #{batch_no}" if batch_no is not None else f"截至 {local_time(moment)}"
    except Problem as exc:
        session.rollback()
        point_error = exc.detail
    changes = []
    for index, version in enumerate(versions):
        older = versions[index + 1] if index + 1 < len(versions) else None
        changes.append(records.changed_items(version.values, older.values) if older else set())
    people = [v.batch.created_by for v in versions if v.batch] + [
        b.created_by for b in found["batches"].values()
    ]
    return render(
        request,
        "aggregation/record.html",
        actor,
        resource=table.resource,
        rules=table.rules,
        key=found["key"],
        versions=versions,
        entries=list(zip(versions, changes, strict=True)),
        ended_batches=found["batches"],
        batches=batches,
        state={"as_of_batch": as_of_batch.strip(), "as_of": as_of.strip()},
        point=point,
        point_label=point_label,
        point_error=point_error,
        person=_person(session, people),
        shown=_shown(session, table.resource),
        records_href=records_href,
        data_href=data_href,
        local_time=local_time,
        mode_labels=MODE_LABELS,
        source_labels=SOURCE_LABELS,
        status_badges=STATUS_BADGES,
        is_migration=records.is_migration,
        active_href="/data",
    )
