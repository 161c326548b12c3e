"""Long work as claimed jobs: enqueued in the use case's transaction, started only after it commits.

A job is a row of ``core_jobs`` (kind, JSON payload, state). A use case calls :func:`enqueue` in its
unit of work, so the job exists exactly when the change that asked for it was committed; the commit
wakes the worker of this process (an ``after_commit`` hook), and workers of other processes find it
by polling.

Claiming is a compare-and-set on the row (``UPDATE … WHERE id = ? AND state = ?``), preceded on
PostgreSQL by ``SELECT … FOR UPDATE SKIP LOCKED`` so that concurrent workers do not contend for the
same row. A claim is a lease: the worker renews it while the handler runs; a worker that died stops
renewing, and once the lease has run out any worker takes the job again. Handlers are therefore
written to be idempotent (the batch job asks the store whether the batch was already applied).

With the embedded store the server's single worker runs every job (DuckDB has one writer); with
PostgreSQL any number of server processes and ``govdata worker`` processes may run them.
"""

from __future__ import annotations

import os
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, event, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from govdata.core import clock
from govdata.core.db import Base, UTCDateTime, unit_of_work
from govdata.core.observability import log


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Job(Base):
    __tablename__ = "core_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # a job with a key is enqueued once: enqueueing the same key again returns the existing job
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True, default=JobState.queued)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


@dataclass
class JobContext:
    """What a handler may use: the metadata sessions, the data store and the settings."""

    factory: sessionmaker
    store: Any
    data_dir: Path
    settings: Any = None
    worker: Worker | None = field(default=None, repr=False)


Handler = Callable[[JobContext, dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind`` (one per kind)."""

    def register(fn: Handler) -> Handler:
        if HANDLERS.get(kind, fn) is not fn:
            raise ValueError(f"job kind {kind!r} already has a handler")
        HANDLERS[kind] = fn
        return fn

    return register


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    run_after: datetime | None = None,
    max_attempts: int = 3,
) -> Job:
    """Add a job to the caller's unit of work; it starts after the commit. Idempotent by ``key``."""
    if key is not None:
        existing = session.scalar(select(Job).where(Job.key == key))
        if existing is not None:
            return existing
    job = Job(
        kind=kind,
        payload=payload or {},
        key=key,
        state=JobState.queued,
        run_after=run_after or clock.now(),
        max_attempts=max_attempts,
    )
    session.add(job)
    session.flush()
    session.info["govdata.jobs_enqueued"] = True
    return job


# --- waking this process's worker after a commit --------------------------------------------------

_wakers: list[Callable[[], None]] = []


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("govdata.jobs_enqueued", False):
        for wake in list(_wakers):
            wake()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("govdata.jobs_enqueued", None)


def job_state(factory: sessionmaker, job_id: int) -> str | None:
    with unit_of_work(factory) as session:
        return session.scalar(select(Job.state).where(Job.id == job_id))


# --- the worker ---------------------------------------------------------------------------------------


class Worker:
    """Claims and runs jobs. ``start()`` runs them in background threads; ``drain()`` in the caller's."""

    def __init__(
        self,
        context: JobContext,
        *,
        threads: int = 1,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
        kinds: set[str] | None = None,
    ) -> None:
        self.context = context
        context.worker = self
        self.threads = threads
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.kinds = kinds
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: dict[int, str] = {}  # job id → claim, renewed by the heartbeat
        self._idle = threading.Event()  # set while no job is in hand
        self._idle.set()
        self._lock = threading.Lock()

    # --- lifecycle ---

    def start(self, *, reclaim_all: bool = False) -> None:
        """Start the threads. ``reclaim_all`` (the embedded store's single process): jobs left running
        by a previous process are taken back at once instead of after their lease runs out."""
        if reclaim_all:
            with unit_of_work(self.context.factory) as session:
                session.execute(
                    update(Job)
                    .where(Job.state == JobState.running)
                    .values(state=JobState.queued, lease_until=None, claimed_by=None)
                )
        _wakers.append(self.wake)
        for index in range(self.threads):
            thread = threading.Thread(target=self._loop, name=f"govdata-job-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        beat = threading.Thread(target=self._heartbeat, name="govdata-job-lease", daemon=True)
        beat.start()
        self._threads.append(beat)

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = 600) -> None:
        """Stop claiming; wait for the jobs in hand to finish."""
        self._stopping.set()
        self._wake.set()
        if self.wake in _wakers:
            _wakers.remove(self.wake)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                ran = self.run_one()
            except Exception:  # the metadata database is unreachable, say: try again later
                log.exception("job worker")
                ran = False
            if not ran:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def _heartbeat(self) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            stopped = self._stopping.wait(interval)
            with self._lock:
                held = dict(self._running)
            if not held:
                if stopped:
                    return
                continue
            try:
                with unit_of_work(self.context.factory) as session:
                    for job_id, claim in held.items():
                        session.execute(
                            update(Job)
                            .where(Job.id == job_id, Job.claimed_by == claim, Job.state == JobState.running)
                            .values(lease_until=clock.now() + self.lease)
                        )
            except Exception:
                log.exception("job lease renewal")
            if stopped:  # the jobs in hand are finishing: keep their leases alive until they do
                self._idle.wait(interval)

    # --- claiming and running ---

    def drain(self, *, limit: int | None = None) -> int:
        """Run ready jobs in this thread until none is left (CLI in-process runs, tests)."""
        count = 0
        while (limit is None or count < limit) and self.run_one():
            count += 1
        return count

    def run_one(self) -> bool:
        claimed = self._claim()
        if claimed is None:
            return False
        job_id, kind, payload, claim, attempts, max_attempts = claimed
        fn = HANDLERS.get(kind)
        with self._lock:
            self._running[job_id] = claim
            self._idle.clear()
        try:
            if fn is None:
                raise LookupError(f"no handler for job kind {kind!r}")
            fn(self.context, payload)
        except Exception as exc:
            log.exception("job failed", job=job_id, kind=kind, attempt=attempts)
            self._finish(job_id, claim, error=exc, retry=attempts < max_attempts and fn is not None)
        else:
            self._finish(job_id, claim)
        finally:
            with self._lock:
                self._running.pop(job_id, None)
                if not self._running:
                    self._idle.set()
        return True

    def _claim(self) -> tuple[int, str, dict, str, int, int] | None:
        now = clock.now()
        claim = f"{self.name}:{threading.get_ident() % 100000}:{now.timestamp():.6f}"
        with unit_of_work(self.context.factory) as session:
            ready = or_(
                (Job.state == JobState.queued) & (Job.run_after <= now),
                (Job.state == JobState.running) & (Job.lease_until < now),
            )
            stmt = select(Job.id, Job.state).where(ready).order_by(Job.id).limit(1)
            if self.kinds is not None:
                stmt = stmt.where(Job.kind.in_(sorted(self.kinds)))
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            row = session.execute(stmt).first()
            if row is None:
                return None
            won = session.execute(
                update(Job)
                .where(Job.id == row.id, Job.state == row.state, ready)
                .values(
                    state=JobState.running,
                    claimed_by=claim,
                    lease_until=now + self.lease,
                    attempts=Job.attempts + 1,
                    started_at=now,
                )
            ).rowcount
            if won != 1:
                return None
            job = session.get(Job, row.id)
            session.refresh(job)
            return job.id, job.kind, dict(job.payload or {}), claim, job.attempts, job.max_attempts

    def _finish(
        self, job_id: int, claim: str, *, error: Exception | None = None, retry: bool = False
    ) -> None:
        now = clock.now()
        if error is None:
            values: dict[str, Any] = {"state": JobState.done, "finished_at": now, "lease_until": None}
        elif retry:
            values = {"state": JobState.queued, "run_after": now + timedelta(seconds=5), "lease_until": None}
        else:
            values = {"state": JobState.failed, "finished_at": now, "lease_until": None}
        if error is not None:
            values["error"] = "".join(traceback.format_exception_only(error)).strip()[:4000]
        with unit_of_work(self.context.factory) as session:
            changed = session.execute(
                update(Job).where(Job.id == job_id, Job.claimed_by == claim).values(**values)
            ).rowcount
        if changed != 1:
            log.warning("job claim lost before it finished", job=job_id)
