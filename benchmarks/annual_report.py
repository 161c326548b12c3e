"""Benchmark: the annual report (SUP-4) of the region of issue 17 (100 departments over 1,000,000
usage-log rows, 50,000 applications and 20,000 batches), as ``govdata report annual YEAR --pdf FILE``
writes it. The bound is absolute (issue 17: under a minute), so there is no baseline: the JSON line
gives the seconds of each part and ``within_limit``.

The region is the scorecards benchmark's (``scorecards.build``: the demo region without its catalog,
departments added up to ``--departments``, 20 resources each, batches, applications and usage rows;
``--scale`` multiplies the row counts), and each department gets ``--violations`` violations spread
over the year (a third confirmed, and half of those rectified). Then, with the clock after the year, in
one run:

* ``gather``: ``evaluation.report.figures.annual_report`` (the year's scorecard computed from those
  facts, the violations, every section's figures and charts);
* ``html``: the document; ``pdf``: WeasyPrint's layout of it;
* ``command``: the whole command in a new process (``govdata report annual``), start-up included.

    .venv/bin/python benchmarks/annual_report.py
    .venv/bin/python benchmarks/annual_report.py --scale 0.05
    .venv/bin/python benchmarks/annual_report.py --backend postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2
from rich.console import Console
from scorecards import NOW, YEAR, bench_store
from scorecards import build as build_region

from govdata.core import clock
from govdata.core.config import Settings
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.evaluation.report.figures import annual_report
from govdata.evaluation.report.render import render_html, render_pdf
from govdata.orgs import service as orgs
from govdata.supervision import notices
from govdata.supervision import service as supervision

console = Console(stderr=True)
KINDS = ("application_overdue", "aggregation_late", "catalog_update_late", "refusal_without_basis")
LIMIT_SECONDS = 60


def add_violations(settings: Settings, per_department: int) -> None:
    """``per_department`` violations of each department over the year, recorded as the detectors
    record them; a third confirmed (which opens their notices), half of those closed."""
    engine = make_engine(settings.resolved_database_url())
    try:
        factory = make_sessionmaker(engine)
        with factory() as session:
            authority = orgs.actor_named(session, "dsj_officer")
            departments = sorted(orgs.department_names(session))
        for number in range(per_department):
            month = 1 + number * 11 // max(per_department, 1)
            with (
                clock.frozen(datetime(YEAR, month, 10, 9, tzinfo=clock.CHINA)),
                unit_of_work(factory) as session,
            ):
                for department in departments:
                    violation = supervision.record_violation(
                        session,
                        kind=KINDS[number % len(KINDS)],
                        department_id=department,
                        object_type="application",
                        object_id=f"{department}-{number}",
                        evidence={"benchmark": True},
                    )
                    if number % 3 == 0:
                        supervision.confirm(session, authority, violation)
                        if number % 6 == 0:  # rectified: a benchmark's shortcut past answer and accept
                            notice = notices.notice_of_violation(session, authority, violation)
                            notice.status, notice.closed_at = "closed", clock.now()
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=100)
    parser.add_argument("--usage", type=int, default=1_000_000)
    parser.add_argument("--applications", type=int, default=50_000)
    parser.add_argument("--batches", type=int, default=20_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the row counts")
    parser.add_argument("--violations", type=int, default=6, help="violations per department")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    for name in ("usage", "applications", "batches"):
        setattr(args, name, max(1, int(getattr(args, name) * args.scale)))

    with bench_store("annual-report", args.backend) as settings:
        console.print(f"building: {args.departments} departments, {args.usage:,} usage rows…")
        build_region(settings, args)
        add_violations(settings, args.violations)
        engine = make_engine(settings.resolved_database_url())
        try:
            with clock.frozen(NOW), make_sessionmaker(engine)() as session:
                reader = orgs.actor_named(session, "dsj_officer")
                started = time.perf_counter()
                report = annual_report(session, reader, YEAR)
                gathered = time.perf_counter()
                render_html(report)
                written = time.perf_counter()
                pdf_cpu = time.process_time()
                pdf = render_pdf(report)
                pdf_cpu = time.process_time() - pdf_cpu
                printed = time.perf_counter()
        finally:
            engine.dispose()
        env = {
            **os.environ,
            "GOVDATA_DATA_DIR": str(settings.data_dir),
            "GOVDATA_DATABASE_URL": settings.database_url,
            "GOVDATA_STORE_URL": settings.store_url,
        }
        command = [str(Path(sys.executable).parent / "govdata"), "report", "annual", str(YEAR)]
        command += ["--pdf", str(settings.data_dir / "report.pdf")]
        console.print("running: govdata report annual …")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        whole = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    document = pypdfium2.PdfDocument(pdf)
    pages = len(document)
    document.close()
    result = {
        "name": "annual_report",
        "backend": args.backend,
        "departments": len(report.departments),
        "scored": report.overview.get("scored"),
        "usage_rows": args.usage,
        "applications": args.applications,
        "batches": args.batches,
        "violations": report.violations.total if report.violations else 0,
        "pages": pages,
        "pdf_kib": round(len(pdf) / 1024),
        "gather_seconds": round(gathered - started, 2),
        "html_seconds": round(written - gathered, 2),
        "pdf_seconds": round(printed - written, 2),
        "pdf_cpu_seconds": round(pdf_cpu, 2),
        "command_seconds": round(whole, 2),
        "command_cpu_seconds": round(cpu, 2),  # what the load of a shared machine does not change
        "unit": "s",
        "limit_seconds": LIMIT_SECONDS,
        "within_limit": whole < LIMIT_SECONDS,
        "load_1m": round(os.getloadavg()[0], 2),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
