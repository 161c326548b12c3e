"""AGG-2 scheduled pulls from a department's own database, against real source databases: an SQLite
file the test creates, and a throwaway PostgreSQL database. The department's table ``people`` carries
the Chinese column names its system uses and an ``updated_at`` watermark; a trigger records every
write to it, so the tests can show that pulls never write."""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from govdata.aggregation import pulls
from govdata.aggregation.pull_models import Pull
from govdata.aggregation.scheduler import SWITCH, PullScheduler, job_id
from govdata.core.audit import AuditEvent
from govdata.core.db import unit_of_work
from tests.support.batches import ric
from tests.support.http import assert_problem
from tests.support.postgres import create_database, drop_database

COLUMNS = ["公民身份号码", "姓名", "性别", "出生日期", "户籍地址", "updated_at"]
PASSWORD = "Dept-Secret-2026"


@pytest.fixture(autouse=True)
def no_cron(monkeypatch):
    """Cron jobs do not fire during tests; a test that needs the scheduler starts it itself."""
    monkeypatch.setenv(SWITCH, "off")


def person(i: int, updated: str, gender: str | None = None) -> tuple:
    first17 = f"4108021985{(i % 12) + 1:02d}{(i % 28) + 1:02d}{i % 1000:03d}"
    birth = f"1985-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}"
    return (ric(first17), f"居民{i}", gender or str(1 + i % 2), birth, f"焦作市解放区民主路{i}号", updated)


def stamp(day: int, second: int) -> str:
    return f"2026-03-{day:02d} 08:{second // 60:02d}:{second % 60:02d}"


@dataclass
class Source:
    """The department's database, written only by the department's own system (this helper)."""

    kind: str
    url: str
    path: Path | None = None
    admin_url: str | None = None

    def execute(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        if self.kind == "sqlite":
            con = sqlite3.connect(self.path)
            try:
                rows = con.execute(sql.replace("%s", "?"), params).fetchall()
                con.commit()
                return rows
            finally:
                con.close()
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def insert(self, rows: list[tuple]) -> None:
        for row in rows:
            values = list(row)
            if self.kind == "postgresql":
                values[2] = int(values[2])  # the PostgreSQL system keeps 性别 as a number
            placeholders = ", ".join(["%s"] * len(COLUMNS))
            names = ", ".join(f'"{c}"' for c in COLUMNS)
            self.execute(f"INSERT INTO people ({names}) VALUES ({placeholders})", values)

    def count(self) -> int:
        return self.execute("SELECT count(*) FROM people")[0][0]

    def writes(self) -> int:
        return self.execute("SELECT count(*) FROM write_log")[0][0]

    def fingerprint(self) -> tuple:
        """What must not change while only the platform reads: the write log, and the file itself."""
        if self.kind == "sqlite":
            return (self.count(), self.writes(), self.path.stat().st_mtime_ns, _sha256(self.path))
        return (self.count(), self.writes())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sqlite_source(directory: Path) -> Source:
    path = directory / "dept.db"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE people ("公民身份号码" TEXT PRIMARY KEY, "姓名" TEXT, "性别" TEXT, "出生日期" TEXT,
                             "户籍地址" TEXT, updated_at TEXT NOT NULL);
        CREATE TABLE write_log (id INTEGER PRIMARY KEY, op TEXT);
        CREATE TRIGGER people_ins AFTER INSERT ON people BEGIN INSERT INTO write_log (op) VALUES ('insert'); END;
        CREATE TRIGGER people_upd AFTER UPDATE ON people BEGIN INSERT INTO write_log (op) VALUES ('update'); END;
        CREATE TRIGGER people_del AFTER DELETE ON people BEGIN INSERT INTO write_log (op) VALUES ('delete'); END;
        """
    )
    con.close()
    return Source("sqlite", f"sqlite:///{path}", path=path)


def _postgres_source(admin_url: str) -> Source:
    name = f"dept_src_{uuid.uuid4().hex[:10]}"
    url = create_database(admin_url, name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE TABLE people ("公民身份号码" text PRIMARY KEY, "姓名" text, "性别" smallint,
                                 "出生日期" date, "户籍地址" text, updated_at timestamp NOT NULL);
            CREATE TABLE write_log (id serial PRIMARY KEY, op text);
            CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN INSERT INTO write_log (op) VALUES (TG_OP); RETURN NULL; END $$;
            CREATE TRIGGER people_writes AFTER INSERT OR UPDATE OR DELETE ON people
              FOR EACH ROW EXECUTE FUNCTION log_write();
            """
        )
    # The platform connects with a password in its URL (the local test server trusts and ignores it),
    # so the tests can check that the password never comes back.
    prefix, rest = url.split("://", 1)
    userinfo, hostpart = rest.split("@", 1)
    user = userinfo.split(":", 1)[0]
    password = userinfo.split(":", 1)[1] if ":" in userinfo else PASSWORD
    return Source("postgresql", f"{prefix}://{user}:{password}@{hostpart}", admin_url=url)


@pytest.fixture(params=["file_src", "pg_src"])
def source(request, tmp_path_factory) -> Source:
    if request.param == "file_src":
        yield _sqlite_source(tmp_path_factory.mktemp("dept"))
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    src = _postgres_source(admin_url)
    yield src
    drop_database(admin_url, src.admin_url.rsplit("/", 1)[1])


@pytest.fixture
def file_source(tmp_path_factory) -> Source:
    return _sqlite_source(tmp_path_factory.mktemp("dept"))


@pytest.fixture
def pg_source(postgres_admin_url) -> Source:
    src = _postgres_source(postgres_admin_url)
    yield src
    drop_database(postgres_admin_url, src.admin_url.rsplit("/", 1)[1])


def define(client, headers, code, source: Source, **fields):
    body = {"url": source.url, "table": "people", "schedule": "0 2 * * *", **fields}
    if "query" in fields:
        body.pop("table")
    return client.post(f"/api/v1/resources/{code}/pulls", json=body, headers=headers)


def run(client, headers, pull_id: int, **params):
    return client.post(f"/api/v1/pulls/{pull_id}/run", params=params, headers=headers)


def total(client, headers, code) -> int:
    return client.get(f"/api/v1/share/{code}/records", headers=headers).json()["total"]


# --- loading -------------------------------------------------------------------------------------------


def test_full_pull_loads_every_row_as_a_pull_batch_and_writes_nothing(
    client, as_user, population_code, source
):
    officer = as_user("ga_officer")
    source.insert([person(i, stamp(1, i)) for i in range(12)])
    before = source.fingerprint()

    created = define(client, officer, population_code, source, max_rows_per_second=100_000)
    assert created.status_code == 201, created.text
    pull = created.json()
    assert pull["enabled"] and pull["mode"] == "full" and pull["batch_mode"] == "replace"

    result = run(client, officer, pull["id"])
    assert result.status_code == 201, result.text
    outcome = result.json()
    assert (outcome["outcome"], outcome["rows"], outcome["batch_status"]) == ("applied", 12, "applied")
    batch = client.get(f"/api/v1/batches/{outcome['batch_id']}", headers=officer).json()
    assert batch["source"] == "pull" and batch["rows_applied"] == 12 and batch["reconciliation"] == "ok"
    assert total(client, officer, population_code) == 12

    # in the background (wait=false): the answer comes at once, the run finishes by itself
    started = run(client, officer, pull["id"], wait="false")
    assert started.status_code == 202 and started.json()["outcome"] == "running"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = client.get(f"/api/v1/pulls/{pull['id']}/runs", headers=officer).json()
        if runs["items"][0]["outcome"] != "running":
            break
        time.sleep(0.1)
    assert runs["total"] == 2 and runs["items"][0]["outcome"] == "applied"
    assert runs["items"][0]["finished_at"] and runs["items"][0]["started_by"] == "ga_officer"
    assert total(client, officer, population_code) == 12

    assert source.fingerprint() == before, "the department's database was written to"


def test_incremental_pull_loads_only_the_newer_rows(client, as_user, population_code, source, session):
    officer = as_user("ga_officer")
    source.insert([person(i, stamp(1, i)) for i in range(10)])
    query = (
        'SELECT "公民身份号码", "姓名" AS xm, "性别", "出生日期" AS csrq, "户籍地址", updated_at '
        "FROM people WHERE \"户籍地址\" LIKE '焦作市%' -- the department's own filter; no ; here"
    )
    created = define(
        client,
        officer,
        population_code,
        source,
        query=query,
        mode="incremental",
        watermark_column="UPDATED_AT",
    )
    assert created.status_code == 201, created.text
    pull = created.json()
    assert pull["batch_mode"] == "upsert" and pull["watermark_column"] == "updated_at"
    assert pull["watermark"] is None

    first = run(client, officer, pull["id"]).json()
    assert (first["outcome"], first["rows"]) == ("applied", 10)
    after_first = client.get(f"/api/v1/pulls/{pull['id']}", headers=officer).json()["watermark"]
    assert after_first.replace("T", " ") == stamp(1, 9)

    source.insert([person(i, stamp(2, i)) for i in range(100, 103)])
    writes = source.fingerprint()
    second = run(client, officer, pull["id"]).json()
    assert (second["outcome"], second["rows"]) == ("applied", 3), second
    assert second["watermark_from"] == after_first
    assert total(client, officer, population_code) == 13
    shown = client.get(f"/api/v1/pulls/{pull['id']}", headers=officer).json()
    assert shown["watermark"].replace("T", " ") == stamp(2, 102)
    assert shown["last_run"]["id"] == second["id"]

    third = run(client, officer, pull["id"]).json()
    assert (third["outcome"], third["rows"], third["batch_id"]) == ("empty", 0, None)
    assert "没有新增" in third["message"]
    assert source.fingerprint() == writes

    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "pull")))
    assert {"aggregation.pull.created", "aggregation.pull.started", "aggregation.pull.applied"} <= actions
    assert "aggregation.pull.empty" in actions


def test_a_rejected_batch_does_not_move_the_watermark(client, as_user, population_code, source):
    officer = as_user("ga_officer")
    source.insert([person(i, stamp(1, i)) for i in range(5)])
    pull = define(
        client,
        officer,
        population_code,
        source,
        mode="incremental",
        watermark_column="updated_at",
        policy="strict",
    ).json()
    assert run(client, officer, pull["id"]).json()["outcome"] == "applied"
    mark = client.get(f"/api/v1/pulls/{pull['id']}", headers=officer).json()["watermark"]

    newer = [person(i, stamp(2, i)) for i in range(200, 203)]
    newer[1] = person(201, stamp(2, 201), gender="7")  # not in the 性别 code list: strict rejects all
    source.insert(newer)
    rejected = run(client, officer, pull["id"]).json()
    assert (rejected["outcome"], rejected["rows"], rejected["batch_status"]) == ("rejected", 3, "rejected")
    assert "严格模式" in rejected["message"]
    assert client.get(f"/api/v1/pulls/{pull['id']}", headers=officer).json()["watermark"] == mark

    again = run(client, officer, pull["id"]).json()  # the same rows are read again
    assert (again["outcome"], again["rows"], again["watermark_from"]) == ("rejected", 3, mark)

    source.execute(
        'UPDATE people SET "性别" = %s WHERE "公民身份号码" = %s',
        (1 if source.kind == "postgresql" else "1", newer[1][0]),
    )
    fixed = run(client, officer, pull["id"]).json()
    assert (fixed["outcome"], fixed["rows"]) == ("applied", 3)
    assert client.get(f"/api/v1/pulls/{pull['id']}", headers=officer).json()["watermark"] != mark
    assert total(client, officer, population_code) == 8


# --- read-only, limits -----------------------------------------------------------------------------------

BAD_QUERIES = [
    "DELETE FROM people",
    "SELECT 1; DROP TABLE x",
    "SELECT * FROM people; DELETE FROM people",
    "WITH gone AS (DELETE FROM people RETURNING *) SELECT * FROM gone",
    "SELECT * FROM people FOR UPDATE",
    "UPDATE people SET \"姓名\" = 'x'",
    "SELECT * INTO copy_of_people FROM people",
    "SELECT pg_advisory_lock(1), * FROM people",
]


def test_only_one_select_query_is_accepted(client, as_user, population_code, file_source):
    officer = as_user("ga_officer")
    file_source.insert([person(1, stamp(1, 1))])
    before = file_source.fingerprint()
    for query in BAD_QUERIES:
        response = define(client, officer, population_code, file_source, query=query)
        body = assert_problem(response, 422)
        assert body["errors"][0]["field"] == "query", (query, body)
    injected = define(client, officer, population_code, file_source, table="people; DROP TABLE people")
    assert_problem(injected, 422)
    assert file_source.fingerprint() == before
    assert client.get(f"/api/v1/resources/{population_code}/pulls", headers=officer).json()["total"] == 0


def test_the_connection_itself_refuses_writes(source):
    """Past the query check, the read-only connection is what keeps the source unchanged."""
    source.insert([person(1, stamp(1, 1))])
    before = source.fingerprint()
    env = pulls.PullEnv(data_dir=Path("/nonexistent-data-dir"), secret="x")
    url, dialect = pulls.check_url(source.url, env)
    for statement in (
        "DELETE FROM people",
        "INSERT INTO write_log (op) VALUES ('x')",
        "CREATE TABLE t (a int)",
    ):
        deadline = time.monotonic() + 10
        with (
            pytest.raises(DBAPIError, match="read-only|readonly|query_only"),
            pulls.read_only_connection(url, dialect, deadline) as conn,
        ):
            conn.exec_driver_sql(statement)
    assert source.fingerprint() == before


def test_timeout_stops_the_pull_and_loads_nothing(client, as_user, population_code, source):
    officer = as_user("ga_officer")
    source.insert([person(i, stamp(1, i)) for i in range(5)])
    slow = (
        "SELECT p.*, pg_sleep(1) AS pause FROM people p"
        if source.kind == "postgresql"
        else "SELECT p.*, (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) "
        "SELECT count(*) FROM c) AS n FROM people p"
    )
    pull = define(client, officer, population_code, source, query=slow, timeout_seconds=1)
    assert pull.status_code == 201, pull.text
    started = time.monotonic()
    result = run(client, officer, pull.json()["id"]).json()
    assert time.monotonic() - started < 15
    assert result["outcome"] == "failed" and result["batch_id"] is None
    assert "超时" in result["message"]
    assert total(client, officer, population_code) == 0


def test_row_rate_is_kept(client, as_user, population_code, source):
    officer = as_user("ga_officer")
    source.insert([person(i, stamp(1, i)) for i in range(30)])
    pull = define(client, officer, population_code, source, max_rows_per_second=20).json()
    started = time.monotonic()
    result = run(client, officer, pull["id"]).json()
    elapsed = time.monotonic() - started
    assert result["outcome"] == "applied" and result["rows"] == 30
    assert elapsed >= 1.4, f"30 rows at 20 rows/s took only {elapsed:.2f}s"

    slow = client.patch(
        f"/api/v1/pulls/{pull['id']}", json={"max_rows_per_second": 1, "timeout_seconds": 3}, headers=officer
    )
    assert slow.status_code == 200, slow.text
    stopped = run(client, officer, pull["id"]).json()
    assert stopped["outcome"] == "failed" and "限速" in stopped["message"]


def _china(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 5, hour, minute, tzinfo=pulls.CHINA).astimezone(UTC)


def test_time_window(client, as_user, population_code, file_source):
    officer = as_user("ga_officer")
    file_source.insert([person(i, stamp(1, i)) for i in range(10)])
    now = datetime.now(pulls.CHINA)
    later = (now + timedelta(hours=3)).strftime("%H:%M"), (now + timedelta(hours=4)).strftime("%H:%M")
    pull = define(
        client,
        officer,
        population_code,
        file_source,
        window_start=later[0],
        window_end=later[1],
        max_rows_per_second=5,
    ).json()

    refused = assert_problem(run(client, officer, pull["id"]), 409)
    assert "时间窗口" in refused["detail"]

    app = client.app
    factory, env = app.state.sessionmaker, app.state.pull_scheduler.env
    run_id = pulls.run_pull(factory, env, pull["id"], trigger="schedule")
    runs = client.get(f"/api/v1/pulls/{pull['id']}/runs", headers=officer).json()["items"]
    assert runs[0]["id"] == run_id and runs[0]["outcome"] == "skipped" and "时间窗口" in runs[0]["message"]

    # the window closes while reading: the pull stops and loads nothing
    client.patch(
        f"/api/v1/pulls/{pull['id']}", json={"window_start": "00:00", "window_end": "02:00"}, headers=officer
    )
    moments = iter([_china(1, 59)])
    closing = dataclasses.replace(env, clock=lambda: next(moments, _china(2, 1)))
    run_id = pulls.run_pull(factory, closing, pull["id"], trigger="schedule")
    runs = client.get(f"/api/v1/pulls/{pull['id']}/runs", headers=officer).json()["items"]
    assert runs[0]["id"] == run_id and runs[0]["outcome"] == "failed", runs[0]
    assert "时间窗口" in runs[0]["message"] and runs[0]["batch_id"] is None
    assert total(client, officer, population_code) == 0


def test_in_window_and_crontab_weekdays():
    assert pulls.in_window(None, None, _china(12))
    assert pulls.in_window("01:00", "05:00", _china(1)) and not pulls.in_window("01:00", "05:00", _china(5))
    assert pulls.in_window("22:00", "06:00", _china(23, 30)) and pulls.in_window("22:00", "06:00", _china(3))
    assert not pulls.in_window("22:00", "06:00", _china(12))
    monday = datetime(2026, 3, 2, 12, tzinfo=pulls.CHINA)
    sunday = pulls.cron_trigger("0 2 * * 0").get_next_fire_time(None, monday)
    assert sunday.strftime("%a %H:%M") == "Sun 02:00"
    assert pulls.cron_trigger("0 2 * * 7").get_next_fire_time(None, monday).weekday() == 6
    weekdays = pulls.cron_trigger("30 1 * * 1-5").get_next_fire_time(
        None, datetime(2026, 3, 7, tzinfo=pulls.CHINA)
    )
    assert weekdays.strftime("%a %H:%M") == "Mon 01:30"


# --- secrets, scope, definitions ------------------------------------------------------------------------


def test_the_password_is_never_returned(client, as_user, population_code, pg_source, session):
    officer = as_user("ga_officer")
    password = pg_source.url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    pg_source.insert([person(i, stamp(1, i)) for i in range(3)])
    created = define(client, officer, population_code, pg_source)
    assert created.status_code == 201, created.text
    pull = created.json()
    assert "***" in pull["url"] and password not in pull["url"]
    answers = [
        created,
        client.get(f"/api/v1/resources/{population_code}/pulls", headers=officer),
        client.get(f"/api/v1/pulls/{pull['id']}", headers=as_user("dsj_officer")),
        client.patch(f"/api/v1/pulls/{pull['id']}", json={"schedule": "15 3 * * *"}, headers=officer),
        run(client, officer, pull["id"]),
        client.get(f"/api/v1/pulls/{pull['id']}/runs", headers=officer),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert password not in answer.text
    stored = session.scalar(select(Pull).where(Pull.id == pull["id"]))
    assert password not in stored.url_encrypted and password not in stored.url_masked
    assert pulls.decrypt_url("test-secret", stored.url_encrypted).count(password) == 1
    for details in session.scalars(select(AuditEvent.details)):
        assert password not in details

    # a wrong password shows up as a connection error, still without the password
    wrong = pg_source.url.replace(f":{password}@", ":wrong-pass@").replace("/dept_src_", "/no_such_db_")
    failed = define(client, officer, population_code, pg_source, url=wrong)
    assert failed.status_code == 422 and "wrong-pass" not in failed.text


def test_only_the_provider_manages_and_the_authority_reads(client, as_user, population_code, file_source):
    officer = as_user("ga_officer")
    file_source.insert([person(1, stamp(1, 1))])
    pull = define(client, officer, population_code, file_source).json()
    other = as_user("rs_officer")
    assert_problem(define(client, other, population_code, file_source), 403)
    assert_problem(client.get(f"/api/v1/resources/{population_code}/pulls", headers=other), 403)
    assert_problem(client.get(f"/api/v1/pulls/{pull['id']}", headers=other), 403)
    assert_problem(run(client, other, pull["id"]), 403)
    assert_problem(client.patch(f"/api/v1/pulls/{pull['id']}", json={"enabled": False}, headers=other), 403)
    assert_problem(client.delete(f"/api/v1/pulls/{pull['id']}", headers=other), 403)
    authority = as_user("dsj_officer")
    listed = client.get(f"/api/v1/resources/{population_code}/pulls", headers=authority)
    assert listed.status_code == 200 and listed.json()["items"][0]["id"] == pull["id"]
    assert_problem(run(client, authority, pull["id"]), 403)
    assert_problem(client.get(f"/api/v1/pulls/{pull['id']}", headers=as_user("ga_head")), 403)
    assert_problem(client.get("/api/v1/pulls/999999", headers=officer), 404)


def test_definitions_are_checked(client, as_user, population_code, file_source, settings):
    officer = as_user("ga_officer")
    file_source.insert([person(1, stamp(1, 1))])
    inside = Path(settings.data_dir) / "copy.db"
    inside.write_bytes(file_source.path.read_bytes())
    cases = [
        ({"url": f"sqlite:///{inside}"}, "url"),
        (
            {
                "url": f"sqlite:///{Path(settings.data_dir).resolve()}/../{Path(settings.data_dir).name}/copy.db"
            },
            "url",
        ),
        ({"url": "sqlite:///relative.db"}, "url"),
        ({"url": "mysql://u:p@db.example/dept"}, "url"),
        ({"url": f"sqlite:///{file_source.path.parent / 'missing.db'}"}, "url"),
        ({"mode": "incremental"}, "watermark_column"),
        ({"mode": "incremental", "watermark_column": "changed_on"}, "watermark_column"),
        ({"mode": "incremental", "watermark_column": "updated_at", "batch_mode": "replace"}, "batch_mode"),
        ({"schedule": "every night"}, "schedule"),
        ({"schedule": "0 25 * * *"}, "schedule"),
        ({"window_start": "22:00"}, "window_end"),
        ({"window_start": "7:00", "window_end": "08:00"}, "window_start"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
    ]
    if settings.database_url.startswith("sqlite"):
        cases.append(({"url": settings.database_url}, "url"))
    for fields, field in cases:
        body = assert_problem(define(client, officer, population_code, file_source, **fields), 422)
        assert body["errors"][0]["field"] == field, (fields, body)
    missing = assert_problem(
        define(client, officer, population_code, file_source, query='SELECT "公民身份号码" FROM people'), 422
    )
    assert "姓名（xm）" in missing["detail"]
    no_table = assert_problem(define(client, officer, population_code, file_source, table="nobody"), 422)
    assert "nobody" in no_table["detail"]


def test_scheduler_registers_a_job_per_enabled_pull(
    client, as_user, population_code, file_source, monkeypatch
):
    officer = as_user("ga_officer")
    file_source.insert([person(1, stamp(1, 1))])
    pull = define(client, officer, population_code, file_source, schedule="30 2 * * 1-5").json()
    app = client.app
    scheduler = PullScheduler(app.state.sessionmaker, app.state.pull_scheduler.env)
    monkeypatch.setenv(SWITCH, "on")
    scheduler.start(paused=True)  # registered, never fired
    try:
        job = scheduler.job(pull["id"])
        assert job is not None and job.id == job_id(pull["id"])
        fire = job.next_run_time.astimezone(pulls.CHINA)
        assert (fire.hour, fire.minute) == (2, 30) and fire.weekday() < 5
        assert job.coalesce is True and job.max_instances == 1

        # a fire time passed while the server was down: one run is due at once after a rebuild
        with unit_of_work(app.state.sessionmaker) as session:
            # four days back: a window longer than the weekend always holds a weekday 02:30 fire
            session.get(Pull, pull["id"]).created_at = datetime.now(UTC) - timedelta(days=4)
        scheduler.rebuild()
        assert scheduler.job(pull["id"]).next_run_time <= datetime.now(UTC) + timedelta(seconds=5)
        with unit_of_work(app.state.sessionmaker) as session:
            session.get(Pull, pull["id"]).created_at = datetime.now(UTC)

        client.patch(f"/api/v1/pulls/{pull['id']}", json={"enabled": False}, headers=officer)
        assert scheduler.sync(pull["id"]) is None and scheduler.job(pull["id"]) is None
        assert scheduler.rebuild() == []

        client.patch(
            f"/api/v1/pulls/{pull['id']}", json={"enabled": True, "schedule": "0 3 * * *"}, headers=officer
        )
        assert scheduler.rebuild() == [job_id(pull["id"])]
        assert scheduler.job(pull["id"]).next_run_time.astimezone(pulls.CHINA).hour == 3

        disabled = client.delete(f"/api/v1/pulls/{pull['id']}", headers=officer)
        assert disabled.status_code == 200 and disabled.json()["enabled"] is False
        scheduler.sync(pull["id"])
        assert scheduler.job(pull["id"]) is None
        assert_problem(run(client, officer, pull["id"]), 409)
    finally:
        scheduler.shutdown()
    # the app's own scheduler followed the same changes through the API
    assert app.state.pull_scheduler.job(pull["id"]) is None


def test_a_run_finding_a_previous_one_active_skips(client, as_user, population_code, file_source):
    officer = as_user("ga_officer")
    file_source.insert([person(1, stamp(1, 1))])
    pull = define(client, officer, population_code, file_source).json()
    app = client.app
    factory, env = app.state.sessionmaker, app.state.pull_scheduler.env
    first = pulls.start_run(factory, env, pull["id"], trigger="schedule")
    assert first.plan is not None
    skipped = pulls.start_run(factory, env, pull["id"], trigger="schedule")
    assert skipped.plan is None
    assert_problem(run(client, officer, pull["id"]), 409)
    pulls.execute_run(factory, env, first)
    runs = client.get(f"/api/v1/pulls/{pull['id']}/runs", headers=officer).json()["items"]
    assert [r["outcome"] for r in runs] == ["skipped", "applied"]
    assert "仍在运行" in runs[0]["message"]
    assert run(client, officer, pull["id"]).json()["outcome"] == "applied"  # the lease was released
