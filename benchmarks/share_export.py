"""Benchmark: CSV export of every granted record through the API (SHR-6 exchange, NF-3) vs the store's
own ``COPY … TO`` of the same table and columns.

The store is built as ``share_lookup.py`` builds it (the demo region, the population resource,
``--rows`` records loaded through a batch; ``--workdir`` reuses an embedded store built there before).
The app is started under Uvicorn as ``govdata serve`` starts it (one worker, no access log), and
市人社局's ``rs_user`` applies through ``POST /api/v1/applications`` for exchange of all seven items in
clear for the demo system, and 市公安局 approves it (two items are conditional). Then, in the same run:

* ours: ``GET /api/v1/share/{code}/export?format=csv`` with the system's bearer token, the body streamed
  to nowhere; wall time from the request to the last byte (``ours_ttfb_s``: to the first byte, as the
  service writes the file and its SM3 digest before it answers), the ``X-GovData-Rows`` header
  checked against ``--rows``. The server's peak memory is its ``VmHWM`` in ``/proc/<pid>/status``
  after the exports (``server_start_mib``: the same figure just before the first one);
* baseline (embedded): DuckDB's ``COPY (SELECT <the same columns> FROM <the resource's table>) TO
  '<file>.csv' (HEADER)``, on the store's DuckDB file opened read-only after the server stopped;
  (PostgreSQL) ``COPY (SELECT …) TO STDOUT (FORMAT csv, HEADER)`` read to nowhere through psycopg.
  The table is learnt through the product's own facts (``aggregation.table_of`` and the store's
  ``table_name``), never spelt here.

Each side runs ``--repeat`` times; the best time counts. Prints one JSON line (rows/s) with
``peak_rss_mib``, ``ours_seconds``, ``baseline_seconds``, ``mib`` (our CSV's size) and ``load_1m``;
progress goes to stderr.

    .venv/bin/python benchmarks/share_export.py --rows 50000
    .venv/bin/python benchmarks/share_export.py                          # 1,000,000 rows
    .venv/bin/python benchmarks/share_export.py --backend postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import duckdb
import httpx
import psycopg
from share_lookup import (
    ITEMS,
    Built,
    Server,
    apply_for_grant,
    common_arguments,
    console,
    ours,
    prepared,
    system_headers,
)

EXPORT_ITEMS = [item["code"] for item in ITEMS]


def export_once(server: Server, built: Built) -> tuple[float, float, int, int]:
    """One export streamed to nowhere: (seconds to the last byte, to the first byte, bytes, rows)."""
    url = f"{server.url}/api/v1/share/{built.code}/export"
    started = time.perf_counter()
    first = None
    size = 0
    with httpx.stream(
        "GET", url, params={"format": "csv"}, headers=system_headers(built), timeout=3600
    ) as response:
        if response.status_code != 200:
            response.read()
            raise SystemExit(f"导出失败：{response.status_code} {response.text[:500]}")
        rows = int(response.headers["X-GovData-Rows"])
        for chunk in response.iter_raw(1 << 20):
            if first is None:
                first = time.perf_counter() - started
            size += len(chunk)
    return time.perf_counter() - started, first or 0.0, size, rows


def table_and_columns(built: Built) -> tuple[str, list[str]]:
    """The resource's current table as the store names it in SQL, and the exported columns quoted."""
    from govdata.aggregation import service as aggregation
    from govdata.catalog import service as catalog
    from govdata.core.db import make_engine, make_sessionmaker
    from govdata.store import open_store
    from govdata.store.sql import q

    engine = make_engine(built.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            spec, _ = aggregation.table_of(session, catalog.resource_ref(session, code=built.code))
    finally:
        engine.dispose()
    if built.backend == "sqlite":
        name = q(spec.name)  # DuckDB: the store keeps its tables in the file's main schema
    else:
        store = open_store(built.store_url)
        name = store.table_name(spec.name)
        store.close()
    return name, [q(code) for code in EXPORT_ITEMS]


def duckdb_copy(built: Built, table: str, columns: list[str], target: Path) -> tuple[float, int]:
    """DuckDB's own COPY of the same columns to a CSV file; (seconds, rows)."""
    path = Path(built.store_url.removeprefix("duckdb:///").partition("?")[0])
    with duckdb.connect(str(path), read_only=True) as con:
        started = time.perf_counter()
        con.execute(f"COPY (SELECT {', '.join(columns)} FROM {table}) TO '{target}' (HEADER, DELIMITER ',')")
        seconds = time.perf_counter() - started
        rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    target.unlink(missing_ok=True)
    return seconds, rows


def postgres_copy(built: Built, table: str, columns: list[str]) -> tuple[float, int]:
    """PostgreSQL's COPY … TO STDOUT of the same columns, read to nowhere; (seconds, rows)."""
    lines = 0
    with psycopg.connect(built.database_url) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        with cur.copy(
            f"COPY (SELECT {', '.join(columns)} FROM {table}) TO STDOUT (FORMAT csv, HEADER)"
        ) as copy:
            for block in copy:
                lines += bytes(block).count(b"\n")
        seconds = time.perf_counter() - started
    return seconds, lines - 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each side; the best counts")
    args = parser.parse_args(argv)

    with prepared(args) as built:
        logs = Path(built.data_dir).parent
        with ours(built, logs / "server.log") as server:
            application = apply_for_grant(server.url, built, EXPORT_ITEMS, ["exchange"])
            console.print(
                f"已授权：申请 {application['id']}，授权 {application['grant_id']}，信息项 {EXPORT_ITEMS}"
            )
            start_kib = server.status_kib("VmHWM")
            best = None
            for n in range(args.repeat):
                cpu = server.cpu_seconds()
                seconds, ttfb, size, rows = export_once(server, built)
                cpu = server.cpu_seconds() - cpu
                if rows != built.rows:
                    raise SystemExit(f"导出 {rows} 行，应为 {built.rows} 行")
                console.print(
                    f"ours 第 {n + 1} 次：{seconds:.2f} 秒（首字节 {ttfb:.2f} 秒，服务端 CPU {cpu:.2f} 秒），"
                    f"{size / 2**20:.0f} MiB，{rows / seconds:,.0f} 行/秒"
                )
                if best is None or seconds < best[0]:
                    best = (seconds, ttfb, size, cpu)
            peak_kib = server.status_kib("VmHWM")
            console.print(
                f"服务进程内存峰值（VmHWM）：启动后 {start_kib / 1024:.0f} MiB，导出后 {peak_kib / 1024:.0f} MiB"
            )

        table, columns = table_and_columns(built)
        theirs = None
        for n in range(args.repeat):
            if built.backend == "sqlite":
                seconds, rows = duckdb_copy(built, table, columns, logs / "duckdb-copy.csv")
            else:
                seconds, rows = postgres_copy(built, table, columns)
            if rows != built.rows:
                raise SystemExit(f"基线导出 {rows} 行，应为 {built.rows} 行")
            console.print(f"baseline 第 {n + 1} 次：{seconds:.2f} 秒，{rows / seconds:,.0f} 行/秒")
            theirs = seconds if theirs is None else min(theirs, seconds)

        ours_seconds, ttfb, size, cpu = best
        baseline_name = (
            "DuckDB COPY (SELECT same columns) TO file.csv"
            if built.backend == "sqlite"
            else "PostgreSQL COPY (SELECT same columns) TO STDOUT (FORMAT csv)"
        )
        result = {
            "name": "share_export",
            "rows": built.rows,
            "ours": round(built.rows / ours_seconds),
            "baseline": round(built.rows / theirs),
            "baseline_name": baseline_name,
            "ratio": round(theirs / ours_seconds, 3),
            "unit": "rows/s",
            "ours_seconds": round(ours_seconds, 2),
            "ours_ttfb_s": round(ttfb, 2),
            "ours_server_cpu_s": round(cpu, 2),
            "baseline_seconds": round(theirs, 2),
            "peak_rss_mib": round(peak_kib / 1024),
            "server_start_mib": round(start_kib / 1024),
            "mib": round(size / 2**20, 1),
            "columns": len(columns),
            "backend": args.backend,
            "load_1m": round(os.getloadavg()[0], 2),
        }
        print(json.dumps(result, ensure_ascii=False), flush=True)
        return 0


if __name__ == "__main__":
    sys.exit(main())
