"""What quality does when other capabilities report what happened (events after commit), its daily
job and its weekly periodic check.

The scores are stored only here and by an explicit recomputation: reading them never writes.
"""

from __future__ import annotations

from typing import Any

from govdata.core import events, jobs
from govdata.core.jobs import JobContext
from govdata.quality.service import record_after_batch, record_after_publish, record_clock, record_scheduled

CLOCK_SNAPSHOTS = "quality.clock_snapshots"
"""The daily job: a ``clock`` snapshot for each resource whose timeliness score moved with time alone."""
PERIODIC_CHECK = "quality.periodic_check"
"""The weekly job (定期检查, seed 002): every published resource with a data table scored in full."""


@events.on(events.BATCH_APPLIED)
@events.on(events.BATCH_ROLLED_BACK)
def rescore_after_batch(context: JobContext, event: events.Event) -> None:
    """Store the resource's scores for the batch (idempotent: a batch already scored is skipped)."""
    record_after_batch(context.factory, context.store, event["batch_id"], data_dir=context.data_dir)


@events.on(events.RESOURCE_PUBLISHED)
def score_after_publish(context: JobContext, event: events.Event) -> None:
    """A resource just published gets its first scores (idempotent per published version)."""
    record_after_publish(
        context.factory,
        context.store,
        event["resource_id"],
        event.payload.get("version"),
        data_dir=context.data_dir,
    )


@jobs.handler(CLOCK_SNAPSHOTS)
def clock_snapshots(context: JobContext, payload: dict[str, Any]) -> None:
    record_clock(context.factory)


@jobs.handler(PERIODIC_CHECK)
def periodic_check(context: JobContext, payload: dict[str, Any]) -> None:
    """Idempotent per period (``payload["period"]``, an ISO week such as ``2026-W50``)."""
    record_scheduled(context.factory, context.store, payload["period"], data_dir=context.data_dir)
