"""The usage log of the sharing services (SHR-7), and the audit event of every data access (SEC-3).

Every call of a sharing service on a resource the platform knows becomes a ``UsageRecord`` — time,
caller, application system, end user (``X-End-User``), grant, application, purpose, resource, mode,
items, rows, outcome, status code and latency — whether it was answered or refused (403, 404, 422,
429). A call that returned data is also an audit event (``sharing.data.<mode>``) under the caller's
own name, in the hash-chained trail.

Neither is written on the request path. A call's entry goes into an in-process queue, and one
background thread per process writes the queue in batches (every :data:`FLUSH_SECONDS`, or as soon
as :data:`FLUSH_SIZE` entries wait), each batch in one transaction of its own: the usage records and,
in the order of the calls, their audit events. Nothing is dropped:

* the queue holds at most :data:`CAPACITY` entries; a call that finds it full waits until the writer
  has made room (back-pressure, not loss);
* an answered call's entry is queued after its request's transaction committed (``after_commit``),
  so that a request never waits for the writer while it holds a lock the writer needs (SQLite has one
  writer); a refused call's entry is queued at once and never waits (refusals are few);
* a batch that cannot be written (the database is away) stays queued and is tried again;
* the app's shutdown writes everything queued (``close``, from the lifespan), and so does the end of
  a process that used the services without the app (the CLI, scripts: ``atexit``).

Tests, and ``GET /api/v1/usage`` before it lists, call :func:`flush` to write what is queued now.

The queue belongs to the metadata database it will be written to (one per engine), so that one
process serving several stores (the test suite) never writes a call into another's log.
"""

from __future__ import annotations

import atexit
import dataclasses
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, or_, select
from sqlalchemy.orm import Session, sessionmaker

from govdata.core import audit
from govdata.core.auth import Actor, require
from govdata.core.db import after_commit, make_sessionmaker, paginate, unit_of_work
from govdata.core.observability import log
from govdata.sharing import usage_months
from govdata.sharing.auth import USAGE_READ, sees_all_usage
from govdata.sharing.enums import UsageOutcome
from govdata.sharing.models import UsageRecord

FLUSH_SECONDS = 0.5
FLUSH_SIZE = 500
CAPACITY = 10_000
WAIT_WARNING_SECONDS = 10.0

OUTCOMES = {
    200: UsageOutcome.ok,
    401: UsageOutcome.denied,
    403: UsageOutcome.denied,
    404: UsageOutcome.not_found,
    400: UsageOutcome.invalid,
    409: UsageOutcome.invalid,
    413: UsageOutcome.invalid,
    422: UsageOutcome.invalid,
    429: UsageOutcome.limited,
}


def outcome_of(status: int) -> str:
    return OUTCOMES.get(status, UsageOutcome.ok if status < 400 else UsageOutcome.error)


@dataclass(frozen=True)
class Entry:
    """One call, as the log and the audit trail keep it."""

    at: datetime
    actor: Actor
    resource_code: str
    mode: str
    status_code: int
    latency_ms: float
    provider_id: int | None = None
    consumer_department_id: int | None = None
    grant_id: int | None = None
    application_id: int | None = None
    purpose: str | None = None
    items: tuple[str, ...] = ()
    rows: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        return outcome_of(self.status_code)

    def stripped(self) -> Entry:
        """This entry without what a caller could have put into it (its end user, its item codes)."""
        return dataclasses.replace(
            self, actor=dataclasses.replace(self.actor, end_user=None), items=(), details={}
        )

    def record(self) -> UsageRecord:
        return UsageRecord(**self.row())

    def row(self) -> dict[str, Any]:
        """The column values of its ``UsageRecord``."""
        return dict(
            at=self.at,
            caller=self.actor.name,
            system_id=self.actor.system_id,
            end_user=self.actor.end_user if self.actor.kind == "system" else self.actor.username,
            consumer_department_id=self.consumer_department_id,
            provider_id=self.provider_id,
            grant_id=self.grant_id,
            application_id=self.application_id,
            purpose=self.purpose,
            resource_code=self.resource_code,
            mode=self.mode,
            items=list(self.items),
            rows=self.rows,
            outcome=self.outcome,
            status_code=self.status_code,
            latency_ms=round(self.latency_ms, 3),
            source=(self.actor.source or None) and self.actor.source[:64],
        )


class UsageLog:
    """The queue of one metadata database's calls, written by the process's writer thread."""

    def __init__(self, factory: sessionmaker[Session], *, capacity: int = CAPACITY) -> None:
        self.factory = factory
        self.capacity = capacity
        self._pending: deque[Entry] = deque()
        self._room = threading.Condition()
        self._writing = threading.Lock()  # one batch at a time, so that audit events keep call order

    def __len__(self) -> int:
        return len(self._pending)

    def put(self, entry: Entry, *, wait: bool = True) -> None:
        """Queue ``entry``; with ``wait``, first wait while the queue is full."""
        with self._room:
            waited = 0.0
            while wait and len(self._pending) >= self.capacity:
                _wake.set()
                if not self._room.wait(timeout=1.0):
                    waited += 1.0
                    if waited % WAIT_WARNING_SECONDS == 0:
                        log.warning("sharing.usage.queue_full", waited_seconds=waited, queued=len(self))
            self._pending.append(entry)
            full = len(self._pending) >= FLUSH_SIZE
        if full:
            _wake.set()

    def flush(self) -> int:
        """Write everything queued now; returns how many entries were written. A batch that fails
        stays queued (and the error is raised)."""
        written = 0
        with self._writing:
            while True:
                with self._room:
                    if not self._pending:
                        return written
                    chunk = [self._pending.popleft() for _ in range(min(FLUSH_SIZE, len(self._pending)))]
                try:
                    _write(self.factory, chunk)
                except Exception:
                    if not _write_one_by_one(self.factory, chunk):
                        with self._room:  # nothing could be written: the database, not an entry
                            self._pending.extendleft(reversed(chunk))
                        raise
                written += len(chunk)
                with self._room:
                    self._room.notify_all()


def _write_one_by_one(factory: sessionmaker[Session], entries: list[Entry]) -> bool:
    """After a batch failed: write its entries one at a time, so that one entry the database refuses
    cannot hold back the log. An entry refused alone is written without its free-text parts (end user,
    items), and only dropped (and reported) if even that fails. False when no entry could be written."""
    wrote = False
    for entry in entries:
        for attempt in (entry, entry.stripped()):
            try:
                _write(factory, [attempt])
            except Exception:
                continue
            wrote = True
            break
        else:
            log.error("sharing.usage.entry_dropped", resource=entry.resource_code, mode=entry.mode)
    return wrote


def _write(factory: sessionmaker[Session], entries: list[Entry]) -> None:
    """The entries and, for the answered calls, their audit events: a multi-row insert each."""
    with unit_of_work(factory) as session:
        # one multi-row insert of plain rows: objects would cost more than the writing
        rows = [entry.row() for entry in entries]
        session.execute(insert(UsageRecord.__table__), rows)
        usage_months.roll_up(session, rows)  # the monthly counts, in the same transaction
        audit.record_many(
            session,
            [
                audit.Pending(
                    entry.actor,
                    f"sharing.data.{entry.mode}",
                    "resource",
                    entry.resource_code,
                    purpose=entry.purpose,
                    details={
                        "at": entry.at.isoformat(),
                        "grant_id": entry.grant_id,
                        "application_id": entry.application_id,
                        "items": list(entry.items),
                        "rows": entry.rows,
                        **entry.details,
                    },
                )
                for entry in entries
                if entry.outcome == UsageOutcome.ok
            ],
        )


# --- the logs of this process and their writer ----------------------------------------------------

_logs: dict[Engine, UsageLog] = {}
_logs_lock = threading.Lock()
_wake = threading.Event()
_writer: threading.Thread | None = None


def log_for(engine: Engine) -> UsageLog:
    """The queue of the metadata database ``engine`` connects to (created, and the writer started,
    on first use)."""
    global _writer
    with _logs_lock:
        usage_log = _logs.get(engine)
        if usage_log is None:
            usage_log = _logs[engine] = UsageLog(make_sessionmaker(engine))
        if _writer is None or not _writer.is_alive():
            _writer = threading.Thread(target=_run_writer, name="govdata-usage-writer", daemon=True)
            _writer.start()
        return usage_log


def _run_writer() -> None:
    while True:
        _wake.wait(timeout=FLUSH_SECONDS)
        _wake.clear()
        with _logs_lock:
            logs = list(_logs.values())
        for usage_log in logs:
            if not len(usage_log):
                continue
            try:
                usage_log.flush()
            except Exception:
                log.exception("sharing.usage.write_failed", queued=len(usage_log))


def submit(session: Session, entry: Entry) -> None:
    """Log one call made in ``session``'s unit of work: an answered call once its transaction has
    committed, a refused one (its transaction is about to roll back) at once."""
    usage_log = log_for(session.get_bind())
    if entry.outcome == UsageOutcome.ok:
        after_commit(session, lambda: usage_log.put(entry))
    else:
        usage_log.put(entry, wait=False)


def flush(engine: Engine | None = None) -> int:
    """Write what is queued now, for ``engine``'s database or for all; how many entries."""
    with _logs_lock:
        logs = [_logs[engine]] if engine in _logs else [] if engine is not None else list(_logs.values())
    return sum(usage_log.flush() for usage_log in logs)


def close(engine: Engine) -> None:
    """Write everything queued for ``engine``'s database and forget its queue (the app's shutdown)."""
    with _logs_lock:
        usage_log = _logs.get(engine)
    if usage_log is None:
        return
    usage_log.flush()
    with _logs_lock:
        if not len(usage_log):
            _logs.pop(engine, None)


@atexit.register
def _close_all() -> None:
    for engine in list(_logs):
        try:
            close(engine)
        except Exception:
            log.exception("sharing.usage.not_written_at_exit", queued=len(_logs.get(engine, ())))


def elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# --- reading the log (GET /api/v1/usage) -------------------------------------------------------------


def list_usage(
    session: Session,
    actor: Actor,
    *,
    resource_code: str | None = None,
    system_id: int | None = None,
    outcome: str | None = None,
    mode: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[UsageRecord], int]:
    """Calls the caller may see, newest first: the authority all of them, a department the calls on
    its resources (as provider) and its own calls (as consumer); nobody else (SHR-7)."""
    require(actor, USAGE_READ)
    flush(session.get_bind())  # what is still queued belongs in the answer
    stmt = select(UsageRecord)
    if not sees_all_usage(actor):
        if actor.department_id is None:
            return [], 0
        stmt = stmt.where(
            or_(
                UsageRecord.provider_id == actor.department_id,
                UsageRecord.consumer_department_id == actor.department_id,
            )
        )
    if resource_code:
        stmt = stmt.where(UsageRecord.resource_code == resource_code)
    if system_id is not None:
        stmt = stmt.where(UsageRecord.system_id == system_id)
    if outcome:
        stmt = stmt.where(UsageRecord.outcome == outcome)
    if mode:
        stmt = stmt.where(UsageRecord.mode == mode)
    if since is not None:
        stmt = stmt.where(UsageRecord.at >= since)
    if until is not None:
        stmt = stmt.where(UsageRecord.at < until)
    return paginate(session, stmt, UsageRecord.at.desc(), UsageRecord.id.desc(), limit=limit, offset=offset)
