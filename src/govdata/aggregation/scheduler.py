"""The schedule of database pulls (AGG-2): APScheduler 3, cron triggers in China time.

Why the job store is in memory and rebuilt from ``agg_pulls`` at every start, rather than
APScheduler's SQLAlchemy job store: the pull table already holds everything a job is (schedule,
enabled, watermark, lease) and is changed in the same transaction as its audit event. A second,
pickled copy of it in ``apscheduler_jobs`` could disagree with the table (a pull disabled in one
transaction, its job surviving in the other), ties stored rows to Python import paths, and holds no
state worth keeping: a run's state lives in ``agg_pull_runs``. Rebuilding costs one query. What a
persistent store would add, running a job that was due while the server was down, is done here
explicitly: a pull whose last scheduled fire time passed without a run gets one run at start
(coalesced, as ``coalesce=True`` would).

Jobs run with ``coalesce=True, max_instances=1``; across threads and processes a run also claims the
pull's lease (``pulls.start_run``), so a run that finds a previous one still active records itself as
skipped.

Exactly one process runs the schedule (the server with the embedded store).
Any other process that serves the app (further workers on PostgreSQL) and the test suite set
``GOVDATA_PULL_SCHEDULER=off``: jobs are then registered but never fired, leases are left alone, and
pulls can still be run by hand.
"""

from __future__ import annotations

import os
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor as Pool
from contextlib import suppress
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from govdata.aggregation import pulls
from govdata.aggregation.pull_models import Pull
from govdata.core.auth import Actor
from govdata.core.db import unit_of_work
from govdata.core.observability import log

SWITCH = "GOVDATA_PULL_SCHEDULER"


def job_id(pull_id: int) -> str:
    return f"pull-{pull_id}"


class PullScheduler:
    def __init__(self, factory: sessionmaker, env: pulls.PullEnv, *, workers: int = 2) -> None:
        self.factory, self.env = factory, env
        self.scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ThreadPoolExecutor(workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=pulls.CHINA,
        )
        self.manual = Pool(max_workers=workers, thread_name_prefix="govdata-pull")

    @classmethod
    def for_app(cls, app) -> PullScheduler:
        env = pulls.PullEnv.from_settings(app.state.settings, app.state.secret_key)
        return cls(app.state.sessionmaker, env)

    @property
    def enabled(self) -> bool:
        return os.environ.get(SWITCH, "on").strip().lower() not in ("off", "0", "false", "no")

    # --- jobs from the pull table ---

    def rebuild(self) -> list[str]:
        """Make the jobs exactly the enabled pulls; returns their job ids."""
        now = self.env.clock()
        with unit_of_work(self.factory) as session:
            wanted = {
                job_id(pull.id): (pull.id, pull.schedule, pulls.next_catch_up(session, pull, now))
                for pull in session.scalars(select(Pull).where(Pull.enabled.is_(True)))
            }
        for job in self.scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()
        for pull_id, schedule, catch_up in wanted.values():
            self._put(pull_id, schedule, catch_up)
        return sorted(wanted)

    def sync(self, pull_id: int) -> Job | None:
        """After a pull was created, changed or disabled: its job follows the table."""
        with unit_of_work(self.factory) as session:
            pull = session.get(Pull, pull_id)
            schedule = pull.schedule if pull is not None and pull.enabled else None
        if schedule is None:
            if self.scheduler.get_job(job_id(pull_id)):
                self.scheduler.remove_job(job_id(pull_id))
            return None
        return self._put(pull_id, schedule)

    def job(self, pull_id: int) -> Job | None:
        return self.scheduler.get_job(job_id(pull_id))

    def _put(self, pull_id: int, schedule: str, next_run_time: datetime | None = None) -> Job:
        extra = {"next_run_time": next_run_time} if next_run_time else {}
        if not self.scheduler.running:  # pending jobs are a list: replace_existing acts only at start
            with suppress(JobLookupError):
                self.scheduler.remove_job(job_id(pull_id))
        return self.scheduler.add_job(
            self._scheduled,
            trigger=pulls.cron_trigger(schedule),
            args=[pull_id],
            id=job_id(pull_id),
            name=f"数据库拉取 {pull_id}",
            replace_existing=True,
            **extra,
        )

    def _scheduled(self, pull_id: int) -> None:
        try:
            pulls.run_pull(self.factory, self.env, pull_id, trigger="schedule")
        except Exception:
            log.exception("scheduled pull failed", pull=pull_id)

    # --- runs by hand ---

    def submit(self, started: pulls.Started, actor: Actor) -> Future:
        """Run a started (claimed) pull in the background."""
        return self.manual.submit(
            pulls.execute_run, self.factory, self.env, started, actor=actor
        )

    # --- lifecycle ---

    def start(self, *, paused: bool = False) -> None:
        """Release what a stopped process held, load the jobs, and start firing them (unless switched off)."""
        try:
            if self.enabled:
                pulls.recover(self.factory, self.env)
            self.rebuild()
        except SQLAlchemyError:  # a store not yet migrated: no pulls to schedule
            log.warning("pull schedule not loaded: metadata database not ready")
        if not self.enabled:
            log.info("pull scheduler switched off", switch=SWITCH)
            return
        self.scheduler.start(paused=paused)

    def shutdown(self) -> None:
        """Stop firing, ask running pulls to stop reading, and wait for them to record how they ended."""
        self.env.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.manual.shutdown(wait=True)
