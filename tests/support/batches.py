"""Data to load into 市公安局's 人口基础信息 (JOURNEYS 1): valid 公民身份号码, rows, CSV files, uploads, and
the ``population_code`` fixture of a published resource to load them into."""

from __future__ import annotations

import csv
import io

import pytest

from govdata.core.ids import ric_check_digit
from tests.support.catalog import population

HEADER = ["公民身份号码", "姓名", "性别", "出生日期", "户籍地址"]


def ric(first17: str) -> str:
    """A valid 公民身份号码 from its first 17 digits."""
    return first17 + ric_check_digit(first17)


def good_rows(n: int, start: int = 0) -> list[list[str]]:
    rows = []
    for i in range(start, start + n):
        first17 = f"4108021985{(i % 12) + 1:02d}{(i % 28) + 1:02d}{i % 1000:03d}"
        rows.append(
            [
                ric(first17),
                f"居民{i}",
                str(1 + i % 2),
                f"1985-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}",
                f"焦作市解放区民主路{i}号",
            ]
        )
    return rows


def csv_bytes(rows, encoding="utf-8", header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(client, headers, code, data: bytes, name="export.csv", **form):
    form.setdefault("mode", "upsert")
    return client.post(
        f"/api/v1/resources/{code}/batches",
        files={"file": (name, data, "text/csv")},
        data=form,
        headers=headers,
    )


@pytest.fixture
def population_code(client, as_user) -> str:
    """市公安局's published 人口基础信息 (性别 optional), ready for batches."""
    officer = as_user("ga_officer")
    body = population()
    body["items"][2]["required"] = False
    response = client.post("/api/v1/resources", json=body, headers=officer)
    assert response.status_code == 201, response.text
    code = response.json()["code"]
    client.post(f"/api/v1/resources/{code}/submit", headers=officer)
    assert client.post(f"/api/v1/resources/{code}/publish", headers=as_user("dsj_officer")).status_code == 200
    return code
