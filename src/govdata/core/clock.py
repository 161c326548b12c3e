"""The one clock of the platform: China time for dates and deadlines, UTC for stored instants.

Every "today" and "now" in the code comes from here, so deadlines, update tasks, conflicts and
quality timeliness agree on what day it is (working days are counted in China, whatever zone the
server runs in). Tests set the clock with :func:`frozen` instead of patching module functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return _now()


def china_now() -> datetime:
    """The current instant in China time."""
    return now().astimezone(CHINA)


def today() -> date:
    """Today's date in China."""
    return china_now().date()


def china_date(moment: datetime) -> date:
    """The date in China of an instant (naive instants are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).date()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (``None`` restores the system clock)."""
    global _now
    _now = source or (lambda: datetime.now(UTC))


@contextmanager
def frozen(moment: datetime | date) -> Iterator[None]:
    """Within the block the clock stands at ``moment`` (a date means 09:00 China time that day)."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, 9, tzinfo=CHINA)
    if moment.tzinfo is None:
        raise ValueError("frozen() needs a timezone-aware datetime or a date")
    previous = _now
    set_clock(lambda: moment.astimezone(UTC))
    try:
        yield
    finally:
        set_clock(previous)
