"""Sharing in the demo region (JOURNEYS): 市人社局's system holds a grant of 市公安局's population base
items, has a conditional application waiting for 市公安局's answer, and a share demand waits for the
authority. Made through the use cases, as the people themselves would."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.core import clock
from govdata.orgs import service as orgs
from govdata.sharing import service
from govdata.sharing.schemas import ApplicationIn, DemandIn


def create_demo_sharing(session: Session, consumer_username: str = "rs_user") -> int:
    """The demo's applications and demand; returns how many applications were made."""
    consumer = orgs.actor_named(session, consumer_username)
    systems = orgs.department_systems(session, consumer.department_id)
    populations = [r for r in catalog.published_resources(session) if r.name == "人口基础信息"]
    if not systems or not populations:
        return 0
    resource = populations[0]
    body = catalog.version_body(session, resource.id) or {}
    modes = [m for m in ("verify", "query") if m in (body.get("share_modes") or [])] or body.get(
        "share_modes", []
    )[:1]
    by_type: dict[str, list[str]] = {}
    for item in body.get("items", []):
        by_type.setdefault(item.get("share_type") or body.get("share_type"), []).append(item["code"].lower())
    today = clock.today()
    made = 0
    for share_type, purpose in (
        ("unconditional", "退休人员养老保险待遇资格认证"),
        ("conditional", "困难群众参保补贴核定"),
    ):
        items = by_type.get(share_type)
        if not items or not modes:
            continue
        service.apply(
            session,
            consumer,
            ApplicationIn(
                resource_code=resource.code,
                system_id=systems[0].id,
                items=items,
                purpose=purpose,
                scenario="经办人员在业务系统中按公民身份号码核验参保人身份信息",
                legal_basis="《中华人民共和国社会保险法》",
                period_start=today,
                period_end=today + timedelta(days=365),
                modes=modes,
            ),
        )
        made += 1
    service.create_demand(
        session,
        consumer,
        DemandIn(
            title="殡葬火化信息",
            description="需要火化人员的公民身份号码、姓名与火化日期，用于及时停发养老金",
            purpose="防止养老保险待遇冒领",
            legal_basis="《中华人民共和国社会保险法》",
        ),
    )
    return made
