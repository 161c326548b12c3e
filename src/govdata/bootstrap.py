"""Creating and upgrading a store: migrations, GB/T 2260 regions, the node, the first administrator."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govdata.catalog.seed import seed_catalog
from govdata.core import audit
from govdata.core.auth import SYSTEM_ACTOR, Role
from govdata.core.config import Settings
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.core.errors import InvalidInput
from govdata.libraries.service import seed_libraries
from govdata.orgs import service as orgs
from govdata.orgs.models import Node, Region, User
from govdata.orgs.regions import seed_regions
from govdata.orgs.schemas import UserIn
from govdata.store import open_store

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "heads")  # capabilities may add migration branches


@dataclass
class InitResult:
    created: bool
    regions_added: int
    admin_password: str | None


def generated_password() -> str:
    return f"Gd{secrets.token_urlsafe(12)}#{secrets.randbelow(90) + 10}"


def is_initialised(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User)))


def initialise(settings: Settings, *, node_region: str | None = None) -> InitResult:
    """Bring a store to the current schema; on an empty store create the administrator.

    Idempotent: running it on an existing store only applies pending migrations.
    """
    url = settings.resolved_database_url()
    migrate(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    try:
        with unit_of_work(factory) as session:
            regions_added = (
                seed_regions(session) if not session.scalar(select(func.count()).select_from(Region)) else 0
            )
            seed_catalog(session)
            seed_libraries(session)  # the 人口 and 法人 definitions, on the catalog's data elements
            if node_region and session.scalar(select(func.count()).select_from(Node)) == 0:
                create_node(session, node_region)
            if is_initialised(session):
                return InitResult(False, regions_added, None)
            password = settings.admin_password or generated_password()
            try:
                orgs.create_user(
                    session,
                    SYSTEM_ACTOR,
                    UserIn(
                        username="admin", password=password, display_name="平台管理员", roles=[Role.admin]
                    ),
                )
            except InvalidInput as exc:
                raise InvalidInput(f"GOVDATA_ADMIN_PASSWORD 不符合要求：{exc.detail}") from exc
            audit.record(
                session,
                SYSTEM_ACTOR,
                "platform.initialised",
                "node",
                None,
                details={"regions": regions_added},
            )
        store = open_store(settings.resolved_store_url())
        try:
            store.initialise()
        finally:
            store.close()
        return InitResult(True, regions_added, None if settings.admin_password else password)
    finally:
        engine.dispose()


def create_node(session: Session, region_code: str) -> Node:
    region = session.get(Region, region_code)
    if region is None:
        raise InvalidInput(f"行政区划代码 {region_code} 不存在。")
    node = Node(region_code=region.code, name=region.name, level=region.level)
    session.add(node)
    session.flush()
    audit.record(
        session, SYSTEM_ACTOR, "platform.node_created", "node", node.id, details={"region": region.code}
    )
    return node
