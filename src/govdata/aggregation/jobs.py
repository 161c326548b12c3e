"""The batch job: ``create_batch`` enqueues it in the request's transaction (``core.jobs``); a worker
claims it after the commit and runs ``run_batch``, which is safe to run again after a crash (the
store tells whether the batch was already applied). A catalog revision's migration is a batch too,
queued at publish (``migration.py``)."""

from __future__ import annotations

from typing import Any

from govdata.aggregation import migration, service
from govdata.core import files, jobs


@jobs.handler(service.RUN_BATCH)
def run_batch(context: jobs.JobContext, payload: dict[str, Any]) -> None:
    sheets = files.SheetLimits.from_settings(context.settings) if context.settings is not None else None
    service.run_batch(
        context.factory, context.store, context.data_dir, int(payload["batch_id"]), sheets=sheets
    )


@jobs.handler(migration.RUN_MIGRATION)
def run_migration(context: jobs.JobContext, payload: dict[str, Any]) -> None:
    migration.run_migration(context.factory, context.store, int(payload["batch_id"]))
