"""The CKAN-compatible Action API (OPN-8), driven by the real ``ckanapi`` client (``RemoteCKAN`` and its
command line) and by plain HTTP against one live server per store, holding an unconditional open
dataset, a conditional one with an approved application's API key, and a published resource that is
not open."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from ckanapi import NotAuthorized, NotFound, RemoteCKAN, SearchQueryError, ValidationError

from govdata.app import create_app
from govdata.core.config import Settings
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.core.ids import ric_check_digit
from govdata.opening.public_schemas import OpenApplicationIn, OpenDecisionIn
from govdata.opening.service import applications, keys
from govdata.orgs import service as orgs
from govdata.orgs.schemas import UserIn
from tests.conftest import BACKENDS, _settings, _template
from tests.support.catalog import population, publish
from tests.support.http import login
from tests.support.opening import OFFICER, checkup_records, open_conditional, open_resource
from tests.support.postgres import create_database, drop_database

HIDDEN_NAME = "绝密内部人口底册"
PROVIDER = "焦作市卫生健康委员会"


@dataclass
class Live:
    url: str
    settings: Settings
    free: str  # unconditional open dataset
    conditional: str
    hidden: str  # published in the catalog, not open
    key: str  # API key of an approved application for ``conditional``
    provider_id: int


def _serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str, object]:
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn-ckan", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}", app


def approved_key(settings: Settings, code: str) -> str:
    """A public account applies for ``code``, its provider approves, the account makes an API key."""
    engine = make_engine(settings.resolved_database_url())
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            first17 = "41080219900101123"
            user = orgs.create_public_user(
                session,
                UserIn(
                    username=f"citizen_{uuid.uuid4().hex[:6]}",
                    password="Citizen@2026-pass",
                    display_name="王公众",
                    roles=["public"],
                    identity_kind="natural_person",
                    identity_number=first17 + ric_check_digit(first17),
                ),
            )
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
    return token


@pytest.fixture(scope="module", params=BACKENDS)
def live(request, tmp_path_factory, templates) -> Iterator[Live]:
    backend = request.param
    template = _template(backend, request, tmp_path_factory, templates)
    base = tmp_path_factory.mktemp(f"ckan-{backend}")
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
    server, thread, url, app = _serve(settings)
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            cache: dict[str, dict[str, str]] = {}

            def as_user(username: str) -> dict[str, str]:
                if username not in cache:
                    cache[username] = login(client, username)
                return cache[username]

            free = open_resource(client, as_user)
            conditional = open_conditional(client, as_user)
            hidden = publish(client, as_user, "ga_officer", population(name=HIDDEN_NAME))
            provider_id = client.get("/api/v1/me", headers=as_user(OFFICER)).json()["department_id"]
        key = approved_key(settings, conditional)
        yield Live(url, settings, free, conditional, hidden, key, provider_id)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        app.state.engine.dispose()
        if database:
            drop_database(template["admin_url"], database)


def call(
    live: Live, action: str, /, *, prefix: str = "/api/3/action", get: dict | None = None, **body
) -> httpx.Response:
    if get is not None:
        return httpx.get(f"{live.url}{prefix}/{action}", params=get, timeout=60)
    return httpx.post(f"{live.url}{prefix}/{action}", json=body, timeout=60)


def ok(response: httpx.Response):
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["help"].endswith(
        f"help_show?name={response.url.path.rsplit('/', 1)[1]}"
    )
    return body["result"]


def refused(response: httpx.Response, status: int, kind: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["__type"] == kind, body
    assert body["error"]["message"]
    return body["error"]


def test_ckanapi_client_reads_packages_organizations_and_resources(live):
    ckan = RemoteCKAN(live.url)
    assert sorted(ckan.action.package_list()) == sorted([live.free, live.conditional])
    assert ckan.action.status_show()["ckan_version"].startswith("2.")

    package = ckan.action.package_show(id=live.free)
    assert package["name"] == live.free and package["title"] == "居民健康体检结果"
    assert package["organization"]["title"] == PROVIDER and package["license_id"] == "unconditional"
    assert package["tags"] and package["tags"][0]["name"]  # the theme of class 202
    extras = {e["key"]: e["value"] for e in package["extras"]}
    assert extras["update_cycle"] == "monthly" and extras["emergency"] == "false"
    formats = {r["format"]: r for r in package["resources"]}
    assert set(formats) == {"CSV", "XLSX", "JSON", "API"}
    assert formats["CSV"]["url"].startswith(f"{live.url}/datasets/{live.free}/download.csv")
    assert formats["API"]["id"] == live.free and formats["API"]["datastore_active"] is True
    assert ckan.action.resource_show(id=f"{live.free}.csv")["url"] == formats["CSV"]["url"]

    # the same through GET only, and at /api/action/
    get_only = RemoteCKAN(live.url, get_only=True)
    get_only.base_url = "api/action/"
    assert get_only.action.package_show(id=live.conditional)["license_id"] == "conditional"

    with pytest.raises(NotFound):
        ckan.action.package_show(id=live.hidden)
    with pytest.raises(NotFound):
        ckan.action.resource_show(id=f"{live.hidden}.csv")

    orgs_list = ckan.action.organization_list(all_fields=True)
    assert [(o["title"], o["package_count"]) for o in orgs_list] == [(PROVIDER, 2)]
    org = ckan.action.organization_show(id=orgs_list[0]["name"], include_datasets=True)
    assert {p["name"] for p in org["packages"]} == {live.free, live.conditional}
    with pytest.raises(NotFound):
        ckan.action.organization_show(id="dept-999999")


def test_package_search_with_q_fq_paging_sort_and_facets(live):
    ckan = RemoteCKAN(live.url)
    found = ckan.action.package_search(q="体检", facet_field=None)
    assert found["count"] == 2
    assert ckan.action.package_search(q="人口")["count"] == 0  # the hidden resource stays hidden
    assert ckan.action.package_search(q=HIDDEN_NAME[:2])["count"] == 0

    org = f"dept-{live.provider_id}"
    result = ok(
        call(
            live,
            "package_search",
            q="体检",
            fq=f"organization:{org} license_id:conditional",
            **{"facet.field": ["organization", "license_id", "res_format", "tags"]},
        )
    )
    assert result["count"] == 1 and result["results"][0]["name"] == live.conditional
    assert result["facets"]["organization"] == {org: 1}
    assert result["search_facets"]["organization"]["items"][0]["display_name"] == PROVIDER
    assert result["facets"]["res_format"]["CSV"] == 1

    everything = ok(
        call(
            live, "package_search", get={"facet.field": json.dumps(["license_id"]), "rows": "1", "start": "1"}
        )
    )
    assert everything["count"] == 2 and len(everything["results"]) == 1
    assert everything["facets"]["license_id"] == {"unconditional": 1, "conditional": 1}

    every_csv = ok(call(live, "package_search", sort="title_string asc", fq="res_format:CSV"))
    assert every_csv["count"] == 2 and every_csv["sort"] == "title_string asc"
    negated = ok(call(live, "package_search", fq="-license_id:conditional", sort="name asc"))
    assert [p["name"] for p in negated["results"]] == [live.free]
    assert ok(call(live, "package_search", fq="res_format:SHP"))["count"] == 0

    with pytest.raises(SearchQueryError):
        ckan.action.package_search(fq="secret_field:x")
    with pytest.raises(SearchQueryError):
        ckan.action.package_search(sort="nonsense desc")
    with pytest.raises(ValidationError):
        ckan.action.package_search(rows="many")


def test_datastore_search_serves_open_records_and_conditional_ones_with_a_key(live):
    ckan = RemoteCKAN(live.url)
    page = ckan.action.datastore_search(resource_id=live.free, limit=5)
    assert page["total"] == 30 and len(page["records"]) == 5
    assert [f["id"] for f in page["fields"]] == ["bh", "xzqh", "jg"]  # level-1 items only
    assert {f["type"] for f in page["fields"]} == {"text"}
    assert "offset=5" in page["_links"]["next"]
    filtered = ckan.action.datastore_search(resource_id=live.free, filters={"jg": "异常"}, limit=100)
    assert filtered["total"] == 10 and {r["jg"] for r in filtered["records"]} == {"异常"}
    second = ckan.action.datastore_search(resource_id=live.free, limit=5, offset=5)
    assert {r["bh"] for r in second["records"]}.isdisjoint({r["bh"] for r in page["records"]})
    with pytest.raises(ValidationError):
        ckan.action.datastore_search(resource_id=live.free, filters={"sfzh": "x"})  # not served
    with pytest.raises(NotFound):
        ckan.action.datastore_search(resource_id=live.hidden)

    with pytest.raises(NotAuthorized):
        ckan.action.datastore_search(resource_id=live.conditional)
    with pytest.raises(NotAuthorized):
        RemoteCKAN(live.url, apikey="gdk_not-a-key").action.datastore_search(resource_id=live.conditional)

    granted = RemoteCKAN(live.url, apikey=live.key).action.datastore_search(
        resource_id=live.conditional, limit=3
    )
    assert granted["total"] == 30 and len(granted["records"]) == 3
    names = {f["id"] for f in granted["fields"]}
    assert {"xm", "sfzh", "nl"} <= names and "zd" not in names  # level 4 never
    record = granted["records"][0]
    raw = checkup_records(30)
    assert "*" in record["xm"] and record["xm"] not in {r["xm"] for r in raw}  # masked
    assert record["sfzh"] not in {r["sfzh"] for r in raw}  # pseudonymised

    bearer = httpx.post(
        f"{live.url}/api/3/action/datastore_search",
        json={"resource_id": live.conditional, "limit": 1},
        headers={"Authorization": f"Bearer {live.key}"},
    )
    assert ok(bearer)["total"] == 30
    counted = RemoteCKAN(live.url).action.package_show(id=live.conditional)
    assert int({e["key"]: e["value"] for e in counted["extras"]}["api_calls"]) >= 2


def test_envelope_and_status_codes_for_errors(live):
    refused(call(live, "package_show", id="101/999999999"), 404, "Not Found Error")
    refused(call(live, "package_show"), 409, "Validation Error")
    refused(call(live, "package_create", name="x"), 400, "Bad Request")
    bad_json = httpx.post(
        f"{live.url}/api/3/action/package_show",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    refused(bad_json, 400, "Bad Request")
    refused(call(live, "datastore_search", resource_id=live.conditional), 403, "Authorization Error")
    error = refused(call(live, "package_search", fq="(tags:a OR tags:b)"), 409, "Search Query Error")
    assert "fq" in error["message"]
    assert ok(call(live, "package_list", prefix="/api/action")) == ok(call(live, "package_list", get={}))


def test_ckanapi_command_line_searches_and_dumps(live, tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    ckanapi = [str(Path(sys.executable).parent / "ckanapi")]
    searched = subprocess.run(
        [*ckanapi, "action", "package_search", "q=体检", "fq=license_id:unconditional", "-r", live.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert searched.returncode == 0, searched.stderr
    result = json.loads(searched.stdout)
    assert result["count"] == 1 and result["results"][0]["name"] == live.free

    out = tmp_path / "datasets.jsonl"
    dumped = subprocess.run(
        [*ckanapi, "dump", "datasets", "--all", "-p", "1", "-O", str(out), "-r", live.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert dumped.returncode == 0, dumped.stderr
    packages = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(p["name"] for p in packages) == sorted([live.free, live.conditional])
    assert HIDDEN_NAME not in out.read_text()
