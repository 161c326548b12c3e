"""The demo's year of history (issue 17's demo): on a store with the demo catalog, the history made
month by month leaves answered and late applications, confirmed and withdrawn violations, notices
answered, accepted and reopened, and the ended quarters closed, so that the scorecards of the year
rank departments on what they did."""

from __future__ import annotations

from datetime import date, datetime

from govdata.catalog.demo import create_demo_catalog
from govdata.core import clock
from govdata.evaluation import service as evaluation
from govdata.evaluation.demo import create_demo_history
from govdata.orgs import service as orgs
from govdata.supervision import notices
from govdata.supervision import service as supervision

DEMO_DAY = datetime(2026, 12, 5, 10, tzinfo=clock.CHINA)


def test_the_demo_history_gives_the_year_real_scores(session):
    with clock.frozen(DEMO_DAY):
        create_demo_catalog(session)
        made = create_demo_history(session)
    session.commit()
    assert made == 30  # ten months, three of the six flows each month
    authority = orgs.actor_named(session, "dsj_officer")
    with clock.frozen(DEMO_DAY):
        card = evaluation.scorecard(session, authority, "2026")
        ranked = [i for i in card.items if i.score is not None]
        by_name = {i.department_name: i for i in card.items}
        # 市公安局 answered its applications late: on-time rate 0, behind a department that answered in days
        police, civil = by_name["焦作市公安局"], by_name["焦作市民政局"]
        assert police.measures["response_on_time_rate"] == 0.0
        assert civil.measures["response_on_time_rate"] == 1.0
        assert civil.rank < police.rank
        assert police.measures["violations_confirmed"] >= 3
        assert len(ranked) >= 10
        # the quarters reviewed are closed (frozen numbers); the last one ended is still reviewed
        assert evaluation.scorecard(session, authority, "2026-Q1").frozen
        assert evaluation.scorecard(session, authority, "2026-Q2").frozen
        assert not evaluation.scorecard(session, authority, "2026-Q3").frozen
        assert not evaluation.scorecard(session, authority, "2026-Q4").frozen

        violations, total = supervision.list_violations(session, authority, limit=500)
        # detected through the year, some withdrawn after a contest, some rectified, some still open
        assert {v.status for v in violations} == {"confirmed", "withdrawn", "rectified"}
        assert len({v.detected_at.month for v in violations}) >= 3
        assert all(v.detected_at.date() < date(2026, 11, 30) for v in violations)
        assert total == len(violations)
        all_notices, _ = notices.list_notices(session, authority, limit=500)
        assert {n.status for n in all_notices} == {"open", "closed"}
        assert any(n.step for n in all_notices)  # reopened, left unanswered, escalated
