"""Benchmark: the public portal (OPN-2, NF-3) — the open catalog's search against the internal catalog
search on the same queries, and a CSV download of a large open dataset against DuckDB's ``COPY … TO``.

**search** (``--rows`` open datasets, 100,000 by default): a fresh embedded store (or, with
``--backend postgresql``, a throwaway database) holds the demo region and ``--rows`` resources made by
``catalog_search.py``'s generator (the same names, summaries, items and index text), every one
published and registered open (unconditional or conditional), each with a published entry in the open
catalog (``open_entries``). The fixed query mix of ``catalog_search.py`` (two-character words such as
人口 社保 医保, longer phrases, item codes, two-word queries; each once without and once with one of
the portal's filters: provider, classification, open type, format, update cycle) runs after a
warm-up pass, for

* ours: ``opening.service.search.search_datasets`` — what ``/datasets`` and ``/api/v1/open/datasets``
  call: limit 20, relevance order, total and the portal's five facets, the page's datasets looked up
  in the open catalog;
* baseline: the internal catalog search (``catalog.search.search`` as the authority, which sees
  everything) on the same queries and filters, limit 20, with its eight facets.

**download** (``--download-rows`` records, 1,000,000 by default; ``--download-rows 0`` skips it): the
population store of ``share_lookup.py`` (seven items, loaded through a batch), opened conditionally
after de-identification (names masked, birth dates to the year, 公民身份号码 pseudonymised with
HMAC-SM3, addresses and phone suppressed); in a fresh child process ``opening.service.export_open``
writes the CSV an approved applicant downloads, its chunks read to nowhere (peak memory: the child's
``VmHWM``); the baseline is DuckDB's ``COPY (SELECT <the same columns> FROM <table>) TO file.csv`` on
the store's file (embedded only). The ratio is ours rows/s over DuckDB's.

Prints one JSON line per part (search: ms p95, lower is better, ``ratio`` = ours / baseline; download:
rows/s, ``ratio`` = ours / baseline) with the 1-minute load average; progress goes to stderr.

    .venv/bin/python benchmarks/portal.py                                # both parts, embedded store
    .venv/bin/python benchmarks/portal.py --rows 20000 --download-rows 100000
    .venv/bin/python benchmarks/portal.py --backend postgresql --download-rows 0
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).parent))

import catalog_search  # noqa: E402  (the resources, the query mix, the store setup)
from sqlalchemy import func, insert, select, text, update  # noqa: E402

from govdata.bootstrap import initialise  # noqa: E402
from govdata.catalog import search  # noqa: E402
from govdata.catalog.models import Resource  # noqa: E402
from govdata.core.auth import Actor, Role  # noqa: E402
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from govdata.demo import REGION, create_demo  # noqa: E402
from govdata.opening.models import OpenEntry  # noqa: E402
from govdata.opening.service.search import search_datasets  # noqa: E402
from govdata.orgs.models import Department  # noqa: E402

console = catalog_search.console
PORTAL_FILTERS = ("provider_id", "classification", "open_type", "format", "update_cycle")
# the plans of the downloaded dataset: every level-2/3 item de-identified or dropped (OPN-5); the
# 公民身份号码 masked (first 6 and last 4), or pseudonymised with HMAC-SM3 (a keyed hash per value)
_COMMON = {
    "xm": {"method": "mask"},
    "xb": {"method": "keep"},
    "csrq": {"method": "generalise", "generalise": "year"},
    "hjdz": {"method": "suppress"},
    "lxdh": {"method": "suppress"},
    "jzdz": {"method": "suppress"},
}
PLANS = {
    "masked": {"gmsfhm": {"method": "mask"}, **_COMMON},
    "pseudonymised": {"gmsfhm": {"method": "pseudonymise"}, **_COMMON},
}
SERVED = ["gmsfhm", "xm", "xb", "csrq"]


# --- search ----------------------------------------------------------------------------------------


def portal_queries(departments: dict[str, int]) -> list[dict]:
    """The query mix of catalog_search.py, its filters replaced by the portal's."""
    kinds = [
        {"provider_id": departments["002"]},
        {"classification": "1"},
        {"open_type": "unconditional"},
        {"format": "database"},
        {"update_cycle": "daily"},
        {"classification": "203"},
        {"provider_id": departments["004"]},
        {"open_type": "conditional"},
    ]
    words = catalog_search.QUERY_WORDS
    return [{"q": w} for w in words] + [{"q": w, **kinds[i % len(kinds)]} for i, w in enumerate(words)]


def load_open(session, rows: int, seed: int) -> None:
    """``rows`` resources of catalog_search.py, all published and open, each in the open catalog."""
    catalog_search.load(session, rows, seed)
    session.execute(
        update(Resource)
        .where(Resource.status != "published")
        .values(status="published", published_version=1, published_at=Resource.updated_at)
    )
    session.execute(
        update(Resource)
        .where(Resource.open_type == "none")
        .values(open_type=text("CASE WHEN id % 2 = 0 THEN 'unconditional' ELSE 'conditional' END"))
    )
    chunk = []
    for rid, code, provider, kind, at in session.execute(
        select(Resource.id, Resource.code, Resource.provider_id, Resource.open_type, Resource.published_at)
    ):
        chunk.append(
            {
                "resource_id": rid,
                "resource_code": code,
                "provider_id": provider,
                "status": "published",
                "open_type": kind,
                "basis": "open_type",
                "plan": {},
                "quasi_identifiers": [],
                "emergency": False,
                "published_at": at,
                "published_by": "bench",
                "downloads": 0,
                "api_calls": 0,
            }
        )
        if len(chunk) == 5_000:
            session.execute(insert(OpenEntry.__table__), chunk)
            chunk = []
    if chunk:
        session.execute(insert(OpenEntry.__table__), chunk)


def bench_search(args, settings, label: str) -> dict:
    console.print(f"初始化 {label} 库 …")
    initialise(settings, node_region=REGION)
    engine = make_engine(settings.resolved_database_url())
    factory = make_sessionmaker(engine)
    try:
        with unit_of_work(factory) as session:
            create_demo(session, with_catalog=False)
        started = time.perf_counter()
        with unit_of_work(factory) as session:
            load_open(session, args.rows, args.seed)
            total = session.scalar(select(func.count()).select_from(OpenEntry)) or 0
        console.print(
            f"写入 {args.rows:,} 条开放数据集（目录、检索索引、开放目录）：{time.perf_counter() - started:.1f} s"
        )
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE" if args.backend == "sqlite" else "VACUUM ANALYZE"))
        with factory() as session:
            departments = {d.code: d.id for d in session.scalars(select(Department))}
            authority = next(d for d in session.scalars(select(Department)) if d.is_authority)
            actor = Actor(
                kind="user",
                roles=frozenset({Role.authority}),
                username="dsj_officer",
                department_id=authority.id,
            )
            queries = portal_queries(departments)
            if args.queries:
                queries = queries[:: -(-len(queries) // args.queries)]

            def ours(query: dict):
                return search_datasets(session, limit=args.limit, **query)

            def internal(query: dict):
                return search.search(session, actor, search.SearchQuery(limit=args.limit, **query))

            for query in (
                {"q": "人口"},
                {"q": "社保 台账"},
                {"q": "企业", "provider_id": departments["003"]},
            ):
                found, theirs = ours(query), internal(query)
                console.print(f"{query}: 开放目录 {found.total}，内部目录 {theirs.total}")
                assert found.total == theirs.total, "every resource is open: the totals must agree"
            console.print(f"{len(queries)} 个查询 × {args.passes} 轮 …")
            our_times = catalog_search.measure(session, queries, ours, args.passes)
            base_times = catalog_search.measure(session, queries, internal, args.passes)
    finally:
        engine.dispose()
    ours_p95, base_p95 = (
        catalog_search.percentile(our_times, 0.95),
        catalog_search.percentile(base_times, 0.95),
    )
    return {
        "name": "portal_search",
        "rows": total,
        "ours": round(ours_p95, 2),
        "baseline": round(base_p95, 2),
        "baseline_name": f"internal catalog search, same queries ({label})",
        "ratio": round(ours_p95 / base_p95, 2),
        "unit": "ms p95 (lower is better; ratio = ours / baseline, target ≤ 1.5)",
        "ours_p50": round(statistics.median(our_times), 2),
        "baseline_p50": round(statistics.median(base_times), 2),
        "backend": args.backend,
        "queries": len(our_times),
        "load_1m": round(os.getloadavg()[0], 2),
    }


# --- download --------------------------------------------------------------------------------------


def open_population(built, plan: dict) -> None:
    """The population resource into the open catalog, conditionally, de-identified by ``plan``."""
    from govdata.catalog import service as catalog

    engine = make_engine(built.database_url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            ref = catalog.resource_ref(session, code=built.code)
            entry = session.scalar(select(OpenEntry).where(OpenEntry.resource_id == ref.id))
            if entry is not None:
                entry.plan = plan
            else:
                session.add(
                    OpenEntry(
                        resource_id=ref.id,
                        resource_code=ref.code,
                        provider_id=ref.provider_id,
                        status="published",
                        open_type="conditional",
                        basis="deidentified",
                        plan=plan,
                        quasi_identifiers=["xb", "csrq"],
                        published_by="bench",
                    )
                )
    finally:
        engine.dispose()


def _export_child(built_fields: dict, queue) -> None:
    """In a fresh process: the approved applicant's CSV, read to nowhere; (seconds, bytes, VmHWM MiB)."""
    from share_lookup import _settings

    from govdata.opening import service as opening
    from govdata.store import open_store

    settings = _settings(
        Path(built_fields["data_dir"]), built_fields["database_url"], built_fields["store_url"]
    )
    engine = make_engine(built_fields["database_url"])
    store = open_store(built_fields["store_url"])
    access = opening.OpenAccess(account_id=0, application_id=0, items=frozenset(SERVED))
    try:
        with make_sessionmaker(engine)() as session:
            started = time.perf_counter()
            chunks, _, _ = opening.export_open(session, settings, store, built_fields["code"], access, "csv")
            size = lines = 0
            for chunk in chunks:
                size += len(chunk)
                lines += chunk.count(b"\n")
            seconds = time.perf_counter() - started
    finally:
        store.close()
        engine.dispose()
    peak = 0.0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak = int(line.split()[1]) / 1024
    queue.put((seconds, size, lines - 1, peak))


def bench_download(args, built, plan_name: str) -> dict:
    import share_export

    open_population(built, PLANS[plan_name])
    context = multiprocessing.get_context("spawn")
    times = []
    for _ in range(args.repeat):
        queue = context.Queue()
        child = context.Process(target=_export_child, args=(vars(built), queue))
        child.start()
        result = queue.get()
        child.join()
        times.append(result)
        console.print(
            f"export_open：{result[0]:.1f} s，{result[1] / 2**20:.0f} MiB，峰值 {result[3]:.0f} MiB"
        )
    seconds, size, rows, peak = min(times)
    assert rows == args.download_rows, f"exported {rows} rows"
    table, columns = share_export.table_and_columns(built)
    wanted = [c for c in columns if c.strip('"') in SERVED]
    base = []
    for _ in range(args.repeat):
        target = Path(tempfile.mkdtemp()) / "copy.csv"
        base.append(share_export.duckdb_copy(built, table, wanted, target)[0])
        target.unlink(missing_ok=True)
    baseline = min(base)
    return {
        "name": "portal_download_csv",
        "rows": rows,
        "ours": round(rows / seconds),
        "baseline": round(rows / baseline),
        "baseline_name": "DuckDB COPY (SELECT same columns) TO file.csv (no de-identification)",
        "plan": plan_name,
        "ratio": round(baseline / seconds, 2),
        "unit": "rows/s (higher is better; ratio = ours / baseline, target ≥ 0.3)",
        "ours_seconds": round(seconds, 2),
        "baseline_seconds": round(baseline, 2),
        "peak_rss_mib": round(peak),
        "mib": round(size / 2**20),
        "backend": args.backend,
        "load_1m": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="open datasets for the search (0: skip)")
    parser.add_argument("--download-rows", type=int, default=1_000_000, help="records downloaded (0: skip)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="downloads measured; the best counts")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--queries", type=int, help="an evenly spaced sample of N queries of the mix")
    parser.add_argument(
        "--plans",
        default="masked,pseudonymised",
        help="download: de-identification plans measured (comma-separated)",
    )
    parser.add_argument("--workdir", type=Path, help="download: build (and reuse) the embedded store here")
    args = parser.parse_args(argv)
    admin_url = os.environ.get("GOVDATA_TEST_POSTGRES_URL") or catalog_search.DEFAULT_POSTGRES
    if args.download_rows:
        if args.backend != "sqlite":
            console.print("下载基准只在嵌入式存储上与 DuckDB COPY 比较；跳过")
        else:
            import share_lookup

            built_args = SimpleNamespace(
                backend=args.backend,
                rows=args.download_rows,
                seed=args.seed,
                workdir=args.workdir,
                under_review=0.0,
            )
            with share_lookup.prepared(built_args) as built:
                for plan_name in args.plans.split(","):
                    print(json.dumps(bench_download(args, built, plan_name), ensure_ascii=False), flush=True)
    if args.rows:
        label = "SQLite" if args.backend == "sqlite" else "PostgreSQL"
        with tempfile.TemporaryDirectory(prefix="govdata-portal-bench-") as tmp:
            settings, database = catalog_search.settings_for(args.backend, Path(tmp), admin_url)
            try:
                print(json.dumps(bench_search(args, settings, label), ensure_ascii=False), flush=True)
            finally:
                if database:
                    import psycopg

                    with psycopg.connect(admin_url, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
