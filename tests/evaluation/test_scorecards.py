"""SUP-1, SUP-3 scorecards on both stores: the measures traced to a scenario of known resources,
batches and share applications (exact values, China dates at the period's edges); weights that change
the order; closing freezes the numbers and the weights; the evaluator enters manual scores with
evidence and can do nothing else; department staff cannot set weights; bad periods are 422."""

from __future__ import annotations

import datetime as dt
from itertools import count

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from govdata.aggregation.models import Batch
from govdata.catalog.models import Resource
from govdata.cli import app as cli_app
from govdata.core import clock
from govdata.core.config import get_settings
from govdata.evaluation import service
from govdata.orgs.models import ApplicationSystem, Department
from govdata.sharing.models import Application
from tests.support.http import assert_problem, login
from tests.support.pages import HTML, browser, text, web_login

CHINA = clock.CHINA
TODAY = dt.datetime(2026, 4, 10, 10, 0, tzinfo=CHINA)  # after the first quarter of 2026
PERIOD = "2026-Q1"
_codes = count(1)


def china(y: int, m: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, h, 0, tzinfo=CHINA).astimezone(dt.UTC)


def dept(session, code: str) -> int:
    return session.scalar(select(Department.id).where(Department.code == code))


def resource(session, provider: int, status: str = "published", cycle: str = "monthly") -> Resource:
    n = next(_codes)
    row = Resource(
        code=f"EVAL-{provider}-{n:04d}",
        provider_id=provider,
        status=status,
        name=f"考核测试资源{n}",
        classification="base",
        format="database",
        share_type="conditional",
        open_type="none",
        update_cycle=cycle,
        grade="general",
        created_at=china(2025, 11, 1),
        published_at=china(2025, 12, 1) if status == "published" else None,
        published_version=1 if status == "published" else None,
    )
    session.add(row)
    session.flush()
    return row


def batch(session, res: Resource, finished: dt.datetime, status: str = "applied") -> None:
    session.add(
        Batch(
            resource_id=res.id,
            resource_code=res.code,
            department_id=res.provider_id,
            catalog_version=1,
            mode="upsert",
            policy="reject",
            source="upload",
            status=status,
            created_by="test",
            created_at=finished,
            finished_at=finished,
        )
    )


def application(
    session,
    res: Resource,
    consumer: int,
    system: int,
    submitted: dt.datetime,
    decided: dt.datetime,
    *,
    decision: str = "approve",
    late: bool = False,
    flagged: bool = False,
    days: int = 1,
    by: str = "ga_officer",
) -> None:
    """An answered application, as sharing stores it (``days``: the working days it took)."""
    session.add(
        Application(
            resource_id=res.id,
            resource_code=res.code,
            resource_name=res.name,
            catalog_version=1,
            share_type="conditional",
            provider_id=res.provider_id,
            consumer_department_id=consumer,
            system_id=system,
            applicant="rs_officer",
            items=["A"],
            masked_items=[],
            purpose="考核测试",
            scenario="考核测试",
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 12, 31),
            modes=["query"],
            status="refused" if decision == "refuse" else "approved",
            phase="decided",
            submitted_at=submitted,
            decided_at=decided,
            decision=decision,
            decided_by=by,
            decided_working_days=days,
            late=late,
            refusal_flagged=flagged,
            coordination=[],
        )
    )


@pytest.fixture
def scenario(session):
    """市公安局 (ga): three published monthly resources (two batches in the quarter, one, none) and one
    draft; three applications decided in the quarter (3, 5 and 1 working days; one late; one refusal
    with basis, one without), one decided on 1 April China time (23:00 UTC on 31 March: outside), one
    decided in April, one granted at once by the platform (no answer of the provider). 市市场监管局 (scjg): one draft resource, one application answered in one working
    day, on time."""
    ga, scjg, rs = dept(session, "002"), dept(session, "003"), dept(session, "004")
    system = session.scalar(select(ApplicationSystem.id).where(ApplicationSystem.department_id == rs))
    a, b, c = (resource(session, ga) for _ in range(3))
    resource(session, ga, status="draft")
    scjg_res = resource(session, scjg, status="draft")
    batch(session, a, china(2026, 1, 20))
    batch(session, a, china(2026, 3, 1))
    batch(session, a, china(2025, 12, 20))  # before the quarter: data, not counted as on time
    batch(session, b, china(2026, 2, 10))
    batch(session, c, china(2026, 2, 11), status="failed")  # a failed batch delivers nothing
    application(session, a, rs, system, china(2026, 3, 2), china(2026, 3, 5), days=3)
    application(
        session, a, rs, system, china(2026, 3, 2), china(2026, 3, 9), decision="refuse", late=True, days=5
    )
    application(session, b, rs, system, china(2026, 3, 2), china(2026, 3, 3), decision="refuse", flagged=True)
    application(session, b, rs, system, china(2026, 3, 30), china(2026, 4, 1, 7))  # 2026-03-31 23:00 UTC
    application(session, b, rs, system, china(2026, 4, 2), china(2026, 4, 3))
    application(
        session, b, rs, system, china(2026, 3, 2), china(2026, 3, 2), days=0, by="govdata"
    )  # granted at once
    application(session, scjg_res, rs, system, china(2026, 3, 2), china(2026, 3, 3))
    session.commit()
    return {"ga": ga, "scjg": scjg, "rs": rs}


def item(card: dict, department_id: int) -> dict:
    return next(i for i in card["items"] if i["department_id"] == department_id)


def get_card(client, headers, period: str = PERIOD) -> dict:
    response = client.get(f"/api/v1/scorecards?period={period}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_measures_are_traced_to_the_facts(client, as_user, scenario):
    with clock.frozen(TODAY):
        card = get_card(client, as_user("dsj_officer"))
        ga = item(card, scenario["ga"])["measures"]
        assert ga["catalog_completeness"] == 0.75  # 3 published of 4 registered
        assert ga["aggregation_completeness"] == round(2 / 3, 4)  # a and b have data, c none
        assert ga["aggregation_timeliness"] == round(1 / 3, 4)  # 90 days, monthly: 2 due; only a has 2
        assert ga["response_days"] == 3.0  # (3 + 5 + 1) working days / 3
        assert ga["response_on_time_rate"] == round(2 / 3, 4)
        assert ga["refusals_with_basis"] == 1 and ga["refusals_without_basis"] == 1
        assert ga["services_provided"] is None  # no fact: None, not 0
        scjg = item(card, scenario["scjg"])["measures"]
        assert scjg["catalog_completeness"] == 0.0
        assert scjg["response_days"] == 1.0 and scjg["response_on_time_rate"] == 1.0
        assert scjg["aggregation_timeliness"] is None and scjg["refusals_without_basis"] is None
        # the figures behind the scores, each with the list it comes from
        figures = client.get(
            f"/api/v1/scorecards/{PERIOD}/departments/{scenario['ga']}", headers=as_user("dsj_officer")
        ).json()
        days = next(f for f in figures["figures"] if f["measure"] == "response_days")
        assert (days["numerator"], days["denominator"]) == (9, 3)
        completeness = next(f for f in figures["figures"] if f["measure"] == "catalog_completeness")
        assert (completeness["numerator"], completeness["denominator"]) == (3, 4)
        assert completeness["link"] == f"/catalog?provider_id={scenario['ga']}"
        assert figures["score"] == item(card, scenario["ga"])["score"]


def test_weights_change_the_ranking(client, as_user, scenario):
    authority = as_user("dsj_officer")
    ga, scjg = scenario["ga"], scenario["scjg"]
    with clock.frozen(TODAY):
        body = {"period": PERIOD, "weights": {"catalog_completeness": 1}}
        assert client.put("/api/v1/scorecards/weights", json=body, headers=authority).status_code == 200
        card = get_card(client, authority)
        assert item(card, ga)["rank"] == 1 and item(card, scjg)["rank"] == 2
        assert item(card, ga)["score"] == 75.0 and item(card, scjg)["score"] == 0.0
        assert card["weights"] == {"catalog_completeness": 1.0}
        # a department without any weighted fact has no score and no rank
        assert item(card, scenario["rs"])["score"] is None and item(card, scenario["rs"])["rank"] is None

        body = {"period": PERIOD, "weights": {"response_on_time_rate": 2, "response_days": 1}}
        assert client.put("/api/v1/scorecards/weights", json=body, headers=authority).status_code == 200
        card = get_card(client, authority)
        assert item(card, scjg)["rank"] == 1 and item(card, ga)["rank"] == 2
        # ga: on time 66.67, days 100 × (1 + 1) / (1 + 3) = 50 → (2 × 66.67 + 50) / 3
        assert item(card, ga)["indicator_scores"]["response_days"] == 50.0
        assert item(card, ga)["score"] == round((2 * 66.67 + 50) / 3, 2)
        assert card["items"][0]["department_id"] == scjg  # ranked, best first

        bad = client.put(
            "/api/v1/scorecards/weights", json={"period": PERIOD, "weights": {"nope": 1}}, headers=authority
        )
        assert assert_problem(bad, 422)["errors"][0]["field"] == "weights.nope"
        negative = {"period": PERIOD, "weights": {"quality_score": -1}}
        assert_problem(client.put("/api/v1/scorecards/weights", json=negative, headers=authority), 422)
        huge = {"period": PERIOD, "weights": {"quality_score": 1e9}}
        assert_problem(client.put("/api/v1/scorecards/weights", json=huge, headers=authority), 422)
        nothing = {"period": PERIOD, "weights": {"quality_score": 0}}
        assert_problem(client.put("/api/v1/scorecards/weights", json=nothing, headers=authority), 422)
        assert get_card(client, authority)["weights"] == {"response_on_time_rate": 2.0, "response_days": 1.0}
        # a department's officer and head cannot set weights
        for user in ("ga_officer", "ga_head"):
            assert_problem(client.put("/api/v1/scorecards/weights", json=body, headers=as_user(user)), 403)
        # a body naming no period sets this year's weights; a scorecard asked without one is this year's
        this_year = client.put(
            "/api/v1/scorecards/weights", json={"weights": {"quality_score": 1}}, headers=authority
        )
        assert this_year.status_code == 200 and this_year.json()["period"] == str(TODAY.year), this_year.text
        unnamed = client.get("/api/v1/scorecards", headers=authority).json()
        assert unnamed["period"] == str(TODAY.year) and unnamed["weights"] == {"quality_score": 1.0}


def test_open_periods_recompute_the_same_and_closed_ones_are_frozen(client, as_user, session, scenario):
    authority = as_user("dsj_officer")
    with clock.frozen(TODAY):
        first, again = get_card(client, authority), get_card(client, authority)
        assert first["frozen"] is False
        assert first["items"] == again["items"] and first["weights"] == again["weights"]
        # a period not over cannot be closed
        assert_problem(client.post("/api/v1/scorecards/2026-Q2/close", headers=authority), 409)
        assert_problem(client.post(f"/api/v1/scorecards/{PERIOD}/close", headers=as_user("ga_head")), 403)
        closed = client.post(f"/api/v1/scorecards/{PERIOD}/close", headers=authority)
        assert closed.status_code == 200 and closed.json()["frozen"] is True
        assert closed.json()["items"] == first["items"]

        # new facts of the quarter change nothing once it is closed
        ga = scenario["ga"]
        late = resource(session, ga)
        application(session, late, scenario["rs"], 1, china(2026, 3, 10), china(2026, 3, 30), late=True)
        session.commit()
        frozen = get_card(client, authority)
        assert frozen["frozen"] is True and frozen["items"] == first["items"]
        figures = client.get(f"/api/v1/scorecards/{PERIOD}/departments/{ga}", headers=authority).json()
        assert figures["frozen"] is True
        assert next(f for f in figures["figures"] if f["measure"] == "response_days")["denominator"] == 3
        # while the year, still open, sees them
        assert item(get_card(client, authority, "2026"), ga)["measures"]["catalog_completeness"] == 0.8

        body = {"period": PERIOD, "weights": {"quality_score": 1}}
        assert_problem(
            client.put("/api/v1/scorecards/weights", json=body, headers=authority), 409, "period-closed"
        )
        assert_problem(client.post(f"/api/v1/scorecards/{PERIOD}/close", headers=authority), 409)


def test_the_evaluator_scores_with_evidence_and_does_nothing_else(client, as_user, scenario):
    admin = as_user("admin")
    created = client.post(
        "/api/v1/users",
        json={
            "username": "pg_evaluator",
            "password": "Evaluator@2026-test",
            "display_name": "第三方评估员",
            "roles": ["evaluator"],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    headers = login(client, "pg_evaluator", "Evaluator@2026-test")
    ga = scenario["ga"]
    url = f"/api/v1/scorecards/{PERIOD}/manual"
    with clock.frozen(TODAY):
        weights = {"period": PERIOD, "weights": {"manual_assessment": 1, "response_on_time_rate": 1}}
        assert (
            client.put("/api/v1/scorecards/weights", json=weights, headers=as_user("dsj_officer")).status_code
            == 200
        )
        no_evidence = {"department_id": ga, "indicator": "manual_assessment", "score": 90, "evidence": "  "}
        assert (
            assert_problem(client.post(url, json=no_evidence, headers=headers), 422)["errors"][0]["field"]
            == "evidence"
        )
        too_high = {**no_evidence, "score": 101, "evidence": "现场核查记录"}
        assert_problem(client.post(url, json=too_high, headers=headers), 422)
        computed = {**no_evidence, "indicator": "catalog_completeness", "evidence": "现场核查记录"}
        assert_problem(client.post(url, json=computed, headers=headers), 422)
        entered = client.post(
            url, json={**no_evidence, "evidence": "现场核查：目录与职责清单一致"}, headers=headers
        )
        assert entered.status_code == 201, entered.text
        assert entered.json()["entered_by"] == "pg_evaluator"

        card = get_card(client, headers)  # the evaluator reads the scorecards
        assert item(card, ga)["indicator_scores"]["manual_assessment"] == 90.0
        assert item(card, ga)["score"] == round((90 + 66.67) / 2, 2)
        figures = client.get(f"/api/v1/scorecards/{PERIOD}/departments/{ga}", headers=headers).json()
        assert figures["manual"][0]["evidence"] == "现场核查：目录与职责清单一致"

        # and nothing else
        assert_problem(client.put("/api/v1/scorecards/weights", json=weights, headers=headers), 403)
        assert_problem(client.post(f"/api/v1/scorecards/{PERIOD}/close", headers=headers), 403)
        assert_problem(client.post("/api/v1/violations/1/confirm", json={}, headers=headers), 403)
        assert_problem(client.get("/api/v1/violations", headers=headers), 403)
        assert_problem(client.get("/api/v1/applications", headers=headers), 403)
        # the same on the department's figures page
        pages = TestClient(client.app, raise_server_exceptions=False)
        assert web_login(pages, "pg_evaluator", "Evaluator@2026-test").status_code == 303
        form = f"/evaluation/scorecards/{PERIOD}/departments/{ga}/manual"
        assert "录入评分" in pages.get(form.rsplit("/", 1)[0], headers=HTML).text
        missing = pages.post(
            form, data={"indicator": "manual_assessment", "score": "80", "evidence": ""}, headers=HTML
        )
        assert missing.status_code == 422 and "须附评估依据" in text(missing.text)
        posted = pages.post(
            form,
            data={"indicator": "manual_assessment", "score": "80", "evidence": "复核会议纪要"},
            headers=HTML,
            follow_redirects=False,
        )
        assert posted.status_code == 303
        assert item(get_card(client, headers), ga)["indicator_scores"]["manual_assessment"] == 80.0
        # nobody else enters manual scores
        for user in ("dsj_officer", "ga_head"):
            assert_problem(
                client.post(url, json={**no_evidence, "evidence": "x"}, headers=as_user(user)), 403
            )


def test_department_staff_see_the_ranking_and_only_their_own_figures(client, as_user, scenario):
    with clock.frozen(TODAY):
        officer = as_user("ga_officer")
        assert len(get_card(client, officer)["items"]) >= 2
        mine = client.get(f"/api/v1/scorecards/{PERIOD}/departments/{scenario['ga']}", headers=officer)
        assert mine.status_code == 200
        theirs = client.get(f"/api/v1/scorecards/{PERIOD}/departments/{scenario['scjg']}", headers=officer)
        assert_problem(theirs, 403)


@pytest.mark.parametrize("period", ["2026-Q5", "26", "2026-13", "Q1-2026", "1999"])
def test_a_bad_period_is_a_clear_422(client, as_user, period):
    problem = assert_problem(
        client.get(f"/api/v1/scorecards?period={period}", headers=as_user("dsj_officer")), 422
    )
    assert "考核周期" in problem["detail"]


def test_counties_are_ranked_from_their_departments(client, as_user, session, scenario):
    xwga = dept(session, "014")  # 修武县公安局, in county 410821 below the city node
    resource(session, xwga)
    session.commit()
    with clock.frozen(TODAY):
        body = {"period": PERIOD, "weights": {"catalog_completeness": 1}}
        client.put("/api/v1/scorecards/weights", json=body, headers=as_user("dsj_officer"))
        response = client.get(
            f"/api/v1/scorecards?period={PERIOD}&level=region", headers=as_user("dsj_officer")
        )
    assert response.status_code == 200, response.text
    regions = response.json()
    assert regions["level"] == "region"
    assert [(r["region_code"], r["score"], r["rank"]) for r in regions["items"]] == [("410821", 100.0, 1)]


def test_the_ranking_page_links_each_department_to_its_figures(app, scenario, session):
    ga = scenario["ga"]
    with clock.frozen(TODAY):
        authority = browser(app, "dsj_officer")
        page = authority.get(f"/evaluation/scorecards?period={PERIOD}", headers=HTML)
        assert page.status_code == 200
        assert "焦作市公安局" in text(page.text) and "保存权重" in page.text and "锁定本期成绩" in page.text
        assert f"/evaluation/scorecards/{PERIOD}/departments/{ga}" in page.text
        detail = authority.get(f"/evaluation/scorecards/{PERIOD}/departments/{ga}", headers=HTML)
        assert detail.status_code == 200 and "共享申请平均答复时长" in detail.text
        assert f'href="/catalog?provider_id={ga}"' in detail.text
        saved = authority.post(
            "/evaluation/scorecards/weights",
            data={"period": PERIOD, "w_catalog_completeness": "1"},
            headers=HTML,
            follow_redirects=False,
        )
        assert saved.status_code == 303
        assert service.weights_of(session, PERIOD) == {"catalog_completeness": 1.0}

        officer = browser(app, "ga_officer")
        page = officer.get(f"/evaluation/scorecards?period={PERIOD}", headers=HTML)
        assert page.status_code == 200 and "保存权重" not in page.text and "锁定本期成绩" not in page.text


def test_the_auditor_reads_the_scorecards_and_changes_nothing(client, as_user, scenario):
    auditor = as_user("auditor")
    with clock.frozen(TODAY):
        assert get_card(client, auditor)["period"] == PERIOD
        body = {"period": PERIOD, "weights": {"quality_score": 1}}
        assert_problem(client.put("/api/v1/scorecards/weights", json=body, headers=auditor), 403)
        assert_problem(client.post(f"/api/v1/scorecards/{PERIOD}/close", headers=auditor), 403)
        manual = {
            "department_id": scenario["ga"],
            "indicator": "manual_assessment",
            "score": 1,
            "evidence": "x",
        }
        assert_problem(client.post(f"/api/v1/scorecards/{PERIOD}/manual", json=manual, headers=auditor), 403)
        assert_problem(client.put("/api/v1/scorecards/weights", json={}, headers=auditor), 403)


@pytest.fixture
def cli(settings, monkeypatch):
    """Run ``govdata …`` against the test's store, as an operator would (GOVDATA_* variables)."""
    for key, value in {
        "GOVDATA_DATA_DIR": str(settings.data_dir),
        "GOVDATA_DATABASE_URL": settings.resolved_database_url(),
        "GOVDATA_STORE_URL": settings.resolved_store_url(),
        "COLUMNS": "240",
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli_app, list(args))
    get_settings.cache_clear()


def test_the_command_line_shows_and_closes_a_period(cli, client, as_user, scenario):
    with clock.frozen(TODAY):
        shown = cli("scorecards", "show", PERIOD)
        assert shown.exit_code == 0, shown.output
        assert "焦作市公安局" in shown.output and "未锁定" in shown.output
        bad = cli("scorecards", "show", "2026-Q9")
        assert bad.exit_code == 2 and "考核周期" in bad.output
        early = cli("scorecards", "close", "2026-Q2")
        assert early.exit_code == 2 and "尚未结束" in early.output
        closed = cli("scorecards", "close", PERIOD)
        assert closed.exit_code == 0, closed.output
        assert get_card(client, as_user("dsj_officer"))["frozen"] is True
        assert "已锁定" in cli("scorecards", "show", PERIOD).output
