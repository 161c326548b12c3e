"""What sharing does when other capabilities report what happened (events after commit), and its
jobs: a batch applied to a resource tells the subscribers of its grants (``sharing.subscriptions``),
and each webhook delivery is a job of its own, retried with backoff."""

from __future__ import annotations

from typing import Any

from govdata.core import events, jobs
from govdata.core.config import get_settings
from govdata.core.db import unit_of_work
from govdata.core.jobs import JobContext
from govdata.sharing import subscriptions


@events.on(events.BATCH_APPLIED)
def tell_subscribers(context: JobContext, event: events.Event) -> None:
    """One delivery per active subscription of the resource (idempotent per subscription and batch)."""
    with unit_of_work(context.factory) as session:
        subscriptions.on_batch_applied(session, event["batch_id"], event["resource_id"])


@jobs.handler(subscriptions.DELIVER)
def deliver_webhook(context: JobContext, payload: dict[str, Any]) -> None:
    """One attempt at a webhook delivery; a failed attempt schedules the next itself."""
    subscriptions.deliver(
        context.factory, context.settings or get_settings(), payload["delivery_id"], payload.get("attempt", 1)
    )
