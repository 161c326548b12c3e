"""Running a pull: claim it, read the source, hand the rows to the batch pipeline, record the outcome.

A run claims the pull's lease (``lease_until``) in the transaction that records it, so a second run
(another thread or process) finds the pull busy and records itself as skipped. The rows go to the
ordinary batch pipeline (``service.create_batch``, whose job runs the batch), and the run waits for
the batch in its own thread. A run that stops (timeout, window, error) creates no batch. If the
server stops while the batch is still queued, the batch job runs at the next start and the run is
finished then (``_settle``), moving the watermark only if the batch was applied.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from govdata.aggregation import service as batches
from govdata.aggregation.models import Batch, BatchStatus
from govdata.aggregation.pull_models import Pull, PullRun, RunOutcome
from govdata.aggregation.pulls.reader import read_source
from govdata.aggregation.pulls.schedule import in_window
from govdata.aggregation.pulls.service import check_can_run
from govdata.aggregation.pulls.source import Plan, PullEnv, PullStopped, check_url, decrypt_url
from govdata.aggregation.pulls.watermark import dump_watermark, load_watermark, shown_watermark
from govdata.core import audit
from govdata.core.auth import Actor, Role
from govdata.core.db import unit_of_work
from govdata.core.errors import Conflict, Problem
from govdata.core.observability import log

BATCH_WAIT_SECONDS = 6 * 3600  # a pulled batch is waited for (its run records the outcome)
LEASE_GRACE = timedelta(hours=1)  # beyond the pull's own timeout, for the batch to be created


def plan_of(pull: Pull, env: PullEnv) -> Plan:
    url, dialect = check_url(decrypt_url(env.secret, pull.url_encrypted), env)
    return Plan(
        id=pull.id,
        resource_code=pull.resource_code,
        department_id=pull.department_id,
        url=url,
        dialect=dialect,
        table_name=pull.table_name,
        query=pull.query,
        mode=pull.mode,
        watermark_column=pull.watermark_column,
        watermark=load_watermark(pull.watermark),
        window_start=pull.window_start,
        window_end=pull.window_end,
        max_rows_per_second=pull.max_rows_per_second,
        timeout_seconds=pull.timeout_seconds,
        batch_mode=pull.batch_mode,
        policy=pull.policy,
    )


BATCH_OUTCOMES = {
    BatchStatus.applied: RunOutcome.applied,
    BatchStatus.rejected: RunOutcome.rejected,
    BatchStatus.failed: RunOutcome.failed,
    BatchStatus.rolled_back: RunOutcome.applied,  # it was applied; rolling back is a later decision
}


def pull_actor(department_id: int, pull_id: int) -> Actor:
    """Whom a scheduled run acts as: the department's pull, with an officer's right to load batches."""
    return Actor(
        kind="user",
        roles=frozenset({Role.dept_officer}),
        username=f"pull:{pull_id}",
        display_name="数据库定时归集",
        department_id=department_id,
    )


def _settle(session: Session, pull: Pull, now: datetime) -> bool:
    """Finish earlier runs whose batch has finished since (moving the watermark if applied); True while
    an earlier run's batch is still queued or being processed."""
    busy = False
    earlier = session.scalars(
        select(PullRun).where(PullRun.pull_id == pull.id, PullRun.outcome == RunOutcome.running)
    ).all()
    for run in earlier:
        if run.batch_id is None:
            run.outcome, run.finished_at = RunOutcome.failed, now
            run.message = "运行被中断（服务重启或进程退出），数据未入库。"
            continue
        batch = session.get(Batch, run.batch_id)
        if batch.status in (BatchStatus.queued, BatchStatus.running):
            busy = True
            continue
        _close_run(session, pull, run, batch, now)
    return busy


def _close_run(session: Session, pull: Pull, run: PullRun, batch: Batch, now: datetime) -> None:
    run.outcome = BATCH_OUTCOMES.get(batch.status, RunOutcome.failed)
    run.finished_at = now
    run.message = batch.message or (
        f"已入库 {batch.rows_applied} 行。" if run.outcome == RunOutcome.applied else None
    )
    if batch.status in (BatchStatus.applied, BatchStatus.rolled_back) and run.watermark_to:
        pull.watermark = run.watermark_to  # only an applied batch moves the watermark


@dataclass
class Started:
    run_id: int
    plan: Plan | None  # None when the run was recorded as skipped


def start_run(
    factory: sessionmaker, env: PullEnv, pull_id: int, *, trigger: str, actor: Actor | None = None
) -> Started | None:
    """Claim the pull and record a new run, in one unit of work. A manual run is the caller's: checked
    first (``check_can_run``), and a 409 when it may not start now; a scheduled one records a skipped
    run instead. None: the pull is gone or disabled."""
    manual = trigger == "manual"
    with unit_of_work(factory) as session:
        if manual and actor is not None:
            check_can_run(session, actor, pull_id)
        pull = session.get(Pull, pull_id)
        if pull is None or not pull.enabled:
            if manual:
                raise Conflict("该数据库拉取已停用，请先启用。", slug="pull-disabled")
            return None
        by = actor.name if actor else f"pull:{pull_id}"
        now = env.clock()

        def ended(outcome: RunOutcome, message: str) -> Started:
            """A run that ends as it starts: skipped, or failed before reading anything."""
            run = PullRun(
                pull_id=pull_id,
                trigger=trigger,
                started_by=by,
                started_at=now,
                finished_at=now,
                outcome=outcome,
                message=message,
            )
            session.add(run)
            session.flush()
            return Started(run.id, None)

        reason = None
        if not in_window(pull.window_start, pull.window_end, now):
            reason = f"当前不在允许拉取的时间窗口（{pull.window_start}–{pull.window_end}）内，未拉取。"
        else:
            claimed = session.execute(
                update(Pull)
                .where(Pull.id == pull_id, or_(Pull.lease_until.is_(None), Pull.lease_until < now))
                .values(lease_until=now + timedelta(seconds=pull.timeout_seconds) + LEASE_GRACE)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not claimed:
                reason = "上一次拉取仍在运行，本次跳过。"
            elif _settle(session, pull, now):
                pull.lease_until = None
                reason = "上一次拉取的批次仍在处理中，本次跳过。"
        if reason:
            if manual:
                raise Conflict(reason, slug="pull-not-now")
            return ended(RunOutcome.skipped, reason)
        try:
            plan = plan_of(pull, env)
        except Problem as exc:
            pull.lease_until = None
            return ended(RunOutcome.failed, exc.detail)
        run = PullRun(
            pull_id=pull_id,
            trigger=trigger,
            started_by=by,
            started_at=now,
            outcome=RunOutcome.running,
            watermark_from=pull.watermark,
        )
        session.add(run)
        session.flush()
        audit.record(
            actor=actor or pull_actor(pull.department_id, pull.id),
            session=session,
            action="aggregation.pull.started",
            object_type="pull",
            object_id=pull.id,
            details={"run": run.id, "trigger": trigger, "watermark": shown_watermark(pull.watermark)},
        )
        return Started(run.id, plan)


def execute_run(factory: sessionmaker, env: PullEnv, started: Started, *, actor: Actor | None = None) -> int:
    """Read the source, hand the rows to the batch pipeline, wait for the batch, record the outcome."""
    plan, run_id = started.plan, started.run_id
    if plan is None:
        return run_id
    actor = actor or pull_actor(plan.department_id, plan.id)
    path = env.data_dir / "pulls" / str(plan.id) / f"run-{run_id}.parquet"
    try:
        try:
            read = read_source(plan, path, env)
        except PullStopped as exc:
            return _end(factory, env, plan, run_id, actor, RunOutcome.failed, str(exc))
        except Exception:
            log.exception("pull failed", pull=plan.id, run=run_id)
            return _end(
                factory,
                env,
                plan,
                run_id,
                actor,
                RunOutcome.failed,
                "拉取时发生内部错误，已记录日志；数据未入库。",
            )
        if read.rows == 0:
            message = (
                "没有新增或变更的行，未创建批次。"
                if plan.watermark is not None
                else "源表没有数据，未创建批次。"
            )
            return _end(factory, env, plan, run_id, actor, RunOutcome.empty, message)
        try:
            high = dump_watermark(read.high)
        except PullStopped as exc:
            return _end(factory, env, plan, run_id, actor, RunOutcome.failed, str(exc))
        checksum = hashlib.sha256(path.read_bytes()).hexdigest()
        try:
            with unit_of_work(factory) as session:
                batch = batches.create_batch(
                    session,
                    actor,
                    env.data_dir,
                    plan.resource_code,
                    mode=plan.batch_mode,
                    policy=plan.policy,
                    upload=batches.Upload(path, f"pull-{plan.id}-run-{run_id}.parquet", checksum),
                    source_rows=read.rows,
                    source="pull",
                )
                run = session.get(PullRun, run_id)
                run.batch_id, run.rows, run.watermark_to = batch.id, read.rows, high
                batch_id = batch.id
        except Problem as exc:
            return _end(factory, env, plan, run_id, actor, RunOutcome.failed, exc.detail, rows=read.rows)
        except Exception:
            log.exception("pull batch not created", pull=plan.id, run=run_id)
            message = "创建批次时发生内部错误，已记录日志；数据未入库。"
            return _end(factory, env, plan, run_id, actor, RunOutcome.failed, message, rows=read.rows)
        status = batches.wait_for(factory, batch_id, BATCH_WAIT_SECONDS, stop=env.stopping.is_set)
        if status not in batches.FINISHED:  # the server is stopping: the batch job runs at the next start
            log.warning("pull batch left for the next start", pull=plan.id, batch=batch_id)
            return run_id
        return _end(factory, env, plan, run_id, actor, None, None)
    finally:
        path.unlink(missing_ok=True)


def _end(
    factory: sessionmaker,
    env: PullEnv,
    plan: Plan,
    run_id: int,
    actor: Actor,
    outcome: str | None,
    message: str | None,
    *,
    rows: int = 0,
) -> int:
    """Record how the run ended (from its batch when ``outcome`` is None) and release the pull."""
    now = env.clock()
    with unit_of_work(factory) as session:
        pull = session.get(Pull, plan.id)
        run = session.get(PullRun, run_id)
        if outcome is None:
            _close_run(session, pull, run, session.get(Batch, run.batch_id), now)
        else:
            run.outcome, run.message, run.finished_at, run.rows = outcome, message, now, rows
        pull.lease_until = None
        audit.record(
            session,
            actor,
            f"aggregation.pull.{run.outcome}",
            "pull",
            plan.id,
            details={
                "run": run.id,
                "rows": run.rows,
                "batch": run.batch_id,
                "watermark": shown_watermark(pull.watermark),
                "message": run.message,
            },
        )
    return run_id


def run_pull(
    factory: sessionmaker,
    env: PullEnv,
    pull_id: int,
    *,
    trigger: str = "schedule",
    actor: Actor | None = None,
) -> int | None:
    """One whole run (claim, read, batch, record); returns the run's id."""
    started = start_run(factory, env, pull_id, trigger=trigger, actor=actor)
    if started is None:
        return None
    return execute_run(factory, env, started, actor=actor)


def recover(factory: sessionmaker, env: PullEnv) -> None:
    """At start of the one process that runs pulls: release the leases that a stopped process held,
    and finish the runs that can be finished (no other live process holds a lease then)."""
    now = env.clock()
    with unit_of_work(factory) as session:
        for pull in session.scalars(select(Pull)):
            _settle(session, pull, now)
            pull.lease_until = None
