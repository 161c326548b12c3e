"""Department resource pools (AGG-8): the view of a department's published resources' tables in the data
store, its subordinate units' included (seed 002: 政务部门应当归集本部门所属机构和单位的政务数据资源，建立
本部门本系统政务数据资源池). Units are departments whose ``parent_id`` chain leads to the department.

The authority reads every department's pool; a department reads its own and those of the units below
it (whose resources its own pool holds anyway).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.core.auth import Actor, enforce, require
from govdata.core.errors import Conflict
from govdata.libraries import sources
from govdata.libraries.auth import POOL_READ, pool_refusal
from govdata.orgs import service as orgs
from govdata.store.sql import SqlStore


def units_of(session: Session, department_id: int | None) -> list[int]:
    """A department and the units below it (none without a department)."""
    return orgs.subordinate_units(session, department_id) if department_id is not None else []


def department_pool(session: Session, actor: Actor, store: SqlStore, department_id: int) -> dict[str, Any]:
    require(actor, POOL_READ)
    enforce(pool_refusal(actor, department_id, units_of(session, actor.department_id)))
    department = orgs.get_department(session, actor, department_id)
    units = orgs.subordinate_units(session, department_id)
    names = orgs.department_names(session, units)
    listed = [r for unit in units for r in catalog.published_resources(session, provider_id=unit)]
    authoritative = sources.sources_by_resource(session)
    latest = aggregation.latest_batches(session, [r.id for r in listed])
    resources = []
    per_unit = {unit: {"resources": 0, "rows": 0} for unit in units}
    for resource in listed:
        try:
            spec, _ = aggregation.table_of(session, resource)
            rows = store.row_count(spec)
        except Conflict:
            rows = None
        last = latest.get(resource.id)
        fresh = aggregation.freshness(session, resource)
        per_unit[resource.provider_id]["resources"] += 1
        per_unit[resource.provider_id]["rows"] += rows or 0
        resources.append(
            {
                "code": resource.code,
                "name": resource.name,
                "provider_id": resource.provider_id,
                "provider_name": resource.provider_name,
                "subordinate": resource.provider_id != department_id,
                "update_cycle": resource.update_cycle,
                "format": resource.format,
                "rows": rows,
                "last_batch": asdict(last) if last else None,
                "last_batch_at": fresh["last_batch_at"],
                "next_due": fresh["next_due"],
                "overdue": fresh["overdue"],
                "authoritative_for": authoritative.get(resource.id, []),
            }
        )
    return {
        "department_id": department.id,
        "department_name": department.name,
        "units": [
            {"department_id": unit, "department_name": names.get(unit, str(unit)), **per_unit[unit]}
            for unit in units
        ],
        "resources": resources,
        "total_rows": sum(u["rows"] for u in per_unit.values()),
    }
