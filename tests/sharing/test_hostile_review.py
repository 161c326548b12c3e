"""Reproductions from a hostile review of sharing: each test states the behaviour a user or an attacker
should meet, and fails while the defect it names is there."""

# ruff: noqa: F811  (the fixtures of tests.support.sharing, named as parameters)
from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator

import pytest

from govdata.core import clock
from govdata.sharing import usage
from tests.support.catalog import create, population, publish
from tests.support.recorder import Recorder, Reply, recording
from tests.support.sharing import (  # noqa: F401
    grant,
    load,
    people,
    shared_code,
    shared_population,
    system,
)

RECORDS = "/api/v1/share/{code}/records"
VERIFY = "/api/v1/share/{code}/verify"
CHANGES = "/api/v1/share/{code}/changes"


@pytest.fixture
def settings(settings):
    """The provider's interface service of one test runs on the loopback."""
    settings.interface_allow_private = True
    return settings


@pytest.fixture
def forget_queue(client):
    yield
    usage._logs.pop(client.app.state.engine, None)  # a poisoned queue would be retried for ever


def test_a_changes_cursor_does_not_carry_a_key_the_grant_hides(client, as_user, shared_code, system):
    grant(client, as_user, shared_code, system["id"], ["xm"], modes=["exchange"])  # the key item not granted
    answer = client.get(CHANGES.format(code=shared_code), params={"limit": 1}, headers=system["headers"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["changes"][0]["key"] == "*" * 18  # the answer hides the key …
    cursor = answer.json()["cursor"]
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8", "replace")
    keys = {p["gmsfhm"] for p in people(20)}
    assert not any(k in decoded for k in keys), (
        f"the cursor names a key in clear: {decoded}"
    )  # … its cursor not


def test_an_approval_that_narrows_the_request_is_a_partial_one_the_consumer_may_dispute(
    client, as_user, shared_code, system
):
    today = clock.today()
    body = {
        "resource_code": shared_code,
        "system_id": system["id"],
        "items": ["gmsfhm", "lxdh", "jzdz"],
        "purpose": "养老保险待遇资格认证",
        "scenario": "退休人员每年资格认证时核验身份",
        "period_start": today.isoformat(),
        "period_end": (today + dt.timedelta(days=300)).isoformat(),
        "modes": ["query"],
    }
    applied = client.post("/api/v1/applications", json=body, headers=as_user("rs_user"))
    assert applied.status_code == 201, applied.text
    decided = client.post(
        f"/api/v1/applications/{applied.json()['id']}/decision",
        json={"decision": "approve", "items": ["lxdh", "lxdh", "lxdh"]},
        headers=as_user("ga_officer"),
    )
    if decided.status_code == 422:
        return  # refusing the duplicated items is a fix too
    answer = decided.json()
    granted = {i["code"] for i in answer["decided_items"]}
    assert granted == {"gmsfhm", "lxdh", "jzdz"} or answer["status"] == "partially_approved", answer


def test_a_verification_receipt_names_what_was_verified(client, as_user, shared_code, system):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"], modes=["verify"])
    one, other = people(2)
    answers = [
        client.post(
            VERIFY.format(code=shared_code),
            json={"key": p["gmsfhm"], "values": {"xm": p["xm"]}},
            headers=system["headers"],
        ).json()
        for p in (one, other)
    ]
    assert all(a["match"] for a in answers)
    # "一致" about one person must not be a valid receipt for the answer about another
    assert answers[0]["receipt"]["digest"] != answers[1]["receipt"]["digest"]


def test_usage_does_not_tell_another_department_of_a_draft_resource(client, as_user):
    draft = create(client, as_user("ga_officer"), population(name="未发布的草稿资源"))
    wj = as_user("wj_user")
    refused = client.get(RECORDS.format(code=draft["code"]), params={"key": "x"}, headers=wj)
    assert refused.status_code == 404  # the draft stays invisible here …
    usage.flush()
    listed = client.get("/api/v1/usage", headers=wj).json()["items"]
    assert all(r["resource_code"] != draft["code"] or r["provider_id"] is None for r in listed), listed
    assert "未发布的草稿资源" not in client.get("/sharing/usage", headers=wj).text  # … and in the usage page


def test_a_nul_end_user_does_not_stop_the_usage_log(client, as_user, shared_code, system, forget_queue):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"], modes=["query"])
    key = people(1)[0]["gmsfhm"]
    poisoned = {**system["headers"], "X-End-User": "%00"}
    assert (
        client.get(RECORDS.format(code=shared_code), params={"key": key}, headers=poisoned).status_code == 200
    )
    officer = as_user("ga_officer")
    assert (
        client.get(RECORDS.format(code=shared_code), params={"key": key}, headers=officer).status_code == 200
    )
    listed = client.get("/api/v1/usage", params={"limit": 500}, headers=officer)
    assert listed.status_code == 200, listed.text
    assert any(r["caller"] == "ga_officer" and r["outcome"] == "ok" for r in listed.json()["items"])


@pytest.fixture
def provider() -> Iterator[Recorder]:
    """A provider service that sends JSON records labelled as plain text."""
    with recording() as recorder:
        text = json.dumps({"items": people(2)}, ensure_ascii=False)
        recorder.routes = {"/api/people": lambda request: Reply(200, text, content_type="text/plain")}
        yield recorder


def test_an_interface_answer_never_carries_items_outside_the_grant(client, as_user, provider, system):
    body = shared_population()
    body["share_modes"] = ["verify", "query", "interface", "exchange"]
    code = publish(client, as_user, "ga_officer", body)
    registered = client.post(
        f"/api/v1/resources/{code}/interface",
        json={"base_url": provider.url + "/api", "secret": "provider-secret-2026"},
        headers=as_user("ga_officer"),
    )
    assert registered.status_code == 201, registered.text
    grant(client, as_user, code, system["id"], ["gmsfhm", "xm"], masked=["xm"], modes=["interface"])
    answer = client.get(f"/api/v1/share/{code}/interface/people", headers=system["headers"])
    person = people(1)[0]
    assert person["hjdz"] not in answer.text and person["lxdh"] not in answer.text, answer.text
    assert f'"{person["xm"]}"' not in answer.text, answer.text  # served masked
