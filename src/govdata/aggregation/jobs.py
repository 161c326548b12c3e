"""The batch job: ``create_batch`` enqueues it in the request's transaction (``core.jobs``); a worker
claims it after the commit and runs ``run_batch``, which is safe to run again after a crash (the
store tells whether the batch was already applied)."""

from __future__ import annotations

from typing import Any

from govdata.aggregation import service
from govdata.core import files, jobs


@jobs.handler(service.RUN_BATCH)
def run_batch(context: jobs.JobContext, payload: dict[str, Any]) -> None:
    sheets = files.SheetLimits.from_settings(context.settings) if context.settings is not None else None
    service.run_batch(
        context.factory, context.store, context.data_dir, int(payload["batch_id"]), sheets=sheets
    )
