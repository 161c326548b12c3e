"""Uploaded files are not kept forever (issue 12, item 12), on both stores: a failed or rejected
batch's source goes when the batch finishes (a rejected one keeps its errors file for the report);
an applied batch's source is kept for ``GOVDATA_UPLOAD_RETENTION_DAYS`` and then removed by the daily
sweep, after which its page and errors download still work; the sweep also removes what crashed
processes left. ``govdata storage`` reports the space used."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from typer.testing import CliRunner

from govdata.aggregation import retention
from govdata.aggregation.models import Batch
from govdata.cli import app as cli_app
from govdata.core import clock
from govdata.core.audit import AuditEvent
from govdata.core.config import get_settings
from govdata.core.db import unit_of_work
from govdata.core.jobs import Job
from tests.support.batches import csv_bytes, good_rows, upload
from tests.support.jobs import settle
from tests.support.pages import HTML, browser, text

RETENTION = 30


def batch_files(settings, batch_id: int) -> set[str]:
    directory = settings.data_dir / "batches" / str(batch_id)
    return {p.name for p in directory.iterdir()} if directory.exists() else set()


def sources(settings, batch_id: int) -> set[str]:
    return {name for name in batch_files(settings, batch_id) if not name.startswith("errors.")}


def with_defects(rows):
    rows[1][0] = rows[1][0][:-1] + ("0" if rows[1][0][-1] != "0" else "1")  # wrong check digit: row 2
    return rows


def finished_days_ago(app, batch_id: int, days: int) -> None:
    with unit_of_work(app.state.sessionmaker) as session:
        session.execute(
            update(Batch).where(Batch.id == batch_id).values(finished_at=clock.now() - timedelta(days=days))
        )


def age(path: Path, days: float) -> None:
    """Make ``path`` (and what it holds) look ``days`` old."""
    moment = time.time() - days * 86400
    for entry in [*path.rglob("*"), path] if path.is_dir() else [path]:
        os.utime(entry, (moment, moment))


def run_sweep_job(app) -> None:
    """What the schedule does once a day: the declared sweep enqueues the job, a worker runs it."""
    app.state.scheduler.run_sweep(retention.SWEEP)
    settle(app)


def test_a_failed_batch_leaves_no_source(client, as_user, settings, population_code):
    officer = as_user("ga_officer")
    missing_key = csv_bytes([["张三"]], header=["姓名"])  # no 公民身份号码 column: the batch fails
    failed = upload(client, officer, population_code, missing_key, policy="strict").json()
    assert failed["status"] == "failed" and "缺少必需的列" in failed["message"]
    settle(client.app)  # the source goes just after the end is committed, before the job ends
    assert sources(settings, failed["id"]) == set()

    pushed = client.post(
        f"/api/v1/resources/{population_code}/batches",
        json={"mode": "upsert", "policy": "strict", "records": [{"xm": "李四"}]},
        headers=officer,
    ).json()
    assert pushed["status"] == "failed", pushed
    settle(client.app)
    assert sources(settings, pushed["id"]) == set()  # records.json too

    page = browser(client.app, "ga_officer").get(f"/data/batches/{failed['id']}", headers=HTML)
    assert page.status_code == 200 and "处理失败" in text(page.text)


def test_a_rejected_batch_keeps_only_its_errors_file(client, as_user, settings, population_code):
    officer = as_user("ga_officer")
    data = csv_bytes(with_defects(good_rows(5)))
    rejected = upload(client, officer, population_code, data, policy="strict").json()
    assert rejected["status"] == "rejected" and rejected["errors_count"] == 1, rejected
    settle(client.app)
    assert batch_files(settings, rejected["id"]) == {"errors.parquet"}

    errors = client.get(f"/api/v1/batches/{rejected['id']}/errors?format=csv", headers=officer)
    assert errors.status_code == 200 and errors.content.decode("utf-8-sig").splitlines()[1].startswith(
        "2,gmsfhm,"
    )
    page = browser(client.app, "ga_officer").get(f"/data/batches/{rejected['id']}", headers=HTML)
    assert page.status_code == 200
    assert "整批未入库" in text(page.text) and "公民身份号码无效" in text(page.text)


def test_an_applied_batch_loses_its_source_to_the_sweep_after_the_retention(
    app, client, as_user, settings, population_code
):
    officer = as_user("ga_officer")
    old = upload(
        client, officer, population_code, csv_bytes(with_defects(good_rows(5))), policy="accept_valid"
    )
    recent = upload(client, officer, population_code, csv_bytes(good_rows(3, start=10)))
    old, recent = old.json(), recent.json()
    assert (old["status"], old["rows_applied"], old["errors_count"]) == ("applied", 4, 1), old
    assert recent["status"] == "applied", recent
    assert sources(settings, old["id"]) == {"source.csv"} and sources(settings, recent["id"]) == {
        "source.csv"
    }
    settle(app)  # the quality rescoring the batches caused

    finished_days_ago(app, old["id"], RETENTION + 1)
    finished_days_ago(app, recent["id"], RETENTION - 1)
    run_sweep_job(app)
    assert batch_files(settings, old["id"]) == {"errors.parquet"}  # source gone, errors kept
    assert sources(settings, recent["id"]) == {"source.csv"}  # still within the retention

    # the page and the errors download do not need the source
    page = browser(app, "ga_officer").get(f"/data/batches/{old['id']}", headers=HTML)
    assert page.status_code == 200
    assert "80 % 已入库" in text(page.text) and "公民身份号码无效" in text(page.text)
    for form in ("csv", "xlsx", "json"):
        errors = client.get(f"/api/v1/batches/{old['id']}/errors?format={form}", headers=officer)
        assert errors.status_code == 200, (form, errors.text)
    assert client.get(f"/api/v1/batches/{old['id']}/errors", headers=officer).json()[0]["row"] == 2
    resource_page = browser(app, "ga_officer").get(f"/data/{population_code}", headers=HTML)
    assert resource_page.status_code == 200 and f"#{old['id']}" in text(resource_page.text)

    with unit_of_work(app.state.sessionmaker) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "aggregation.uploads.removed")
        ).one()
    details = json.loads(event.details)
    assert details["batches"] == [old["id"]] and details["retention_days"] == RETENTION


def test_the_sweep_follows_the_clock_one_job_a_day(app, client, as_user, settings, population_code):
    officer = as_user("ga_officer")
    applied = upload(client, officer, population_code, csv_bytes(good_rows(3))).json()
    assert applied["status"] == "applied"
    settle(app)
    run_sweep_job(app)  # today: within the retention
    assert sources(settings, applied["id"]) == {"source.csv"}

    with clock.frozen(clock.now() + timedelta(days=RETENTION, hours=1)):
        run_sweep_job(app)
        run_sweep_job(app)  # fired twice (two processes, say) on the same China day: one job
        day = clock.today().isoformat()
    assert sources(settings, applied["id"]) == set()
    with unit_of_work(app.state.sessionmaker) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Job).where(Job.key == f"aggregation.retention:{day}")
            )
            == 1
        )
        assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == retention.SWEEP)) == 2


def test_the_sweep_removes_what_crashed_processes_left(app, client, settings):
    data_dir = settings.data_dir
    orphan = data_dir / "batches" / "987654"  # a batch whose creation was rolled back
    orphan.mkdir(parents=True)
    (orphan / "source.csv").write_text("公民身份号码\n410802198501010011\n")
    pull_file = data_dir / "pulls" / "7" / "run-424242.parquet"  # a pull run that died
    pull_file.parent.mkdir(parents=True)
    pull_file.write_bytes(b"PAR1")
    spool = data_dir / "tmpcrashed" / "upload"  # a request that died while spooling
    spool.parent.mkdir()
    spool.write_bytes(b"x" * 100)
    ingest_spool = data_dir / "uploads" / "tmpingest" / "upload"
    ingest_spool.parent.mkdir(parents=True)
    ingest_spool.write_bytes(b"y")
    fresh = data_dir / "upload-fresh" / "upload"  # being spooled right now
    fresh.parent.mkdir()
    fresh.write_bytes(b"z")
    keep = data_dir / "tmp-not-a-spool"
    keep.mkdir()
    (keep / "notes.txt").write_text("not ours")

    for path in (orphan, pull_file, spool.parent, ingest_spool.parent, keep):
        age(path, 2)
    run_sweep_job(app)
    assert not orphan.exists() and not pull_file.exists()
    assert not spool.parent.exists() and not ingest_spool.parent.exists()
    assert fresh.exists() and (keep / "notes.txt").exists()
    result = retention.sweep(app.state.sessionmaker, data_dir, retention_days=RETENTION)
    assert not result.removed_anything  # idempotent


def test_storage_reports_the_space_used(client, as_user, settings, population_code, monkeypatch):
    officer = as_user("ga_officer")
    upload(client, officer, population_code, csv_bytes(good_rows(20)))
    upload(client, officer, population_code, csv_bytes(with_defects(good_rows(5))), policy="strict")
    usage = {line.name: line for line in retention.storage_usage(settings)}
    kept = usage["保留的上传文件"]
    assert kept.files == 1 and kept.bytes == len(csv_bytes(good_rows(20)))
    assert (
        usage["错误明细文件"].files == 2 and usage["错误明细文件"].bytes > 0
    )  # every validated batch has one
    stores = [line for name, line in usage.items() if "数据存储" in name]
    assert stores and all(line.bytes and line.bytes > 0 for line in stores)

    for key, value in {
        "GOVDATA_DATA_DIR": str(settings.data_dir),
        "GOVDATA_DATABASE_URL": settings.resolved_database_url(),
        "GOVDATA_STORE_URL": settings.resolved_store_url(),
        "COLUMNS": "200",
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli_app, ["storage"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    for label in ("保留的上传文件", "错误明细文件", "临时文件", "数据存储", "保留 30 天"):
        assert label in result.output, result.output
