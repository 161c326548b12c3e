"""Calling the API in tests: logging a demo user in, and what every problem response must look like."""

from __future__ import annotations

from fastapi.testclient import TestClient

from govdata.demo import DEMO_PASSWORD

ADMIN_PASSWORD = "Admin@Test-2026"
PROBLEM = "application/problem+json"


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """Bearer headers of ``username``, logged in through the API."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def assert_problem(response, status: int, slug: str | None = None) -> dict:
    """A problem+json answer with ``status``, an English title and a Chinese detail; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["detail"]), "detail must be Chinese"
    if slug:
        assert body["type"].endswith(":" + slug), body["type"]
    return body
