"""The schedule of database pulls (AGG-2): one cron job per enabled pull on the platform's scheduler
(``core.scheduler``), in China time.

The jobs are rebuilt from ``agg_pulls`` at every start and follow the table after each committed
change (``sync``, called after the commit): the pull table holds everything a job is (schedule,
enabled, watermark, lease), changed in the same transaction as its audit event, and a run's state
lives in ``agg_pull_runs``. What a persistent job store would add, running a job that was due while
the server was down, is done explicitly: a pull whose last scheduled fire time passed without a run
gets one run at start (coalesced).

Jobs coalesce and never overlap; across threads and processes a run also claims the pull's lease
(``runner.start_run``), so a run that finds a previous one still active records itself as skipped.

Exactly one process fires the schedule (see ``core.scheduler`` and its switch ``GOVDATA_SCHEDULER``,
formerly ``GOVDATA_PULL_SCHEDULER``): in any other process the jobs are registered but never fired,
leases are left alone, and pulls can still be run by hand.
"""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor as Pool
from datetime import datetime

from apscheduler.job import Job
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from govdata.aggregation import pulls
from govdata.aggregation.pull_models import Pull
from govdata.core import scheduler as platform
from govdata.core.auth import Actor
from govdata.core.db import unit_of_work
from govdata.core.observability import log

SWITCH = platform.FORMER_SWITCHES[0]  # the name this switch had when only pulls were scheduled
JOB_PREFIX = "pull-"


def job_id(pull_id: int) -> str:
    return f"{JOB_PREFIX}{pull_id}"


class PullScheduler:
    """The pulls' use of the platform scheduler. Given none (tests), it keeps a scheduler of its own,
    which it starts and stops itself."""

    def __init__(
        self,
        factory: sessionmaker,
        env: pulls.PullEnv,
        *,
        scheduler: platform.Scheduler | None = None,
        workers: int = 2,
    ) -> None:
        self.factory, self.env = factory, env
        self._owns_scheduler = scheduler is None
        self.scheduler = scheduler or platform.Scheduler(factory, workers=workers)
        self.manual = Pool(max_workers=workers, thread_name_prefix="govdata-pull")

    @classmethod
    def for_app(cls, app) -> PullScheduler:
        env = pulls.PullEnv.from_settings(app.state.settings, app.state.secret_key)
        return cls(app.state.sessionmaker, env, scheduler=app.state.scheduler)

    @property
    def enabled(self) -> bool:
        return self.scheduler.enabled

    # --- jobs from the pull table ---

    def rebuild(self) -> list[str]:
        """Make the pull jobs exactly the enabled pulls; returns their job ids."""
        now = self.env.clock()
        with unit_of_work(self.factory) as session:
            wanted = {
                job_id(pull.id): (pull.id, pull.schedule, pulls.next_catch_up(session, pull, now))
                for pull in session.scalars(select(Pull).where(Pull.enabled.is_(True)))
            }
        for existing in self.scheduler.job_ids(JOB_PREFIX):
            if existing not in wanted:
                self.scheduler.remove(existing)
        for pull_id, schedule, catch_up in wanted.values():
            self._put(pull_id, schedule, catch_up)
        return sorted(wanted)

    def sync(self, pull_id: int) -> Job | None:
        """After a change to a pull was committed: its job follows the table."""
        with unit_of_work(self.factory) as session:
            pull = session.get(Pull, pull_id)
            schedule = pull.schedule if pull is not None and pull.enabled else None
        if schedule is None:
            self.scheduler.remove(job_id(pull_id))
            return None
        return self._put(pull_id, schedule)

    def job(self, pull_id: int) -> Job | None:
        return self.scheduler.job(job_id(pull_id))

    def _put(self, pull_id: int, schedule: str, next_run_time: datetime | None = None) -> Job:
        return self.scheduler.put(
            job_id(pull_id),
            pulls.cron_trigger(schedule),
            self._scheduled,
            args=(pull_id,),
            name=f"数据库拉取 {pull_id}",
            next_run_time=next_run_time,
        )

    def _scheduled(self, pull_id: int) -> None:
        try:
            pulls.run_pull(self.factory, self.env, pull_id, trigger="schedule")
        except Exception:
            log.exception("scheduled pull failed", pull=pull_id)

    # --- runs by hand ---

    def submit(self, started: pulls.Started, actor: Actor) -> Future:
        """Run a started (claimed) pull in the background."""
        return self.manual.submit(pulls.execute_run, self.factory, self.env, started, actor=actor)

    # --- lifecycle ---

    def start(self, *, paused: bool = False) -> None:
        """Release what a stopped process held and load the jobs. The platform's scheduler fires them
        once started (a scheduler of its own is started here, unless switched off)."""
        try:
            if self.enabled:
                pulls.recover(self.factory, self.env)
            self.rebuild()
        except SQLAlchemyError:  # a store not yet migrated: no pulls to schedule
            log.warning("pull schedule not loaded: metadata database not ready")
        if self._owns_scheduler:
            self.scheduler.start(paused=paused)

    def shutdown(self) -> None:
        """Ask running pulls to stop reading, and wait for them to record how they ended (a scheduler
        of its own is stopped here; the platform's is stopped by its owner after this)."""
        self.env.stopping.set()
        if self._owns_scheduler:
            self.scheduler.shutdown()
        self.manual.shutdown(wait=True)
