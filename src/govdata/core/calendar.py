"""Working days for government deadlines (CAL-1, CAL-2).

Every deadline of the platform is counted in working days (工作日). Day 1 is the first working day
*after* the event, so ``add_working_days(start, n)`` is the date of the n-th working day after
``start`` and ``add_working_days(start, 0) == start``.

Where a year's working days come from, in order of precedence:

1. a schedule imported by an administrator for that year (table ``calendar_years``);
2. the ``chinese_calendar`` package, for the years it covers (found by probing, not hard-coded);
3. otherwise Monday–Friday. A deadline whose counted span (``start + 1 day`` … due date) touches such
   a year is *provisional*; importing the year's schedule recomputes the provisional deadlines.

Capabilities register their deadlines through :func:`track_deadline` (one row per deadline in
``deadlines``) so that an import can recompute them; a capability that copies due dates into its
own tables registers a callback with :func:`on_deadline_recomputed`.

Year-file format accepted by :func:`parse_year_file` (UTF-8, optional BOM)::

    # 2027 年节假日安排（注释行以 # 开头，空行忽略）
    date,kind
    2027-01-01,holiday
    2027-02-06,workday
    2027-02-07,班
    2027-02-08,休

``kind`` is ``holiday`` (or ``休``) for a day off and ``workday`` (or ``班``) for a make-up working
day (调休上班). The header line is optional (``date,kind`` or ``日期,类型``).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import chinese_calendar
from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text, and_, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from govdata.core import audit
from govdata.core.auth import Actor
from govdata.core.db import Base, UTCDateTime, utcnow
from govdata.core.errors import InvalidInput, field_error

MIN_YEAR = 1900
MAX_YEAR = 2200
"""Years an administrator may import; dates outside are still counted (Monday–Friday), never refused."""

MAX_WORKING_DAYS = 10_000
"""Upper bound of one count (about 40 years), so a bad request cannot make the server count forever."""

_WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


# --- models -------------------------------------------------------------------------------------


class CalendarYear(Base):
    """An administrator-imported holiday schedule for one year (overrides chinese_calendar)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    """ISO dates (sorted) that are days off, weekdays or not."""
    workdays: Mapped[list[str]] = mapped_column(JSON, default=list)
    """ISO dates (sorted) of make-up working days (调休上班), all Saturdays or Sundays."""
    note: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(128))

    def schedule(self) -> YearSchedule:
        return YearSchedule(
            holidays=frozenset(dt.date.fromisoformat(d) for d in self.holidays or ()),
            workdays=frozenset(dt.date.fromisoformat(d) for d in self.workdays or ()),
            note=self.note,
        )


class TrackedDeadline(Base):
    """One deadline of some subject (an application, an objection, a task…), counted in working days."""

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[dt.date] = mapped_column(Date)
    working_days: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[dt.date] = mapped_column(Date)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def deadline(self) -> Deadline:
        return Deadline(self.due_date, self.provisional)


# --- the calendar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearSchedule:
    """Days off and make-up working days of one year; other days follow Monday–Friday."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    note: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))


@dataclass(frozen=True)
class Deadline:
    """A due date; ``provisional`` when it was counted over a year without a published schedule."""

    date: dt.date
    provisional: bool

    def to_dict(self) -> dict[str, Any]:
        return {"deadline": self.date.isoformat(), "provisional": self.provisional}


@lru_cache(maxsize=1)
def chinese_calendar_years() -> frozenset[int]:
    """The years the installed chinese_calendar package has data for (2004–2026 in version 1.11.0).

    Found by asking the package about 1 January of each year it might know and catching the
    ``NotImplementedError`` it raises for the others, so a newer release extends the range by itself.
    """
    known: set[int] = set()
    for year in range(MIN_YEAR, MAX_YEAR + 1):
        try:
            chinese_calendar.is_workday(dt.date(year, 1, 1))
        except NotImplementedError:
            continue
        known.add(year)
    return frozenset(known)


def _is_weekday(d: dt.date) -> bool:
    return d.weekday() < 5


def _year_days(year: int) -> Iterable[dt.date]:
    day = dt.date(year, 1, 1)
    one = dt.timedelta(days=1)
    while day.year == year:
        yield day
        if day == dt.date.max:
            return
        day += one


@lru_cache(maxsize=512)
def _package_working_ordinals(year: int) -> tuple[int, ...]:
    """Sorted ordinals of the working days of a year the package covers (as it says, day by day)."""
    return tuple(d.toordinal() for d in _year_days(year) if chinese_calendar.is_workday(d))


@lru_cache(maxsize=512)
def _weekday_ordinals(year: int) -> tuple[int, ...]:
    return tuple(d.toordinal() for d in _year_days(year) if _is_weekday(d))


def _schedule_ordinals(year: int, schedule: YearSchedule) -> tuple[int, ...]:
    return tuple(
        d.toordinal()
        for d in _year_days(year)
        if d in schedule.workdays or (_is_weekday(d) and d not in schedule.holidays)
    )


class WorkingCalendar:
    """Answers working-day questions from imported schedules, chinese_calendar and Monday–Friday.

    Build one per unit of work with :meth:`load` (one query), or directly for pure computations.
    Working days are cached per year as sorted ordinals, so additions cost a few bisections.
    """

    def __init__(self, imported: dict[int, YearSchedule] | None = None) -> None:
        self.imported: dict[int, YearSchedule] = dict(imported or {})
        self._ordinals: dict[int, tuple[int, ...]] = {}

    @classmethod
    def load(cls, session: Session) -> WorkingCalendar:
        rows = session.scalars(select(CalendarYear)).all()
        return cls(imported={row.year: row.schedule() for row in rows})

    # -- per-year data

    def year_source(self, year: int) -> str:
        """``imported`` | ``chinese_calendar`` | ``weekdays`` (the provisional fallback)."""
        if year in self.imported:
            return "imported"
        if year in chinese_calendar_years():
            return "chinese_calendar"
        return "weekdays"

    def year_is_known(self, year: int) -> bool:
        """Whether the year has a published schedule (imported or from chinese_calendar)."""
        return self.year_source(year) != "weekdays"

    def _working(self, year: int) -> tuple[int, ...]:
        cached = self._ordinals.get(year)
        if cached is None:
            source = self.year_source(year)
            if source == "imported":
                cached = _schedule_ordinals(year, self.imported[year])
            elif source == "chinese_calendar":
                cached = _package_working_ordinals(year)
            else:
                cached = _weekday_ordinals(year)
            self._ordinals[year] = cached
        return cached

    # -- questions

    def is_working_day(self, d: dt.date) -> bool:
        ordinals = self._working(d.year)
        i = bisect_left(ordinals, d.toordinal())
        return i < len(ordinals) and ordinals[i] == d.toordinal()

    def add_working_days(self, start: dt.date, n: int) -> Deadline:
        """The n-th working day after ``start`` (day 1 is the first working day after it)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise field_error("working_days", "工作日数须为不小于 0 的整数。")
        if n > MAX_WORKING_DAYS:
            raise field_error("working_days", f"工作日数不能超过 {MAX_WORKING_DAYS}。")
        if n == 0:
            return Deadline(start, False)
        year = start.year
        index = bisect_right(self._working(year), start.toordinal())
        remaining = n
        while True:
            ordinals = self._working(year)
            available = len(ordinals) - index
            if remaining <= available:
                due = dt.date.fromordinal(ordinals[index + remaining - 1])
                break
            remaining -= available
            year += 1
            index = 0
            if year > dt.MAXYEAR:
                raise field_error("working_days", "期限超出可计算的日期范围。")
        return Deadline(due, self.span_is_provisional(start, due))

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """The number of working days d with a < d <= b; negative (−count of b < d <= a) if b < a.

        ``working_days_between(start, add_working_days(start, n).date) == n``; for a deadline ``due``
        and today ``t``, ``working_days_between(t, due)`` is the "剩余 N 个工作日" figure.
        """
        if b < a:
            return -self.working_days_between(b, a)
        low, high = a.toordinal(), b.toordinal()
        count = 0
        for year in range(a.year, b.year + 1):
            ordinals = self._working(year)
            count += bisect_right(ordinals, high) - bisect_right(ordinals, low)
        return count

    def span_is_provisional(self, start: dt.date, due: dt.date) -> bool:
        """Whether the span ``start + 1 day`` … ``due`` touches a year without a published schedule."""
        if due <= start:
            return False
        first = (start + dt.timedelta(days=1)).year
        return any(not self.year_is_known(y) for y in range(first, due.year + 1))


# --- tracked deadlines --------------------------------------------------------------------------

RecomputeHook = Callable[[Session, list[TrackedDeadline]], None]
_HOOKS: list[RecomputeHook] = []


def on_deadline_recomputed(callback: RecomputeHook) -> RecomputeHook:
    """Register ``callback(session, changed_rows)``, called when recomputation moves deadlines.

    Usable as a decorator; registering the same callback twice has no effect. The callback runs in
    the caller's transaction (copy the new dates to the capability's own rows, do not commit).
    """
    if callback not in _HOOKS:
        _HOOKS.append(callback)
    return callback


def remove_deadline_hook(callback: RecomputeHook) -> None:
    if callback in _HOOKS:
        _HOOKS.remove(callback)


def _check_days(value: int, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise field_error(field, "工作日数须为不小于 0 的整数。")


def track_deadline(
    session: Session,
    calendar: WorkingCalendar,
    subject_type: str,
    subject_id: object,
    purpose: str,
    start: dt.date,
    working_days: int,
) -> TrackedDeadline:
    """Count ``working_days`` after ``start``, store the deadline and return its row (flushed)."""
    _check_days(working_days, "working_days")
    deadline = calendar.add_working_days(start, working_days)
    row = TrackedDeadline(
        subject_type=subject_type,
        subject_id=str(subject_id),
        purpose=purpose,
        start_date=start,
        working_days=working_days,
        due_date=deadline.date,
        provisional=deadline.provisional,
    )
    session.add(row)
    session.flush()
    return row


def extend_deadline(
    session: Session, calendar: WorkingCalendar, deadline: TrackedDeadline, extra_working_days: int
) -> TrackedDeadline:
    """Move a deadline ``extra_working_days`` working days past its current due date.

    Working-day addition is additive, so this is the same as counting ``working_days + extra``
    from the start; the row keeps the total and stays recomputable.
    """
    _check_days(extra_working_days, "working_days")
    deadline.working_days += extra_working_days
    new = calendar.add_working_days(deadline.start_date, deadline.working_days)
    deadline.due_date, deadline.provisional = new.date, new.provisional
    session.flush()
    return deadline


def deadlines_for(
    session: Session, subject_type: str, subject_id: object, purpose: str | None = None
) -> list[TrackedDeadline]:
    """The tracked deadlines of one subject, oldest first."""
    stmt = select(TrackedDeadline).where(
        TrackedDeadline.subject_type == subject_type, TrackedDeadline.subject_id == str(subject_id)
    )
    if purpose is not None:
        stmt = stmt.where(TrackedDeadline.purpose == purpose)
    return list(session.scalars(stmt.order_by(TrackedDeadline.id)))


def _recompute_rows(session: Session, calendar: WorkingCalendar, rows: Sequence[TrackedDeadline]) -> int:
    changed: list[TrackedDeadline] = []
    for row in rows:
        new = calendar.add_working_days(row.start_date, row.working_days)
        if new.date != row.due_date or new.provisional != row.provisional:
            row.due_date, row.provisional = new.date, new.provisional
            changed.append(row)
    if changed:
        session.flush()
        for hook in list(_HOOKS):
            hook(session, changed)
    return len(changed)


def recompute_provisional(session: Session, calendar: WorkingCalendar) -> int:
    """Recount every provisional deadline; return how many changed date or provisional flag.

    The rows that changed are handed to the callbacks registered with :func:`on_deadline_recomputed`.
    """
    rows = session.scalars(
        select(TrackedDeadline).where(TrackedDeadline.provisional.is_(True)).order_by(TrackedDeadline.id)
    ).all()
    return _recompute_rows(session, calendar, rows)


def recompute_year(session: Session, calendar: WorkingCalendar, year: int) -> int:
    """Recount provisional deadlines and every deadline whose span touches ``year``.

    Used after an import: a schedule imported over an already-known year (a correction, or an
    override of chinese_calendar) may move deadlines that were not provisional.
    """
    touches = and_(
        TrackedDeadline.start_date < dt.date(year, 12, 31), TrackedDeadline.due_date >= dt.date(year, 1, 1)
    )
    rows = session.scalars(
        select(TrackedDeadline)
        .where(or_(TrackedDeadline.provisional.is_(True), touches))
        .order_by(TrackedDeadline.id)
    ).all()
    return _recompute_rows(session, calendar, rows)


# --- importing a year ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    year: int
    holidays: int
    workdays: int
    created: bool
    recomputed: int
    """How many tracked deadlines changed date or provisional flag."""


def _validate_year(year: int, holidays: list[dt.date], workdays: list[dt.date]) -> None:
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise field_error("year", f"年份须为 {MIN_YEAR}–{MAX_YEAR} 之间的整数。")
    for field, days in (("holidays", holidays), ("workdays", workdays)):
        for d in days:
            if not isinstance(d, dt.date) or isinstance(d, dt.datetime):
                raise field_error(field, f"“{d}”不是日期。")
            if d.year != year:
                raise field_error(field, f"{d.isoformat()} 不在 {year} 年内。")
    if not holidays:
        raise field_error("holidays", f"{year} 年的节假日列表为空；每年至少应有一个法定节假日。")
    both = sorted(set(holidays) & set(workdays))
    if both:
        listed = "、".join(d.isoformat() for d in both)
        raise field_error("workdays", f"{listed} 同时列为节假日和调休上班日。")
    for d in sorted(set(workdays)):
        if _is_weekday(d):
            raise field_error(
                "workdays", f"{d.isoformat()} 是{_WEEKDAY_NAMES[d.weekday()]}，调休上班日应为星期六或星期日。"
            )


def import_year(
    session: Session,
    actor: Actor,
    year: int,
    holidays: list[dt.date],
    workdays: list[dt.date],
    note: str | None = None,
) -> ImportResult:
    """Store (or replace) a year's schedule, audit it and recount the deadlines it affects.

    Recounted: every provisional deadline and every deadline whose span touches the year (see
    :func:`recompute_year`). Nothing is stored when validation fails.
    """
    holidays, workdays = list(holidays), list(workdays)
    _validate_year(year, holidays, workdays)
    holiday_text = sorted({d.isoformat() for d in holidays})
    workday_text = sorted({d.isoformat() for d in workdays})
    row = session.get(CalendarYear, year)
    created = row is None
    if row is None:
        row = CalendarYear(year=year)
        session.add(row)
    row.holidays = holiday_text
    row.workdays = workday_text
    row.note = note
    row.imported_at = utcnow()
    row.imported_by = actor.name
    session.flush()
    recomputed = recompute_year(session, WorkingCalendar.load(session), year)
    audit.record(
        session,
        actor,
        "calendar.year_imported",
        "calendar_year",
        year,
        details={
            "year": year,
            "holidays": len(holiday_text),
            "workdays": len(workday_text),
            "replaced": not created,
            "recomputed": recomputed,
            "note": note,
        },
    )
    return ImportResult(year, len(holiday_text), len(workday_text), created, recomputed)


def list_years(session: Session) -> list[CalendarYear]:
    """The imported schedules, by year."""
    return list(session.scalars(select(CalendarYear).order_by(CalendarYear.year)))


_KINDS = {"holiday": "holiday", "休": "holiday", "workday": "workday", "班": "workday"}
_HEADERS = (["date", "kind"], ["日期", "类型"])
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_year_file(text: str) -> tuple[list[dt.date], list[dt.date]]:
    """Read the ``date,kind`` CSV described in the module docstring into (holidays, workdays).

    Every bad line is reported with its 1-based line number; ``InvalidInput`` lists them all.
    """
    holidays: dict[dt.date, int] = {}
    workdays: dict[dt.date, int] = {}
    errors: list[dict[str, Any]] = []

    def fail(line: int, message: str) -> None:
        errors.append({"field": "file", "row": line, "message": f"第 {line} 行：{message}"})

    seen_data = False
    for line, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in next(csv.reader([raw]), [])]
        while cells and not cells[-1]:
            cells.pop()
        if not seen_data and [c.lower() for c in cells] in _HEADERS:
            seen_data = True
            continue
        seen_data = True
        if len(cells) != 2 or not cells[0] or not cells[1]:
            fail(line, "每行应为“日期,类型”两列，例如 2027-01-01,holiday。")
            continue
        raw_date, raw_kind = cells
        try:
            if not _ISO_DATE.fullmatch(raw_date):
                raise ValueError(raw_date)
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            fail(line, f"日期“{raw_date}”无效，应为 YYYY-MM-DD 格式的真实日期。")
            continue
        kind = _KINDS.get(raw_kind.lower())
        if kind is None:
            fail(line, f"类型“{raw_kind}”无效，应为 holiday（休）或 workday（班）。")
            continue
        mine, other = (holidays, workdays) if kind == "holiday" else (workdays, holidays)
        if day in other:
            fail(line, f"{day.isoformat()} 已在第 {other[day]} 行列为另一类型。")
            continue
        mine.setdefault(day, line)
    if errors:
        first = errors[0]["message"]
        more = f"（共 {len(errors)} 处错误）" if len(errors) > 1 else ""
        raise InvalidInput(f"节假日文件有误：{first}{more}", errors=errors)
    return sorted(holidays), sorted(workdays)
