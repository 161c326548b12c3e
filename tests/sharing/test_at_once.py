"""Changes of one application or grant sent at the same moment (SHR-3, SHR-4, SHR-5), on both stores.

Each change is judged on the state the database holds when it is made, not on the copy its request
read before: of several officers deciding one application at once, one decides and the others get
the 409 a later request would get; a revocation is never undone by a resumption sent with it.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest

from govdata.core import clock
from tests.sharing.test_applications import TODAY, application, apply, resource, system_id  # noqa: F401
from tests.support.concurrency import at_once, statuses

CALLERS = 6


@pytest.fixture(autouse=True)
def logged_in(as_user) -> None:
    for username in ("rs_user", "rs_officer", "ga_officer"):
        as_user(username)


def pending_application(client, as_user, resource, system_id) -> int:  # noqa: F811
    with clock.frozen(TODAY):
        created = apply(client, as_user, application(resource, system_id, ["xm", "lxdh"]))
    assert created["status"] == "pending", created
    return created["id"]


def grants_of(client, as_user, application_id: int) -> list[dict]:
    listed = client.get("/api/v1/grants?limit=500", headers=as_user("rs_officer")).json()["items"]
    return [g for g in listed if g["application_id"] == application_id]


def test_officers_approving_one_application_at_once_issue_one_grant(
    client,
    as_user,
    resource,  # noqa: F811
    system_id,  # noqa: F811
):
    application_id = pending_application(client, as_user, resource, system_id)
    url, officer = f"/api/v1/applications/{application_id}/decision", as_user("ga_officer")
    answers = at_once([lambda: client.post(url, json={"decision": "approve"}, headers=officer)] * CALLERS)
    assert statuses(answers) == {200: 1, 409: CALLERS - 1}, [a.text for a in answers]
    assert all(a.json()["type"].endswith("invalid-state") for a in answers if a.status_code == 409)
    assert len(grants_of(client, as_user, application_id)) == 1


def test_an_approval_and_a_refusal_at_once_leave_one_decision_and_its_grant(
    client,
    as_user,
    resource,  # noqa: F811
    system_id,  # noqa: F811
):
    application_id = pending_application(client, as_user, resource, system_id)
    url, officer = f"/api/v1/applications/{application_id}/decision", as_user("ga_officer")
    refusal = {"decision": "refuse", "reason": "超出业务范围", "basis_kind": "law"}
    answers = at_once(
        [lambda: client.post(url, json={"decision": "approve"}, headers=officer)] * (CALLERS // 2)
        + [lambda: client.post(url, json=refusal, headers=officer)] * (CALLERS // 2)
    )
    assert statuses(answers) == {200: 1, 409: CALLERS - 1}, [a.text for a in answers]
    status = client.get(f"/api/v1/applications/{application_id}", headers=officer).json()["status"]
    grants = grants_of(client, as_user, application_id)
    assert (status, len(grants)) in (("approved", 1), ("refused", 0)), (status, grants)
    if status == "refused":  # the refused consumer disputes once, however many times it sends it
        consumer = as_user("rs_user")
        disputes = at_once(
            [
                lambda: client.post(
                    f"/api/v1/applications/{application_id}/dispute",
                    json={"reason": "确有需要"},
                    headers=consumer,
                )
            ]
            * CALLERS
        )
        assert statuses(disputes) == {200: 1, 409: CALLERS - 1}


def test_a_revocation_is_never_undone_by_a_resumption_sent_with_it(
    client,
    as_user,
    resource,  # noqa: F811
    system_id,  # noqa: F811
):
    officer = as_user("ga_officer")
    for _ in range(3):
        with clock.frozen(TODAY):
            body = application(
                resource, system_id, ["xb"], modes=["query"], period_end=str(TODAY + dt.timedelta(400))
            )
            grant_id = apply(client, as_user, body)["grant_id"]
        url = f"/api/v1/grants/{grant_id}"
        assert client.post(f"{url}/suspend", json={"reason": "核查"}, headers=officer).status_code == 200
        answers = at_once(
            [
                partial(client.post, f"{url}/revoke", json={"reason": "业务终止"}, headers=officer),
                partial(client.post, f"{url}/resume", json={}, headers=officer),
            ]
        )
        assert answers[0].status_code == 200, answers[0].text
        assert client.get(url, headers=officer).json()["status"] == "revoked"
        suspends = at_once(
            [partial(client.post, f"{url}/suspend", json={"reason": "x"}, headers=officer)] * 3
        )
        assert statuses(suspends) == {409: 3}
