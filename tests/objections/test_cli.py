"""`govdata objections …` and `govdata tick` (COR-2, COR-4): the review on the command line acts as the
named user (`--as`), with the same rules and visibility as the API — on both stores."""

# ruff: noqa: F811  (the fixtures of tests.support, named as parameters)
from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from govdata.cli import app
from govdata.core.config import get_settings
from tests.support.objections import BASE_ITEMS, file, records  # noqa: F401
from tests.support.sharing import grant, shared_code, system  # noqa: F401


@pytest.fixture
def cli(settings, monkeypatch) -> Iterator:
    """Run ``govdata …`` against the test's store, as an operator would (GOVDATA_* variables)."""
    for key, value in {
        "GOVDATA_DATA_DIR": str(settings.data_dir),
        "GOVDATA_DATABASE_URL": settings.resolved_database_url(),
        "GOVDATA_STORE_URL": settings.resolved_store_url(),
        "COLUMNS": "240",
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    yield run
    get_settings.cache_clear()


@pytest.fixture
def filed(client, as_user, shared_code, system, records) -> dict:
    grant(client, as_user, shared_code, system["id"], BASE_ITEMS)
    return file(client, as_user("rs_user"), shared_code, records[1]["gmsfhm"], {"xm": "陈新名"})


def test_the_review_on_the_command_line_COR2_COR4(cli, client, as_user, filed, records):
    oid = str(filed["id"])
    listed = cli("objections", "list", "--as", "ga_officer", "--role", "provider")
    assert listed.exit_code == 0, listed.output
    assert "人口基础信息" in listed.output and "复核中" in listed.output and "剩" in listed.output
    shown = cli("objections", "show", oid, "--as", "rs_user")
    assert shown.exit_code == 0 and records[1]["gmsfhm"] in shown.output and "xm → 陈新名" in shown.output
    hidden = cli("objections", "show", oid, "--as", "dsj_officer")
    assert hidden.exit_code == 0 and records[1]["gmsfhm"] not in hidden.output
    assert cli("objections", "show", oid, "--as", "wj_user").exit_code == 2  # not theirs to see

    asked = cli(
        "objections", "request-extension", oid, "--as", "ga_officer", "--reason", "需核实", "--days", "3"
    )
    assert asked.exit_code == 0, asked.output
    refused = cli("objections", "extend", oid, "--as", "ga_officer", "--reason", "需核实")
    assert refused.exit_code == 2 and "无权" in refused.output
    extended = cli("objections", "extend", oid, "--as", "ga_head", "--reason", "需核实", "--days", "3")
    assert extended.exit_code == 0 and "已延长" in extended.output, extended.output
    again = cli("objections", "extend", oid, "--as", "ga_head", "--reason", "再延")
    assert again.exit_code == 2 and "不能再次延长" in again.output
    body = client.get(f"/api/v1/objections/{oid}", headers=as_user("rs_user")).json()
    assert body["extended"] is True and body["extension_days"] == 3

    assert cli("objections", "reject", oid, "--as", "ga_officer", "--reason", " ").exit_code == 2
    kept = cli("objections", "reject", oid, "--as", "ga_officer", "--reason", "原数据无误")
    assert kept.exit_code == 0 and "维持原数据" in kept.output, kept.output
    assert client.get(f"/api/v1/objections/{oid}", headers=as_user("rs_user")).json()["status"] == "rejected"

    ticked = cli("tick")
    assert ticked.exit_code == 0 and "疑义复核巡检完成：0 件疑义复核超期" in ticked.output
