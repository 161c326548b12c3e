"""Objections in the demo region (JOURNEYS): 市人社局's data user, who holds a grant of 市公安局's
population base items, objects to a name in one record. Made through the use cases, as the people
themselves would — when the population resource holds records (the demo region is made without data
in the store; ``create_demo`` passes the store when it has one)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.core.errors import Problem
from govdata.objections import service
from govdata.objections.schemas import ObjectionIn
from govdata.orgs import service as orgs
from govdata.store.sql import SqlStore


def create_demo_objections(session: Session, store: SqlStore | None, filer_username: str = "rs_user") -> int:
    """File the demo's objection; how many were filed (none without records to object to)."""
    if store is None:
        return 0
    populations = [r for r in catalog.published_resources(session) if r.name == "人口基础信息"]
    if not populations:
        return 0
    resource = populations[0]
    try:
        spec, _ = aggregation.table_of(session, resource)
        store.ensure_table(spec)
        found = store.query(spec, limit=1, offset=0).rows
    except Problem:
        return 0
    if not found:
        return 0
    filer = orgs.actor_named(session, filer_username)
    try:
        service.file_objection(
            session,
            filer,
            store,
            ObjectionIn(
                resource_code=resource.code,
                key=found[0]["_key"],
                items={"xm": f"{found[0].get('xm') or ''}（户籍已更名）"},
                reason="参保人持户口簿说明已于上月更名，共享数据中的姓名仍为旧名",
            ),
        )
    except Problem:
        return 0
    return 1
