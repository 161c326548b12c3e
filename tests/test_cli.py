"""NF-1: `govdata demo` creates the demo region once and prints its logins; the admin password comes
from GOVDATA_ADMIN_PASSWORD or is generated; working-day questions on the command line (CAL-1/2)."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from govdata.app import create_app
from govdata.cli import LOGINS_FILE, app
from govdata.core.audit import AuditEvent
from govdata.core.config import Settings, get_settings
from govdata.core.db import make_engine, make_sessionmaker
from govdata.orgs.models import Department, User

ENV_KEYS = (
    "GOVDATA_DATA_DIR",
    "GOVDATA_DATABASE_URL",
    "GOVDATA_STORE_URL",
    "GOVDATA_ADMIN_PASSWORD",
    "GOVDATA_SECRET_KEY",
)


@pytest.fixture
def cli_env(monkeypatch) -> Iterator:
    """Point the CLI at a store through GOVDATA_* variables, as an operator would."""

    def use(**values: str) -> CliRunner:
        for key, value in values.items():
            monkeypatch.setenv(f"GOVDATA_{key.upper()}", value)
        get_settings.cache_clear()
        return CliRunner()

    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    get_settings.cache_clear()
    yield use
    get_settings.cache_clear()


def _counts(data_dir: Path) -> tuple[int, int, int]:
    engine = make_engine(f"sqlite:///{(data_dir / 'govdata.sqlite3').resolve()}")
    try:
        with make_sessionmaker(engine)() as session:
            return tuple(
                session.scalar(select(func.count()).select_from(model))
                for model in (Department, User, AuditEvent)
            )
    finally:
        engine.dispose()


def _admin_can_log_in(data_dir: Path, password: str) -> bool:
    settings = Settings(data_dir=data_dir, log_json=False, log_level="WARNING")
    web = create_app(settings)
    try:
        with TestClient(web) as client:
            response = client.post("/api/v1/auth/token", data={"username": "admin", "password": password})
            return response.status_code == 200
    finally:
        web.state.engine.dispose()


def test_demo_creates_the_region_once_and_prints_the_logins(tmp_path, cli_env):
    data_dir = tmp_path / "fresh"
    runner = cli_env(data_dir=str(data_dir), admin_password="Operator#2026-demo")

    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert "ga_officer" in first.output and "Jiaozuo@2026" in first.output
    assert "部门目录管理员" in first.output and "焦作市公安局" in first.output
    token = re.search(r"gds_[A-Za-z0-9_-]{20,}", first.output)
    assert token, first.output
    logins = data_dir / LOGINS_FILE
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    assert token.group(0) in logins.read_text(encoding="utf-8")
    assert "Operator#2026-demo" not in first.output  # the operator's own password is not echoed
    before = _counts(data_dir)
    assert before[0] == 14

    again = runner.invoke(app, ["demo", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "ga_officer" in again.output and token.group(0) in again.output
    assert _counts(data_dir) == before

    refused = runner.invoke(app, ["demo"])
    assert refused.exit_code != 0
    assert "已有部门" in refused.output
    assert _counts(data_dir) == before

    assert _admin_can_log_in(data_dir, "Operator#2026-demo")
    assert not _admin_can_log_in(data_dir, "Jiaozuo@2026")


def test_without_an_admin_password_a_random_one_is_printed_and_works(tmp_path, cli_env):
    data_dir = tmp_path / "random"
    runner = cli_env(data_dir=str(data_dir))
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.strip().startswith("admin "))
    password = re.match(r"\s*admin\s+([!-~]+)", line).group(1)  # printable ASCII, up to the label
    assert "随机生成" in line and len(password) >= 10
    assert _admin_can_log_in(data_dir, password)

    other = cli_env(data_dir=str(tmp_path / "another")).invoke(app, ["demo"])
    assert password not in other.output  # a fresh password for every store


def test_a_weak_admin_password_is_refused_clearly(tmp_path, cli_env):
    data_dir = tmp_path / "weak"
    runner = cli_env(data_dir=str(data_dir), admin_password="123456")
    result = runner.invoke(app, ["demo"])
    assert result.exit_code != 0
    assert "GOVDATA_ADMIN_PASSWORD" in result.output and "密码" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (data_dir / LOGINS_FILE).exists()
    assert _counts(data_dir)[1] == 0  # no administrator with a weak password was created


def test_calendar_deadline_on_the_command_line(settings, cli_env):
    runner = cli_env(
        data_dir=str(settings.data_dir),
        database_url=settings.resolved_database_url(),
        store_url=settings.resolved_store_url(),
    )
    known = runner.invoke(app, ["calendar", "deadline", "2026-09-25", "10"])
    assert known.exit_code == 0, known.output
    assert "2026-10-15" in known.output and "暂定" not in known.output

    provisional = runner.invoke(app, ["calendar", "deadline", "2027-03-01", "5"])
    assert provisional.exit_code == 0, provisional.output
    assert "2027-03-08" in provisional.output and "暂定" in provisional.output

    bad = runner.invoke(app, ["calendar", "deadline", "2027-02-30", "5"])
    assert bad.exit_code != 0 and "无效" in bad.output
    negative = runner.invoke(app, ["calendar", "deadline", "2026-09-25", "--", "-1"])
    assert negative.exit_code != 0 and "工作日数" in negative.output


def test_calendar_import_on_the_command_line(settings, cli_env, tmp_path):
    runner = cli_env(
        data_dir=str(settings.data_dir),
        database_url=settings.resolved_database_url(),
        store_url=settings.resolved_store_url(),
    )
    schedule = tmp_path / "2027.csv"
    schedule.write_text("date,kind\n2027-01-01,holiday\n2027-02-13,班\n", encoding="utf-8")
    imported = runner.invoke(app, ["calendar", "import", "2027", str(schedule)])
    assert imported.exit_code == 0, imported.output
    assert "节假日 1 天" in imported.output
    after = runner.invoke(app, ["calendar", "deadline", "2026-12-31", "1"])
    assert "2027-01-04" in after.output and "暂定" not in after.output

    schedule.write_bytes("2027-01-01,休\n".encode("gbk"))
    refused = runner.invoke(app, ["calendar", "import", "2027", str(schedule)])
    assert refused.exit_code != 0 and "UTF-8" in refused.output
