"""Facts other capabilities may know of sharing's records: what an application, a grant or a demand
is called, for views that name them (the audit log). Actor-free; the caller checked its own caller."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govdata.orgs import service as orgs
from govdata.sharing.models import Application, Demand, Grant


def _wanted(ids: Iterable[int | None]) -> list[int]:
    return sorted({i for i in ids if i is not None})


def application_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Application id → "<resource name> · <consumer department>" (共享申请)."""
    wanted = _wanted(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(Application.id, Application.resource_name, Application.consumer_department_id).where(
            Application.id.in_(wanted)
        )
    ).all()
    departments = orgs.department_names(session, [r[2] for r in rows])
    return {i: f"{name} · {departments.get(d, '')}".rstrip(" ·") for i, name, d in rows}


def grant_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Grant id → "<resource name> · <consumer department>" (共享授权)."""
    wanted = _wanted(ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(Grant.id, Grant.resource_name, Grant.consumer_department_id).where(Grant.id.in_(wanted))
    ).all()
    departments = orgs.department_names(session, [r[2] for r in rows])
    return {i: f"{name} · {departments.get(d, '')}".rstrip(" ·") for i, name, d in rows}


def demand_titles(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Demand id → its title (共享需求)."""
    wanted = _wanted(ids)
    if not wanted:
        return {}
    return dict(session.execute(select(Demand.id, Demand.title).where(Demand.id.in_(wanted))).all())


def grant_counts(session: Session, resource_ids: Iterable[int | None]) -> dict[int, dict[str, int]]:
    """Resource id → {grant status → how many grants} for the resources of ``resource_ids`` that have
    grants (an information project's acceptance report shows what its resources share, PRJ-2)."""
    wanted = _wanted(resource_ids)
    if not wanted:
        return {}
    counts: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(Grant.resource_id, Grant.status, func.count())
        .where(Grant.resource_id.in_(wanted))
        .group_by(Grant.resource_id, Grant.status)
    ).all()
    for resource_id, status, count in rows:
        counts.setdefault(resource_id, {})[status] = int(count)
    return counts
