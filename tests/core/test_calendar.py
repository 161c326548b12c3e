"""Working days (CAL-1, CAL-2): counting, provisional years, imports and tracked deadlines."""

from __future__ import annotations

import datetime as dt
import json

import chinese_calendar
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from govdata.core.audit import AuditEvent
from govdata.core.auth import SYSTEM_ACTOR
from govdata.core.calendar import (
    CalendarYear,
    Deadline,
    TrackedDeadline,
    WorkingCalendar,
    YearSchedule,
    chinese_calendar_years,
    deadlines_for,
    extend_deadline,
    import_year,
    on_deadline_recomputed,
    parse_year_file,
    recompute_provisional,
    remove_deadline_hook,
    track_deadline,
)
from govdata.core.errors import InvalidInput

D = dt.date
CAL = WorkingCalendar()

# A plausible 2027 schedule (the State Council publishes the real one late in 2026).
HOLIDAYS_2027 = [D(2027, 1, 1), *[D(2027, 2, d) for d in range(5, 12)], D(2027, 4, 5)]
WORKDAYS_2027 = [D(2027, 2, 13)]  # a Saturday


# --- counting -------------------------------------------------------------------------------------


def test_package_agrees_with_the_example():
    assert chinese_calendar.is_workday(D(2026, 10, 10))  # make-up working Saturday
    assert not any(chinese_calendar.is_workday(D(2026, 10, d)) for d in range(1, 8))


def test_national_day_example():
    assert CAL.add_working_days(D(2026, 9, 25), 10) == Deadline(D(2026, 10, 15), False)


def test_day_one_is_the_next_working_day():
    assert CAL.add_working_days(D(2026, 11, 20), 1) == Deadline(D(2026, 11, 23), False)  # Fri -> Mon
    assert CAL.add_working_days(D(2026, 11, 21), 1).date == D(2026, 11, 23)  # from a Saturday
    assert CAL.add_working_days(D(2026, 11, 23), 1).date == D(2026, 11, 24)


def test_zero_days_is_the_start():
    assert CAL.add_working_days(D(2026, 11, 21), 0) == Deadline(D(2026, 11, 21), False)
    assert CAL.add_working_days(D(2027, 6, 1), 0) == Deadline(D(2027, 6, 1), False)


def test_negative_days_refused():
    with pytest.raises(InvalidInput):
        CAL.add_working_days(D(2026, 1, 5), -1)
    with pytest.raises(InvalidInput):
        CAL.add_working_days(D(2026, 1, 5), 10**9)
    with pytest.raises(InvalidInput):
        CAL.add_working_days(dt.date.max, 1)


def test_covered_range_found_by_probing():
    years = chinese_calendar_years()
    assert min(years) == 2004
    assert 2026 in years and 2027 not in years
    assert set(range(min(years), max(years) + 1)) == set(years)


def _naive(start: dt.date, n: int) -> dt.date:
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day):  # raises NotImplementedError past the covered range
            n -= 1
    return day


@settings(max_examples=300, deadline=None)
@given(start=st.dates(D(2004, 1, 1), D(2026, 12, 31)), n=st.integers(0, 60))
def test_agrees_with_chinese_calendar(start, n):
    try:
        expected = _naive(start, n)
    except NotImplementedError:
        assume(False)
    assert CAL.add_working_days(start, n) == Deadline(expected, False)
    assert CAL.is_working_day(start) == chinese_calendar.is_workday(start)


# --- years without a schedule ------------------------------------------------------------------------


def test_2027_counts_monday_to_friday_and_is_provisional():
    assert not CAL.year_is_known(2027)
    assert CAL.is_working_day(D(2027, 1, 1))  # a Friday; New Year's Day is not known yet
    assert not CAL.is_working_day(D(2027, 1, 2))
    # Mon 2027-03-01 + 5 working days = Mon 2027-03-08
    assert CAL.add_working_days(D(2027, 3, 1), 5) == Deadline(D(2027, 3, 8), True)


def test_span_into_2027_is_provisional():
    # Fri 2026-12-25: 28, 29, 30, 31 Dec, then 1, 4, 5, 6, 7, 8 Jan 2027 (Mon–Fri)
    assert CAL.add_working_days(D(2026, 12, 25), 10) == Deadline(D(2027, 1, 8), True)
    # a span that stays in 2026 is not provisional
    assert CAL.add_working_days(D(2026, 12, 25), 4) == Deadline(D(2026, 12, 31), False)
    # starting on 31 December, the span is entirely in the next year
    assert CAL.add_working_days(D(2026, 12, 31), 1).provisional


@settings(max_examples=300, deadline=None)
@given(start=st.dates(D(1900, 1, 1), D(2200, 12, 31)), n=st.integers(0, 400))
def test_never_crashes_1900_to_2200(start, n):
    deadline = CAL.add_working_days(start, n)
    assert deadline.date >= start
    assert CAL.working_days_between(start, deadline.date) == n
    if n and (start.year < 2004 or start.year > 2026):
        assert deadline.provisional


@settings(max_examples=300, deadline=None)
@given(a=st.dates(D(2000, 1, 1), D(2030, 12, 31)), b=st.dates(D(2000, 1, 1), D(2030, 12, 31)))
def test_working_days_between_is_consistent(a, b):
    k = CAL.working_days_between(a, b)
    assert CAL.working_days_between(b, a) == -k
    if a <= b:
        assert k >= 0
        assert CAL.add_working_days(a, k).date <= b
        assert CAL.add_working_days(a, k + 1).date > b
        assert k == sum(CAL.is_working_day(a + dt.timedelta(days=i)) for i in range(1, (b - a).days + 1))


@settings(max_examples=200, deadline=None)
@given(start=st.dates(D(2003, 1, 1), D(2030, 12, 31)), n=st.integers(0, 300), m=st.integers(0, 30))
def test_addition_is_additive(start, n, m):
    first = CAL.add_working_days(start, n).date
    assert CAL.add_working_days(first, m).date == CAL.add_working_days(start, n + m).date


def test_imported_schedule_in_a_pure_calendar():
    cal = WorkingCalendar(imported={2027: YearSchedule(frozenset(HOLIDAYS_2027), frozenset(WORKDAYS_2027))})
    assert cal.year_is_known(2027)
    assert not cal.is_working_day(D(2027, 1, 1))
    assert cal.is_working_day(D(2027, 2, 13))
    assert cal.add_working_days(D(2026, 12, 25), 10) == Deadline(D(2027, 1, 11), False)


def test_imported_schedule_overrides_the_package():
    cal = WorkingCalendar(imported={2026: YearSchedule(frozenset({D(2026, 11, 20)}), frozenset())})
    assert cal.year_source(2026) == "imported"
    assert not cal.is_working_day(D(2026, 11, 20))
    assert not cal.is_working_day(D(2026, 10, 10))  # the package's make-up Saturday is not in this schedule
    assert cal.is_working_day(D(2026, 10, 1))  # nor its holidays


# --- tracked deadlines and imports -------------------------------------------------------------------


def test_track_and_extend(session):
    cal = WorkingCalendar.load(session)
    row = track_deadline(session, cal, "objection", 7, "correction_review", D(2026, 9, 25), 10)
    assert (row.due_date, row.provisional) == (D(2026, 10, 15), False)
    extend_deadline(session, cal, row, 10)
    assert row.working_days == 20
    assert row.due_date == cal.add_working_days(D(2026, 10, 15), 10).date == D(2026, 10, 29)
    assert deadlines_for(session, "objection", "7") == [row]
    assert deadlines_for(session, "objection", 7, "share_reply") == []
    with pytest.raises(InvalidInput):
        extend_deadline(session, cal, row, -1)


def test_import_recomputes_provisional_deadlines(session):
    cal = WorkingCalendar.load(session)
    row = track_deadline(session, cal, "application", "42", "share_reply", D(2026, 12, 25), 10)
    inside = track_deadline(session, cal, "application", "43", "share_reply", D(2026, 9, 25), 10)
    assert (row.due_date, row.provisional) == (D(2027, 1, 8), True)
    session.commit()

    seen: list[list[TrackedDeadline]] = []

    def hook(s, changed):
        assert s is session
        seen.append(list(changed))

    on_deadline_recomputed(hook)
    on_deadline_recomputed(hook)  # registering twice has no effect
    try:
        result = import_year(session, SYSTEM_ACTOR, 2027, HOLIDAYS_2027, WORKDAYS_2027, note="测试")
    finally:
        remove_deadline_hook(hook)
    session.commit()

    assert (result.year, result.holidays, result.workdays) == (2027, 9, 1)
    assert result.created
    assert len(seen) == 1 and row in seen[0] and inside not in seen[0]
    assert result.recomputed == len(seen[0])
    session.refresh(row)
    assert (row.due_date, row.provisional) == (D(2027, 1, 11), False)
    assert (inside.due_date, inside.provisional) == (D(2026, 10, 15), False)

    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "calendar.year_imported")
        .order_by(AuditEvent.seq.desc())
    ).first()
    details = json.loads(event.details)
    assert details["year"] == 2027 and details["holidays"] == 9
    assert details["recomputed"] == result.recomputed

    stored = session.get(CalendarYear, 2027)
    assert stored.imported_by == SYSTEM_ACTOR.name
    assert stored.holidays[0] == "2027-01-01"
    assert WorkingCalendar.load(session).add_working_days(D(2027, 2, 4), 1).date == D(2027, 2, 12)
    assert recompute_provisional(session, WorkingCalendar.load(session)) == 0


def test_reimport_replaces_and_recounts_known_year(session):
    import_year(session, SYSTEM_ACTOR, 2027, HOLIDAYS_2027, WORKDAYS_2027)
    cal = WorkingCalendar.load(session)
    row = track_deadline(session, cal, "task", "1", "catalog_update", D(2027, 1, 29), 5)
    assert (row.due_date, row.provisional) == (D(2027, 2, 12), False)  # 1, 2, 3, 4 Feb, 12 Feb
    # a corrected schedule: 春节 ends on 10 February
    result = import_year(
        session, SYSTEM_ACTOR, 2027, [D(2027, 1, 1), *[D(2027, 2, d) for d in range(5, 11)]], WORKDAYS_2027
    )
    assert not result.created and result.recomputed >= 1
    assert row.due_date == D(2027, 2, 11)
    assert session.scalar(select(func.count()).select_from(CalendarYear)) == 1


def test_import_overrides_covered_year(session):
    cal = WorkingCalendar.load(session)
    row = track_deadline(session, cal, "task", "2", "catalog_update", D(2026, 11, 19), 1)
    assert row.due_date == D(2026, 11, 20)
    holidays = [
        d for d in chinese_calendar.get_holidays(D(2026, 1, 1), D(2026, 12, 31), include_weekends=False)
    ]
    workdays = chinese_calendar.get_workdays(D(2026, 1, 1), D(2026, 12, 31), include_weekends=True)
    workdays = [d for d in workdays if d.weekday() >= 5]
    import_year(session, SYSTEM_ACTOR, 2026, [*holidays, D(2026, 11, 20)], workdays)
    cal = WorkingCalendar.load(session)
    assert cal.year_source(2026) == "imported"
    assert not cal.is_working_day(D(2026, 11, 20))
    assert cal.add_working_days(D(2026, 9, 25), 10).date == D(2026, 10, 15)  # same as the package
    assert row.due_date == D(2026, 11, 23)


@pytest.mark.parametrize(
    ("holidays", "workdays", "field", "fragment"),
    [
        ([D(2028, 1, 1)], [], "holidays", "不在 2027 年内"),
        ([D(2027, 1, 1), D(2027, 2, 6)], [D(2027, 2, 6)], "workdays", "同时列为"),
        ([D(2027, 1, 1)], [D(2027, 2, 10)], "workdays", "星期三"),
        ([], [], "holidays", "为空"),
    ],
)
def test_invalid_imports_store_nothing(session, holidays, workdays, field, fragment):
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(InvalidInput) as caught:
        import_year(session, SYSTEM_ACTOR, 2027, holidays, workdays)
    assert caught.value.extra["errors"][0]["field"] == field
    assert fragment in caught.value.detail
    assert session.get(CalendarYear, 2027) is None
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_year_out_of_range_refused(session):
    with pytest.raises(InvalidInput, match="年份"):
        import_year(session, SYSTEM_ACTOR, 1899, [D(1899, 1, 1)], [])


# --- year files -----------------------------------------------------------------------------------


def test_parse_year_file():
    text = (
        "\ufeff# 2027 年安排\ndate,kind\n\n"
        "2027-01-01,holiday\n2027-02-06,休\n2027-02-13,班\n2027-02-20,workday\n"
    )
    holidays, workdays = parse_year_file(text)
    assert holidays == [D(2027, 1, 1), D(2027, 2, 6)]
    assert workdays == [D(2027, 2, 13), D(2027, 2, 20)]
    assert parse_year_file("日期,类型\r\n2027-01-01,HOLIDAY\r\n") == ([D(2027, 1, 1)], [])


@pytest.mark.parametrize(
    ("text", "row", "fragment"),
    [
        ("date,kind\n2027-01-01,holiday\nthis is garbage\n", 3, "两列"),
        ("2027-01-01,holiday\n2027-02-30,holiday\n", 2, "日期"),
        ("2027-01-01,holiday\n2027-01-02,vacation\n", 2, "类型"),
        ("2027-01-01,holiday\n\n2027-01-01,workday\n", 3, "另一类型"),
        ("20270101,holiday\n", 1, "YYYY-MM-DD"),
        ("2027-01-01,holiday,extra\n", 1, "两列"),
    ],
)
def test_parse_year_file_errors(text, row, fragment):
    with pytest.raises(InvalidInput) as caught:
        parse_year_file(text)
    assert f"第 {row} 行" in caught.value.detail
    assert fragment in caught.value.detail
    assert caught.value.extra["errors"][0]["row"] == row
