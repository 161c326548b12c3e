"""Benchmark: one period's scorecards (SUP-1, SUP-3) for ``--departments`` departments over
``--usage`` usage-log rows, ``--applications`` share applications and ``--batches`` batches (issue 17:
100, 1,000,000, 50,000 and 20,000; ``--scale 0.1`` runs a tenth of the rows).

The store (SQLite in a temporary directory, or ``--backend postgresql``) holds the demo region without
its catalog, departments added up to ``--departments``, and generated resources (20 per department),
batches, applications and usage rows, written in bulk with SQLAlchemy Core inserts (a benchmark's
setup, not the product's path), then the monthly roll-up of the usage log rebuilt from the log
(``sharing.usage_months.rebuild``: what the usage writer keeps up to date as it writes) and each answered
application's working days counted as sharing counts them when the provider answers. Then, in one run:

* ours: ``evaluation.service.scorecard(session, authority, "2026")``, the whole scorecard: every
  capability's facts grouped in SQL, the working days, the indicator scores and the ranking;
* baseline: the same tables written to Parquet, loaded into an in-memory DuckDB, and one hand-tuned
  DuckDB query computing the same aggregates per department (catalog completeness, aggregation
  timeliness and completeness, applications decided, on time, refused with and without basis and
  their working days through a cumulative working-day table, service calls provided and consumed);
  loading is not timed, and no scoring or ranking is done.

Each side runs ``--repeat`` times after one warm-up; the best time counts. The aggregates of both
sides are compared, so the figure is for the same answer. Prints one JSON line; ``ratio`` is baseline
time ÷ ours (higher is better; issue 17 asks ≥ 0.3).

    .venv/bin/python benchmarks/scorecards.py
    .venv/bin/python benchmarks/scorecards.py --scale 0.05
    .venv/bin/python benchmarks/scorecards.py --backend postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from sqlalchemy import insert, select

from govdata.aggregation.models import Batch
from govdata.aggregation.service import CYCLE_DAYS
from govdata.bootstrap import initialise
from govdata.catalog.models import Resource
from govdata.core import clock
from govdata.core.calendar import WorkingCalendar
from govdata.core.config import Settings
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.core.ids import uscc_make
from govdata.demo import REGION, create_demo
from govdata.evaluation import service
from govdata.orgs import service as orgs
from govdata.orgs.models import ApplicationSystem
from govdata.orgs.schemas import DepartmentIn
from govdata.sharing import usage_months
from govdata.sharing.models import Application, UsageRecord

console = Console(stderr=True)
YEAR = 2026
NOW = datetime(YEAR + 1, 1, 10, 9, tzinfo=clock.CHINA)  # the year is over
CYCLES = ("daily", "weekly", "monthly", "quarterly")
CHUNK = 20_000


def _instant(rng: random.Random, start: date, days: int) -> datetime:
    moment = datetime.combine(start, datetime.min.time(), clock.CHINA) + timedelta(
        seconds=rng.randrange(days * 86400)
    )
    return moment.astimezone(UTC)


def _bulk(engine, model, rows: list[dict]) -> None:
    with engine.begin() as conn:
        for i in range(0, len(rows), CHUNK):
            conn.execute(insert(model), rows[i : i + CHUNK])


def build(settings: Settings, args) -> dict[str, list[dict]]:
    """The store, and the generated rows (what the baseline exports to Parquet)."""
    initialise(settings, node_region=REGION)
    engine = make_engine(settings.resolved_database_url())
    rng = random.Random(17)
    try:
        factory = make_sessionmaker(engine)
        with clock.frozen(datetime(YEAR - 1, 6, 1, 9, tzinfo=clock.CHINA)), unit_of_work(factory) as session:
            create_demo(session, with_catalog=False)
            admin = orgs.actor_named(session, "admin")
            for index in range(len(orgs.department_names(session)), args.departments):
                orgs.create_department(
                    session,
                    admin,
                    DepartmentIn(
                        name=f"焦作市第{index + 1:03d}号测试局",
                        uscc=uscc_make("1", "1", REGION, f"MB{800_000 + index * 7:06d}"),
                        region_code=REGION,
                        code=f"{100 + index:03d}",
                    ),
                )
        with factory() as session:
            departments = sorted(orgs.department_names(session))
            system = session.scalar(select(ApplicationSystem.id).limit(1))
        created = datetime(YEAR - 1, 6, 1, tzinfo=UTC)
        resources = []
        for provider in departments:
            for n in range(20):
                published = rng.random() < 0.9
                resources.append(
                    {
                        "id": len(resources) + 1,
                        "code": f"B{provider:03d}{n:04d}",
                        "provider_id": provider,
                        "status": "published" if published else "draft",
                        "version": 1,
                        "published_version": 1 if published else None,
                        "name": f"资源{provider}-{n}",
                        "summary": "",
                        "classification": "base",
                        "format": "database",
                        "share_type": "conditional",
                        "open_type": "none",
                        "update_cycle": rng.choice(CYCLES),
                        "grade": "general",
                        "local_catalog": False,
                        "created_at": created,
                        "updated_at": created,
                        "published_at": _instant(rng, date(YEAR - 1, 7, 1), 540) if published else None,
                    }
                )
        batches = []
        for _ in range(args.batches):
            r = rng.choice(resources)
            finished = _instant(rng, date(YEAR - 1, 7, 1), 550)
            batches.append(
                {
                    "resource_id": r["id"],
                    "resource_code": r["code"],
                    "department_id": r["provider_id"],
                    "catalog_version": 1,
                    "mode": "upsert",
                    "policy": "reject",
                    "source": "upload",
                    "status": "applied" if rng.random() < 0.9 else "failed",
                    "progress": 1.0,
                    "created_by": "bench",
                    "created_at": finished,
                    "finished_at": finished,
                }
            )
        applications = []
        calendar = WorkingCalendar()  # what sharing counts when a provider answers
        for _ in range(args.applications):
            r = rng.choice(resources)
            submitted = _instant(rng, date(YEAR - 1, 11, 1), 420)
            decided = submitted + timedelta(hours=rng.randrange(1, 24 * 30)) if rng.random() < 0.9 else None
            refused = decided is not None and rng.random() < 0.15
            applications.append(
                {
                    "resource_id": r["id"],
                    "resource_code": r["code"],
                    "resource_name": r["name"],
                    "catalog_version": 1,
                    "share_type": "conditional",
                    "provider_id": r["provider_id"],
                    "consumer_department_id": rng.choice(departments),
                    "system_id": system,
                    "applicant": "bench",
                    "items": [],
                    "masked_items": [],
                    "purpose": "",
                    "scenario": "",
                    "period_start": date(YEAR, 1, 1),
                    "period_end": date(YEAR, 12, 31),
                    "modes": [],
                    "rate_limit": 600,
                    "status": "refused" if refused else ("approved" if decided else "pending"),
                    "phase": "decided" if decided else "awaiting_decision",
                    "submitted_at": submitted,
                    "decided_at": decided,
                    "decision": ("refuse" if refused else "approve") if decided else None,
                    "decided_working_days": calendar.working_days_between(
                        clock.china_date(submitted), clock.china_date(decided)
                    )
                    if decided
                    else None,
                    "decided_by": "bench" if decided else None,
                    "refusal_flagged": refused and rng.random() < 0.3,
                    "late": decided is not None and rng.random() < 0.2,
                    "coordination": [],
                }
            )
        usage = [
            {
                "at": _instant(rng, date(YEAR - 1, 10, 1), 460),
                "caller": "system:1",
                "consumer_department_id": rng.choice(departments),
                "provider_id": rng.choice(departments),
                "resource_code": "X",
                "mode": "query",
                "items": [],
                "rows": 1,
                "outcome": "ok" if rng.random() < 0.9 else "denied",
                "status_code": 200,
                "latency_ms": 1.0,
            }
            for _ in range(args.usage)
        ]
        started = time.perf_counter()
        for model, rows in (
            (Resource, resources),
            (Batch, batches),
            (Application, applications),
            (UsageRecord, usage),
        ):
            _bulk(engine, model, rows)
            console.print(
                f"loaded {len(rows):,} {model.__tablename__} ({time.perf_counter() - started:.1f} s)"
            )
        with unit_of_work(make_sessionmaker(engine)) as session:
            usage_months.rebuild(session)  # what the usage writer keeps as it writes the log
        console.print(f"rolled up the usage log by month ({time.perf_counter() - started:.1f} s)")
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        return {"resources": resources, "batches": batches, "applications": applications, "usage": usage}
    finally:
        engine.dispose()


BASELINE = """
WITH
r AS (SELECT id, provider_id, status, update_cycle, published_at, created_at FROM resources),
b AS (
  SELECT resource_id,
         count(*) FILTER (WHERE finished_at >= $since) AS in_period,
         count(*) AS before_end
  FROM batches WHERE status = 'applied' AND mode <> 'migrate' AND finished_at < $until
  GROUP BY resource_id),
agg AS (
  SELECT r.provider_id AS d,
         count(*) AS published,
         count(*) FILTER (WHERE b.before_end > 0) AS with_data,
         count(*) FILTER (WHERE span >= c.days) AS expected,
         count(*) FILTER (WHERE span >= c.days AND coalesce(b.in_period, 0) >= span // c.days) AS timely
  FROM (SELECT *, (epoch(least($until, $now)) - epoch(greatest($since, published_at)))::BIGINT // 86400 AS span
        FROM r WHERE status = 'published' AND published_at < $until) r
  JOIN cycles c ON c.cycle = r.update_cycle
  LEFT JOIN b ON b.resource_id = r.id
  GROUP BY r.provider_id),
cat AS (
  SELECT provider_id AS d, count(*) AS registered,
         count(*) FILTER (WHERE status = 'published' AND published_at < $until) AS published
  FROM r WHERE created_at < $until AND status <> 'retired' GROUP BY provider_id),
app AS (
  SELECT a.provider_id AS d, count(*) AS decided, count(*) FILTER (WHERE NOT late) AS on_time,
         count(*) FILTER (WHERE decision = 'refuse') AS refused,
         count(*) FILTER (WHERE decision = 'refuse' AND refusal_flagged) AS flagged,
         sum(greatest(w2.n - w1.n, 0)) AS working_days
  FROM applications a
  JOIN workdays w1 ON w1.day = CAST(a.submitted_at + INTERVAL 8 HOUR AS DATE)
  JOIN workdays w2 ON w2.day = CAST(a.decided_at + INTERVAL 8 HOUR AS DATE)
  WHERE a.decided_at >= $since AND a.decided_at < $until
  GROUP BY a.provider_id),
u AS (SELECT provider_id, consumer_department_id FROM usage
      WHERE "at" >= $since AND "at" < $until AND outcome = 'ok'),
up AS (SELECT provider_id AS d, count(*) AS provided FROM u GROUP BY 1),
uc AS (SELECT consumer_department_id AS d, count(*) AS consumed FROM u GROUP BY 1)
SELECT d.id, cat.registered, cat.published, agg.timely, agg.expected, agg.with_data, agg.published,
       app.decided, app.on_time, app.working_days, app.refused, app.flagged, up.provided, uc.consumed
FROM departments d
LEFT JOIN cat ON cat.d = d.id LEFT JOIN agg ON agg.d = d.id LEFT JOIN app ON app.d = d.id
LEFT JOIN up ON up.d = d.id LEFT JOIN uc ON uc.d = d.id
ORDER BY d.id
"""


def baseline_db(rows: dict[str, list[dict]], departments: list[int], base: Path) -> duckdb.DuckDBPyConnection:
    """The generated rows as Parquet files, loaded into an in-memory DuckDB (not timed)."""
    naive = {"published_at", "created_at", "finished_at", "submitted_at", "decided_at", "at"}
    keep = {
        "resources": ("id", "provider_id", "status", "update_cycle", "published_at", "created_at"),
        "batches": ("resource_id", "status", "mode", "finished_at"),
        "applications": (
            "provider_id",
            "submitted_at",
            "decided_at",
            "late",
            "decision",
            "refusal_flagged",
        ),
        "usage": ("at", "provider_id", "consumer_department_id", "outcome"),
    }
    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    for table, columns in keep.items():
        data = {
            c: [
                (v.replace(tzinfo=None) if v is not None else None) if c in naive else v
                for v in (r[c] for r in rows[table])
            ]
            for c in columns
        }
        path = base / f"{table}.parquet"
        pq.write_table(pa.table(data), path)
        db.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{path}')")
    db.execute("CREATE TABLE departments AS SELECT unnest($1::INTEGER[]) AS id", [departments])
    db.execute("CREATE TABLE cycles (cycle VARCHAR, days INTEGER)")
    db.executemany("INSERT INTO cycles VALUES (?, ?)", list(CYCLE_DAYS.items()))
    calendar = WorkingCalendar()
    day, n, days = date(YEAR - 2, 12, 31), 0, []
    while day <= date(YEAR + 1, 12, 31):
        n += calendar.is_working_day(day)
        days.append((day, n))
        day += timedelta(days=1)
    db.execute("CREATE TABLE workdays (day DATE, n INTEGER)")
    db.executemany("INSERT INTO workdays VALUES (?, ?)", days)
    return db


def _best(fn, repeat: int):
    fn()  # warm-up
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return min(times), result


@contextmanager
def bench_store(prefix: str, backend: str) -> Iterator[Settings]:
    """Settings of a throwaway store: files in a temporary directory, and on PostgreSQL a database
    created for the run and dropped after it."""
    with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as tmp:
        base = Path(tmp)
        if backend != "postgresql":
            yield Settings(
                data_dir=base,
                database_url=f"sqlite:///{base / 'govdata.sqlite3'}",
                store_url=f"duckdb:///{base / 'data.duckdb'}",
                secret_key="bench",
            )
            return
        import psycopg

        admin_url = os.environ.get(
            "GOVDATA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        )
        name = f"govdata_bench_{prefix.replace('-', '_')}_{os.getpid()}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        database = admin_url.rsplit("/", 1)[0] + f"/{name}"
        try:
            yield Settings(data_dir=base, database_url=database, store_url=database, secret_key="bench")
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=100)
    parser.add_argument("--usage", type=int, default=1_000_000)
    parser.add_argument("--applications", type=int, default=50_000)
    parser.add_argument("--batches", type=int, default=20_000)
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the row counts (0.05 for a quick run)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    for name in ("usage", "applications", "batches"):
        setattr(args, name, max(1, int(getattr(args, name) * args.scale)))

    with bench_store("scorecards", args.backend) as settings:
        console.print(f"building: {args.departments} departments, {args.usage:,} usage rows…")
        rows = build(settings, args)
        engine = make_engine(settings.resolved_database_url())
        try:
            with clock.frozen(NOW), make_sessionmaker(engine)() as session:
                authority = orgs.actor_named(session, "dsj_officer")
                departments = sorted(orgs.department_names(session))
                ours, card = _best(lambda: service.scorecard(session, authority, str(YEAR)), args.repeat)
        finally:
            engine.dispose()
        db = baseline_db(rows, departments, settings.data_dir)
        period = service.parse_period(str(YEAR))
        params = {
            "since": datetime.combine(period.start, datetime.min.time(), clock.CHINA)
            .astimezone(UTC)
            .replace(tzinfo=None),
            "until": datetime.combine(period.end, datetime.min.time(), clock.CHINA)
            .astimezone(UTC)
            .replace(tzinfo=None),
            "now": NOW.astimezone(UTC).replace(tzinfo=None),
        }
        baseline, answer = _best(lambda: db.execute(BASELINE, params).fetchall(), args.repeat)
    agree = _agree(card, answer)
    result = {
        "name": "scorecards",
        "backend": args.backend,
        "departments": len(card.items),
        "rows": args.usage + args.applications + args.batches,
        "usage_rows": args.usage,
        "applications": args.applications,
        "batches": args.batches,
        "ours": round(ours, 4),
        "baseline": round(baseline, 4),
        "baseline_name": "one hand-tuned DuckDB query over the same data (Parquet, in memory)",
        "ratio": round(baseline / ours, 3),
        "unit": "s per period (lower is better; ratio = baseline / ours)",
        "same_answer": agree,
        "load_1m": round(os.getloadavg()[0], 2),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, ensure_ascii=False))


def _agree(card: service.Scorecard, answer: list[tuple]) -> bool:
    """The measures of ours equal the baseline's aggregates, department by department."""
    measures = {i.department_id: i.measures for i in card.items}
    for (
        d,
        registered,
        published,
        timely,
        expected,
        with_data,
        pub_t,
        decided,
        on_time,
        days,
        refused,
        flagged,
        provided,
        consumed,
    ) in answer:
        m = measures[d]
        checks = [
            (m["catalog_completeness"], round(published / registered, 4) if registered else None),
            (m["aggregation_timeliness"], round(timely / expected, 4) if expected else None),
            (m["aggregation_completeness"], round(with_data / pub_t, 4) if pub_t else None),
            (m["response_on_time_rate"], round(on_time / decided, 4) if decided else None),
            (m["response_days"], round(days / decided, 2) if decided else None),
            (m["refusals_without_basis"], flagged if refused else None),
            (m["services_provided"], provided or None),
            (m["services_consumed"], consumed or None),
        ]
        if any(a != b for a, b in checks):
            console.print(f"department {d} differs: {checks}")
            return False
    return True


if __name__ == "__main__":
    main()
