"""Objections in tests: 市公安局's shared population resource holding ``people(20)``, 市人社局's grant of
its base items (unconditional, granted at once) for query, and filing an objection through the API."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
import pytest

from tests.support.sharing import grant, people

BASE_ITEMS = ["gmsfhm", "xm", "xb", "csrq", "hjdz"]
TODAY = dt.date(2026, 9, 28)  # a Monday before the National Day holidays


def china_wd_after(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start`` by chinese_calendar itself (the reference)."""
    day, seen = start, 0
    while seen < n:
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day):
            seen += 1
    return day


@pytest.fixture
def records() -> list[dict]:
    """The records ``shared_code`` holds."""
    return people(20)


@pytest.fixture
def granted(client, as_user, shared_code, system) -> dict:
    """市人社局's grant of the base items of the shared population resource (query)."""
    return grant(client, as_user, shared_code, system["id"], BASE_ITEMS)


def objection_body(code: str, key: str, items: dict, reason: str = "户籍已更名，姓名有误", **extra) -> dict:
    return {"resource_code": code, "key": key, "items": items, "reason": reason, **extra}


def file(client, headers, code: str, key: str, items: dict, **extra) -> dict:
    """File an objection through the API (201 expected); the objection."""
    response = client.post(
        "/api/v1/objections", json=objection_body(code, key, items, **extra), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def query(client, headers, code: str, *keys: str) -> dict:
    response = client.get(f"/api/v1/share/{code}/records", params=[("key", k) for k in keys], headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
