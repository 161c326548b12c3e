"""The open catalog (OPN-1, OPN-6, SEC-1): preparation, confidentiality review, publication behind the
k gate, level rules, emergency opening, withdrawal, non-open resources, the priority list."""

from __future__ import annotations

from govdata.core import audit
from govdata.opening import service
from tests.support.catalog import publish
from tests.support.opening import (
    AUTHORITY,
    OFFICER,
    checkup_records,
    checkups,
    open_conditional,
    open_resource,
    prepare,
    review,
)
from tests.support.sharing import load

BASE = "/api/v1/open/resources"


def _actions(session, code: str) -> list[str]:
    from sqlalchemy import select

    rows = session.scalars(select(audit.AuditEvent).where(audit.AuditEvent.object_id == code))
    return [e.action for e in rows]


def test_publication_needs_a_passed_review_the_authority_and_k(client, as_user, session):
    code = publish(client, as_user, OFFICER, checkups())
    load(client, as_user(OFFICER), code, checkup_records(30))
    # birth dates to the year beside the region: nearly every record is alone in its group
    prepare(client, as_user, code, plan={"csrq": "generalise"}, quasi=["xzqh", "csrq"])
    url = f"{BASE}/{code}/publish"

    assert client.post(url, json={}, headers=as_user(OFFICER)).status_code == 403
    refused = client.post(url, json={}, headers=as_user(AUTHORITY))
    assert refused.status_code == 409 and refused.json()["type"].endswith("review-required")
    review(client, as_user, code, "failed")
    assert client.post(url, json={}, headers=as_user(AUTHORITY)).status_code == 409
    review(client, as_user, code)

    below = client.post(url, json={}, headers=as_user(AUTHORITY))
    assert below.status_code == 409, below.text
    problem = below.json()
    assert problem["type"].endswith("k-anonymity") and problem["k"] == 5
    assert problem["rows"] == 30 and problem["groups_below_k"] > 0 and problem["rows_below_k"] > 0
    assert problem["smallest"] < 5
    assert service.open_dataset(session, code) is None

    # region and conclusion: six groups of five; a changed plan needs a new review
    prepare(client, as_user, code, plan={"csrq": "suppress"}, quasi=["xzqh", "jg"])
    outdated = client.post(url, json={}, headers=as_user(AUTHORITY))
    assert outdated.status_code == 409 and outdated.json()["type"].endswith("review-outdated")
    review(client, as_user, code)
    opened = client.post(url, json={}, headers=as_user(AUTHORITY))
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "published" and opened.json()["basis"] == "open_type"
    assert client.post(url, json={}, headers=as_user(AUTHORITY)).status_code == 409  # already open

    report = client.get(f"{BASE}/{code}/k-report", params={"quasi": "xzqh,jg"}, headers=as_user(OFFICER))
    assert report.status_code == 200
    assert report.json()["groups"] == 6 and report.json()["smallest"] == 5 and report.json()["passed"]

    session.expire_all()
    dataset = service.open_dataset(session, code)
    assert dataset is not None and dataset.open_type == "unconditional"
    assert [i.code for i in dataset.items] == ["bh", "xzqh", "jg"]  # level 1 only by default
    assert {"opening.plan_saved", "opening.reviewed", "opening.published"} <= set(_actions(session, code))


def test_level_rules_and_deidentified_reads(client, as_user, session, app):
    code = open_conditional(client, as_user)
    store = app.state.store
    dataset = service.open_dataset(session, code)
    codes = {i.code: i for i in dataset.items}
    assert "zd" not in codes  # level 4 is never opened
    assert not any(i.public for i in dataset.items)  # conditional: nothing for anyone
    assert codes["sfzh"].method == "pseudonymise" and codes["sfzh"].level == 3

    anonymous = service.read_open(session, store, code, service.OpenAccess())
    assert anonymous == {"items": [], "total": 0, "fields": []}

    granted = service.OpenAccess(
        account_id=1, application_id=1, items=frozenset({"bh", "nl", "xm", "sfzh", "zd"})
    )
    page = service.read_open(session, store, code, granted, limit=5, settings=app.state.settings)
    assert page["fields"] == ["bh", "nl", "xm", "sfzh"] and page["total"] == 30
    first = page["items"][0]
    raw = checkup_records(1)[0]
    assert first["bh"] == raw["bh"]
    low = (raw["nl"] // 10) * 10
    assert first["nl"] == f"{low}-{low + 9}"
    assert first["xm"] == "张" + "*" * (len(raw["xm"]) - 1)
    assert len(first["sfzh"]) == 32 and raw["sfzh"] not in str(page)

    # an open dataset's plan changes only after withdrawal; a level-2 item kept as it is is not
    # served at all; level 4 can only be suppressed
    frozen = client.put(f"{BASE}/{code}/plan", json={"plan": {"nl": "keep"}}, headers=as_user(OFFICER))
    assert frozen.status_code == 409
    withdrawn = client.post(
        f"{BASE}/{code}/withdraw", json={"reason": "调整方案"}, headers=as_user(AUTHORITY)
    )
    assert withdrawn.status_code == 200
    response = client.put(f"{BASE}/{code}/plan", json={"plan": {"nl": "keep"}}, headers=as_user(OFFICER))
    assert response.status_code == 200
    assert not next(i for i in response.json()["items"] if i["code"] == "nl")["served"]
    bad = client.put(f"{BASE}/{code}/plan", json={"plan": {"zd": "mask"}}, headers=as_user(OFFICER))
    assert bad.status_code == 422
    review(client, as_user, code)
    assert client.post(f"{BASE}/{code}/publish", json={}, headers=as_user(AUTHORITY)).status_code == 200
    session.expire_all()
    assert "nl" not in {i.code for i in service.open_dataset(session, code).items}


def test_emergency_opening_is_flagged_current_and_withdrawn(client, as_user, session, app):
    code = open_resource(client, as_user, emergency="public_health")
    session.expire_all()
    flagged = service.open_datasets(session, emergency=True)
    assert [d.code for d in flagged] == [code] and flagged[0].incident_category == "public_health"
    # OPN-6: on the portal's home page at once, under the emergencies, with its category
    home = client.get("/", headers={"accept": "text/html"})
    emergencies = home.text.split("突发事件数据开放", 1)[1].split("最新更新", 1)[0]
    assert flagged[0].name in emergencies and "公共卫生事件" in emergencies
    store = app.state.store
    assert service.read_open(session, store, code, service.OpenAccess())["total"] == 30
    load(client, as_user(OFFICER), code, checkup_records(5, start=30))  # the next batch shows at once
    session.expire_all()
    assert service.read_open(session, store, code, service.OpenAccess())["total"] == 35

    # another department's officer cannot open this department's resource
    other = client.post(
        f"{BASE}/{code}/emergency", json={"category": "natural_disaster"}, headers=as_user("ga_officer")
    )
    assert other.status_code == 403
    assert (
        client.post(
            f"{BASE}/{code}/withdraw", json={"reason": "事件结束"}, headers=as_user(OFFICER)
        ).status_code
        == 403
    )
    done = client.post(f"{BASE}/{code}/withdraw", json={"reason": "事件处置结束"}, headers=as_user(AUTHORITY))
    assert done.status_code == 200 and done.json()["status"] == "withdrawn"
    session.expire_all()
    assert (
        service.open_dataset(session, code) is None and service.open_datasets(session, emergency=True) == []
    )
    assert flagged[0].name not in client.get("/", headers={"accept": "text/html"}).text
    again = client.post(f"{BASE}/{code}/withdraw", json={"reason": "x"}, headers=as_user(AUTHORITY))
    assert again.status_code == 409
    assert client.get(f"{BASE}/000/999999999", headers=as_user(AUTHORITY)).status_code == 404
    assert (
        client.post(f"{BASE}/000/999999999/publish", json={}, headers=as_user(AUTHORITY)).status_code == 404
    )


def test_non_open_resource_opens_by_consent_and_priorities(client, as_user, session):
    code = publish(client, as_user, OFFICER, checkups(open_type="none"))
    url = f"{BASE}/{code}"
    reason = {"reason": "personal_privacy", "note": "含个人体检信息"}
    assert client.put(f"{url}/non-open-reason", json=reason, headers=as_user("ga_officer")).status_code == 403
    recorded = client.put(f"{url}/non-open-reason", json=reason, headers=as_user(OFFICER))
    assert recorded.status_code == 200 and recorded.json()["non_open_reason"] == "personal_privacy"
    review(client, as_user, code)
    refused = client.post(f"{url}/publish", json={}, headers=as_user(AUTHORITY))
    assert refused.status_code == 409 and refused.json()["type"].endswith("not-openable")

    consent = {"holder": "焦作市体检中心", "date": "2026-03-01", "document": "同意开放函（焦体〔2026〕3号）"}
    assert client.post(f"{url}/consent", json=consent, headers=as_user(OFFICER)).status_code == 200
    opened = client.post(f"{url}/publish", json={}, headers=as_user(AUTHORITY))
    assert opened.status_code == 200, opened.text
    assert opened.json()["basis"] == "consent" and opened.json()["open_type"] == "conditional"

    priority = {"year": 2026, "resource_code": code, "comment": "群众关注度高"}
    assert client.post("/api/v1/open/priorities", json=priority, headers=as_user(OFFICER)).status_code == 403
    added = client.post("/api/v1/open/priorities", json=priority, headers=as_user(AUTHORITY))
    assert (
        added.status_code == 201 and added.json()["fulfilled"] and added.json()["title"] == "居民健康体检结果"
    )
    other = client.post(
        "/api/v1/open/priorities", json={"year": 2026, "title": "公交线路与站点"}, headers=as_user(AUTHORITY)
    )
    assert other.status_code == 201 and not other.json()["fulfilled"]
    patched = client.patch(
        f"/api/v1/open/priorities/{other.json()['id']}",
        json={"comment": "交通运输局牵头"},
        headers=as_user(AUTHORITY),
    )
    assert patched.status_code == 200 and patched.json()["comment"] == "交通运输局牵头"
    assert (
        client.patch("/api/v1/open/priorities/99999", json={}, headers=as_user(AUTHORITY)).status_code == 404
    )
    listed = client.get("/api/v1/open/priorities", params={"year": 2026}, headers=as_user(OFFICER))
    assert [p["fulfilled"] for p in listed.json()] == [True, False]


def test_staff_pages_follow_the_rules(client, as_user, app):
    from tests.support.pages import browser, text

    code = publish(client, as_user, OFFICER, checkups())
    load(client, as_user(OFFICER), code, checkup_records(30))
    officer = browser(app, OFFICER)
    listed = officer.get("/opening?status=candidate")
    assert listed.status_code == 200 and "居民健康体检结果" in text(listed.text)

    page = f"/opening/{code}"
    form = {
        "method_csrq": "generalise",
        "generalise_csrq": "year",
        "quasi": ["xzqh", "jg"],
        "open_type": "unconditional",
    }
    saved = officer.post(f"{page}/plan", data=form, follow_redirects=True)
    assert saved.status_code == 200 and "脱敏方案已保存" in saved.text
    assert "6 个" in text(saved.text) and "通过" in saved.text  # the k report of the chosen quasi-identifiers
    assert "发布到开放目录" not in saved.text  # the officer prepares, the authority publishes
    assert officer.post(f"{page}/publish").status_code == 403

    authority = browser(app, AUTHORITY)
    refused = authority.post(f"{page}/publish")
    assert refused.status_code == 409 and "保密审查" in refused.text
    officer.post(f"{page}/review", data={"conclusion": "passed", "comment": "同意"})
    opened = authority.post(f"{page}/publish", follow_redirects=True)
    assert opened.status_code == 200 and "已发布到开放目录" in opened.text
    assert authority.get("/opening/000/999999999").status_code == 404

    added = authority.post(
        "/opening/priorities", data={"year": "2026", "resource_code": code}, follow_redirects=True
    )
    assert added.status_code == 200 and "已开放 1 / 1" in text(added.text)
