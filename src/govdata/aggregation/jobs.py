"""Batches run as jobs in the server process: one worker, because the embedded DuckDB store has one
writer. Job state lives in the metadata database; on start the runner picks up batches that were
queued or running when the previous process stopped, so a restart neither loses nor repeats them."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from govdata.aggregation import service
from govdata.aggregation.models import Batch, BatchStatus
from govdata.core.db import unit_of_work
from govdata.store.sql import SqlStore


class BatchRunner:
    def __init__(self, factory: sessionmaker, store: SqlStore, data_dir: Path) -> None:
        self.factory, self.store, self.data_dir = factory, store, data_dir
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="govdata-batch")

    def submit(self, batch_id: int) -> Future:
        return self.executor.submit(self._run, batch_id)

    def _run(self, batch_id: int) -> None:
        service.run_batch(self.factory, self.store, self.data_dir, batch_id)
        # quality imports aggregation, so the hook is called here rather than from the service
        from govdata.quality.service import record_after_batch

        record_after_batch(self.factory, self.store, batch_id, data_dir=self.data_dir)

    def resume(self) -> list[int]:
        with unit_of_work(self.factory) as session:
            pending = list(
                session.scalars(
                    select(Batch.id)
                    .where(Batch.status.in_([BatchStatus.queued, BatchStatus.running]))
                    .order_by(Batch.id)
                )
            )
        for batch_id in pending:
            self.submit(batch_id)
        return pending

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=False)
