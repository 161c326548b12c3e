"""NF-4, NF-6: errors are problem+json without internals; health, metrics and API docs are served;
hostile input at the door breaks nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from govdata.orgs.models import User
from tests.support.http import PROBLEM, assert_problem, login


def test_unknown_path_is_a_404_problem(client):
    body = assert_problem(client.get("/api/v1/no-such-thing"), 404, "not-found")
    assert body["instance"] == "/api/v1/no-such-thing"
    assert_problem(client.get("/no/such/page"), 404)


def test_unknown_page_for_a_browser_is_a_chinese_page(client):
    response = client.get("/no/such/page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "页面不存在" in response.text


def test_wrong_method_is_a_405_problem(client, as_user):
    assert_problem(client.delete("/api/v1/me", headers=as_user("rs_user")), 405, "method-not-allowed")
    assert_problem(client.put("/healthz"), 405)


def test_malformed_json_is_a_422_problem_in_chinese(client, as_user):
    headers = {**as_user("dsj_officer"), "content-type": "application/json"}
    body = assert_problem(
        client.post("/api/v1/departments", content='{"name": "焦作市统计局", '.encode(), headers=headers),
        422,
        "invalid-input",
    )
    assert "JSON" in body["detail"] and body["errors"]


def test_invalid_fields_are_named(client, as_user):
    headers = as_user("dsj_officer")
    body = assert_problem(
        client.post("/api/v1/departments", json={"name": "焦作市统计局", "uscc": 42}, headers=headers), 422
    )
    fields = {e["field"] for e in body["errors"]}
    assert {"uscc", "region_code"} <= fields
    assert all(e["message"] for e in body["errors"])
    assert "行政区划代码" in body["detail"]  # the field's Chinese name


def test_unexpected_failure_is_a_500_problem_without_internals(client, as_user, monkeypatch):
    from govdata.orgs import service

    headers = as_user("rs_user")

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals at /srv/govdata/app.py line 42")

    monkeypatch.setattr(service, "me", explode)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"].endswith(":internal-error") and "服务器内部错误" in body["detail"]
    for leaked in ("Traceback", "secret internals", "RuntimeError", "/srv/govdata"):
        assert leaked not in response.text
    page = client.get("/api/v1/me", headers={**headers, "accept": "text/html"})
    assert page.status_code == 500 and "secret internals" not in page.text
    # the server keeps serving
    monkeypatch.undo()
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_health_check(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_metrics_count_requests(client, as_user):
    client.get("/api/v1/me", headers=as_user("rs_user"))
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    lines = [line for line in metrics.text.splitlines() if line.startswith("govdata_http_requests_total{")]
    assert any('route="/api/v1/me"' in line and 'status="200"' in line for line in lines), lines
    assert "govdata_http_request_seconds" in metrics.text


def test_api_documentation_loads(client):
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = client.get("/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/auth/token", "/api/v1/me", "/api/v1/calendar/deadline", "/api/v1/policy/profiles"):
        assert path in paths
    assert "/login" not in paths  # pages are not part of the API


@pytest.mark.parametrize(
    ("username", "password", "status"),
    [
        ("a" * 10_000, "x", 422),
        ("ga_officer", "p" * 10_000, 422),
        ("'; DROP TABLE users;--", "x", 401),
        ("ga_officer' OR '1'='1", "' OR '1'='1", 401),
        ("ga_officer\x00", "Jiaozuo@2026", 401),
        ("ga_officer", "Jiaozuo@2026\x00", 401),
        ("😀用户", "密码🔑", 401),
        ("", "", 422),
    ],
)
def test_hostile_logins_are_refused_and_break_nothing(client, session, username, password, status):
    users_before = session.scalar(select(func.count()).select_from(User))
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert_problem(response, status)
    assert "Traceback" not in response.text
    page = client.post(
        "/login", data={"username": username, "password": password}, headers={"accept": "text/html"}
    )
    assert page.status_code in (401, 422) and "Traceback" not in page.text
    # the users table is still there, unchanged, and the real account still logs in
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(User)) == users_before
    assert login(client, "ga_officer")


def test_nul_characters_elsewhere_are_422_not_500(client, as_user):
    admin = as_user("admin")
    for path, params in (
        ("/api/v1/audit/events", {"actor": "ga\x00officer"}),
        ("/api/v1/audit/events", {"action": "auth\x00"}),
    ):
        assert_problem(client.get(path, params=params, headers=admin), 422)
    assert_problem(client.post("/api/v1/policy/profiles/x%00y/activate", headers=admin), 422)
    body = assert_problem(
        client.post("/api/v1/policy/profiles", json={"name": "nul", "label": "坏\x00名"}, headers=admin), 422
    )
    assert body["errors"][0]["field"] == "label"
    assert_problem(
        client.post(
            "/api/v1/calendar/years",
            json={"year": 2027, "holidays": ["2027-01-01"], "note": "\x00"},
            headers=admin,
        ),
        422,
    )
    assert client.get("/api/v1/audit/verify", headers=admin).json()["ok"] is True


def test_a_change_that_cannot_be_committed_is_not_reported_as_done(client, as_user, monkeypatch):
    """The unit of work commits before the answer leaves: a failed commit is a 500, never a 201."""
    from sqlalchemy.orm import Session

    admin = as_user("admin")
    real_commit = Session.commit

    def failing_commit(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Session, "commit", failing_commit)
    response = client.post(
        "/api/v1/calendar/years", json={"year": 2027, "holidays": ["2027-01-01"]}, headers=admin
    )
    monkeypatch.setattr(Session, "commit", real_commit)
    assert response.status_code == 500, response.text
    assert "disk full" not in response.text
    assert client.get("/api/v1/calendar/years", headers=admin).json() == []
