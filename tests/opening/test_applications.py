"""OPN-3: a public account applies for a conditional open dataset; the provider's officer approves,
approves in part or refuses within the profile's deadline (not statutory); an approval gives downloads
and API keys limited to the dataset, the granted items and the period; revoked keys and ended periods
are refused; every use is logged and counted — on both stores."""

from __future__ import annotations

from datetime import timedelta

import pytest

from govdata.core import clock
from govdata.core.errors import Conflict
from govdata.opening import service as core
from govdata.opening.service import applications, keys
from govdata.orgs import service as orgs
from tests.support.http import assert_problem
from tests.support.opening import open_conditional, open_resource

ASKED = ["nl", "csrq", "xm", "sfzh"]


def application(code: str, days: int = 100, **extra) -> dict:
    return {
        "dataset_code": code,
        "items": ASKED,
        "purpose": "研究本市居民健康状况的年龄分布",
        "scenario": "高校公共卫生课题组的统计分析",
        "commitments": "仅用于所述研究，不向第三方提供，不尝试识别个人，期满删除",
        "period_end": (clock.today() + timedelta(days=days)).isoformat(),
        **extra,
    }


@pytest.fixture
def conditional(client, as_user) -> str:
    return open_conditional(client, as_user)


def test_apply_decide_in_part_then_read_only_the_granted_items_with_a_key(
    client, as_user, conditional, session
):
    citizen = as_user("citizen")
    created = client.post("/api/v1/open-applications", json=application(conditional), headers=citizen)
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["status"] == "pending" and app["items"] == ASKED
    assert app["deadline"] and app["deadline_statutory"] is False and app["working_days_left"] > 0
    # the provider's officer is told, and sees it in the queue with its countdown, marked not statutory
    officer = as_user("wj_officer")
    queue = client.get("/opening/applications", headers=officer)
    assert queue.status_code == 200 and "居民健康体检结果" in queue.text and "非法定" in queue.text
    assert "剩余" in queue.text

    # who may decide: the provider's officer alone
    decision = {"decision": "partial", "items": ["nl", "xm"], "reason": "仅提供研究所需的年龄段与姓名"}
    url = f"/api/v1/open-applications/{app['id']}/decision"
    assert_problem(client.post(url, json=decision, headers=citizen), 403)
    assert_problem(client.post(url, json=decision, headers=as_user("wj_user")), 403)
    assert_problem(client.post(url, json=decision, headers=as_user("ga_officer")), 404)
    assert_problem(client.post(url, json={"decision": "partial"}, headers=officer), 422)  # nothing narrowed
    decided = client.post(url, json=decision, headers=officer)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "partially_approved" and decided.json()["decided_items"] == [
        "nl",
        "xm",
    ]
    assert_problem(client.post(url, json=decision, headers=officer), 409, "already-decided")
    told = client.get("/api/v1/notifications", headers=citizen).json()["items"]
    assert any("部分同意" in n["title"] for n in told)

    # a key: shown once, limited to the granted items
    made = client.post(f"/api/v1/open-applications/{app['id']}/keys", headers=citizen)
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert key.startswith("gdk_")
    listed = client.get(f"/api/v1/open-applications/{app['id']}/keys", headers=citizen).json()
    assert [k["key"] for k in listed] == [None]
    access = keys.resolve_key(session, key)
    assert access is not None and access.items == frozenset({"nl", "xm"})
    page = core.read_open(session, client.app.state.store, conditional, access, limit=5)
    assert page["items"] and set(page["items"][0]) >= {"nl", "xm"}
    assert not set(page["items"][0]) & {"csrq", "sfzh", "zd"}
    anyone = core.read_open(session, client.app.state.store, conditional, core.OpenAccess(), limit=5)
    assert not any(set(r) & {"nl", "xm"} for r in anyone["items"])
    # the logged-in applicant reads the same through access_for; another account reads as anyone
    actor = orgs.actor_named(session, "citizen")
    assert applications.access_for(session, actor, conditional).items == frozenset({"nl", "xm"})
    assert applications.access_for(session, key, conditional).application_id == app["id"]
    assert applications.access_for(session, key, "not-this-one").items is None

    # every use is logged (who, dataset, application, rows) and counted
    applications.record_use(session, access, conditional, "api_call", rows=5, detail="records")
    session.commit()
    uses = client.get("/api/v1/open-uses", headers=citizen).json()
    assert (
        uses["total"] == 1
        and uses["items"][0]["rows"] == 5
        and uses["items"][0]["application_id"] == app["id"]
    )
    assert client.get("/api/v1/open-uses", headers=officer).json()["total"] == 1
    assert client.get("/api/v1/open-uses", headers=as_user("ga_officer")).json()["total"] == 0
    assert core.open_dataset(session, conditional).api_calls == 1

    # a key sent as a bearer token is nobody to the rest of the platform; revoked, it is refused
    assert client.get("/api/v1/demands", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert_problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}), 401)
    key_id = listed[0]["id"]
    assert (
        client.delete(f"/api/v1/open-applications/{app['id']}/keys/{key_id}", headers=citizen).status_code
        == 200
    )
    session.expire_all()
    assert keys.resolve_key(session, key) is None
    assert_problem(client.get("/api/v1/demands", headers={"Authorization": f"Bearer {key}"}), 401)

    # once the granted period has ended, neither keys nor the login read the granted items
    second = client.post(f"/api/v1/open-applications/{app['id']}/keys", headers=citizen).json()["key"]
    with clock.frozen(clock.today() + timedelta(days=101)):
        session.expire_all()
        assert keys.resolve_key(session, second) is None
        assert applications.access_for(session, actor, conditional).items is None
        with pytest.raises(Conflict):
            keys.create_key(session, actor, app["id"])
    # the account page shows the application, its keys and the log
    mine = client.get("/account", headers=citizen)
    assert mine.status_code == 200 and "部分同意" in mine.text and "吊销" in mine.text


def test_refusal_needs_a_reason_and_approval_grants_what_was_asked(client, as_user, conditional):
    citizen, officer = as_user("citizen"), as_user("wj_officer")
    first = client.post("/api/v1/open-applications", json=application(conditional), headers=citizen).json()
    second = client.post(
        "/api/v1/open-applications", json=application(conditional, 30), headers=citizen
    ).json()
    refuse = f"/api/v1/open-applications/{first['id']}/decision"
    assert_problem(client.post(refuse, json={"decision": "refuse"}, headers=officer), 422)
    refused = client.post(
        refuse, json={"decision": "refuse", "reason": "用途与数据集开放条件不符"}, headers=officer
    )
    assert refused.json()["status"] == "refused" and refused.json()["reason"] == "用途与数据集开放条件不符"
    assert_problem(
        client.post(f"/api/v1/open-applications/{first['id']}/keys", headers=citizen), 409, "not-approved"
    )
    approve = f"/api/v1/open-applications/{second['id']}/decision"
    assert_problem(client.post(approve, json={"decision": "approve", "items": ["nl"]}, headers=officer), 422)
    approved = client.post(approve, json={"decision": "approve"}, headers=officer).json()
    assert approved["status"] == "approved" and approved["decided_items"] == ASKED

    # the lists: the applicant its own, the provider's staff theirs, the authority all, others nothing
    assert client.get("/api/v1/open-applications", headers=citizen).json()["total"] == 2
    assert client.get("/api/v1/open-applications", headers=officer).json()["total"] == 2
    assert client.get("/api/v1/open-applications", headers=as_user("dsj_officer")).json()["total"] == 2
    assert client.get("/api/v1/open-applications", headers=as_user("ga_officer")).json()["total"] == 0
    assert_problem(client.get("/api/v1/open-applications", headers=as_user("rs_user")), 403)
    assert_problem(client.get(f"/api/v1/open-applications/{first['id']}", headers=as_user("ga_officer")), 404)
    decide_page = client.get(f"/opening/applications/{first['id']}", headers=officer)
    assert decide_page.status_code == 200 and "用途与数据集开放条件不符" in decide_page.text


def test_who_may_apply_and_for_what(client, as_user, conditional):
    citizen = as_user("citizen")
    assert_problem(client.post("/api/v1/open-applications", json=application(conditional)), 401)
    assert_problem(
        client.post("/api/v1/open-applications", json=application(conditional), headers=as_user("rs_user")),
        403,
    )
    assert_problem(
        client.post("/api/v1/open-applications", json=application("no-such-code"), headers=citizen), 404
    )
    assert_problem(
        client.post(
            "/api/v1/open-applications", json=application(conditional, items=["zd"]), headers=citizen
        ),
        422,
    )  # the level-4 diagnosis is never opened
    assert_problem(
        client.post(
            "/api/v1/open-applications", json=application(conditional, commitments=" "), headers=citizen
        ),
        422,
    )
    assert_problem(
        client.post("/api/v1/open-applications", json=application(conditional, -1), headers=citizen), 422
    )
    form = client.get(f"/datasets/{conditional}/apply", headers=citizen)
    assert form.status_code == 200 and "数据安全承诺" in form.text and "非法定" in form.text
    unconditional = open_resource(client, as_user)
    assert_problem(
        client.post("/api/v1/open-applications", json=application(unconditional), headers=citizen),
        409,
        "unconditional-dataset",
    )
