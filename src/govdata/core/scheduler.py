"""The platform's one scheduler: APScheduler 3 in the process that runs the schedule, in China time.

Capabilities use it in two ways:

* **jobs by id** that follow a table of the capability's own: the database pulls put one cron job per
  enabled pull (``put("pull-7", "30 2 * * 1-5", fn, args=(7,))``) and remove it when the pull is
  disabled;
* **sweeps**: named periodic work declared once, at import time, beside the capability's job
  handlers (``every("quality.clock_snapshots", "0 1 * * *", fn)``). A sweep is called with the
  metadata sessionmaker and should only enqueue a job with a key (:func:`enqueue_once`), so that a
  sweep fired by several processes creates one job, which a worker then runs with its claim.

Jobs coalesce (a backlog of missed fire times runs once) and never overlap (``max_instances=1``).
Sweeps and jobs by id run on separate thread pools, so a long pull never delays a sweep.

The job store is in memory, rebuilt at every start: what a job is lives in the capability's tables
(a pull's schedule, enabled flag and lease, changed in the same transaction as its audit event) or in
code (sweeps), and a pickled second copy in ``apscheduler_jobs`` could only disagree with them.

Exactly one process fires the schedule: the server with the embedded store. Every other process that
serves the app (further servers on PostgreSQL) and the test suite set ``GOVDATA_SCHEDULER=off``
(its former name ``GOVDATA_PULL_SCHEDULER=off`` is still honoured): jobs are then registered but
never fired in that process.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from govdata.core import jobs
from govdata.core.clock import CHINA
from govdata.core.db import unit_of_work
from govdata.core.observability import log

SWITCH = "GOVDATA_SCHEDULER"
FORMER_SWITCHES = ("GOVDATA_PULL_SCHEDULER",)
OFF = ("off", "0", "false", "no")
SWEEP_PREFIX = "sweep:"

When = str | timedelta | BaseTrigger
"""A crontab expression (minute hour day month weekday, China time), an interval, or a trigger."""


def enabled() -> bool:
    """Whether this process fires the schedule (neither switch says off)."""
    return all(os.environ.get(name, "on").strip().lower() not in OFF for name in (SWITCH, *FORMER_SWITCHES))


# --- triggers ---------------------------------------------------------------------------------------

_DOW = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def _crontab_weekdays(expr: str) -> str:
    """Standard crontab weekdays (0 or 7 = Sunday) as names, since APScheduler 3 counts 0 as Monday."""
    if not re.search(r"\d", expr):
        return expr  # *, or names (mon-fri), which mean the same to both
    days: set[int] = set()
    for part in expr.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = 0, 6
        elif m := re.fullmatch(r"(\d)(?:-(\d))?", span):
            first = int(m.group(1))
            last = int(m.group(2)) if m.group(2) else (6 if step else first)
        else:
            raise ValueError(part)
        if first > 7 or last > 7 or first > last:
            raise ValueError(part)
        days.update(d % 7 for d in range(first, last + 1, int(step) if step else 1))
    return ",".join(_DOW[d] for d in sorted(days))


def crontab(expr: str) -> CronTrigger:
    """A crontab expression (minute hour day month weekday) in China time; ValueError when invalid."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"a crontab expression has five fields: {expr!r}")
    try:
        return CronTrigger(
            minute=fields[0],
            hour=fields[1],
            day=fields[2],
            month=fields[3],
            day_of_week=_crontab_weekdays(fields[4]),
            timezone=CHINA,
        )
    except TypeError as exc:
        raise ValueError(str(exc)) from exc


def trigger(when: When) -> BaseTrigger:
    if isinstance(when, BaseTrigger):
        return when
    if isinstance(when, timedelta):
        return IntervalTrigger(seconds=when.total_seconds(), timezone=CHINA)
    return crontab(when)


# --- sweeps ------------------------------------------------------------------------------------------

Sweep = Callable[[sessionmaker], None]


@dataclass(frozen=True)
class SweepSpec:
    name: str
    when: When
    fn: Sweep


_sweeps: dict[str, SweepSpec] = {}


def every(name: str, when: When, fn: Sweep | None = None) -> Any:
    """Declare a sweep: ``fn(sessionmaker)`` runs at each fire time of ``when`` in the process that fires
    the schedule. Usable as a decorator (``@every(name, when)``). Declared at import time; a
    scheduler adds every declared sweep when it starts."""
    trigger(when)  # a wrong expression fails at import, not at the first fire time

    def register(fn: Sweep) -> Sweep:
        if name in _sweeps and _sweeps[name].fn is not fn:
            raise ValueError(f"sweep {name!r} is already declared")
        _sweeps[name] = SweepSpec(name, when, fn)
        return fn

    return register(fn) if fn is not None else register


def sweeps() -> list[SweepSpec]:
    return list(_sweeps.values())


def enqueue_once(factory: sessionmaker, kind: str, payload: dict[str, Any], *, key: str) -> None:
    """Enqueue a job unless one with ``key`` exists: a sweep fired by several processes adds one job."""
    try:
        with unit_of_work(factory) as session:
            jobs.enqueue(session, kind, payload, key=key)
    except IntegrityError:  # another process enqueued it between our look and our insert
        log.info("job already enqueued", kind=kind, key=key)


# --- the scheduler -----------------------------------------------------------------------------------


class Scheduler:
    """The one APScheduler instance of a process (``app.state.scheduler``)."""

    def __init__(self, factory: sessionmaker, *, workers: int = 2) -> None:
        self.factory = factory
        self._scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(workers), "sweeps": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=CHINA,
        )

    @property
    def enabled(self) -> bool:
        return enabled()

    @property
    def running(self) -> bool:
        return self._scheduler.running

    # --- jobs by id ---

    def put(
        self,
        job_id: str,
        when: When,
        fn: Callable[..., Any],
        *,
        args: Sequence[Any] = (),
        name: str | None = None,
        next_run_time: datetime | None = None,
        executor: str = "default",
    ) -> Job:
        """Add the job, or replace the one with this id; ``next_run_time`` brings its first run forward."""
        extra = {"next_run_time": next_run_time} if next_run_time else {}
        if not self._scheduler.running:  # pending jobs are a list: replace_existing acts only at start
            with suppress(JobLookupError):
                self._scheduler.remove_job(job_id)
        return self._scheduler.add_job(
            fn,
            trigger=trigger(when),
            args=list(args),
            id=job_id,
            name=name or job_id,
            replace_existing=True,
            executor=executor,
            **extra,
        )

    def remove(self, job_id: str) -> None:
        with suppress(JobLookupError):
            self._scheduler.remove_job(job_id)

    def job(self, job_id: str) -> Job | None:
        return self._scheduler.get_job(job_id)

    def job_ids(self, prefix: str = "") -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs() if job.id.startswith(prefix))

    # --- sweeps ---

    def _add_sweeps(self) -> None:
        for spec in sweeps():
            self.put(SWEEP_PREFIX + spec.name, spec.when, self._sweep, args=(spec.name,), executor="sweeps")

    def _sweep(self, name: str) -> None:
        spec = _sweeps.get(name)
        if spec is None:
            return
        try:
            spec.fn(self.factory)
        except Exception:
            log.exception("sweep failed", sweep=name)

    def run_sweep(self, name: str) -> None:
        """Run a declared sweep now, in this thread (tests, operators)."""
        if name not in _sweeps:
            raise LookupError(f"no sweep {name!r}")
        _sweeps[name].fn(self.factory)

    # --- lifecycle ---

    def start(self, *, paused: bool = False) -> bool:
        """Add the declared sweeps and start firing (unless switched off); True when firing."""
        self._add_sweeps()
        if not self.enabled:
            log.info("scheduler switched off", switch=SWITCH)
            return False
        if not self._scheduler.running:
            self._scheduler.start(paused=paused)
        return True

    def shutdown(self) -> None:
        """Stop firing and wait for the jobs that are running."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
