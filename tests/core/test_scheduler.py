"""The platform's one scheduler (core.scheduler) and work that waits for a commit (core.db.after_commit)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select, text

from govdata import capabilities  # noqa: F401  (declares the sweeps)
from govdata.core import clock, jobs, scheduler
from govdata.core.db import after_commit, make_sessionmaker, unit_of_work
from govdata.quality.handlers import CLOCK_SNAPSHOTS


@pytest.fixture(autouse=True)
def no_switch(monkeypatch):
    for name in (scheduler.SWITCH, *scheduler.FORMER_SWITCHES):
        monkeypatch.delenv(name, raising=False)


def test_after_commit_runs_once_after_the_commit_and_never_after_a_rollback(engine):
    factory = make_sessionmaker(engine)
    ran: list[str] = []

    with unit_of_work(factory) as session:
        session.execute(text("SELECT 1"))
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]

    session = factory()
    try:
        session.execute(text("SELECT 1"))
        after_commit(session, lambda: ran.append("rolled back"))
        session.rollback()
        after_commit(session, lambda: ran.append("before any statement"))
        session.rollback()
        session.commit()  # a later commit of the same session does not run what was dropped
        assert ran == ["committed"]

        after_commit(session, lambda: ran.append("second"))
        session.commit()
        session.commit()  # once only
        assert ran == ["committed", "second"]

        def broken() -> None:
            raise RuntimeError("the hook fails")

        after_commit(session, broken)
        after_commit(session, lambda: ran.append("after the broken one"))
        session.commit()  # the data is committed whatever a hook does
        assert ran[-1] == "after the broken one"
    finally:
        session.close()


def test_the_switch_and_its_former_name(monkeypatch):
    assert scheduler.enabled()
    monkeypatch.setenv("GOVDATA_PULL_SCHEDULER", "off")
    assert not scheduler.enabled()
    monkeypatch.delenv("GOVDATA_PULL_SCHEDULER")
    monkeypatch.setenv("GOVDATA_SCHEDULER", "OFF")
    assert not scheduler.enabled()
    monkeypatch.setenv("GOVDATA_SCHEDULER", "on")
    assert scheduler.enabled()


def test_a_switched_off_scheduler_registers_but_never_fires(engine, monkeypatch):
    monkeypatch.setenv("GOVDATA_SCHEDULER", "off")
    platform = scheduler.Scheduler(make_sessionmaker(engine))
    assert platform.start() is False and not platform.running
    assert scheduler.SWEEP_PREFIX + CLOCK_SNAPSHOTS in platform.job_ids(scheduler.SWEEP_PREFIX)
    platform.shutdown()


def test_the_quality_clock_sweep_runs_at_one_in_china_and_enqueues_one_job_a_day(engine):
    factory = make_sessionmaker(engine)
    platform = scheduler.Scheduler(factory)
    assert platform.start(paused=True)
    try:
        job = platform.job(scheduler.SWEEP_PREFIX + CLOCK_SNAPSHOTS)
        assert job.coalesce is True and job.max_instances == 1
        fire = job.trigger.get_next_fire_time(None, datetime(2026, 3, 5, 12, tzinfo=clock.CHINA))
        assert fire.astimezone(clock.CHINA) == datetime(2026, 3, 6, 1, tzinfo=clock.CHINA)
    finally:
        platform.shutdown()

    def clock_jobs() -> list[tuple[str, dict]]:
        with unit_of_work(factory) as session:
            rows = session.execute(
                select(jobs.Job.key, jobs.Job.payload).where(jobs.Job.kind == CLOCK_SNAPSHOTS)
            )
            return sorted((key, payload) for key, payload in rows)

    with clock.frozen(datetime(2026, 3, 6, 1, tzinfo=clock.CHINA)):  # 17:00 UTC the day before
        platform.run_sweep(CLOCK_SNAPSHOTS)
        platform.run_sweep(CLOCK_SNAPSHOTS)  # a second process firing the same sweep
    with clock.frozen(date(2026, 3, 7)):
        platform.run_sweep(CLOCK_SNAPSHOTS)
    assert clock_jobs() == [
        ("quality.clock:2026-03-06", {"date": "2026-03-06"}),
        ("quality.clock:2026-03-07", {"date": "2026-03-07"}),
    ]


def test_crontab_is_checked_when_a_sweep_is_declared():
    with pytest.raises(ValueError):
        scheduler.every("tests.never", "0 25 * * *", lambda factory: None)
    with pytest.raises(ValueError):
        scheduler.crontab("every night")
    assert "tests.never" not in {s.name for s in scheduler.sweeps()}
