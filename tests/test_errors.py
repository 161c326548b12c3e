"""Issue 12 item 14: what a careless or hostile caller sends is answered with the right problem, never
a 500 nor the framework's English: bodies the server cannot read (JSON nested too deep or not UTF-8, a
malformed multipart body, a file name longer than a part header may be), an instant that cannot be
converted, an action on a code without its slash (404, not 405), and 405s that say what is allowed."""

from __future__ import annotations

import re

import pytest
from fastapi import params
from fastapi.routing import APIRoute, iter_route_contexts

from tests.support.batches import csv_bytes, good_rows, population_code  # noqa: F401  (fixture)
from tests.support.http import assert_problem

DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


def _fill(template: str) -> str:
    path = re.sub(r"\{[^}]+:rcode\}", "101/002000001", template)
    return re.sub(r"\{[^}]+\}", "1", path)


def json_body_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every API route reading a JSON body: those the framework parses (a body
    parameter that is not a form) and the batch route, which parses its own."""
    found = []
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.path.startswith("/api/"):
            continue
        body = route.body_field
        if (body is not None and not isinstance(body.field_info, params.Form)) or route.path.endswith(
            "/batches"
        ):
            found += [(method, route.path) for method in sorted(route.methods) if method != "GET"]
    return found


def test_a_deeply_nested_json_body_is_a_422_on_every_json_route(client, as_user):
    headers = {**as_user("ga_officer"), "content-type": "application/json"}
    routes = json_body_routes(client.app)
    assert ("POST", "/api/v1/resources/{code:rcode}/batches") in routes and len(routes) >= 20
    for method, template in routes:
        response = client.request(method, _fill(template), content=DEEP_JSON, headers=headers)
        body = assert_problem(response, 422, "invalid-input")
        assert "JSON" in body["detail"], f"{method} {template}: {body}"


def test_a_json_body_that_is_not_utf8_is_a_422_in_chinese(client, as_user):
    headers = {**as_user("dsj_officer"), "content-type": "application/json"}
    response = client.post("/api/v1/departments", content=b'{"name": "\xff\xfe\xfa"}', headers=headers)
    body = assert_problem(response, 422, "invalid-input")
    assert body["errors"][0]["field"] == "body" and "JSON" in body["detail"]
    assert "parsing the body" not in response.text


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("multipart/form-data; boundary=xx", b"not a multipart body at all"),
        ("multipart/form-data", b"--xx\r\n\r\n--xx--\r\n"),  # no boundary
    ],
)
def test_a_malformed_multipart_body_is_a_400_in_chinese(client, as_user, content_type, content):
    headers = {**as_user("ga_officer"), "content-type": content_type}
    for path in ("/api/v1/resources/101/002000001/batches", "/api/v1/catalog/import"):
        body = assert_problem(client.post(path, content=content, headers=headers), 400, "malformed-body")
        assert "multipart" in body["detail"] or "表单" in body["detail"]
    assert "Invalid multipart" not in client.post(path, content=content, headers=headers).text


def test_an_over_long_file_name_is_a_400_naming_the_file_name(client, as_user, population_code):  # noqa: F811
    officer = as_user("ga_officer")
    name = "人口" * 1500 + ".csv"  # 9 KB in UTF-8: beyond what a part header may hold
    response = client.post(
        f"/api/v1/resources/{population_code}/batches",
        files={"file": (name, csv_bytes(good_rows(2)), "text/csv")},
        data={"mode": "upsert"},
        headers=officer,
    )
    body = assert_problem(response, 400, "malformed-body")
    assert "文件名" in body["detail"]
    # a long name the parser can read is kept, shortened
    response = client.post(
        f"/api/v1/resources/{population_code}/batches",
        files={"file": ("人" * 400 + ".csv", csv_bytes(good_rows(2)), "text/csv")},
        data={"mode": "upsert"},
        headers=officer,
    )
    assert response.status_code == 201, response.text


def test_a_part_beyond_the_upload_limit_is_a_413_in_chinese(app, as_user, population_code):  # noqa: F811
    from fastapi.testclient import TestClient

    app.state.settings = app.state.settings.model_copy(update={"max_upload_mb": 0})
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            f"/api/v1/resources/{population_code}/batches",
            files={"file": ("big.csv", csv_bytes(good_rows(100)), "text/csv")},
            data={"mode": "upsert"},
            headers=as_user("ga_officer"),
        )
    assert_problem(response, 413, "payload-too-large")


@pytest.mark.parametrize("as_of", ["0001-01-01", "0001-01-01T00:00:00", "9999-12-31T23:59:59-14:00"])
def test_an_as_of_that_cannot_be_converted_is_a_422(client, as_user, population_code, as_of):  # noqa: F811
    response = client.get(
        f"/api/v1/share/{population_code}/records", params={"as_of": as_of}, headers=as_user("ga_officer")
    )
    body = assert_problem(response, 422, "invalid-input")
    assert body["errors"][0]["field"] == "as_of"
    # an instant that exists is answered
    fine = client.get(
        f"/api/v1/share/{population_code}/records",
        params={"as_of": "2026-01-01T00:00:00+08:00"},
        headers=as_user("ga_officer"),
    )
    assert fine.status_code == 200, fine.text


@pytest.mark.parametrize(
    ("method", "path", "username"),
    [
        ("POST", "/api/v1/resources/abc/submit", "ga_officer"),
        ("POST", "/api/v1/resources/abc/publish", "dsj_officer"),
        ("GET", "/api/v1/resources/abc/versions", "dsj_officer"),
        ("POST", "/api/v1/resources/abc/batches", "ga_officer"),
        ("GET", "/api/v1/resources/abc", "dsj_officer"),
    ],
)
def test_an_action_on_a_code_without_its_slash_is_a_404(client, as_user, method, path, username):
    headers, records = as_user(username), {"records": [{"gmsfhm": "1"}]}  # what a batch would send
    body = assert_problem(client.request(method, path, json=records, headers=headers), 404, "not-found")
    assert body["detail"] == "资源 abc 不存在。"
    # a code of the right form that does not exist: the service's own 404
    real_form = path.replace("abc", "101/999999999")
    body = assert_problem(client.request(method, real_form, json=records, headers=headers), 404)
    assert "101/999999999" in body["detail"]


def test_a_405_says_which_methods_the_path_allows(client, as_user):
    response = client.delete("/api/v1/me", headers=as_user("rs_user"))
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "GET"
    # a path several routes share lists them all
    response = client.put("/api/v1/resources/101/002000001", headers=as_user("rs_user"))
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "GET, PATCH"
    response = client.delete("/api/v1/departments", headers=as_user("rs_user"))
    assert response.headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("query", "words"),
    [("limit=-1", "每页条数（limit）：应不小于 1"), ("offset=-5", "起始位置（offset）：应不小于 0")],
)
def test_a_page_out_of_bounds_names_the_parameter_and_its_bound_in_chinese(client, as_user, query, words):
    body = client.get(f"/api/v1/resources?{query}", headers=as_user("dsj_officer")).json()
    assert body["status"] == 422 and words in body["detail"], body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/audit/events?since=2026-01-01",
        "/api/v1/audit/events?since=2026-01-01T00:00:00&until=2099-01-01",
        "/api/v1/usage?since=2026-01-01&until=2099-12-31T23:59:59",
    ],
)
def test_a_time_without_a_zone_is_china_time_not_a_500(client, as_user, path):
    answer = client.get(path, headers=as_user("auditor" if "audit" in path else "dsj_officer"))
    assert answer.status_code == 200, answer.text
    assert "items" in answer.json()
