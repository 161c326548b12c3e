"""The same change sent several times at once takes effect once, in every capability with a state
machine (publishing a catalog version, deciding a violation, accepting a notice, reviewing a project):
the first request changes the state; the others are judged on the state it left and get 409."""

from __future__ import annotations

from functools import partial

from govdata.supervision import service as supervision
from tests.support.catalog import create, population
from tests.support.concurrency import at_once, statuses

CALLERS = 4


def test_a_version_submitted_and_published_several_times_at_once_is_published_once(client, as_user):
    officer, authority = as_user("ga_officer"), as_user("dsj_officer")
    code = create(client, officer, population(name="流动人口登记信息"))["code"]
    submitted = at_once([partial(client.post, f"/api/v1/resources/{code}/submit", headers=officer)] * CALLERS)
    assert statuses(submitted) == {200: 1, 409: CALLERS - 1}, [r.text for r in submitted]
    published = at_once(
        [partial(client.post, f"/api/v1/resources/{code}/publish", headers=authority)] * CALLERS
    )
    assert statuses(published) == {200: 1, 409: CALLERS - 1}, [r.text for r in published]
    versions = client.get(f"/api/v1/resources/{code}/versions", headers=authority).json()
    items = versions["items"] if isinstance(versions, dict) else versions
    assert [v["status"] for v in items] == ["published"]
    retired = at_once(
        [partial(client.post, f"/api/v1/resources/{code}/retire", json={}, headers=authority)] * CALLERS
    )
    assert statuses(retired) == {200: 1, 409: CALLERS - 1}, [r.text for r in retired]


def test_a_violation_confirmed_several_times_at_once_opens_one_notice_accepted_once(client, as_user, session):
    ga = client.get("/api/v1/me", headers=as_user("ga_officer")).json()["department_id"]
    violation_id = supervision.record_violation(
        session,
        kind="application_overdue",
        department_id=ga,
        object_type="application",
        object_id=99,
        evidence={"application_id": 99},
    )
    session.commit()
    authority, officer = as_user("dsj_officer"), as_user("ga_officer")
    confirmed = at_once(
        [partial(client.post, f"/api/v1/violations/{violation_id}/confirm", headers=authority)] * CALLERS
    )
    assert statuses(confirmed) == {200: 1, 409: CALLERS - 1}, [r.text for r in confirmed]
    notices = [
        n
        for n in client.get("/api/v1/notices", headers=authority).json()["items"]
        if n["violation_id"] == violation_id
    ]
    assert len(notices) == 1
    url = f"/api/v1/notices/{notices[0]['id']}"
    answered = at_once(
        [partial(client.post, f"{url}/answer", json={"text": "已整改"}, headers=officer)] * CALLERS
    )
    assert statuses(answered) == {200: 1, 409: CALLERS - 1}
    decided = at_once(
        [partial(client.post, f"{url}/accept", headers=authority)] * (CALLERS // 2)
        + [partial(client.post, f"{url}/reopen", json={"reason": "材料不全"}, headers=authority)]
        * (CALLERS // 2)
    )
    assert statuses(decided) == {200: 1, 409: CALLERS - 1}, [r.text for r in decided]
    status = client.get(url, headers=authority).json()["status"]
    violation = client.get(f"/api/v1/violations/{violation_id}", headers=authority).json()["status"]
    assert (status, violation) in (("closed", "rectified"), ("open", "confirmed")), (status, violation)
