"""``govdata ingest FILE --resource CODE --as USER``: a batch from the command line, on both stores.

Without a server the command runs the batch in its own process, against the stores; with a server
running it must not touch the DuckDB file (one process writes it) and goes through the HTTP API as
the user instead. Either way the provider gets the same counts, the errors CSV and the data."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from govdata.catalog import service as catalog
from govdata.catalog.cli import acting_user
from govdata.catalog.schemas import ResourceIn
from govdata.cli import app
from govdata.core.config import get_settings
from govdata.demo import DEMO_PASSWORD
from govdata.store import open_store
from govdata.store.base import TableSpec
from tests.support.catalog import population
from tests.support.server import Server, population_csv, running, silent_port


@pytest.fixture
def code(session) -> str:
    """A published 人口基础信息 of 市公安局, made through the catalog service and committed."""
    officer = acting_user(session, "ga_officer")
    body = population()
    body["items"][2]["required"] = False
    resource, _ = catalog.create_resource(session, officer, ResourceIn.model_validate(body))
    catalog.submit_resource(session, officer, resource.code)
    catalog.publish_resource(session, acting_user(session, "dsj_officer"), resource.code)
    session.commit()
    return resource.code


def with_defects(data: bytes) -> bytes:
    """Rows 3 and 7 broken: a wrong check digit and a sex outside the code list."""
    rows = list(csv.reader(io.StringIO(data.decode())))
    rows[3][0] = rows[3][0][:-1] + ("0" if rows[3][0][-1] != "0" else "1")
    rows[7][2] = "7"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def stored_rows(settings, session, code: str) -> int:
    from govdata.catalog.models import Resource

    resource = session.query(Resource).filter_by(code=code).one()
    store = open_store(settings.resolved_store_url())
    try:
        return store.row_count(TableSpec(resource.id, (), ()))
    finally:
        store.close()


@pytest.fixture
def environment(settings) -> Iterator[dict[str, str]]:
    """GOVDATA_* of the test's store; GOVDATA_PORT names a port where no server listens."""
    with silent_port() as port:
        yield {
            "GOVDATA_DATA_DIR": str(settings.data_dir),
            "GOVDATA_DATABASE_URL": settings.resolved_database_url(),
            "GOVDATA_STORE_URL": settings.resolved_store_url(),
            "GOVDATA_PORT": str(port),
            "COLUMNS": "200",
        }


@pytest.fixture
def cli(environment, monkeypatch) -> Iterator:
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["ingest", *args])

    yield run
    get_settings.cache_clear()


def test_without_a_server_the_batch_runs_in_process(cli, settings, session, code, tmp_path):
    path = tmp_path / "人口.csv"
    path.write_bytes(with_defects(population_csv(40, "410802")))
    errors = tmp_path / "errors.csv"
    result = cli(
        str(path),
        "--resource",
        code,
        "--as",
        "ga_officer",
        "--policy",
        "accept_valid",
        "--errors",
        str(errors),
    )
    assert result.exit_code == 0, result.output
    assert "本进程内直接处理" in result.output and "已入库" in result.output
    assert "38" in result.output  # rows applied
    table = list(csv.DictReader(io.StringIO(errors.read_text(encoding="utf-8-sig"))))
    assert [(r["row"], r["item"], r["rule"]) for r in table] == [
        ("3", "gmsfhm", "ric"),
        ("7", "xb", "code_list"),
    ]
    assert stored_rows(settings, session, code) == 38

    strict = cli(
        str(path), "--resource", code, "--as", "ga_officer", "--policy", "strict", "--mode", "replace"
    )
    assert strict.exit_code == 1, strict.output
    assert "已拒绝" in strict.output and "严格模式" in strict.output
    written = settings.data_dir / "batches" / "2" / "errors.csv"  # no --errors: beside the batch's files
    assert f"错误明细（CSV）：{written}" in strict.output.replace("\n", "")
    assert written.read_text(encoding="utf-8-sig").splitlines()[1].startswith("3,gmsfhm,")
    assert stored_rows(settings, session, code) == 38  # nothing changed


def test_the_named_user_needs_the_right(cli, code, tmp_path):
    path = tmp_path / "人口.csv"
    path.write_bytes(population_csv(5, "410802"))
    refused = cli(str(path), "--resource", code, "--as", "rs_officer")  # another department
    assert refused.exit_code == 2 and "本部门" in refused.output, refused.output
    unknown = cli(str(path), "--resource", code, "--as", "nobody")
    assert unknown.exit_code == 2 and "不存在" in unknown.output, unknown.output
    with silent_port() as port:
        silent = cli(
            str(path), "--resource", code, "--as", "ga_officer", "--server", f"http://127.0.0.1:{port}"
        )
    assert silent.exit_code == 2 and "没有响应" in silent.output, silent.output


def govdata(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).parent / "govdata"), *args]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=300)


def test_with_a_server_running_the_batch_goes_through_the_api(settings, session, code, environment, tmp_path):
    path = tmp_path / "人口.csv"
    path.write_bytes(with_defects(population_csv(2_000, "410802")))
    errors = tmp_path / "errors.csv"
    server = Server(settings, tmp_path / "server.log")
    with running(server):
        env = {**environment, "GOVDATA_PORT": str(server.port), "GOVDATA_PASSWORD": DEMO_PASSWORD}
        args = ["ingest", str(path), "--resource", code, "--as", "ga_officer", "--policy", "accept_valid"]
        result = govdata(*args, "--errors", str(errors), env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"通过平台服务 {server.url}" in result.stderr and "已入库" in result.stdout
        assert "1,998" in result.stdout  # rows applied
        table = list(csv.DictReader(io.StringIO(errors.read_text(encoding="utf-8-sig"))))
        assert [(r["row"], r["rule"]) for r in table] == [("3", "ric"), ("7", "code_list")]
        with httpx.Client(base_url=server.url) as client:
            token = client.post(
                "/api/v1/auth/token", data={"username": "ga_officer", "password": DEMO_PASSWORD}
            )
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            records = client.get(f"/api/v1/share/{code}/records?limit=1", headers=headers).json()
            assert records["total"] == 1_998
            batches = client.get(f"/api/v1/resources/{code}/batches", headers=headers).json()
            assert batches["items"][0]["created_by"] == "ga_officer"

        wrong = govdata(*args, env={**env, "GOVDATA_PASSWORD": "wrong-password"})
        assert wrong.returncode == 2 and "401" in wrong.stderr, wrong.stdout + wrong.stderr

        headless = tmp_path / "没有关键列.csv"
        headless.write_text("姓名,出生日期\n张三,1985-01-01\n", encoding="utf-8")
        failed = govdata("ingest", str(headless), "--resource", code, "--as", "ga_officer", env=env)
        assert failed.returncode == 1 and "失败" in failed.stdout and "缺少必需的列" in failed.stdout, (
            failed.stdout
        )
