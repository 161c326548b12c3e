"""The sharing sweep: escalate overdue applications, expire grants, remind consumers of grants about to
end. Scheduled hourly (one job per hour, however many processes fire it) and run by ``govdata tick``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from govdata.core import jobs
from govdata.core.auth import Actor, require
from govdata.core.db import unit_of_work
from govdata.sharing.auth import SWEEP as SWEEP_PERMISSION
from govdata.sharing.service.applications import escalate_overdue
from govdata.sharing.service.grants import expire_due, warn_expiring

SWEEP = "sharing.sweep"


def sweep(session: Session) -> dict[str, int]:
    """One pass; idempotent (an escalated application is not escalated twice)."""
    return {
        "escalated": escalate_overdue(session),
        "expired": expire_due(session),
        "expiring": warn_expiring(session),
    }


def tick(session: Session, actor: Actor) -> dict[str, int]:
    """The sweep on demand (``govdata tick``, an administrator or the authority)."""
    require(actor, SWEEP_PERMISSION)
    return sweep(session)


@jobs.handler(SWEEP)
def run_sweep(context: jobs.JobContext, payload: dict) -> None:
    with unit_of_work(context.factory) as session:
        sweep(session)
