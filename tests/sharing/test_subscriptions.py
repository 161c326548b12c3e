"""Subscriptions: a consumer that subscribed one of its grants is told when a batch changed the resource —
in the message centre, and at its webhook with a body signed by the node's key; failed deliveries are
retried with backoff and logged; a grant no longer usable gets nothing. The webhook is a small HTTP
server on the loopback, started by the test; both stores."""

# ruff: noqa: F811  (the fixtures of tests.support.sharing, named as parameters)

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import time
from collections.abc import Iterator

import pytest
from cryptography.exceptions import InvalidSignature
from sqlalchemy import select

from govdata.core import clock, jobs
from govdata.core.signing import load_public_key
from govdata.sharing import subscriptions
from tests.support.http import assert_problem
from tests.support.jobs import settle
from tests.support.recorder import Recorder, Reply, recording
from tests.support.sharing import (  # noqa: F401
    grant,
    load,
    people,
    shared_code,
    system,
)

SUBSCRIPTION = "/api/v1/grants/{id}/subscription"
DELIVERIES = "/api/v1/grants/{id}/deliveries"


@pytest.fixture
def settings(settings):
    """The consumer's webhook runs on the loopback: the test allows internal addresses for webhooks."""
    settings.webhook_allow_private = True
    return settings


@pytest.fixture
def webhook() -> Iterator[Recorder]:
    with recording() as recorder:
        recorder.routes = {"/hook": lambda request: Reply(204)}
        yield recorder


@pytest.fixture
def granted(client, as_user, shared_code, system) -> dict:
    return grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"], modes=["query", "exchange"])


def subscribe(client, headers, grant_id, webhook_url=None):
    body = {"webhook_url": webhook_url} if webhook_url else {}
    return client.post(SUBSCRIPTION.format(id=grant_id), json=body, headers=headers)


def deliveries(client, headers, grant_id) -> list[dict]:
    response = client.get(DELIVERIES.format(id=grant_id), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def wait_for(client, check, timeout: float = 30):
    """Wake the job worker until ``check()`` gives something true; that."""
    deadline = time.monotonic() + timeout
    while True:
        client.app.state.jobs.wake()
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "the job worker did not get there"
        time.sleep(0.05)


def verified(client, request) -> dict:
    """The body of a webhook request, once its signature checks against the node's published key."""
    keys = client.get("/api/v1/node/keys").json()["keys"]
    (key,) = [k for k in keys if k["key_id"] == request.headers["x-govdata-key-id"]]
    signature = base64.b64decode(request.headers["x-govdata-signature"])
    load_public_key(key["public_key_pem"]).verify(signature, request.body)  # raises when it does not hold
    return json.loads(request.body)


def test_the_webhook_receives_a_verifiable_signed_delivery_after_a_batch(
    client, as_user, shared_code, system, granted, webhook
):
    url = webhook.url + "/hook"
    created = subscribe(client, as_user("rs_user"), granted["id"], url)
    assert created.status_code == 201, created.text
    assert created.json()["webhook_url"] == url and created.json()["status"] == "active"

    batch = load(client, as_user("ga_officer"), shared_code, people(3, start=20))
    settle(client.app)

    (request,) = webhook.requests("/hook")
    assert request.method == "POST" and request.headers["content-type"] == "application/json"
    body = verified(client, request)
    assert body["resource_code"] == shared_code and body["batch_id"] == batch["id"]
    assert body["rows_applied"] == 3 and body["grant_id"] == granted["id"]
    assert dt.datetime.fromisoformat(body["applied_at"]).tzinfo is not None
    assert body["changes_url"].endswith(f"/api/v1/share/{shared_code}/changes")
    assert request.headers["x-govdata-delivery"] == str(body["delivery_id"])
    # one changed byte and the signature no longer holds
    tampered = dataclasses.replace(
        request, body=request.body.replace(b'"rows_applied":3', b'"rows_applied":4')
    )
    with pytest.raises(InvalidSignature):
        verified(client, tampered)
    # the changes it points to are there for the grant's system
    path = body["changes_url"][body["changes_url"].index("/api/v1/") :]
    changes = client.get(path, headers=system["headers"])
    assert changes.status_code == 200, changes.text

    (delivery,) = deliveries(client, as_user("rs_user"), granted["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1 and delivery["last_status"] == 204
    assert delivery["last_error"] is None and delivery["payload"] == body

    inbox = client.get("/api/v1/notifications", headers=as_user("rs_user")).json()["items"]
    told = [n for n in inbox if n["kind"] == "subscription.batch_applied"]
    assert len(told) == 1 and told[0]["title"].endswith("人口基础信息")

    # the event handled again (a job run twice) tells nobody twice
    with client.app.state.sessionmaker() as session:
        assert (
            subscriptions.on_batch_applied(session, batch["id"], granted_resource_id(client, shared_code))
            == 0
        )
        session.commit()
    settle(client.app)
    assert len(webhook.requests("/hook")) == 1


def granted_resource_id(client, code: str) -> int:
    from govdata.catalog import service as catalog

    with client.app.state.sessionmaker() as session:
        return catalog.resource_ref(session, code=code).id


def test_without_a_webhook_the_consumer_is_told_in_the_message_centre(
    client, as_user, shared_code, granted, webhook
):
    assert subscribe(client, as_user("rs_officer"), granted["id"]).status_code == 201
    before = client.get("/api/v1/notifications", headers=as_user("rs_user")).json()["unread"]
    load(client, as_user("ga_officer"), shared_code, people(2, start=30))
    settle(client.app)
    inbox = client.get("/api/v1/notifications", headers=as_user("rs_user")).json()
    assert inbox["unread"] == before + 1
    assert inbox["items"][0]["kind"] == "subscription.batch_applied"
    assert "2 条记录" in inbox["items"][0]["body"]
    (delivery,) = deliveries(client, as_user("rs_user"), granted["id"])
    assert delivery["status"] == "message_only" and delivery["attempts"] == 0
    assert webhook.requests() == []


def test_a_failing_webhook_is_retried_with_backoff_and_every_attempt_is_logged(
    client, as_user, shared_code, granted, webhook
):
    answers = iter(
        [
            Reply(503, "维护中：内部服务 10.0.0.8 不可用", content_type="text/plain; charset=utf-8"),
            Reply(500),
            Reply(200),
        ]
    )
    webhook.routes = {"/hook": lambda request: next(answers)}
    assert subscribe(client, as_user("rs_user"), granted["id"], webhook.url + "/hook").status_code == 201
    load(client, as_user("ga_officer"), shared_code, people(1, start=40))

    def delivery() -> dict:
        found = deliveries(client, as_user("rs_user"), granted["id"])
        return found[0] if found else {"attempts": 0, "status": None}

    first = wait_for(client, lambda: (d := delivery())["attempts"] == 1 and d)
    assert first["status"] == "pending" and first["last_status"] == 503 and "503" in first["last_error"]
    # what the webhook answered is never kept: a webhook pointed at another service cannot read it
    assert "维护中" not in first["last_error"] and "10.0.0.8" not in first["last_error"]
    due = dt.datetime.fromisoformat(first["next_attempt_at"])
    last_attempt = dt.datetime.fromisoformat(first["last_attempt_at"])
    assert (due - last_attempt).total_seconds() == subscriptions.BACKOFF_SECONDS[0]
    # the retry waits in the job queue until it is due, not sent again at once
    with client.app.state.sessionmaker() as session:
        (retry,) = session.scalars(
            select(jobs.Job).where(
                jobs.Job.kind == subscriptions.DELIVER, jobs.Job.state == jobs.JobState.queued
            )
        ).all()
    assert retry.run_after == due and retry.payload["attempt"] == 2
    assert len(webhook.requests("/hook")) == 1

    with moved_clock() as move:
        move(seconds=subscriptions.BACKOFF_SECONDS[0] + 1)
        second = wait_for(client, lambda: (d := delivery())["attempts"] == 2 and d)
        assert second["status"] == "pending" and second["last_status"] == 500
        due = dt.datetime.fromisoformat(second["next_attempt_at"])
        assert (due - dt.datetime.fromisoformat(second["last_attempt_at"])).total_seconds() == (
            subscriptions.BACKOFF_SECONDS[1]
        )
        move(seconds=subscriptions.BACKOFF_SECONDS[1] + 1)
        third = wait_for(client, lambda: (d := delivery())["status"] == "delivered" and d)
    assert third["attempts"] == 3 and third["last_status"] == 200 and third["last_error"] is None

    sent = webhook.requests("/hook")
    assert [r.headers["x-govdata-attempt"] for r in sent] == ["1", "2", "3"]
    assert len({r.body for r in sent}) == 1 and len({r.headers["x-govdata-delivery"] for r in sent}) == 1


def test_a_webhook_that_never_answers_well_fails_after_the_last_attempt_and_the_consumer_is_told(
    client, as_user, shared_code, granted, webhook
):
    webhook.routes = {"/hook": lambda request: Reply(404)}
    assert subscribe(client, as_user("rs_user"), granted["id"], webhook.url + "/hook").status_code == 201
    load(client, as_user("ga_officer"), shared_code, people(1, start=50))

    def delivery() -> dict:
        found = deliveries(client, as_user("rs_user"), granted["id"])
        return found[0] if found else {"attempts": 0, "status": None}

    with moved_clock() as move:
        for attempt in range(1, subscriptions.MAX_ATTEMPTS):
            wait_for(client, lambda n=attempt: delivery()["attempts"] == n)
            move(seconds=subscriptions.BACKOFF_SECONDS[attempt - 1] + 1)
        failed = wait_for(client, lambda: (d := delivery())["status"] == "failed" and d)
    assert failed["attempts"] == subscriptions.MAX_ATTEMPTS and failed["last_status"] == 404
    assert failed["next_attempt_at"] is None
    assert len(webhook.requests("/hook")) == subscriptions.MAX_ATTEMPTS
    inbox = client.get("/api/v1/notifications", headers=as_user("rs_officer")).json()["items"]
    assert any(n["kind"] == "subscription.delivery_failed" for n in inbox)


def test_a_suspended_grant_or_an_ended_subscription_gets_nothing(
    client, as_user, shared_code, granted, webhook
):
    assert subscribe(client, as_user("rs_user"), granted["id"], webhook.url + "/hook").status_code == 201
    suspended = client.post(
        f"/api/v1/grants/{granted['id']}/suspend",
        json={"reason": "核查使用情况"},
        headers=as_user("ga_officer"),
    )
    assert suspended.status_code == 200, suspended.text
    load(client, as_user("ga_officer"), shared_code, people(1, start=60))
    settle(client.app)
    assert webhook.requests() == [] and deliveries(client, as_user("rs_user"), granted["id"]) == []

    resumed = client.post(f"/api/v1/grants/{granted['id']}/resume", json={}, headers=as_user("ga_officer"))
    assert resumed.status_code == 200, resumed.text
    load(client, as_user("ga_officer"), shared_code, people(1, start=61))
    settle(client.app)
    assert len(webhook.requests("/hook")) == 1

    ended = client.delete(SUBSCRIPTION.format(id=granted["id"]), headers=as_user("rs_user"))
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    load(client, as_user("ga_officer"), shared_code, people(1, start=62))
    settle(client.app)
    assert len(webhook.requests("/hook")) == 1
    assert_problem(client.get(SUBSCRIPTION.format(id=granted["id"]), headers=as_user("rs_user")), 404)


def test_only_the_consumer_department_subscribes_and_sees_its_deliveries(client, as_user, granted, webhook):
    grant_id = granted["id"]
    assert_problem(subscribe(client, as_user("ga_officer"), grant_id), 403, "not-consumer")  # the provider
    assert_problem(subscribe(client, as_user("wj_user"), grant_id), 404)  # a third department
    assert_problem(subscribe(client, as_user("auditor"), grant_id), 403)
    assert_problem(client.get(DELIVERIES.format(id=grant_id), headers=as_user("ga_officer")), 403)

    created = subscribe(client, as_user("rs_user"), grant_id, webhook.url + "/hook")
    assert created.status_code == 201
    changed = subscribe(client, as_user("rs_officer"), grant_id, webhook.url + "/other")
    assert changed.status_code == 200 and changed.json()["id"] == created.json()["id"]
    assert changed.json()["webhook_url"].endswith("/other")
    shown = client.get(SUBSCRIPTION.format(id=grant_id), headers=as_user("dsj_officer"))
    assert shown.status_code == 200 and shown.json()["webhook_url"].endswith("/other")


def test_a_webhook_on_an_internal_address_is_refused_unless_webhooks_are_allowed_them(
    client, as_user, granted, webhook
):
    settings = client.app.state.settings
    settings.webhook_allow_private = False
    settings.interface_allow_private = True  # the providers' switch does not open webhooks
    try:
        for url in (
            webhook.url + "/hook",
            "http://127.0.0.1:8080/hook",
            "http://169.254.169.254/",
            "http://[64:ff9b::a9fe:a9fe]/",  # the metadata address through NAT64
            "http://[2002:a9fe:a9fe::1]/",  # … and through 6to4
            "http://[::ffff:10.0.0.1]/",
            "ftp://example.com/",
        ):
            body = assert_problem(subscribe(client, as_user("rs_user"), granted["id"], url), 422)
            assert body["errors"][0]["field"] == "webhook_url"
            if url.startswith("http://127.0.0.1"):
                assert "GOVDATA_WEBHOOK_ALLOW_PRIVATE" in body["errors"][0]["message"]
    finally:
        settings.webhook_allow_private = True


def test_a_webhook_whose_address_became_internal_is_not_called(
    client, as_user, shared_code, granted, webhook
):
    assert subscribe(client, as_user("rs_user"), granted["id"], webhook.url + "/hook").status_code == 201
    client.app.state.settings.webhook_allow_private = False  # checked again before every attempt
    try:
        load(client, as_user("ga_officer"), shared_code, people(1, start=70))
        delivery = wait_for(
            client,
            lambda: next(
                (d for d in deliveries(client, as_user("rs_user"), granted["id"]) if d["attempts"]), None
            ),
        )
    finally:
        client.app.state.settings.webhook_allow_private = True
    assert delivery["attempts"] == 1 and delivery["last_status"] is None
    assert delivery["last_error"] == "回调地址不可调用（地址无效、无法解析或指向内部网络）"
    assert webhook.requests() == []


def test_a_grant_that_is_not_active_cannot_be_subscribed(client, as_user, granted):
    revoked = client.post(
        f"/api/v1/grants/{granted['id']}/revoke", json={"reason": "超范围使用"}, headers=as_user("ga_officer")
    )
    assert revoked.status_code == 200, revoked.text
    assert_problem(subscribe(client, as_user("rs_user"), granted["id"]), 409, "invalid-state")


class moved_clock:
    """Move the platform's clock forward within the block (jobs due later become due now)."""

    def __enter__(self):
        self.offset = dt.timedelta()
        clock.set_clock(lambda: dt.datetime.now(dt.UTC) + self.offset)
        return self.move

    def move(self, *, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)

    def __exit__(self, *exc) -> None:
        clock.set_clock(None)
