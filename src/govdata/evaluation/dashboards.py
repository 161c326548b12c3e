"""The dashboards (SUP-5): the authority's region at a glance and each department's own to-do.

* **The authority** (:func:`region_dashboard`): the region's figures (departments, published
  resources, resources with data and the rows loaded this year, share applications this year and the
  share answered on time, open datasets, violations by status, rectification notices open and
  overdue), the trends of the last twelve months (applications submitted, violations detected,
  batches applied), violations by status and the departments with the most confirmed violations,
  and the worst overdue items across the region: share applications the provider has not answered,
  objections not reviewed, rectification notices not rectified and catalog update tasks not done,
  each past its deadline, ordered by how late they are in working days.
* **A department** (:func:`department_dashboard`): its own to-do: catalog update tasks past their
  deadline, share applications waiting for its receipt or answer, objections to its data waiting
  for review, its open rectification notices with their deadlines, violations it may still contest,
  and its rank in the year's scorecard.

Every figure carries the address of the list behind it (the violations register filtered by status,
the notices list, the sharing queue, the objections queue …) so that a page shows it as a link.

The facts come from each capability's service: use cases called with the caller (violations,
notices, objections, the department's applications: what the caller may see) and actor-free facts
read after this module checked the caller (``sharing.applications_submitted`` and
``overdue_applications``, ``aggregation.applied_batches`` and ``resources_with_data``,
``supervision.violations_detected``, ``catalog.late_update_tasks`` and ``published_resources``,
``opening.open_codes``). Nothing here reads another capability's tables.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.core import clock
from govdata.core.auth import Actor, require
from govdata.core.calendar import WorkingCalendar
from govdata.core.errors import NotFound, PermissionDenied
from govdata.evaluation import service as evaluation
from govdata.evaluation.dashboard_auth import DEPARTMENT_DASHBOARD, REGION_DASHBOARD
from govdata.objections import service as objections
from govdata.objections.auth import EXTEND as OBJECTIONS_EXTEND
from govdata.objections.auth import REVIEW as OBJECTIONS_REVIEW
from govdata.opening import service as opening
from govdata.orgs import service as orgs
from govdata.sharing import service as sharing
from govdata.sharing.auth import DECIDE as SHARING_DECIDE
from govdata.sharing.auth import READ as SHARING_READ
from govdata.sharing.enums import Phase
from govdata.supervision import notices
from govdata.supervision import service as supervision
from govdata.supervision.auth import NOTICE_READ, VIOLATION_READ
from govdata.supervision.enums import ViolationKind, ViolationStatus

MONTHS = 12
WORST = 10  # overdue items shown on the authority's dashboard
TODO = 20  # items of each kind shown on a department's dashboard
LIMIT = 500  # at most this many overdue items of one kind are weighed

VIOLATIONS = "/supervision/violations"
NOTICES = "/supervision/notices"
SHARING = "/sharing"
OBJECTIONS = "/objections"
SCORECARDS = "/evaluation/scorecards"


def violations_href(**filters: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v not in (None, ""))
    return VIOLATIONS + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Figure:
    """One figure of a dashboard and the list behind it."""

    key: str
    label: str
    value: int | float | str | None
    href: str
    unit: str = ""
    note: str = ""
    bad: bool = False

    @property
    def shown(self) -> str:
        if self.value is None:
            return "—"
        if isinstance(self.value, str):
            return self.value
        if isinstance(self.value, float):
            return f"{self.value:.1f}".rstrip("0").rstrip(".") + self.unit
        return f"{self.value:,}{self.unit}"


@dataclass(frozen=True)
class OverdueItem:
    """Something past its deadline: what it is, whose it is, and how late (working days by the
    working calendar, and calendar days)."""

    kind: str  # application | objection | notice | catalog_task
    kind_label: str
    title: str
    department_id: int
    department_name: str
    deadline: date
    deadline_provisional: bool
    working_days_late: int
    days_late: int
    href: str


@dataclass
class Trends:
    """Per month (China dates) of the last twelve: applications submitted, violations detected,
    batches applied and the rows they loaded."""

    months: list[str]
    labels: list[str]
    applications: list[int] = field(default_factory=list)
    violations: list[int] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


KIND_LABELS = {
    "application": "共享申请逾期未答复",
    "objection": "疑义逾期未复核",
    "notice": "整改逾期未完成",
    "catalog_task": "目录逾期未更新",
}


# --- time ----------------------------------------------------------------------------------------------


def _instant(day: date) -> datetime:
    """The UTC instant at which a China date begins."""
    return datetime(day.year, day.month, day.day, tzinfo=clock.CHINA).astimezone(UTC)


def _months(today: date) -> list[tuple[int, int]]:
    """The last ``MONTHS`` months, oldest first, ending with today's."""
    year, month = today.year, today.month
    found = []
    for _ in range(MONTHS):
        found.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found[::-1]


def _month_key(moment: datetime) -> str:
    return clock.china_date(moment).strftime("%Y-%m")


def _lateness(calendar: WorkingCalendar, deadline: date, today: date) -> tuple[int, int]:
    return calendar.working_days_between(deadline, today), (today - deadline).days


# --- the authority's dashboard ------------------------------------------------------------------------


def _trends(session: Session, today: date) -> Trends:
    months = _months(today)
    keys = [f"{y}-{m:02d}" for y, m in months]
    start = _instant(date(*months[0], 1))
    end = clock.now()
    applications = Counter(
        _month_key(a.submitted_at) for a in sharing.applications_submitted(session, start, end)
    )
    violations = Counter(
        _month_key(v.detected_at) for v in supervision.violations_detected(session, start, end)
    )
    batches: Counter[str] = Counter()
    rows: Counter[str] = Counter()
    for batch in aggregation.applied_batches(session, start, end):
        key = _month_key(batch.finished_at)
        batches[key] += 1
        rows[key] += batch.rows_applied or 0
    return Trends(
        months=keys,
        labels=[f"{m}月" if m != 1 or i == 0 else f"{y}年1月" for i, (y, m) in enumerate(months)],
        applications=[applications[k] for k in keys],
        violations=[violations[k] for k in keys],
        batches=[batches[k] for k in keys],
        rows=[rows[k] for k in keys],
    )


def on_time_rate(applications: list[sharing.ApplicationFact], today: date) -> tuple[int, int]:
    """Of the applications whose answer fell due (answered, or waiting for the provider past the
    deadline), how many were answered by the deadline: ``(on time, due)``."""
    answered = [a for a in applications if a.decided_at is not None]
    waiting_late = [
        a for a in applications if a.awaits_provider and a.deadline is not None and a.deadline < today
    ]
    on_time = sum(1 for a in answered if not a.late)
    return on_time, len(answered) + len(waiting_late)


def _overdue_applications(
    session: Session, calendar: WorkingCalendar, today: date, names
) -> list[OverdueItem]:
    items = []
    for a in sharing.overdue_applications(session, today)[:LIMIT]:
        late, days = _lateness(calendar, a.deadline, today)
        items.append(
            OverdueItem(
                "application",
                KIND_LABELS["application"],
                f"共享申请 #{a.id}：{a.resource_name}",
                a.provider_id,
                names.get(a.provider_id, ""),
                a.deadline,
                a.deadline_provisional,
                late,
                days,
                f"{SHARING}/applications/{a.id}",
            )
        )
    return items


def _overdue_objections(
    session: Session, actor: Actor, calendar: WorkingCalendar, today: date, names
) -> list[OverdueItem]:
    rows, _ = objections.list_objections(
        session, actor, status="under_review", overdue=True, limit=LIMIT, offset=0
    )
    items = []
    for o in rows:
        deadline = objections.deadline_of(session, o)
        if deadline is None:
            continue
        late, days = _lateness(calendar, deadline.due_date, today)
        items.append(
            OverdueItem(
                "objection",
                KIND_LABELS["objection"],
                f"疑义 #{o.id}：{o.resource_name}",
                o.provider_id,
                names.get(o.provider_id, ""),
                deadline.due_date,
                deadline.provisional,
                late,
                days,
                objections.objection_href(o.id),
            )
        )
    return items


def _notice_items(session: Session, rows: list, calendar: WorkingCalendar, today: date) -> list[OverdueItem]:
    items = []
    for view in notices.notice_views(session, rows):
        late, days = _lateness(calendar, view["deadline"], today)
        items.append(
            OverdueItem(
                "notice",
                KIND_LABELS["notice"],
                f"整改通知 #{view['id']}：{view['violation_kind_label']}",
                view["department_id"],
                view["department_name"] or "",
                view["deadline"],
                view["deadline_provisional"],
                late,
                days,
                notices.notice_href(view["id"]),
            )
        )
    return items


def _late_tasks(
    session: Session, calendar: WorkingCalendar, today: date, names, department_id: int | None = None
) -> list[OverdueItem]:
    items = []
    for task in catalog.late_update_tasks(session, today):
        if task.status != "open" or (department_id is not None and task.department_id != department_id):
            continue
        deadline = date.fromisoformat(task.deadline)
        late, days = _lateness(calendar, deadline, today)
        items.append(
            OverdueItem(
                "catalog_task",
                KIND_LABELS["catalog_task"],
                f"目录更新任务 #{task.id}：{task.event_title}",
                task.department_id,
                names.get(task.department_id, ""),
                deadline,
                task.deadline_provisional,
                late,
                days,
                violations_href(
                    kind=ViolationKind.catalog_update_late.value, department_id=task.department_id
                ),
            )
        )
    return items


def _worst_first(items: list[OverdueItem]) -> list[OverdueItem]:
    return sorted(items, key=lambda i: (-i.working_days_late, -i.days_late, i.kind, i.title))


def _violation_count(session: Session, actor: Actor, status: str) -> int:
    return supervision.list_violations(session, actor, status=status, limit=1, offset=0)[1]


def _notice_count(session: Session, actor: Actor, **filters: Any) -> int:
    return notices.list_notices(session, actor, limit=1, offset=0, **filters)[1]


def region_dashboard(session: Session, actor: Actor) -> dict[str, Any]:
    """The authority's dashboard (see the module): ``figures``, ``trends``, ``violations`` by status,
    ``departments`` (confirmed violations per department), ``overdue`` (the worst first, at most
    ``WORST``) and ``overdue_counts`` per kind with the list behind each."""
    require(actor, REGION_DASHBOARD)
    today = clock.today()
    year_start = _instant(date(today.year, 1, 1))
    calendar = WorkingCalendar.load(session)
    names = orgs.department_names(session)
    departments = orgs.list_departments(session, actor, limit=1, offset=0)[1]
    published = catalog.published_resources(session)
    with_data = aggregation.resources_with_data(session, [r.id for r in published]) if published else set()
    this_year = sharing.applications_submitted(session, year_start, clock.now())
    on_time, due = on_time_rate(this_year, today)
    rows_this_year = sum(
        b.rows_applied or 0 for b in aggregation.applied_batches(session, year_start, clock.now())
    )
    statuses = {s.value: _violation_count(session, actor, s.value) for s in ViolationStatus}
    open_notices = _notice_count(session, actor, status="open")
    overdue_notices = _notice_count(session, actor, overdue=True)

    applications = _overdue_applications(session, calendar, today, names)
    objection_items = _overdue_objections(session, actor, calendar, today, names)
    notice_rows, _ = notices.list_notices(session, actor, overdue=True, limit=LIMIT, offset=0)
    notice_items = _notice_items(session, notice_rows, calendar, today)
    tasks = _late_tasks(session, calendar, today, names)

    figures = [
        Figure("departments", "部门", departments, "/departments"),
        Figure("published", "已发布目录资源", len(published), "/catalog?status=published"),
        Figure("with_data", "已归集数据的资源", len(with_data), "/region#departments"),
        Figure("rows", f"{today.year}年归集入库（行）", rows_this_year, "/region#departments"),
        Figure("applications", f"{today.year}年共享申请", len(this_year), f"{SHARING}?tab=all"),
        Figure(
            "on_time",
            "按期答复率",
            round(100 * on_time / due, 1) if due else None,
            f"{SHARING}?tab=escalated",
            unit="%",
            note=f"{on_time}/{due} 件按期答复" if due else "尚无到期的申请",
            bad=bool(due) and on_time < due,
        ),
        Figure("open_datasets", "开放数据集", len(opening.open_codes(session)), "/opening"),
        *(
            Figure(
                f"violations_{status}",
                title,
                statuses[status],
                violations_href(status=status),
                bad=statuses[status] > 0,
            )
            for status, title in (
                ("detected", "违规待确认"),
                ("contested", "部门有异议"),
                ("confirmed", "已确认待整改"),
            )
        ),
        Figure("notices_open", "整改通知未销号", open_notices, f"{NOTICES}?status=open"),
        Figure(
            "notices_overdue",
            "整改逾期",
            overdue_notices,
            f"{NOTICES}?overdue=1",
            bad=overdue_notices > 0,
        ),
    ]
    confirmed = supervision.awaiting_rectification(session)
    overdue_counts = [
        ("application", len(applications), f"{SHARING}?tab=escalated"),
        ("objection", len(objection_items), f"{OBJECTIONS}?tab=overdue"),
        ("notice", len(notice_items), f"{NOTICES}?overdue=1"),
        ("catalog_task", len(tasks), violations_href(kind=ViolationKind.catalog_update_late.value)),
    ]
    return {
        "today": today,
        "year": today.year,
        "figures": figures,
        "trends": _trends(session, today),
        "violations": [
            (s.value, s.label, statuses[s.value], violations_href(status=s.value)) for s in ViolationStatus
        ],
        "departments": [
            (department_id, names.get(department_id, f"#{department_id}"), count)
            for department_id, count in sorted(confirmed.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "overdue": _worst_first(applications + objection_items + notice_items + tasks)[:WORST],
        "scores": _scores(session, actor, str(today.year)),
        "scores_href": scorecard_href(str(today.year)),
        "overdue_counts": [(kind, KIND_LABELS[kind], count, href) for kind, count, href in overdue_counts],
    }


# --- a department's dashboard --------------------------------------------------------------------------


def scorecard_href(period: str, department_id: int | None = None) -> str:
    """The ranking of a period, or one department's figures in it (the scorecard pages)."""
    if department_id is None:
        return f"{SCORECARDS}?period={period}"
    return f"{SCORECARDS}/{period}/departments/{department_id}"


def _scores(session: Session, actor: Actor, period: str) -> list[dict[str, Any]]:
    """The period's ranking as the caller may read it (best first), each with its figures' page."""
    try:
        card = evaluation.scorecard(session, actor, period)
    except (PermissionDenied, NotFound):
        return []
    ranked = sorted((i for i in card.items if i.rank is not None), key=lambda i: (i.rank, i.department_id))
    return [
        {
            "period": card.period,
            "department_id": i.department_id,
            "department_name": i.department_name,
            "score": i.score,
            "rank": i.rank,
            "of": len(ranked),
            "href": scorecard_href(card.period, i.department_id),
        }
        for i in ranked
    ]


def department_dashboard(session: Session, actor: Actor) -> dict[str, Any]:
    """The caller's department's to-do (see the module): ``figures``, and the items of each kind
    (``tasks``, ``applications``, ``objections``, ``notices``), most urgent first, and ``rank``."""
    require(actor, DEPARTMENT_DASHBOARD)
    department_id = actor.department_id
    if department_id is None:
        raise PermissionDenied("本部门待办看板只对部门用户开放。")
    today = clock.today()
    calendar = WorkingCalendar.load(session)
    names = orgs.department_names(session, [department_id])
    tasks = _worst_first(_late_tasks(session, calendar, today, names, department_id))

    # the provider's queue is the officer's and the head's (they decide); the reviews the officer's
    # (it reviews) and the head's (it approves extensions): others get no such list
    decides = actor.has(SHARING_READ) and actor.has(SHARING_DECIDE)
    reviews_objections = actor.has(OBJECTIONS_REVIEW) or actor.has(OBJECTIONS_EXTEND)
    pending: list[dict[str, Any]] = []
    pending_total = 0
    if decides:
        for phase in (Phase.awaiting_receipt, Phase.awaiting_decision):
            rows, count = sharing.list_applications(
                session, actor, role="provider", phase=phase, limit=TODO, offset=0
            )
            pending_total += count
            for a in rows:
                deadline = sharing.deadline_of(session, a)
                pending.append(
                    {
                        "id": a.id,
                        "title": f"共享申请 #{a.id}：{a.resource_name}",
                        "phase_label": Phase(a.phase).label,
                        "deadline": deadline.due_date if deadline else None,
                        "provisional": bool(deadline and deadline.provisional),
                        "days_left": sharing.working_days_left(session, a),
                        "href": f"{SHARING}/applications/{a.id}",
                    }
                )
    pending.sort(key=lambda p: (p["deadline"] or date.max, p["id"]))

    reviews: list[dict[str, Any]] = []
    reviews_total = 0
    rows = []
    if reviews_objections:
        rows, reviews_total = objections.list_objections(
            session, actor, role="provider", status="under_review", limit=TODO, offset=0
        )
    for o in rows:
        deadline = objections.deadline_of(session, o)
        reviews.append(
            {
                "id": o.id,
                "title": f"疑义 #{o.id}：{o.resource_name}",
                "deadline": deadline.due_date if deadline else None,
                "provisional": bool(deadline and deadline.provisional),
                "days_left": objections.working_days_left(session, o, calendar),
                "href": objections.objection_href(o.id),
            }
        )
    reviews.sort(key=lambda r: (r["deadline"] or date.max, r["id"]))

    open_notices: list[dict[str, Any]] = []
    notices_total = overdue_notices = 0
    if actor.has(NOTICE_READ):
        rows, notices_total = notices.list_notices(session, actor, status="open", limit=TODO, offset=0)
        overdue_notices = _notice_count(session, actor, overdue=True)
        for view in notices.notice_views(session, rows):
            open_notices.append(
                {
                    "id": view["id"],
                    "title": f"整改通知 #{view['id']}：{view['violation_kind_label']}",
                    "deadline": view["deadline"],
                    "provisional": view["deadline_provisional"],
                    "overdue": view["overdue"],
                    "step_label": view["step_label"],
                    "days_left": calendar.working_days_between(today, view["deadline"]),
                    "href": notices.notice_href(view["id"]),
                }
            )
    open_notices.sort(key=lambda n: (n["deadline"], n["id"]))
    to_contest = _violation_count(session, actor, "detected") if actor.has(VIOLATION_READ) else 0
    period = str(today.year)
    rank = next((r for r in _scores(session, actor, period) if r["department_id"] == department_id), None)

    figures = [
        Figure("tasks_overdue", "逾期目录更新任务", len(tasks), "#tasks", bad=bool(tasks)),
        Figure("applications_pending", "待签收或答复的共享申请", pending_total, f"{SHARING}?tab=queue")
        if decides
        else None,
        Figure(
            "objections_pending",
            "待复核的疑义",
            reviews_total,
            f"{OBJECTIONS}?tab=queue" if actor.has(OBJECTIONS_REVIEW) else f"{OBJECTIONS}?tab=provided",
        )
        if reviews_objections
        else None,
        Figure("notices_open", "待整改通知", notices_total, f"{NOTICES}?status=open"),
        Figure(
            "notices_overdue", "整改逾期", overdue_notices, f"{NOTICES}?overdue=1", bad=overdue_notices > 0
        ),
        Figure(
            "violations_detected", "违规待确认（可提出异议）", to_contest, violations_href(status="detected")
        ),
        Figure(
            "rank",
            f"{period}年度考核排名",
            f"第 {rank['rank']} 名" if rank else None,
            scorecard_href(period),
            note=f"共 {rank['of']} 个部门" if rank else "尚未排名",
        ),
    ]
    return {
        "today": today,
        "department_id": department_id,
        "department_name": names.get(department_id, ""),
        "figures": [f for f in figures if f is not None],
        "tasks": tasks[:TODO],
        "applications": pending if decides else None,
        "objections": reviews if reviews_objections else None,
        "notices": open_notices,
        "rank": rank,
    }
