"""What objections does when other capabilities report what happened (events after commit): a batch
applied may be the correction of an objection, which is then settled as corrected (its filer told,
its flag cleared). Importing this module also registers the "under review" lookup with sharing
(:mod:`govdata.objections.flags`) and the sweep's job (:mod:`govdata.objections.service.sweep`)."""

from __future__ import annotations

from govdata.core import events
from govdata.core.db import unit_of_work
from govdata.core.jobs import JobContext
from govdata.objections import (
    flags,  # noqa: F401  (registers the under-review lookup with sharing)
    service,
)


@events.on(events.BATCH_APPLIED)
def settle_corrections(context: JobContext, event: events.Event) -> None:
    """The objections this batch corrected become ``corrected`` (idempotent)."""
    with unit_of_work(context.factory) as session:
        service.settle_batch(session, event["batch_id"])
