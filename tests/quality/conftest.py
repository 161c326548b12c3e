"""Resources with data to score (QUA-1) and to report problems on (QUA-2)."""

from __future__ import annotations

import pytest

from tests.aggregation.conftest import population_code, ric  # noqa: F401  (fixture reused)
from tests.aggregation.test_batches import csv_bytes, good_rows, upload  # noqa: F401
from tests.catalog.payloads import population, publish
from tests.support.jobs import settle


def load(client, headers, code: str, rows, **form) -> dict:
    """Upload a CSV batch and wait for its quality snapshot (stored by the event handler after it)."""
    response = upload(client, headers, code, csv_bytes(rows), **form)
    assert response.status_code == 201, response.text
    settle(client.app)
    return response.json()


def quality(client, headers, code: str) -> dict:
    response = client.get(f"/api/v1/resources/{code}/quality", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def insured_code(client, as_user) -> str:
    """市人社局's 参保人员信息: keyed by 公民身份号码 like 市公安局's 人口基础信息 (QUA-1 一致性)."""
    body = population(
        name="参保人员信息",
        summary="全市基本养老保险参保人员名册。",
        classification="201",
        update_cycle="monthly",
    )
    body["items"] = [body["items"][0], body["items"][1], body["items"][3]]  # 公民身份号码, 姓名, 出生日期
    return publish(client, as_user, "rs_officer", body)
