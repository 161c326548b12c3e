"""When a pull may run: its cron schedule, its daily time window, and the catch-up of a fire time
missed while the server was down (all in China time)."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import time as dtime

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govdata.aggregation.pull_models import Pull, PullRun
from govdata.core import scheduler
from govdata.core.clock import CHINA
from govdata.core.errors import field_error


def cron_trigger(expr: str) -> CronTrigger:
    """A crontab expression (minute hour day month weekday) in China time; 422 on ``schedule`` if invalid."""
    try:
        return scheduler.crontab(expr)
    except ValueError as exc:
        raise field_error(
            "schedule", "应为 cron 表达式：分 时 日 月 周（如每天凌晨 2 点为 0 2 * * *）"
        ) from exc


def _hhmm(value: str) -> dtime:
    hour, minute = value.split(":")
    return dtime(int(hour), int(minute))


def in_window(window_start: str | None, window_end: str | None, moment: datetime) -> bool:
    """Whether ``moment`` falls in the daily window [start, end) in China time; it may cross midnight."""
    if not window_start or not window_end:
        return True
    now = moment.astimezone(CHINA).time()
    start, end = _hhmm(window_start), _hhmm(window_end)
    if start <= end:
        return start <= now < end
    return now >= start or now < end


def next_catch_up(session: Session, pull: Pull, now: datetime) -> datetime | None:
    """``now`` when a scheduled fire time passed without a run (the server was down), else None."""
    last = session.scalar(
        select(func.max(PullRun.started_at)).where(PullRun.pull_id == pull.id, PullRun.trigger == "schedule")
    )
    since = last or pull.created_at
    missed = cron_trigger(pull.schedule).get_next_fire_time(
        None, since.astimezone(CHINA) + timedelta(seconds=1)
    )
    return now if missed is not None and missed <= now else None
