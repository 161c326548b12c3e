"""SUP-1 through the product's own paths, on both stores: an application answered by its provider
counts its working days when answered, and the calls of the sharing service reach the scorecard
through the usage log's monthly roll-up, which agrees with the log itself."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from govdata.core import clock
from govdata.orgs.models import Department
from govdata.sharing import service as sharing
from govdata.sharing import usage, usage_months
from tests.support.http import login
from tests.support.sharing import people, shared_code, system  # noqa: F401  (fixtures)

CHINA = clock.CHINA
MONDAY = dt.datetime(2026, 12, 7, 10, tzinfo=CHINA)
THURSDAY = dt.datetime(2026, 12, 10, 10, tzinfo=CHINA)


def test_answers_and_calls_reach_the_scorecard(client, session, shared_code, system):  # noqa: F811
    ga = session.scalar(select(Department.id).where(Department.code == "002"))
    with clock.frozen(MONDAY):
        body = {
            "resource_code": shared_code,
            "system_id": system["id"],
            "items": ["gmsfhm", "xm", "lxdh"],
            "purpose": "养老保险待遇资格认证",
            "scenario": "退休人员每年资格认证时核验身份",
            "legal_basis": "《社会保险法》第七十五条",
            "period_start": MONDAY.date().isoformat(),
            "period_end": (MONDAY.date() + dt.timedelta(days=365)).isoformat(),
            "modes": ["query"],
        }
        applied = client.post("/api/v1/applications", json=body, headers=login(client, "rs_user"))
        assert applied.status_code == 201, applied.text
    with clock.frozen(THURSDAY):
        decided = client.post(
            f"/api/v1/applications/{applied.json()['id']}/decision",
            json={"decision": "approve"},
            headers=login(client, "ga_officer"),
        )
        assert decided.status_code == 200, decided.text
    with clock.frozen(THURSDAY + dt.timedelta(hours=1)):
        keys = [p["gmsfhm"] for p in people(3)]
        for key in keys:
            answer = client.get(
                f"/api/v1/share/{shared_code}/records", params={"key": key}, headers=system["headers"]
            )
            assert answer.status_code == 200, answer.text
        usage.flush()
    with clock.frozen(THURSDAY + dt.timedelta(hours=2)):
        authority = login(client, "dsj_officer")
        card = client.get("/api/v1/scorecards?period=2026-Q4", headers=authority).json()
    mine = next(i for i in card["items"] if i["department_id"] == ga)
    assert mine["measures"]["response_days"] == 3.0  # Tuesday, Wednesday, Thursday
    assert mine["measures"]["response_on_time_rate"] == 1.0
    assert mine["measures"]["services_provided"] == 3
    consumer = next(i for i in card["items"] if i["department_id"] == system["department_id"])
    assert consumer["measures"]["services_consumed"] == 3

    # the roll-up agrees with the log (a span of days counts the log itself), and rebuilding it
    # from the log changes nothing
    by_month = sharing.usage_figures(session, dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    by_day = sharing.usage_figures(session, dt.date(2026, 12, 10), dt.date(2026, 12, 11))
    assert by_month[ga] == by_day[ga] == sharing.UsageFigures(provided=3, consumed=0)
    usage_months.rebuild(session)
    session.commit()
    assert sharing.usage_figures(session, dt.date(2026, 10, 1), dt.date(2027, 1, 1)) == by_month
