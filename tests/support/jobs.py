"""Test helpers for the job queue: wait until it is idle, or hold its worker busy."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select

from govdata.core import jobs
from govdata.core.db import unit_of_work

HOLD = "tests.hold"
_gates: dict[str, threading.Event] = {}


@jobs.handler(HOLD)
def _hold(context: jobs.JobContext, payload: dict) -> None:
    _gates[payload["gate"]].wait(payload.get("seconds", 60))


def pending(app) -> int:
    with unit_of_work(app.state.sessionmaker) as session:
        return session.scalar(
            select(func.count())
            .select_from(jobs.Job)
            .where(jobs.Job.state.in_([jobs.JobState.queued, jobs.JobState.running]))
        )


def settle(app, timeout: float = 60) -> None:
    """Wait until every job (batches, the event handlers they caused) has run."""
    deadline = time.monotonic() + timeout
    while pending(app):
        assert time.monotonic() < deadline, "jobs still pending"
        app.state.jobs.wake()
        time.sleep(0.02)


@contextmanager
def hold_worker(app, seconds: float = 60) -> Iterator[None]:
    """Keep the app's one job worker busy, so that jobs queued meanwhile wait."""
    gate = f"gate-{time.monotonic_ns()}"
    _gates[gate] = threading.Event()
    with unit_of_work(app.state.sessionmaker) as session:
        job_id = jobs.enqueue(session, HOLD, {"gate": gate, "seconds": seconds}).id
    try:
        deadline = time.monotonic() + 30
        while jobs.job_state(app.state.sessionmaker, job_id) != jobs.JobState.running:
            assert time.monotonic() < deadline, "the worker did not take the hold job"
            time.sleep(0.01)
        yield
    finally:
        _gates[gate].set()
