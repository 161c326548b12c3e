"""The violation detectors (SUP-2) that need facts of the capabilities above supervision: catalog not
compiled or not updated in time (CAT-7, CAT-8), aggregation late or inconsistent (AGG-7), shared data
used outside a grant (SHR-7's usage log).

Supervision sits low so that every capability can record a violation; these detectors read the facts
of the catalog, aggregation and sharing, so they live here, above them, and call only those
capabilities' actor-free facts (never their tables). Each records through
``supervision.service.record_violation``, which is idempotent: the same fact found again records
nothing new. They run in supervision's hourly sweep (registered at import, see
``govdata.capabilities``) and in ``govdata tick``. The kinds detected elsewhere, where the fact
happens: duplicate_collection (catalog), application_overdue and refusal_without_basis (sharing),
objection_overdue (objections).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.core import clock
from govdata.sharing import service as sharing
from govdata.supervision import notices
from govdata.supervision import service as supervision

USE_WINDOW = timedelta(days=7)
"""How far back each sweep reads the usage log (an hourly sweep; a week covers a worker long away)."""


def _record(
    session: Session,
    kind: str,
    department_id: int,
    object_type: str,
    object_id: object,
    evidence: dict[str, Any],
) -> bool:
    """Record one violation; True when it is new."""
    known = any(v.kind == kind for v in supervision.violations_about(session, object_type, object_id))
    supervision.record_violation(
        session,
        kind=kind,
        department_id=department_id,
        object_type=object_type,
        object_id=object_id,
        evidence=evidence,
    )
    return not known


def catalog_not_compiled(session: Session) -> int:
    """A department the authority designated to catalog data a consumer asked for (a share demand:
    the data is its to catalog, CAT-8) that neither compiled a catalog entry nor said why not by the
    deadline."""
    today = clock.today()
    found = 0
    for demand in sharing.overdue_demands(session, today):
        found += _record(
            session,
            "catalog_not_compiled",
            demand.provider_id,
            "demand",
            demand.id,
            {
                "demand_id": demand.id,
                "title": demand.title,
                "consumer_department_id": demand.consumer_department_id,
                "assigned_at": demand.assigned_at,
                "deadline": demand.deadline,
                "deadline_provisional": demand.deadline_provisional,
                "detected_on": today,
            },
        )
    return found


def catalog_update_late(session: Session) -> int:
    """A catalog update task (CAT-7) still open after its deadline, or done after it."""
    today = clock.today()
    found = 0
    for task in catalog.late_update_tasks(session, today):
        found += _record(
            session,
            "catalog_update_late",
            task.department_id,
            "catalog_task",
            task.id,
            {
                "task_id": task.id,
                "event_id": task.event_id,
                "event_title": task.event_title,
                "event_kind": task.event_kind,
                "event_date": task.event_date,
                "deadline": task.deadline,
                "deadline_provisional": task.deadline_provisional,
                "done_at": task.done_at,
                "detected_on": today,
            },
        )
    return found


def aggregation_late(session: Session) -> int:
    """A published resource whose next batch is overdue against its update cycle (AGG-7): one violation
    per missed due time."""
    now = clock.now()
    resources = catalog.published_resources(session, formats=aggregation.TABLE_FORMATS)
    found = 0
    for resource, last, due in aggregation.overdue_resources(session, resources, now):
        found += _record(
            session,
            "aggregation_late",
            resource.provider_id,
            "resource",
            f"{resource.code}@{clock.china_date(due).isoformat()}",
            {
                "resource_code": resource.code,
                "resource_name": resource.name,
                "update_cycle": resource.update_cycle,
                "last_batch_at": last,
                "next_due": due,
                "detected_at": now,
            },
        )
    return found


def aggregation_inconsistent(session: Session) -> int:
    """A batch whose declared source row count or checksum disagreed with what arrived (AGG-7)."""
    found = 0
    for batch in aggregation.mismatched_batches(session):
        found += _record(
            session,
            "aggregation_inconsistent",
            batch.department_id,
            "batch",
            batch.id,
            {
                "batch_id": batch.id,
                "resource_code": batch.resource_code,
                "declared_rows": batch.source_rows,
                "rows_received": batch.rows_total,
                "declared_checksum": batch.source_checksum,
                "file_checksum": batch.file_checksum,
                "loaded_at": batch.created_at,
            },
        )
    return found


def use_outside_grant(session: Session) -> int:
    """A consumer department's calls refused as outside its grant's items, modes or period (the usage
    log), one violation per department, resource and day."""
    found = 0
    for use in sharing.uses_outside_grant(session, clock.now() - USE_WINDOW):
        found += _record(
            session,
            "use_outside_grant",
            use.consumer_department_id,
            "usage",
            f"{use.consumer_department_id}/{use.resource_code}/{use.day.isoformat()}",
            {
                "resource_code": use.resource_code,
                "provider_id": use.provider_id,
                "date": use.day,
                "calls": use.calls,
                "first_call_id": use.first_id,
                "first_call_at": use.first_at,
                "modes": list(use.modes),
                "grant_ids": list(use.grant_ids),
            },
        )
    return found


DETECTORS: dict[str, Callable[[Session], int]] = {
    "catalog_not_compiled": catalog_not_compiled,
    "catalog_update_late": catalog_update_late,
    "aggregation_late": aggregation_late,
    "aggregation_inconsistent": aggregation_inconsistent,
    "use_outside_grant": use_outside_grant,
}

for _name, _detector in DETECTORS.items():
    notices.register_sweep_part(_name, _detector)
