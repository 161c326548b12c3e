"""Scheduled pulls from a department's own database (AGG-2: 数据汇聚不改变现有业务系统的运行).

A department officer defines a pull on one of its published resources: an SQLAlchemy URL of its own
database (PostgreSQL, or an SQLite file), a table or one SELECT query, full or incremental by a
watermark column, a cron schedule, and the limits that keep the pull from slowing that system: a
local time window, a row rate and a timeout. Each run reads the rows into a Parquet file and hands
it to the ordinary batch pipeline (``service.create_batch``, whose job runs the batch), so a pulled batch
is validated, applied, reported and rolled back like an upload.

How the department's database is protected:

* read-only, twice. The query is checked first (one statement, SELECT or WITH, no data-changing
  keyword), only to give the officer a clear message; the guarantee is the connection itself.
  PostgreSQL: ``SET TRANSACTION READ ONLY`` before anything else (and checked with ``SHOW
  transaction_read_only``); every statement that would write, lock rows or take a sequence value
  fails there. SQLite: the file is opened with ``mode=ro`` (the OS-level open is read-only) and
  ``PRAGMA query_only=ON``. The transaction is always rolled back, never committed. Departments
  should still give the platform an account that can only read.
* timeout: ``timeout_seconds`` bounds how long the pull holds a connection to the source, from
  connect to the last row. PostgreSQL: ``SET LOCAL statement_timeout`` (re-set to the remaining time
  before each fetch of the server-side cursor) and ``idle_in_transaction_session_timeout``, so the
  server itself ends the session if this process stalls; SQLite: a progress handler interrupts the
  statement at the deadline. Throttling that would outlast the deadline stops the pull early.
* row rate: rows are fetched in chunks from a server-side cursor (SQLite steps its cursor lazily);
  after each chunk the pull sleeps until ``rows / max_rows_per_second`` seconds have passed, so the
  source produces rows no faster than that.
* time window: a run does not start outside ``window_start``–``window_end`` (China time; the window
  may cross midnight) and stops, reading no further, when the window ends during the run.

A run that stops (timeout, window, error) creates no batch: a partial read never replaces data.

Incremental pulls read ``watermark_column > last`` and remember the new high watermark only when
their batch is *applied*: a failed or rejected batch leaves it where it was, so the next run reads
the same rows again (idempotent). The run record keeps the candidate watermark, so a batch that
finishes after a restart still moves it (``runner._settle``). Rows whose watermark is NULL, or that arrive
later with a watermark at or below the stored one, are not picked up by incremental runs: a
periodic full pull covers them. Rolling a pulled batch back does not move the watermark back.

The package, along its seams: ``schemas`` (API payloads), ``source`` (the URL as a secret, checks of
a definition, the read-only connection), ``reader`` (rows into Parquet, throttled), ``watermark``,
``schedule`` (cron, time window, catch-up), ``service`` (defining pulls), ``runner`` (running them)
and ``api`` (routes). The scheduling itself is ``aggregation.scheduler`` on the platform's one
scheduler (``core.scheduler``).
"""

from govdata.aggregation.auth import PULL_MANAGE, PULL_READ
from govdata.aggregation.pulls.reader import ReadResult, read_source
from govdata.aggregation.pulls.runner import (
    BATCH_WAIT_SECONDS,
    Started,
    execute_run,
    plan_of,
    pull_actor,
    recover,
    run_pull,
    start_run,
)
from govdata.aggregation.pulls.schedule import cron_trigger, in_window, next_catch_up
from govdata.aggregation.pulls.schemas import PullIn, PullOut, PullPatch, PullRunOut
from govdata.aggregation.pulls.service import (
    check_can_run,
    create_pull,
    disable_pull,
    get_pull,
    list_pulls,
    list_runs,
    pull_out,
    run_out,
    run_out_by_id,
    update_pull,
)
from govdata.aggregation.pulls.source import (
    Plan,
    PullEnv,
    PullStopped,
    check_select,
    check_url,
    decrypt_url,
    encrypt_url,
    mask_url,
    probe_columns,
    quote_name,
    read_only_connection,
)
from govdata.aggregation.pulls.watermark import dump_watermark, load_watermark, shown_watermark
from govdata.core.clock import CHINA

__all__ = [
    "BATCH_WAIT_SECONDS",
    "CHINA",
    "PULL_MANAGE",
    "PULL_READ",
    "Plan",
    "PullEnv",
    "PullIn",
    "PullOut",
    "PullPatch",
    "PullRunOut",
    "PullStopped",
    "ReadResult",
    "Started",
    "check_can_run",
    "check_select",
    "check_url",
    "create_pull",
    "cron_trigger",
    "decrypt_url",
    "disable_pull",
    "dump_watermark",
    "encrypt_url",
    "execute_run",
    "get_pull",
    "in_window",
    "list_pulls",
    "list_runs",
    "load_watermark",
    "mask_url",
    "next_catch_up",
    "plan_of",
    "probe_columns",
    "pull_actor",
    "pull_out",
    "quote_name",
    "read_only_connection",
    "read_source",
    "recover",
    "run_out",
    "run_out_by_id",
    "run_pull",
    "shown_watermark",
    "start_run",
    "update_pull",
]
