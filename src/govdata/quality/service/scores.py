"""Reading the scores (``GET`` of the API and the pages, which never write) and recomputing them on
demand (``POST``), for one resource and per department (QUA-1)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.catalog.service import ResourceRef
from govdata.core import audit
from govdata.core.auth import Actor, require
from govdata.core.errors import Conflict, NotFound, PermissionDenied
from govdata.orgs import service as orgs
from govdata.quality.auth import (
    DEPARTMENT_QUALITY_READ,
    QUALITY_COMPUTE,
    QUALITY_READ,
    can_read_department,
    can_recompute,
    sees_details,
    sees_every_department,
)
from govdata.quality.models import SnapshotTrigger
from govdata.quality.service.problems import problem_counts
from govdata.quality.service.scoring import CRITERIA, DIMENSIONS, LABELS, WEIGHTS, mean
from govdata.quality.service.snapshots import (
    ScoreView,
    compute,
    current_view,
    department_history,
    history,
    last_check,
    save,
)
from govdata.store.sql import SqlStore


def quality_resource(session: Session, actor: Actor, code: str) -> ResourceRef:
    """The resource whose quality ``actor`` asks about, as the catalog lets the caller see it."""
    require(actor, QUALITY_READ)
    return catalog.find_resource(session, actor, code)


def _dimensions(view: ScoreView | None, *, with_details: bool) -> dict[str, dict[str, Any]]:
    scores = view.scores if view else {}
    details = view.details if view else {}
    out = {}
    for name in DIMENSIONS:
        body = dict(details.get(name) or {})
        note = body.pop("note", None)
        score = scores.get(name)
        if view is None:
            note = "尚未计算（资源尚未发布或暂无数据）。"
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


def resource_quality(
    session: Session, actor: Actor, code: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """``GET /resources/{code}/quality``: the current scores, their criteria, history and problems."""
    resource = quality_resource(session, actor, code)
    view = current_view(session, resource, now=now)
    return {
        "resource_code": resource.code,
        "resource_name": resource.name,
        "provider": resource.provider_name,
        "provider_id": resource.provider_id,
        "computed_at": view.computed_at if view else None,
        "overall": view.overall if view else None,
        # published, but no rows in the store yet (or all rolled back): "暂无数据", not a score
        "no_data": resource.published_version is not None and (view is None or view.no_data),
        "last_check": last_check(session, resource.id),
        "dimensions": _dimensions(view, with_details=sees_details(actor)),
        "history": history(session, resource.id),
        "problems": problem_counts(session, [resource.id]),
    }


def recompute(
    session: Session, actor: Actor, store: SqlStore, code: str, *, data_dir: Path | None = None
) -> dict[str, Any]:
    """Compute and store the scores now (on demand), for the provider and the authority."""
    require(actor, QUALITY_COMPUTE)
    resource = catalog.find_resource(session, actor, code)
    if not can_recompute(actor, resource):
        raise PermissionDenied("只有提供部门和数据资源主管部门可以重新计算质量评分。")
    if resource.published_version is None:
        raise Conflict("资源尚未发布，没有可评价的数据。", slug="not-published")
    computed = compute(session, store, resource, data_dir=data_dir)
    snapshot = save(session, resource, computed, SnapshotTrigger.on_demand)
    audit.record(
        session,
        actor,
        "quality.computed",
        "resource",
        resource.code,
        details={"overall": snapshot.overall, "scores": snapshot.scores},
    )
    return resource_quality(session, actor, code)


# --- department scores ----------------------------------------------------------------------------


def _resources_with_data(session: Session, provider_id: int | None = None) -> list[ResourceRef]:
    """Published resources (of one department) that hold data (at least one applied batch)."""
    published = catalog.published_resources(session, provider_id=provider_id)
    with_data = aggregation.resources_with_data(session, [r.id for r in published])
    return [r for r in published if r.id in with_data]


def department_quality(
    session: Session, actor: Actor, department_id: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """``GET /departments/{id}/quality``: the mean over the department's resources with data."""
    require(actor, DEPARTMENT_QUALITY_READ)
    name = orgs.department_names(session, [department_id]).get(department_id)
    if name is None:
        raise NotFound(f"部门 {department_id} 不存在。")
    if not can_read_department(actor, department_id):
        raise PermissionDenied("只能查看本部门的数据质量评分。")
    resources = _resources_with_data(session, department_id)
    views = {r.id: current_view(session, r, now=now) for r in resources}
    scored = [v for v in views.values() if v is not None]
    return {
        "department_id": department_id,
        "department_name": name,
        "overall": mean(v.overall for v in scored),
        "dimensions": {d: mean(v.scores.get(d) for v in scored) for d in DIMENSIONS},
        "resources": [
            {
                "resource_code": r.code,
                "resource_name": r.name,
                "overall": views[r.id].overall if views[r.id] else None,
                "computed_at": views[r.id].computed_at if views[r.id] else None,
            }
            for r in resources
        ],
        "history": department_history(session, [r.id for r in resources]),
        "problems": problem_counts(session, None, provider_id=department_id),
    }


def departments_overview(
    session: Session, actor: Actor, *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every department's score (the authority's and the administrator's overview), best first; a
    department without data (no published resource holding data) is listed too, with ``has_data``
    false and no score (#13 item 15)."""
    require(actor, DEPARTMENT_QUALITY_READ)
    if not sees_every_department(actor):
        raise PermissionDenied("只有数据资源主管部门可以查看各部门的数据质量评分。")
    out = [department_quality(session, actor, i, now=now) for i in sorted(orgs.department_names(session))]
    for entry in out:
        entry["has_data"] = bool(entry["resources"])
    return sorted(
        out,
        key=lambda d: (not d["has_data"], d["overall"] is None, -(d["overall"] or 0), d["department_name"]),
    )
