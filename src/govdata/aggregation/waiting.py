"""Waiting for a batch to finish (a request with ``wait``, a pull, an objection's correction).

A batch runs as a job, usually in this process's own worker: ``run_batch`` calls ``notify`` once it
has finished and cleaned up, and whoever waits here is told at once. A batch that another process
runs is still seen, by reading its status every ``POLL_SECONDS``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from starlette.concurrency import run_in_threadpool

from govdata.aggregation.models import Batch, BatchStatus
from govdata.core.db import unit_of_work

FINISHED = (BatchStatus.applied, BatchStatus.rejected, BatchStatus.failed, BatchStatus.rolled_back)
POLL_SECONDS = 0.1

_lock = threading.Lock()
_listeners: dict[int, set[Callable[[], None]]] = {}


def notify(batch_id: int) -> None:
    """Tell this process's waiters that the batch's run ended (its status says how)."""
    with _lock:
        listeners = list(_listeners.get(batch_id, ()))
    for listener in listeners:
        listener()


@contextmanager
def _listening(batch_id: int, listener: Callable[[], None]) -> Iterator[None]:
    with _lock:
        _listeners.setdefault(batch_id, set()).add(listener)
    try:
        yield
    finally:
        with _lock:
            listeners = _listeners.get(batch_id, set())
            listeners.discard(listener)
            if not listeners:
                _listeners.pop(batch_id, None)


def batch_status(factory: sessionmaker, batch_id: int) -> str | None:
    with unit_of_work(factory) as session:
        return session.scalar(select(Batch.status).where(Batch.id == batch_id))


def wait_for(
    factory: sessionmaker, batch_id: int, timeout: float, *, stop: Callable[[], bool] | None = None
) -> str | None:
    """Block until the batch is finished (or ``timeout`` seconds pass, or ``stop()`` says so);
    returns its status. For callers in threads of their own (pulls, the CLI)."""
    deadline = time.monotonic() + timeout
    ended = threading.Event()
    with _listening(batch_id, ended.set):
        while True:
            status = batch_status(factory, batch_id)
            left = deadline - time.monotonic()
            if status in FINISHED or left <= 0 or (stop is not None and stop()):
                return status
            ended.wait(min(POLL_SECONDS, left))
            ended.clear()


async def wait_finished(factory: sessionmaker, batch_id: int, timeout: float) -> str | None:
    """``wait_for`` for a route on the event loop: the status is read in the thread pool."""
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()

    def wake() -> None:
        with suppress(RuntimeError):  # the loop closed meanwhile: nobody waits any more
            loop.call_soon_threadsafe(ended.set)

    deadline = time.monotonic() + timeout
    with _listening(batch_id, wake):
        while True:
            status = await run_in_threadpool(batch_status, factory, batch_id)
            left = deadline - time.monotonic()
            if status in FINISHED or left <= 0:
                return status
            with suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), min(POLL_SECONDS, left))
            ended.clear()
