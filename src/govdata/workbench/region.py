"""The authority's region-wide view and the department pages (SUP-5, #13 item 15).

Across departments, what needs the authority's attention:

* **due** — a published resource's next batch is due within ``DUE_WITHIN_DAYS`` days (AGG-7);
* **late** — its next batch is overdue (a violation, SUP-2);
* **failing** — its latest batch was rejected or failed, or its quality score is below
  ``QUALITY_PASS`` (QUA-1);

beside each department's catalog (by status, revisions waiting), its data (rows stored), its quality
score (a department without data is listed as such) and its open violations. A department's page
shows its resources, its people and its figures; the authority reads every department's, department
staff their own.

Everything is read through the capabilities' services: catalog facts, aggregation's freshness and
latest batches, quality's department scores, supervision's violations, orgs' departments and people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.core.auth import Actor, enforce, require
from govdata.core.db import utcnow
from govdata.core.errors import Conflict, PermissionDenied
from govdata.orgs import service as orgs
from govdata.quality import service as quality
from govdata.store.sql import SqlStore
from govdata.supervision import service as supervision
from govdata.workbench.auth import (
    DEPARTMENT_PAGE_READ,
    REGION_READ,
    can_read_department_page,
    department_page_refusal,
)

DUE_WITHIN_DAYS = 7
QUALITY_PASS = 60.0
OPEN_VIOLATIONS = ("detected", "contested", "confirmed")
FAILED_BATCHES = ("rejected", "failed")


@dataclass
class ResourceState:
    """A published resource as the overview weighs it."""

    code: str
    name: str
    department_id: int
    department: str
    update_cycle: str
    table: bool  # table-like: its data is aggregated into the store
    rows: int | None = None
    last_batch_at: datetime | None = None
    next_due: datetime | None = None
    late: bool = False
    due: bool = False
    latest_batch: Any = None  # aggregation.LatestBatch
    batch_failed: bool = False
    quality: float | None = None

    @property
    def quality_failing(self) -> bool:
        return self.quality is not None and self.quality < QUALITY_PASS

    @property
    def failing(self) -> bool:
        return self.batch_failed or self.quality_failing


@dataclass
class DepartmentFigures:
    """One department's line in the overview."""

    id: int
    name: str
    is_authority: bool
    catalog: dict[str, int] = field(default_factory=dict)  # resources per status
    revisions: dict[str, int] = field(default_factory=dict)  # revisions submitted / returned
    published: int = 0
    rows: int = 0
    due: int = 0
    late: int = 0
    failing: int = 0
    quality: float | None = None
    has_data: bool = False
    problems_open: int = 0
    violations_open: int = 0

    @property
    def waiting_review(self) -> int:
        return self.catalog.get("submitted", 0) + self.revisions.get("submitted", 0)

    @property
    def returned(self) -> int:
        return self.catalog.get("returned", 0) + self.revisions.get("returned", 0)


def _states(
    session: Session, store: SqlStore, resources: list[catalog.ResourceRef], now: datetime
) -> list[ResourceState]:
    """The aggregation state of each published resource: rows, freshness, latest batch."""
    latest = aggregation.latest_batches(session, [r.id for r in resources])
    horizon = now + timedelta(days=DUE_WITHIN_DAYS)
    states = []
    for resource in resources:
        state = ResourceState(
            code=resource.code,
            name=resource.name,
            department_id=resource.provider_id,
            department=resource.provider_name,
            update_cycle=resource.update_cycle,
            table=resource.format in aggregation.TABLE_FORMATS,
        )
        if state.table:
            try:
                spec, _ = aggregation.table_of(session, resource)
                state.rows = store.row_count(spec)
            except Conflict:  # no items: nothing to store
                state.table = False
        if state.table:
            fresh = aggregation.freshness(session, resource, now)
            state.last_batch_at, state.next_due = fresh["last_batch_at"], fresh["next_due"]
            state.late = bool(fresh["overdue"])
            state.due = not state.late and state.next_due is not None and state.next_due <= horizon
            state.latest_batch = latest.get(resource.id)
            state.batch_failed = bool(state.latest_batch and state.latest_batch.status in FAILED_BATCHES)
        states.append(state)
    return states


def _quality_by_department(session: Session, actor: Actor) -> tuple[dict[int, dict], dict[str, float | None]]:
    """Department id → its quality entry (``quality.departments_overview``), and resource code → score."""
    overview = quality.departments_overview(session, actor)
    scores = {r["resource_code"]: r["overall"] for d in overview for r in d["resources"]}
    return {d["department_id"]: d for d in overview}, scores


def _open_violations(session: Session, actor: Actor, department_id: int | None = None) -> list[Any]:
    found = []
    for status in OPEN_VIOLATIONS:
        items, _ = supervision.list_violations(
            session, actor, status=status, department_id=department_id, limit=1000, offset=0
        )
        found.extend(items)
    return found


def region_overview(
    session: Session, actor: Actor, store: SqlStore, *, now: datetime | None = None
) -> dict[str, Any]:
    """The region at a glance for the authority: per department and per resource (see the module)."""
    require(actor, REGION_READ)
    now = now or utcnow()
    departments, _ = orgs.list_departments(session, actor, limit=10_000, offset=0)
    states = _states(session, store, catalog.published_resources(session), now)
    by_department, scores = _quality_by_department(session, actor)
    for state in states:
        state.quality = scores.get(state.code)
    counts = catalog.status_counts_by_provider(session)
    revisions = catalog.revisions_by_provider(session)
    violations: dict[int, int] = {}
    for violation in _open_violations(session, actor):
        violations[violation.department_id] = violations.get(violation.department_id, 0) + 1
    rows = []
    for department in departments:
        mine = [s for s in states if s.department_id == department.id]
        entry = by_department.get(department.id, {})
        rows.append(
            DepartmentFigures(
                id=department.id,
                name=department.name,
                is_authority=bool(department.is_authority),
                catalog=counts.get(department.id, {}),
                revisions=revisions.get(department.id, {}),
                published=len(mine),
                rows=sum(s.rows or 0 for s in mine),
                due=sum(s.due for s in mine),
                late=sum(s.late for s in mine),
                failing=sum(s.failing for s in mine),
                quality=entry.get("overall"),
                has_data=bool(entry.get("has_data", entry.get("resources"))),
                problems_open=(entry.get("problems") or {}).get("open", 0),
                violations_open=violations.get(department.id, 0),
            )
        )
    return {
        "departments": rows,
        "late": sorted((s for s in states if s.late), key=lambda s: (s.next_due, s.code)),
        "due": sorted((s for s in states if s.due), key=lambda s: (s.next_due, s.code)),
        "failing": sorted((s for s in states if s.failing), key=lambda s: (s.department, s.code)),
        "totals": {
            "departments": len(rows),
            "published": len(states),
            "rows": sum(s.rows or 0 for s in states),
            "due": sum(s.due for s in states),
            "late": sum(s.late for s in states),
            "failing": sum(s.failing for s in states),
            "waiting_review": sum(r.waiting_review for r in rows),
            "returned": sum(r.returned for r in rows),
            "without_data": sum(1 for r in rows if not r.has_data),
            "violations_open": sum(r.violations_open for r in rows),
        },
        "due_within_days": DUE_WITHIN_DAYS,
        "quality_pass": QUALITY_PASS,
    }


def department_page(
    session: Session, actor: Actor, store: SqlStore, department_id: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """A department's page: who it is, its units, people and systems, its published resources with
    their data and quality, its catalog by status, and its figures."""
    require(actor, DEPARTMENT_PAGE_READ)
    department = orgs.get_department(session, actor, department_id)  # 404 for an unknown one
    own_units = orgs.subordinate_units(session, actor.department_id) if actor.department_id else []
    enforce(department_page_refusal(actor, department_id, own_units))
    now = now or utcnow()
    states = _states(session, store, catalog.published_resources(session, provider_id=department_id), now)
    try:
        scores = quality.department_quality(session, actor, department_id)
    except PermissionDenied:  # a subordinate unit's scores are the unit's own and the authority's
        scores = {"overall": None, "resources": [], "problems": {}, "hidden": True}
    by_code = {r["resource_code"]: r["overall"] for r in scores["resources"]}
    for state in states:
        state.quality = by_code.get(state.code)
    units = [u for u in orgs.subordinate_units(session, department_id) if u != department_id]
    names = orgs.department_names(session, [*units, department.parent_id])
    violations = _open_violations(session, actor, department_id)
    return {
        "department": department,
        "readable": lambda unit: can_read_department_page(actor, unit, own_units),
        "parent": names.get(department.parent_id) if department.parent_id else None,
        "units": [(u, names.get(u, f"#{u}")) for u in units],
        "people": orgs.department_members(session, department_id),
        "systems": orgs.department_systems(session, department_id),
        "resources": states,
        "catalog": catalog.status_counts_by_provider(session).get(department_id, {}),
        "revisions": catalog.revisions_by_provider(session).get(department_id, {}),
        "quality": scores,
        "violations": violations,
        "figures": {
            "published": len(states),
            "rows": sum(s.rows or 0 for s in states),
            "due": sum(s.due for s in states),
            "late": sum(s.late for s in states),
            "failing": sum(s.failing for s in states),
            "violations_open": len(violations),
            "problems_open": (scores.get("problems") or {}).get("open", 0),
        },
        "due_within_days": DUE_WITHIN_DAYS,
        "quality_pass": QUALITY_PASS,
    }
