"""A published 人口基础信息 of 市公安局 to load data into (JOURNEYS 1)."""

from __future__ import annotations

import pytest

from govdata.core.ids import ric_check_digit
from tests.catalog.payloads import population


def ric(first17: str) -> str:
    return first17 + ric_check_digit(first17)


@pytest.fixture
def population_code(client, as_user) -> str:
    officer = as_user("ga_officer")
    body = population()
    body["items"][2]["required"] = False
    response = client.post("/api/v1/resources", json=body, headers=officer)
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    client.post(f"/api/v1/resources/{code}/submit", headers=officer)
    assert client.post(f"/api/v1/resources/{code}/publish", headers=as_user("dsj_officer")).status_code == 200
    return code
