"""CAT-10/CAT-11 on the command line: `govdata catalog import|export|search --as USERNAME` act as that
user, with the same rules and visibility as the API — on both stores."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import openpyxl
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from govdata.catalog.models import Resource
from govdata.cli import app
from govdata.core.audit import AuditEvent
from govdata.core.config import get_settings
from tests.support.catalog import population
from tests.support.exchange import (
    ENTERPRISE_ITEMS,
    ENTERPRISE_ROW,
    POPULATION_ITEMS,
    POPULATION_ROW,
    workbook,
)


@pytest.fixture
def cli(settings, monkeypatch) -> Iterator:
    """Run ``govdata …`` against the test's store, as an operator would (GOVDATA_* variables)."""
    for key, value in {
        "GOVDATA_DATA_DIR": str(settings.data_dir),
        "GOVDATA_DATABASE_URL": settings.resolved_database_url(),
        "GOVDATA_STORE_URL": settings.resolved_store_url(),
        "COLUMNS": "200",  # wide enough that tables do not fold resource codes
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["catalog", *args])

    yield run
    get_settings.cache_clear()


def _count(session) -> int:
    session.rollback()  # see what the CLI committed
    return session.scalar(select(func.count()).select_from(Resource)) or 0


def test_import_creates_drafts_as_the_named_user_and_search_respects_visibility(cli, session, tmp_path):
    path = tmp_path / "目录.xlsx"
    path.write_bytes(workbook([POPULATION_ROW, ENTERPRISE_ROW], POPULATION_ITEMS + ENTERPRISE_ITEMS))
    checked = cli("import", str(path), "--as", "ga_officer", "--dry-run")
    assert checked.exit_code == 0, checked.output
    assert "将新建 2 个" in checked.output and _count(session) == 0

    result = cli("import", str(path), "--as", "ga_officer")
    assert result.exit_code == 0, result.output
    assert "新建 2 个" in result.output and "101/002" in result.output
    resources = session.scalars(select(Resource).order_by(Resource.id)).all()
    assert [(r.name, r.status, r.provider.name) for r in resources] == [
        ("人口基础信息", "draft", "焦作市公安局"),
        ("企业登记信息", "draft", "焦作市公安局"),
    ]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "catalog.imported"))
    assert event is not None and event.actor == "ga_officer"

    own = cli("search", "人口", "--as", "ga_officer")
    assert own.exit_code == 0 and resources[0].code in own.output and "草稿" in own.output
    other = cli("search", "人口", "--as", "rs_user")
    assert other.exit_code == 0 and resources[0].code not in other.output and "共 0 个资源" in other.output


def test_import_lists_row_errors_and_writes_nothing(cli, session, tmp_path):
    path = tmp_path / "目录.xlsx"
    path.write_bytes(workbook([ENTERPRISE_ROW, {**POPULATION_ROW, "共享条件": None}], POPULATION_ITEMS))
    result = cli("import", str(path), "--as", "ga_officer")
    assert result.exit_code == 2
    assert "未导入任何资源" in result.output and "共享条件" in result.output
    assert "有条件共享的资源必须写明共享条件" in result.output
    assert _count(session) == 0


def test_unknown_user_and_unauthorised_user_are_refused(cli, session, tmp_path):
    path = tmp_path / "目录.xlsx"
    path.write_bytes(workbook([ENTERPRISE_ROW], ENTERPRISE_ITEMS))
    unknown = cli("import", str(path), "--as", "nobody")
    assert unknown.exit_code == 2 and "用户 nobody 不存在" in unknown.output
    reader = cli("import", str(path), "--as", "rs_user")
    assert reader.exit_code == 2 and "无权" in reader.output
    garbage = tmp_path / "notes.xlsx"
    garbage.write_text("不是表格", encoding="utf-8")
    refused = cli("import", str(garbage), "--as", "ga_officer")
    assert refused.exit_code == 2 and "XLSX" in refused.output
    assert _count(session) == 0


def test_export_writes_what_the_user_may_see(cli, client, as_user, tmp_path):
    officer = as_user("ga_officer")
    draft = client.post("/api/v1/resources", json=population(), headers=officer).json()

    as_json = tmp_path / "catalog.json"
    result = cli("export", "-o", str(as_json), "--as", "ga_officer")
    assert result.exit_code == 0, result.output
    assert "已导出 1 个资源" in result.output
    exported = json.loads(as_json.read_text(encoding="utf-8"))
    assert [r["code"] for r in exported["resources"]] == [draft["code"]]
    assert exported["resources"][0]["items"][0]["code"] == "gmsfhm"

    as_xlsx = tmp_path / "catalog.xlsx"
    result = cli("export", "-o", str(as_xlsx), "--as", "rs_user", "--share-type", "conditional")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(io.BytesIO(as_xlsx.read_bytes()))
    assert book["资源"].max_row == 1  # another department's draft is not exported

    bad = cli("export", "-o", str(tmp_path / "catalog.csv"), "--as", "ga_officer")
    assert bad.exit_code == 2 and "xlsx 或 json" in bad.output
