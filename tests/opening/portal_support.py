"""One app per store for the portal's and the downloads' tests: an unconditional open dataset, a
conditional one, a published resource that is not open, and a public account whose application for
the conditional dataset was approved (with an API key)."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi.testclient import TestClient

from govdata.app import create_app
from govdata.core.config import Settings
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.core.ids import ric_check_digit
from govdata.opening.public_schemas import OpenApplicationIn, OpenDecisionIn
from govdata.opening.service import applications, keys
from govdata.orgs import service as orgs
from govdata.orgs.schemas import UserIn
from tests.conftest import _settings, _template
from tests.support.catalog import population, publish
from tests.support.http import login
from tests.support.opening import OFFICER, open_conditional, open_resource
from tests.support.postgres import create_database, drop_database

HIDDEN_NAME = "内部人口底册"
CITIZEN_PASSWORD = "Citizen@2026-pass"


@dataclass
class Portal:
    client: TestClient
    settings: Settings
    free: str  # unconditional: 居民健康体检结果
    conditional: str
    hidden: str  # published in the catalog, not open
    citizen: dict[str, str]  # bearer headers of the approved applicant
    key: str  # its API key for ``conditional``
    stranger: dict[str, str]  # a public account without an application


def _citizen(settings: Settings, code: str | None, number: str) -> tuple[str, str | None]:
    """A public account (with, given ``code``, an approved application and an API key for it)."""
    engine = make_engine(settings.resolved_database_url())
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            user = orgs.create_public_user(
                session,
                UserIn(
                    username=f"citizen_{uuid.uuid4().hex[:6]}",
                    password=CITIZEN_PASSWORD,
                    display_name="王公众",
                    roles=["public"],
                    identity_kind="natural_person",
                    identity_number=number + ric_check_digit(number),
                ),
            )
            username, token = user.username, None
            if code is not None:
                citizen = orgs.actor_for_user(user)
                application = applications.apply(
                    session,
                    citizen,
                    OpenApplicationIn(
                        dataset_code=code,
                        purpose="研究居民健康状况的地区分布",
                        scenario="学术研究",
                        commitments="仅用于研究，不向第三方提供，不做再识别",
                        period_end=dt.date.today() + dt.timedelta(days=90),
                    ),
                )
                applications.decide(
                    session,
                    orgs.actor_named(session, OFFICER),
                    application.id,
                    OpenDecisionIn(decision="approve"),
                )
                _, token = keys.create_key(session, citizen, application.id)
    finally:
        engine.dispose()
    return username, token


def portal(backend: str, request, tmp_path_factory, templates) -> Iterator[Portal]:
    template = _template(backend, request, tmp_path_factory, templates)
    base = tmp_path_factory.mktemp(f"portal-{backend}")
    database = None
    if backend == "sqlite":
        shutil.copy(template["file"], base / "govdata.sqlite3")
        settings = _settings(
            base, f"sqlite:///{base / 'govdata.sqlite3'}", f"duckdb:///{base / 'data.duckdb'}"
        )
    else:
        database = f"govdata_t_{uuid.uuid4().hex[:12]}"
        url = create_database(template["admin_url"], database, template=template["name"])
        settings = _settings(base, url, url)
    app = create_app(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            cache: dict[str, dict[str, str]] = {}

            def as_user(username: str) -> dict[str, str]:
                if username not in cache:
                    cache[username] = login(client, username)
                return cache[username]

            free = open_resource(client, as_user)
            conditional = open_conditional(client, as_user)
            hidden = publish(
                client, as_user, "ga_officer", population(name=HIDDEN_NAME, open_type="unconditional")
            )
            citizen, key = _citizen(settings, conditional, "41080219900101123")
            stranger, _ = _citizen(settings, None, "41080219850505123")
            yield Portal(
                client,
                settings,
                free,
                conditional,
                hidden,
                login(client, citizen, CITIZEN_PASSWORD),
                key,
                login(client, stranger, CITIZEN_PASSWORD),
            )
    finally:
        app.state.engine.dispose()
        if database:
            drop_database(template["admin_url"], database)
