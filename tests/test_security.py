"""Issue 12, security: rate limits keyed on who calls (6), the session cookie refused for cross-origin API
writes (7), forwarding headers trusted only from configured proxies (9), the same lockout for names
that are no account (10), security headers and a CSP the pages keep to (11), refusals audited (13)."""

from __future__ import annotations

import asyncio
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from govdata import cli
from govdata.app import create_app
from govdata.core import clock
from govdata.core.audit import AuditEvent
from govdata.core.auth import SESSION_COOKIE
from govdata.core.config import Settings
from govdata.core.headers import DOCS_POLICY, PAGE_POLICY
from govdata.core.ids import uscc_make
from govdata.core.ratelimit import RateLimitMiddleware
from govdata.demo import DEMO_PASSWORD
from govdata.orgs.models import Department
from tests.support.batches import csv_bytes, good_rows, population_code, upload  # noqa: F401  (fixture)
from tests.support.catalog import population
from tests.support.http import assert_problem, login
from tests.support.orgs import new_department

TEMPLATES = Path(__file__).resolve().parents[1] / "src" / "govdata" / "templates"
STATIC = Path(__file__).resolve().parents[1] / "src" / "govdata" / "static"


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].split()[1]


def events(session, action: str) -> list[AuditEvent]:
    session.rollback()  # a fresh snapshot: the app committed in its own sessions
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
    )


# --- 6. rate limits count the caller, not the text of its header ---------------------------------------


def test_a_user_has_one_budget_however_the_credential_is_written(settings):
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 5}))
    with TestClient(app) as client:
        first = token_of(login(client, "rs_user"))
        second = token_of(login(client, "rs_user"))  # logging in again gives no fresh budget either
        variants = [
            {"Authorization": f"Bearer {first}"},
            {"Authorization": f"bearer {first}"},
            {"Authorization": f"BEARER   {first}  "},
            {"Cookie": f"{SESSION_COOKIE}={first}"},
            {"Authorization": f"Bearer {second}"},
        ]
        assert [client.get("/api/v1/me", headers=h).status_code for h in variants] == [200] * 5
        refused = client.get("/api/v1/me", headers={"Authorization": f"bEaReR {second}"})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
        # another user still has a budget of their own
        assert client.get("/api/v1/me", headers=login(client, "ga_officer")).status_code == 200
    app.state.engine.dispose()


def test_credentials_that_resolve_to_nobody_count_against_the_address(settings):
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 5}))
    with TestClient(app) as client:
        forged = [
            {"Cookie": f"{SESSION_COOKIE}={secrets.token_urlsafe(32)}"},
            {"Cookie": f"{SESSION_COOKIE}={secrets.token_urlsafe(32)}"},
            {"Authorization": f"Bearer gdu_{secrets.token_urlsafe(32)}"},
            {"Authorization": f"Bearer gds_{secrets.token_urlsafe(32)}"},
            {"Cookie": f"{SESSION_COOKIE}={secrets.token_urlsafe(32)}"},
        ]
        assert [client.get("/login", headers=h).status_code for h in forged] == [200, 200, 401, 401, 200]
        # a sixth random cookie gets no fresh bucket, and neither does the address without one
        again = client.get("/login", headers={"Cookie": f"{SESSION_COOKIE}={secrets.token_urlsafe(32)}"})
        assert again.status_code == 429
        assert client.get("/login").status_code == 429
    app.state.engine.dispose()


def test_a_credential_is_resolved_once_then_remembered_for_a_while():
    calls: list[str] = []

    def identify(app, token: str) -> str | None:
        calls.append(token)
        return "user:7" if token == "good" else None

    async def inner(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = RateLimitMiddleware(inner, per_minute=1000, login_per_minute=10, identify=identify)

    async def request(headers: list[tuple[bytes, bytes]]) -> int:
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": "/api/v1/me", "headers": headers}
        scope |= {"client": ("192.0.2.1", 1234), "app": None}
        await middleware(scope, None, send)
        return sent[0]["status"]

    async def run() -> None:
        for _ in range(20):
            assert await request([(b"authorization", b"Bearer good")]) == 200
            assert await request([(b"cookie", b"govdata_session=good")]) == 200
            assert await request([(b"authorization", b"Bearer forged")]) == 200

    asyncio.run(run())
    assert sorted(calls) == ["forged", "good"]


# --- 7. the session cookie does not authorise API writes from other origins ------------------------------


def test_api_writes_take_the_session_cookie_only_from_this_site(client, as_user, session):
    cookie = {"Cookie": f"{SESSION_COOKIE}={token_of(as_user('dsj_officer'))}"}
    evil = [
        {"Origin": "http://testserver:8001"},  # another port of the same host: same site, other origin
        {"Origin": "null"},
        {"Referer": "http://127.0.0.1:8001/attack.html"},
        {},  # neither Origin nor Referer
    ]
    for n, extra in enumerate(evil):
        body = new_department(name=f"焦作市伪造局{n}")
        response = client.post("/api/v1/departments", json=body, headers={**cookie, **extra})
        body = assert_problem(response, 403, "cross-origin")
        assert "访问令牌" in body["detail"]
    session.rollback()
    assert not session.scalars(select(Department).where(Department.name.like("焦作市伪造局%"))).all()
    # from this site's own pages the cookie works, by Origin or by Referer
    made = client.post(
        "/api/v1/departments", json=new_department(), headers={**cookie, "Origin": "http://testserver"}
    )
    assert made.status_code == 201, made.text
    # reads with the cookie need no Origin (the batch page polls with it), and a bearer token is not
    # ambient, so a client of another origin uses one
    assert client.get("/api/v1/me", headers={**cookie, "Origin": "http://evil.example"}).status_code == 200
    other = new_department(name="焦作市统计局二", uscc=uscc_make("1", "1", "410800", "MB123457"))
    response = client.post(
        "/api/v1/departments", json=other, headers={**as_user("dsj_officer"), "Origin": "http://evil.example"}
    )
    assert response.status_code == 201, response.text


def test_a_replace_batch_posted_from_another_port_is_refused(client, as_user, population_code):  # noqa: F811
    officer = as_user("ga_officer")
    loaded = upload(client, officer, population_code, csv_bytes(good_rows(10)))
    assert loaded.status_code == 201, loaded.text
    cookie = {"Cookie": f"{SESSION_COOKIE}={token_of(officer)}", "Origin": "http://127.0.0.1:9999"}
    attack = upload(client, cookie, population_code, csv_bytes(good_rows(1, start=500)), mode="replace")
    assert_problem(attack, 403, "cross-origin")
    records = client.get(f"/api/v1/share/{population_code}/records", headers=officer).json()
    assert records["total"] == 10
    # the batch page's poll still works with the cookie alone
    poll = client.get(f"/api/v1/batches/{loaded.json()['id']}", headers={"Cookie": cookie["Cookie"]})
    assert poll.status_code == 200 and poll.json()["status"] == "applied"


# --- 9. X-Forwarded-For is trusted only from configured proxies ------------------------------------------


def test_forwarded_for_from_the_client_changes_neither_source_nor_login_bucket(settings, session):
    app = create_app(settings.model_copy(update={"login_rate_limit_per_minute": 3}))
    with TestClient(app) as client:
        statuses = [
            client.post(
                "/api/v1/auth/token",
                data={"username": "rs_user", "password": DEMO_PASSWORD},
                headers={"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"203.0.113.{n}"},
            ).status_code
            for n in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
    app.state.engine.dispose()
    assert {e.source for e in events(session, "auth.login")} == {"testclient"}


@contextmanager
def live(settings, **server_options) -> Iterator[str]:
    """The app under uvicorn, configured with ``server_options``, on a free local port."""
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **server_options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        app.state.engine.dispose()


def logins_from(url: str, addresses: list[str]) -> list[int]:
    with httpx.Client(base_url=url, timeout=60) as http:  # a login hashes a password: slow on a busy machine
        return [
            http.post(
                "/api/v1/auth/token",
                data={"username": "rs_user", "password": DEMO_PASSWORD},
                headers={"X-Forwarded-For": address},
            ).status_code
            for address in addresses
        ]


def test_govdata_serve_trusts_no_forwarding_header_by_default(settings, session):
    settings = settings.model_copy(update={"login_rate_limit_per_minute": 3})
    spoofed = [f"203.0.113.{n}" for n in range(4)]
    with live(settings, **cli.proxy_options(settings)) as url:
        assert logins_from(url, spoofed) == [200, 200, 200, 429]
    assert {e.source for e in events(session, "auth.login")} == {"127.0.0.1"}


def test_govdata_serve_trusts_the_configured_proxies(settings, session):
    settings = settings.model_copy(update={"login_rate_limit_per_minute": 3, "trusted_proxies": "127.0.0.1"})
    forwarded = [f"203.0.113.{n}" for n in range(4)]
    with live(settings, **cli.proxy_options(settings)) as url:
        assert logins_from(url, forwarded) == [200] * 4  # each client behind the proxy has its own limit
    assert [e.source for e in events(session, "auth.login")] == forwarded


def test_serve_passes_the_proxy_settings_to_uvicorn(monkeypatch):
    seen: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.append(kwargs))
    monkeypatch.setattr(cli, "get_settings", Settings)  # read the environment afresh
    monkeypatch.delenv("GOVDATA_TRUSTED_PROXIES", raising=False)
    cli.serve(host="127.0.0.1", port=8123)
    monkeypatch.setenv("GOVDATA_TRUSTED_PROXIES", "10.0.0.5, 192.168.10.0/24")
    cli.serve(host="127.0.0.1", port=8123)
    assert seen[0]["proxy_headers"] is False
    assert seen[1]["proxy_headers"] is True
    assert seen[1]["forwarded_allow_ips"] == ["10.0.0.5", "192.168.10.0/24"]


# --- 10. a name that is no account answers exactly as an account ----------------------------------------


def attempts(client, username: str, passwords: list[str]) -> list[tuple]:
    answers = []
    for password in passwords:
        response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        body = response.json()
        answers.append(
            (response.status_code, body["type"], body["detail"], response.headers.get("retry-after"))
        )
    return answers


def test_an_unknown_name_gets_the_same_lockout_as_an_account(client):
    passwords = ["wrong"] * 5 + [DEMO_PASSWORD, "wrong"]
    with clock.frozen(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)):
        real = attempts(client, "rs_user", passwords)
        unknown = attempts(client, "rs_nobody", passwords)
    assert real == unknown
    assert [a[1].rsplit(":", 1)[1] for a in real] == ["invalid-credentials"] * 4 + ["account-locked"] * 3
    assert real[4][3] == str(15 * 60)
    assert real[5][3] == str(15 * 60 + 1) and "锁定" in real[5][2]
    # the login page shows the same words for both
    for username in ("rs_user", "rs_nobody"):
        with clock.frozen(datetime(2026, 11, 23, 2, 5, tzinfo=UTC)):
            page = client.post(
                "/login", data={"username": username, "password": "x"}, headers={"accept": "text/html"}
            )
        assert page.status_code == 401 and "账号已锁定，请于 2026-11-23 10:15 后再试" in page.text
    # once the lock has run out both are back to the plain answer
    with clock.frozen(datetime(2026, 11, 23, 2, 16, tzinfo=UTC)):
        assert attempts(client, "rs_user", ["wrong"]) == attempts(client, "rs_nobody", ["wrong"])
        assert attempts(client, "rs_nobody", ["wrong"])[0][1].endswith("invalid-credentials")


def test_failures_of_unknown_names_are_audited_as_an_accounts_are(client, session):
    attempts(client, "rs_nobody", ["wrong"] * 5)
    failed = [e for e in events(session, "auth.login_failed") if e.object_id is None]
    assert len(failed) == 5 and all('"unknown":true' in e.details for e in failed)
    assert all('"username":"rs_nobody"' in e.details and e.source == "testclient" for e in failed)


# --- 11. security headers on every response, and a CSP the pages keep to ------------------------------


def test_every_answer_carries_the_security_headers(client, as_user):
    answers = [
        client.get("/login"),
        client.get("/api/v1/me"),
        client.get("/api/v1/me", headers=as_user("rs_user")),
        client.get("/healthz"),
        client.get("/static/app.css"),
        client.get("/no/such/page", headers={"accept": "text/html"}),
    ]
    for response in answers:
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["content-security-policy"] == PAGE_POLICY
    assert "frame-ancestors 'none'" in PAGE_POLICY and "script-src 'self';" in PAGE_POLICY
    docs = client.get("/docs")
    assert docs.status_code == 200 and docs.headers["content-security-policy"] == DOCS_POLICY
    assert "frame-ancestors 'none'" in DOCS_POLICY and docs.headers["x-frame-options"] == "DENY"


def test_refusals_and_failures_carry_them_too(settings, monkeypatch):
    from govdata.orgs import service

    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 2}))
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = login(client, "rs_user")
        monkeypatch.setattr(service, "me", lambda *a, **k: 1 / 0)
        failed = client.get("/api/v1/me", headers=headers)
        assert failed.status_code == 500 and failed.headers["x-frame-options"] == "DENY"
        assert failed.headers["content-security-policy"] == PAGE_POLICY
        client.get("/api/v1/me", headers=headers)
        limited = client.get("/api/v1/me", headers=headers)
        assert limited.status_code == 429 and limited.headers["x-content-type-options"] == "nosniff"
    app.state.engine.dispose()


def test_pages_have_no_inline_script_for_the_policy_to_block():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not inline_script.search(text), f"{template.name}: inline <script>"
        assert not handler.search(text), f"{template.name}: inline event handler"
        assert "javascript:" not in text.lower(), f"{template.name}: javascript: URL"
    for script in STATIC.glob("*.js"):
        text = script.read_text(encoding="utf-8")
        assert "eval(" not in text and "new Function" not in text, script.name
        for url in re.findall(r"fetch\(\s*[\"']([^\"']+)", text):
            assert url.startswith("/"), f"{script.name} fetches {url} from another origin"


# --- 13. refusals of data and catalog objects are audited ----------------------------------------------


def test_reading_another_departments_unpublished_resource_is_audited(client, as_user, session):
    draft = client.post("/api/v1/resources", json=population(), headers=as_user("ga_officer"))
    code = draft.json()["code"]
    assert_problem(client.get(f"/api/v1/resources/{code}", headers=as_user("rs_officer")), 404)
    denied = events(session, "access.denied")
    assert len(denied) == 1
    event = denied[0]
    assert event.actor == "rs_officer" and event.source == "testclient"
    assert event.object_type == "request" and event.object_id == f"/api/v1/resources/{code}"
    assert f'"path":"/api/v1/resources/{code}"' in event.details and '"status":404' in event.details
    assert '"method":"GET"' in event.details
    assert client.get("/api/v1/audit/verify", headers=as_user("admin")).json()["ok"] is True


def test_reading_records_without_a_grant_is_audited(client, as_user, session, population_code):  # noqa: F811
    path = f"/api/v1/share/{population_code}/records"
    assert_problem(client.get(path, headers=as_user("rs_user")), 403, "no-grant")
    denied = events(session, "access.denied")
    assert [(e.actor, e.object_id) for e in denied] == [("rs_user", path)]
    assert '"status":403' in denied[0].details and '"type":"no-grant"' in denied[0].details
    # a refused permission (before any object is loaded) is a refusal too
    assert_problem(client.post("/api/v1/departments", json=new_department(), headers=as_user("rs_user")), 403)
    assert len(events(session, "access.denied")) == 2


def test_unknown_paths_and_anonymous_callers_leave_no_refusal_event(client, as_user, session):
    client.get("/api/v1/no-such-thing")
    client.get("/api/v1/no-such-thing", headers=as_user("rs_user"))  # no object, no data: noise
    client.get("/wp-login.php", headers={"accept": "text/html"})
    client.get("/api/v1/resources/101/999999999")  # anonymous: 401 before anything is read
    assert events(session, "access.denied") == []


def test_a_refusal_is_answered_even_when_it_cannot_be_recorded(client, as_user, monkeypatch):
    from govdata.core import audit

    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    headers = as_user("rs_officer")
    monkeypatch.setattr(audit, "record", broken)
    assert_problem(client.get("/api/v1/resources/101/999999999", headers=headers), 404)


def test_the_lockout_window_is_counted_from_the_failure(client):
    """The unknown name's lock ends when an account's would (a frozen clock moves only when told)."""
    start = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    for minutes in (0, 1, 2, 3, 4):
        with clock.frozen(start + timedelta(minutes=minutes)):
            attempts(client, "rs_nobody", ["wrong"])
    with clock.frozen(start + timedelta(minutes=18, seconds=59)):
        assert attempts(client, "rs_nobody", ["wrong"])[0][1].endswith("account-locked")
    with clock.frozen(start + timedelta(minutes=19, seconds=1)):
        assert attempts(client, "rs_nobody", ["wrong"])[0][1].endswith("invalid-credentials")
