"""Reading quality never writes; problems are seen only by those concerned, record keys masked for
the rest (issue 12 item 8, SEC-4); the criteria shown come from the constants; both stores."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from govdata.aggregation.models import Batch
from govdata.catalog.service import resource_ref
from govdata.core import events
from govdata.core.audit import AuditEvent
from govdata.core.db import unit_of_work, utcnow
from govdata.quality.models import QualityProblem, QualitySnapshot
from govdata.quality.service import CRITERIA, WINDOW_BATCHES, mask_key, resource_quality, scoring
from tests.support.batches import good_rows
from tests.support.catalog import population, publish, publish_draft
from tests.support.http import assert_problem
from tests.support.jobs import settle
from tests.support.pages import HTML, browser, text
from tests.support.quality import load, quality


def _counts(session) -> tuple[int, int, int]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(table))
        for table in (QualitySnapshot, QualityProblem, AuditEvent)
    )


def test_reading_quality_never_writes(client, as_user, population_code, session):
    officer = as_user("ga_officer")
    batch = load(client, officer, population_code, good_rows(5))
    report = client.post(
        f"/api/v1/resources/{population_code}/quality-problems",
        json={"description": "姓名有误", "record_key": good_rows(5)[0][0]},
        headers=as_user("rs_user"),
    )
    assert report.status_code == 201
    # time alone moved the timeliness score: a read shows it, but stores nothing
    session.execute(
        update(Batch).where(Batch.id == batch["id"]).values(finished_at=utcnow() - timedelta(days=4.5))
    )
    session.commit()
    me = client.get("/api/v1/me", headers=officer).json()
    authority = as_user("dsj_officer")
    browsers = [browser(client.app, user) for user in ("ga_officer", "rs_user", "dsj_officer")]
    settle(client.app)
    before = _counts(session)  # after the logins, which are audited

    scores = quality(client, officer, population_code)
    assert scores["dimensions"]["timeliness"]["details"]["overdue"] is True
    assert scores["history"][-1]["trigger"] == "batch"
    for page in browsers:
        assert page.get(f"/catalog/r/{population_code}", headers=HTML).status_code == 200
        assert page.get(f"/quality/{population_code}", headers=HTML).status_code == 200
        assert page.get("/quality", headers=HTML).status_code == 200
    assert (
        client.get(f"/api/v1/departments/{me['department_id']}/quality", headers=officer).status_code == 200
    )
    assert (
        client.get(f"/api/v1/resources/{population_code}/quality-problems", headers=officer).status_code
        == 200
    )
    assert client.get("/api/v1/quality-problems", headers=authority).status_code == 200
    settle(client.app)
    assert _counts(session) == before


def test_a_publication_rescores_a_resource_with_data_once(client, as_user, population_code):
    officer = as_user("ga_officer")
    code = publish(client, as_user, "ga_officer", population(name="新发布资源"))
    settle(client.app)  # published without records: nothing to score until its first batch
    assert quality(client, officer, code)["overall"] is None
    load(client, officer, population_code, good_rows(5))
    revised = client.patch(
        f"/api/v1/resources/{population_code}",
        json={"summary": "全市户籍人口基础信息（修订说明）。", "reason": "完善摘要"},
        headers=officer,
    )
    assert revised.status_code == 200, revised.text
    publish_draft(client, as_user, population_code)  # the catalog emits resource_published
    settle(client.app)
    app = client.app
    resource_id = _resource_id(app, population_code)
    with unit_of_work(app.state.sessionmaker) as s:  # the same publication again: scored once
        events.emit(s, events.RESOURCE_PUBLISHED, resource_id=resource_id)
    settle(app)
    history = quality(client, officer, population_code)["history"]
    assert [h["trigger"] for h in history] == ["batch", "published"]


def _resource_id(app, code: str) -> int:
    with unit_of_work(app.state.sessionmaker) as s:
        return resource_ref(s, code=code).id


def test_a_problem_is_seen_by_provider_reporter_and_authority_only(client, as_user, population_code):
    rows = good_rows(3)
    load(client, as_user("ga_officer"), population_code, rows)
    key = rows[1][0]
    problem = client.post(
        f"/api/v1/resources/{population_code}/quality-problems",
        json={"description": "该人员出生日期有误", "record_key": key},
        headers=as_user("rs_user"),
    ).json()
    url = f"/api/v1/quality-problems/{problem['id']}"

    # the provider and the reporting department see the record key in clear
    for user in ("ga_officer", "ga_head", "rs_user", "rs_officer"):
        seen = client.get(url, headers=as_user(user))
        assert seen.status_code == 200 and seen.json()["record_key"] == key, user
    # the authority sees the problem, with the key masked
    masked = client.get(url, headers=as_user("dsj_officer")).json()
    assert masked["record_key"] == mask_key(key) == key[:4] + "*" * 10 + key[-4:]
    assert masked["description"] == "该人员出生日期有误"
    every = client.get("/api/v1/quality-problems", headers=as_user("dsj_officer")).json()
    assert [p["record_key"] for p in every["items"]] == [mask_key(key)]

    # any other department: not found, not listed, not on the page
    for user in ("wj_user", "wj_officer", "mz_officer", "admin"):
        assert_problem(client.get(url, headers=as_user(user)), 404)
        listed = client.get(f"/api/v1/resources/{population_code}/quality-problems", headers=as_user(user))
        assert listed.status_code == 200 and listed.json()["total"] == 0, user
        assert client.get("/api/v1/quality-problems", headers=as_user(user)).json()["total"] == 0
    assert_problem(
        client.post(f"{url}/answer", json={"action": "confirm"}, headers=as_user("wj_officer")), 404
    )
    page = browser(client.app, "wj_user").get(f"/quality/{population_code}", headers=HTML)
    assert page.status_code == 200 and "该人员出生日期有误" not in text(page.text) and key not in page.text
    authority_page = browser(client.app, "dsj_officer").get(f"/quality/{population_code}", headers=HTML)
    assert "该人员出生日期有误" in text(authority_page.text) and key not in authority_page.text
    assert mask_key(key) in authority_page.text
    # the counts on the scores stay for every reader (no content)
    assert quality(client, as_user("wj_user"), population_code)["problems"]["total"] == 1


def test_masking_keeps_little_of_any_key():
    assert mask_key("410802198501010011") == "4108**********0011"
    assert mask_key("91410800MA44ABCD1X") == "9141**********CD1X"
    assert mask_key("ABCDEFG") == "*****FG"
    assert mask_key("ABC") == "***"


def test_the_criteria_shown_come_from_the_constants(monkeypatch):
    assert f"最多 {WINDOW_BATCHES} 个" in CRITERIA["conformance"]
    assert "代码表" in CRITERIA["conformance"] and "扣 10 分" in CRITERIA["accuracy"]
    assert "最近 12 个更新间隔" in CRITERIA["timeliness"] and "1 秒内" in CRITERIA["accessibility"]
    monkeypatch.setattr(scoring, "WINDOW_BATCHES", 3)
    monkeypatch.setattr(scoring, "RECONCILIATION_PENALTY", 5.0)
    monkeypatch.setattr(scoring, "SLOW_PROBE_MS", 500.0)
    criteria = scoring._criteria()
    assert "最多 3 个" in criteria["conformance"] and "扣 5 分" in criteria["accuracy"]
    assert "0.5 秒内" in criteria["accessibility"]
    assert resource_quality  # the read use case is importable from the service package
