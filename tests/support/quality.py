"""Loading data and reading the quality it earns (QUA-1)."""

from __future__ import annotations

from tests.support.batches import csv_bytes, upload
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
