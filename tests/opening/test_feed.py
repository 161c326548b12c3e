"""The separate internet-facing portal instance (issue #16): the government node exports a signed
open-data feed; a second instance (its own settings, data directory and store, portal routes only)
verifies and applies it, and then serves the open datasets and nothing else. A tampered, unsigned,
wrongly signed or replayed bundle is refused whole and leaves the instance as it was. The node runs
on both stores; the portal instance on the embedded one."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from govdata.app import create_app
from govdata.bootstrap import initialise
from govdata.core.auth import SYSTEM_ACTOR
from govdata.core.config import Settings
from govdata.core.db import make_engine, make_sessionmaker
from govdata.core.errors import Conflict
from govdata.core.signing import node_key, open_key
from govdata.demo import REGION
from govdata.opening.feed import bundle, service
from govdata.store import open_store
from tests.support.catalog import population, publish
from tests.support.http import ADMIN_PASSWORD
from tests.support.opening import CONDITIONAL_PLAN, checkup_records, checkups, open_resource
from tests.support.sharing import load, people

FREE_NAME = "开放测试体检数据甲"
CONDITIONAL_NAME = "有条件开放测试数据乙"
HIDDEN_NAME = "内部不开放人口底册丙"


def _portal_settings(base: Path, key_pem: str) -> Settings:
    base.mkdir(parents=True, exist_ok=True)
    return Settings(
        data_dir=base,
        database_url=f"sqlite:///{base / 'portal.sqlite3'}",
        store_url=f"duckdb:///{base / 'portal.duckdb'}",
        admin_password=ADMIN_PASSWORD,
        secret_key="portal-secret",
        log_json=False,
        log_level="WARNING",
        portal_only=True,
        feed_trusted_key=key_pem,
    )


def _import(settings: Settings, path: Path):
    engine = make_engine(settings.resolved_database_url())
    store = open_store(settings.resolved_store_url())
    try:
        return service.import_feed(make_sessionmaker(engine), SYSTEM_ACTOR, settings, store, path)
    finally:
        store.close()
        engine.dispose()


def _export(app, out: Path):
    with make_sessionmaker(app.state.engine)() as session:
        summary = service.export_feed(session, SYSTEM_ACTOR, app.state.settings, app.state.store, out)
        session.commit()
    return summary


def _everything_stored(settings: Settings) -> str:
    """Every value of every table of the portal instance's database and store, and every other file
    of its data directory, as text."""
    parts = []
    with sqlite3.connect(settings.data_dir / "portal.sqlite3") as con:
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            parts.extend(repr(row) for row in con.execute(f'SELECT * FROM "{table}"'))
    con = duckdb.connect(str(settings.data_dir / "portal.duckdb"), read_only=True)
    try:
        for schema, table in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall():
            parts.extend(repr(row) for row in con.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall())
    finally:
        con.close()
    for path in settings.data_dir.rglob("*"):
        if path.is_file() and path.suffix not in (".sqlite3", ".duckdb", ".wal"):
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def _rewrite(source: Path, target: Path, change) -> None:
    """A copy of the bundle with ``change(name, bytes) -> bytes`` applied to its members."""
    with tarfile.open(source) as tar_in, tarfile.open(target, "w") as tar_out:
        for member in tar_in.getmembers():
            data = tar_in.extractfile(member).read()
            data = change(member.name, data)
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            tar_out.addfile(info, io.BytesIO(data))


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_a_second_instance_fed_by_the_signed_export_serves_only_open_data(client, as_user, app, tmp_path):
    records = checkup_records(12)
    free = open_resource(client, as_user, checkups(name=FREE_NAME), records)
    conditional = open_resource(
        client,
        as_user,
        checkups(
            name=CONDITIONAL_NAME, open_type="conditional", open_conditions="经申请审核同意，仅用于科学研究"
        ),
        checkup_records(8, start=100),
        plan=CONDITIONAL_PLAN,
        open_type="conditional",
    )
    hidden = publish(client, as_user, "ga_officer", population(name=HIDDEN_NAME, open_type="unconditional"))
    hidden_people = people(3)
    load(client, as_user("ga_officer"), hidden, hidden_people)

    first = tmp_path / "feed-1.tar"
    summary = _export(app, first)
    assert (summary.datasets, summary.with_rows) == (2, 1)  # the conditional one travels as metadata

    portal = _portal_settings(tmp_path / "portal", node_key(app.state.settings).public_key_pem)
    initialise(portal, node_region=REGION)
    applied = _import(portal, first)
    assert applied.applied == sorted([free, conditional]) and applied.loaded == [free]

    with TestClient(create_app(portal), raise_server_exceptions=False) as site:
        # the open dataset: its page, its public rows (level 1 only), its downloads and CKAN
        page = site.get(f"/datasets/{free}")
        assert page.status_code == 200 and FREE_NAME in page.text
        rows = site.get(f"/api/v1/open/{free}/records", params={"limit": 100}).json()
        assert rows["total"] == 12 and rows["fields"] == ["bh", "xzqh", "jg"]
        assert {r["bh"] for r in rows["items"]} == {r["bh"] for r in records}
        assert site.get(f"/datasets/{free}/download.csv").status_code == 200
        shown = site.get("/api/3/action/package_show", params={"id": free}).json()
        assert shown["success"] and shown["result"]["title"] == FREE_NAME
        # the conditional one: metadata and items, no data
        page = site.get(f"/datasets/{conditional}")
        assert page.status_code == 200 and CONDITIONAL_NAME in page.text
        assert site.get(f"/datasets/{conditional}/download.csv").status_code in (401, 403)
        # the one that is not open: nowhere
        assert site.get(f"/datasets/{hidden}").status_code == 404
        assert site.get(f"/api/v1/open/{hidden}/records").status_code == 404
        assert HIDDEN_NAME not in site.get("/datasets", params={"q": "人口"}).text
        # no internal page or API on the portal instance
        for path in (
            "/login",
            "/workbench",
            "/catalog",
            "/api/v1/resources",
            "/api/v1/open/resources",
            f"/api/v1/resources/{free}",
            "/api/v1/auth/token",
        ):
            assert site.get(path).status_code == 404, path

    stored = _everything_stored(portal)
    assert (
        FREE_NAME in stored and CONDITIONAL_NAME in stored and records[5]["bh"] in stored
    )  # the search sees
    assert HIDDEN_NAME not in stored and hidden not in stored
    for person in hidden_people:  # nothing of the resource that is not open
        assert person["xm"] not in stored
    for record in records:  # nothing above level 1 of the open dataset: names, ID numbers, diagnoses
        assert record["sfzh"] not in stored and record["xm"] not in stored and record["zd"] not in stored

    # the same bundle again changes nothing
    assert _import(portal, first).unchanged
    state = service.last_import(portal)

    # refused whole, the instance left as it was: a byte changed in a data file, in the manifest;
    # the signature missing; another node's key; an older bundle replayed
    changed_data = tmp_path / "changed-data.tar"
    _rewrite(first, changed_data, lambda n, d: _flip(d, len(d) // 2) if n.startswith("data/") else d)
    changed_manifest = tmp_path / "changed-manifest.tar"
    _rewrite(first, changed_manifest, lambda n, d: _flip(d, len(d) // 2) if n == bundle.MANIFEST else d)
    unsigned = tmp_path / "unsigned.tar"
    _rewrite(first, unsigned, lambda n, d: d if n != bundle.SIGNATURE else b"")
    second = tmp_path / "feed-2.tar"
    _export(app, second)
    stranger = open_key(tmp_path / "stranger.pem")
    with tarfile.open(second) as tar:
        manifest = json.loads(tar.extractfile(bundle.MANIFEST).read())
    forged = tmp_path / "forged.tar"
    files = {}
    with tarfile.open(second) as tar:
        for member in tar.getmembers():
            if member.name.startswith("data/"):
                files[member.name] = tmp_path / member.name.replace("/", "-")
                files[member.name].write_bytes(tar.extractfile(member).read())
    bundle.write_bundle(
        forged,
        {k: manifest[k] for k in ("node", "created_at", "providers", "datasets")}
        | {"sequence": manifest["sequence"] + 1},
        files,
        stranger,
    )

    for path, slug in (
        (changed_data, "feed-digest"),
        (changed_manifest, "feed-signature"),
        (unsigned, "feed-signature"),
        (forged, "feed-signature"),
    ):
        with pytest.raises(bundle.FeedRefused) as refused:
            _import(portal, path)
        assert refused.value.slug == slug, (path, refused.value.detail)
        assert "拒绝载入" in refused.value.detail
    assert service.last_import(portal) == state

    assert _import(portal, second).sequence > state["sequence"]  # a newer one applies
    with pytest.raises(Conflict) as replayed:
        _import(portal, first)
    assert replayed.value.slug == "feed-replay" and "重放" in replayed.value.detail
