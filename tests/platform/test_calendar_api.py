"""CAL-1, CAL-2 over the API: deadlines in working days, provisional years, schedule imports."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from govdata.core.audit import AuditEvent
from govdata.core.calendar import TrackedDeadline, WorkingCalendar, track_deadline
from tests.support.http import assert_problem

D = dt.date
DEADLINE = "/api/v1/calendar/deadline"
YEARS = "/api/v1/calendar/years"

# A plausible 2027 schedule (the State Council publishes the real one late in 2026).
SCHEDULE_2027 = {
    "year": 2027,
    "holidays": ["2027-01-01", *[f"2027-02-{d:02d}" for d in range(5, 12)], "2027-04-05"],
    "workdays": ["2027-02-13"],
    "note": "国办发明电〔2026〕测试号",
}
SCHEDULE_2027_CSV = (
    "# 2027 年部分节假日安排\n"
    "date,kind\n"
    "2027-01-01,holiday\n" + "".join(f"2027-02-{d:02d},休\n" for d in range(5, 12)) + "2027-02-13,班\n"
    "2027-04-05,holiday\n"
)


def deadline(client, headers, start: str, working_days: int | str):
    return client.get(DEADLINE, params={"start": start, "working_days": working_days}, headers=headers)


def test_national_day_holidays_are_skipped(client, as_user):
    answer = deadline(client, as_user("rs_user"), "2026-09-25", 10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["deadline"], body["provisional"]) == ("2026-10-15", False)
    assert body["note"] is None and body["unpublished_years"] == []


def test_a_year_without_a_schedule_is_provisional_and_never_crashes(client, as_user):
    headers = as_user("ga_officer")
    body = deadline(client, headers, "2027-03-01", 5).json()
    assert (body["deadline"], body["provisional"]) == ("2027-03-08", True)  # Monday to Friday
    assert body["unpublished_years"] == [2027] and "暂定" in body["note"]
    # a span from 2026 into 2027 is provisional too
    body = deadline(client, headers, "2026-12-25", 10).json()
    assert (body["deadline"], body["provisional"]) == ("2027-01-08", True)
    # far away years are counted, not refused
    for start in ("2099-06-30", "1950-01-01", "2200-12-31"):
        answer = deadline(client, headers, start, 1000)
        assert answer.status_code == 200, answer.text
        assert answer.json()["provisional"] is True


def test_importing_a_schedule_makes_deadlines_final_and_recomputes_stored_ones(client, as_user, session):
    # a share application's reply deadline, registered before the 2027 schedule was published
    row = track_deadline(
        session, WorkingCalendar.load(session), "application", "9001", "share_reply", D(2026, 12, 25), 10
    )
    session.commit()
    assert (row.due_date, row.provisional) == (D(2027, 1, 8), True)

    reader = as_user("rs_user")
    imported = client.post(YEARS, json=SCHEDULE_2027, headers=as_user("admin"))
    assert imported.status_code == 201, imported.text
    body = imported.json()
    assert (body["year"], body["holidays"], body["workdays"], body["created"]) == (2027, 9, 1, True)
    assert body["recomputed"] >= 1

    # New Year's Day is now a holiday: the deadline moves by one working day and is final
    answer = deadline(client, reader, "2026-12-25", 10).json()
    assert (answer["deadline"], answer["provisional"]) == ("2027-01-11", False)
    assert deadline(client, reader, "2027-02-04", 1).json() == {
        "start": "2027-02-04",
        "working_days": 1,
        "deadline": "2027-02-12",
        "provisional": False,
        "unpublished_years": [],
        "note": None,
    }
    session.expire_all()
    stored = session.get(TrackedDeadline, row.id)
    assert (stored.due_date, stored.provisional) == (D(2027, 1, 11), False)

    years = client.get(YEARS, headers=reader).json()
    assert [(y["year"], y["imported_by"], y["note"]) for y in years] == [
        (2027, "admin", SCHEDULE_2027["note"])
    ]
    event = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "calendar.year_imported")
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert event.actor == "admin" and event.object_id == "2027"


def test_counts_are_of_distinct_days_and_a_reimport_replaces(client, as_user):
    admin = as_user("admin")
    doubled = {**SCHEDULE_2027, "holidays": SCHEDULE_2027["holidays"] * 2}
    body = client.post(YEARS, json=doubled, headers=admin).json()
    assert (body["holidays"], body["workdays"], body["created"]) == (9, 1, True)
    again = client.post(
        YEARS, json={**SCHEDULE_2027, "holidays": ["2027-01-01"], "workdays": []}, headers=admin
    ).json()
    assert (again["holidays"], again["workdays"], again["created"]) == (1, 0, False)
    assert [y["holidays"] for y in client.get(YEARS, headers=admin).json()] == [["2027-01-01"]]


def test_a_csv_schedule_can_be_uploaded(client, as_user):
    uploaded = client.post(
        f"{YEARS}/2027/file",
        files={"file": ("2027.csv", ("\ufeff" + SCHEDULE_2027_CSV).encode(), "text/csv")},
        data={"note": "国办发明电"},
        headers=as_user("admin"),
    )
    assert uploaded.status_code == 201, uploaded.text
    assert (uploaded.json()["holidays"], uploaded.json()["workdays"]) == (9, 1)
    answer = deadline(client, as_user("rs_user"), "2027-02-04", 1).json()
    assert (answer["deadline"], answer["provisional"]) == ("2027-02-12", False)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"date,kind\n2027-01-01,holiday\n2027-02-30,holiday\n", "第 3 行"),
        (b"2027-01-01,holiday\n2027-01-02,vacation\n", "类型"),
        ("2027-01-01,休\n".encode("gbk"), "UTF-8"),
        (b"", "为空"),
        (b"2028-01-01,holiday\n", "不在 2027 年内"),
    ],
)
def test_bad_csv_files_are_refused_with_the_reason(client, as_user, content, fragment):
    response = client.post(
        f"{YEARS}/2027/file", files={"file": ("2027.csv", content, "text/csv")}, headers=as_user("admin")
    )
    body = assert_problem(response, 422)
    assert fragment in body["detail"]
    assert client.get(YEARS, headers=as_user("admin")).json() == []


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"holidays": ["2028-01-01"]}, "holidays", "不在 2027 年内"),
        ({"workdays": ["2027-03-10"]}, "workdays", "星期三"),
        ({"workdays": ["2027-01-01"]}, "workdays", "同时列为"),
        ({"holidays": ["garbage"]}, "holidays.0", "日期"),
        ({"year": 1800}, "year", "应不小于 1900"),
    ],
)
def test_invalid_schedules_are_refused_and_nothing_changes(client, as_user, change, field, fragment):
    admin = as_user("admin")
    body = assert_problem(client.post(YEARS, json={**SCHEDULE_2027, **change}, headers=admin), 422)
    assert body["errors"][0]["field"] == field
    assert fragment in body["detail"]
    assert client.get(YEARS, headers=admin).json() == []
    assert deadline(client, admin, "2027-03-01", 5).json()["provisional"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-09-25", "working_days": -1}, "working_days"),
        ({"start": "2026-09-25", "working_days": 1001}, "working_days"),
        ({"start": "2026-09-25", "working_days": "ten"}, "working_days"),
        ({"start": "garbage", "working_days": 10}, "start"),
        ({"start": "2026-02-30", "working_days": 10}, "start"),
        ({"working_days": 10}, "start"),
    ],
)
def test_bad_deadline_questions_get_chinese_422(client, as_user, params, field):
    body = assert_problem(client.get(DEADLINE, params=params, headers=as_user("rs_user")), 422)
    assert body["errors"][0]["field"] == field


def test_only_the_administrator_imports_schedules(client, as_user):
    for username in ("ga_officer", "dsj_officer", "auditor"):
        assert_problem(client.post(YEARS, json=SCHEDULE_2027, headers=as_user(username)), 403, "forbidden")
        assert_problem(
            client.post(
                f"{YEARS}/2027/file",
                files={"file": ("2027.csv", SCHEDULE_2027_CSV.encode(), "text/csv")},
                headers=as_user(username),
            ),
            403,
        )
    # a forbidden import changes nothing
    assert client.get(YEARS, headers=as_user("admin")).json() == []


def test_anonymous_callers_get_401(client):
    assert_problem(client.get(DEADLINE, params={"start": "2026-09-25", "working_days": 10}), 401)
    assert_problem(client.post(YEARS, json=SCHEDULE_2027), 401)
    assert_problem(client.get(YEARS), 401)
