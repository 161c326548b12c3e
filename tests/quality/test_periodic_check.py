"""QUA-1 (#13 item 10): quality checks on a schedule (seed 002: 定期组织开展对本部门政务数据资源质量进行
检查), not only after batches; a published resource without rows shows "no data yet" instead of a
made-up score — on both stores."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from govdata import capabilities
from govdata.catalog.models import Resource
from govdata.core import clock, scheduler
from govdata.core.db import utcnow
from govdata.quality.handlers import PERIODIC_CHECK
from govdata.quality.models import QualitySnapshot
from govdata.quality.service import DIMENSIONS
from tests.support.batches import good_rows
from tests.support.jobs import settle
from tests.support.pages import browser, text
from tests.support.quality import load, quality


def compute(client, headers, code: str) -> dict:
    response = client.post(f"/api/v1/resources/{code}/quality/compute", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def run_periodic_check(app) -> None:
    """What the scheduler fires on Mondays: enqueue this week's check (once), and let it run."""
    capabilities.enqueue_quality_periodic_check(app.state.sessionmaker)
    settle(app)


def test_a_fresh_resource_without_rows_shows_no_data_yet_QUA1(app, client, as_user, population_code):
    officer = as_user("ga_officer")
    scores = compute(client, officer, population_code)
    assert scores["no_data"] is True and scores["overall"] is None
    for name in DIMENSIONS:
        assert scores["dimensions"][name]["measured"] is False, name
        assert "暂无数据" in scores["dimensions"][name]["note"]
    assert "首批数据应于" in scores["dimensions"]["timeliness"]["note"]
    page = text(browser(app, "ga_officer").get(f"/quality/{population_code}").text)
    assert "暂无数据" in page and "66.67" not in page
    # the first batch brings the scores
    load(client, officer, population_code, good_rows(3))
    loaded = quality(client, officer, population_code)
    assert loaded["no_data"] is False and loaded["overall"] is not None


def test_a_first_batch_overdue_is_the_one_score_of_a_resource_without_data_QUA1(
    client, as_user, population_code, session
):
    session.execute(
        update(Resource)
        .where(Resource.code == population_code)
        .values(published_at=utcnow() - timedelta(days=4.5))
    )
    session.commit()
    scores = compute(client, as_user("ga_officer"), population_code)
    timeliness = scores["dimensions"]["timeliness"]
    assert scores["no_data"] is True and timeliness["measured"] is True
    assert timeliness["details"]["overdue"] is True and timeliness["score"] < 100
    assert scores["overall"] == timeliness["score"]
    assert not any(scores["dimensions"][d]["measured"] for d in DIMENSIONS if d != "timeliness")


def test_the_periodic_check_scores_every_resource_each_week_QUA1(client, as_user, population_code, session):
    officer = as_user("ga_officer")
    load(client, officer, population_code, good_rows(3))
    before = quality(client, officer, population_code)
    assert before["last_check"] is None

    run_periodic_check(client.app)
    after = quality(client, officer, population_code)
    assert after["history"][-1]["trigger"] == "scheduled"
    assert len(after["history"]) == len(before["history"]) + 1
    assert after["last_check"] is not None
    assert after["dimensions"]["conformance"]["score"] == before["dimensions"]["conformance"]["score"]
    # once per week: firing again in the same week adds nothing
    run_periodic_check(client.app)
    scheduled = session.scalars(select(QualitySnapshot).where(QualitySnapshot.trigger == "scheduled")).all()
    assert len(scheduled) == 1
    year, week, _ = clock.today().isocalendar()
    assert scheduled[0].details["scheduled"]["period"] == f"{year}-W{week:02d}"


def test_the_periodic_check_is_on_the_schedule_QUA1():
    spec = next(s for s in scheduler.sweeps() if s.name == PERIODIC_CHECK)
    assert spec.when == "30 1 * * 1"  # Mondays, 01:30 China time
    trigger = scheduler.trigger(spec.when)
    monday = clock.china_now().replace(year=2026, month=12, day=14, hour=0, minute=0, second=0, microsecond=0)
    fire = trigger.get_next_fire_time(None, monday)
    assert (fire.weekday(), fire.hour, fire.minute) == (0, 1, 30)
