"""Domain events: recorded in a use case's unit of work, handled after it commits.

A use case says what happened (``emit(session, BATCH_APPLIED, batch_id=7, resource_id=3)``); it does
not know who cares. Capabilities that care register handlers (``@on(BATCH_APPLIED)``) in their
``handlers.py``, which the platform imports at start (``govdata.capabilities``). This is how quality
rescores after a batch and how supervision (later) will see every capability's facts, without the
emitter importing them.

Delivery is durable and after commit: ``emit`` enqueues a job (``core.jobs``) in the same
transaction, so an event exists exactly when its change was committed, survives a restart, and is
never seen by a handler before the data it describes. When the job runs it fans out: one job per
registered handler, each retried on its own. Handlers must be idempotent (a job may run again after a
crash) and act in their own transactions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from govdata.core import jobs

DISPATCH = "core.event"
HANDLE = "core.event.handle"

# event names of the built capabilities (a capability may emit others; these are the ones handled)
RESOURCE_PUBLISHED = "catalog.resource_published"
RESOURCE_RETIRED = "catalog.resource_retired"
BATCH_APPLIED = "aggregation.batch_applied"
BATCH_ROLLED_BACK = "aggregation.batch_rolled_back"


@dataclass(frozen=True)
class Event:
    name: str
    payload: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.payload[key]


EventHandler = Callable[[jobs.JobContext, Event], None]
_handlers: dict[str, dict[str, EventHandler]] = {}


def on(name: str) -> Callable[[EventHandler], EventHandler]:
    """Register ``fn`` for events called ``name``; its qualified name identifies it in the queue."""

    def register(fn: EventHandler) -> EventHandler:
        _handlers.setdefault(name, {})[f"{fn.__module__}.{fn.__qualname__}"] = fn
        return fn

    return register


def handlers_of(name: str) -> dict[str, EventHandler]:
    return dict(_handlers.get(name, {}))


def emit(session: Session, name: str, **payload: Any) -> None:
    """Record that ``name`` happened; handlers run after the caller's transaction commits."""
    jobs.enqueue(session, DISPATCH, {"event": name, "payload": payload})


@jobs.handler(DISPATCH)
def _dispatch(context: jobs.JobContext, body: dict[str, Any]) -> None:
    """One job per handler, so that a failing handler is retried without running the others again."""
    with jobs.unit_of_work(context.factory) as session:
        for handler_name in handlers_of(body["event"]):
            jobs.enqueue(session, HANDLE, {**body, "handler": handler_name})


@jobs.handler(HANDLE)
def _handle(context: jobs.JobContext, body: dict[str, Any]) -> None:
    fn = handlers_of(body["event"]).get(body["handler"])
    if fn is None:
        raise LookupError(f"no handler {body['handler']} for event {body['event']}")
    fn(context, Event(body["event"], body["payload"]))
