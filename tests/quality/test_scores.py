"""QUA-1: per-dimension quality scores from real batches and rows, with history, on both stores.

The expected figures are worked out from the formulas documented in ``govdata.quality.service``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from govdata.aggregation.models import Batch
from govdata.core import jobs
from govdata.core.db import unit_of_work, utcnow
from govdata.quality.handlers import CLOCK_SNAPSHOTS
from govdata.quality.models import QualitySnapshot
from govdata.quality.service import DIMENSIONS, record_after_batch
from tests.support.batches import good_rows, ric
from tests.support.catalog import population, publish
from tests.support.http import assert_problem
from tests.support.jobs import settle
from tests.support.quality import load, quality


def defective_rows() -> list[list[str]]:
    """21 rows: 1 wrong check digit, 1 code-list error, 1 bad date, 1 missing 姓名, 1 key twice."""
    rows = good_rows(20)
    rows[2][0] = rows[2][0][:-1] + ("0" if rows[2][0][-1] != "0" else "1")  # ric (accuracy)
    rows[5][2] = "7"  # 性别 not in the code list (conformance)
    rows[8][3] = "1985-02-30"  # not a date (conformance)
    rows[11][1] = ""  # required 姓名 missing (completeness)
    duplicate = list(rows[14])
    duplicate[1] = "另一个名字"
    rows.append(duplicate)  # rows 15 and 21 share a key: both rejected (accuracy)
    return rows


def run_daily_clock_job(app) -> None:
    with unit_of_work(app.state.sessionmaker) as session:
        jobs.enqueue(session, CLOCK_SNAPSHOTS)
    settle(app)


def test_a_batch_with_known_defects_lowers_conformance_accuracy_and_completeness_by_the_formula(
    client, as_user, population_code
):
    officer = as_user("ga_officer")
    batch = load(client, officer, population_code, defective_rows(), policy="accept_valid")
    assert (batch["rows_total"], batch["rows_applied"], batch["rows_rejected"]) == (21, 15, 6)

    scores = quality(client, officer, population_code)
    dims = scores["dimensions"]
    assert set(dims) == set(DIMENSIONS)
    # 规范性: 2 failed cells (code list, date) of 21 rows × 5 items
    assert dims["conformance"]["score"] == round(100 * (1 - 2 / 105), 2) == 98.1
    assert dims["conformance"]["details"]["by_rule"] == {"code_list": 1, "type": 1}
    # 准确性: 3 rows with an identifier or duplicate-key error of 21
    assert dims["accuracy"]["score"] == round(100 * (1 - 3 / 21), 2) == 85.71
    assert dims["accuracy"]["details"]["by_rule"] == {"ric": 1, "duplicate_key": 2}
    # 完整性: 1 of 42 required cells missing; the 15 stored rows fill every item
    assert dims["completeness"]["score"] == round(100 * (0.5 * 41 / 42 + 0.5 * 1.0), 2) == 98.81
    assert dims["completeness"]["details"]["rows"] == 15
    # nothing to compare with, so 一致性 is not measured and left out of the overall score
    assert dims["consistency"] == {**dims["consistency"], "score": None, "measured": False}
    assert dims["consistency"]["note"]
    assert dims["timeliness"]["score"] == 100 and dims["accessibility"]["score"] == 100
    assert dims["accessibility"]["details"]["probe"]["ok"] is True
    measured = [dims[d]["score"] for d in DIMENSIONS if dims[d]["measured"]]
    assert len(measured) == 5
    assert scores["overall"] == round(sum(measured) / 5, 2)
    assert dims["conformance"]["label"] == "规范性" and "代码表" in dims["conformance"]["criteria"]
    assert [d["label"] for d in dims.values()] == [
        "规范性",
        "完整性",
        "准确性",
        "一致性",
        "时效性",
        "可访问性",
    ]
    assert scores["problems"] == {"open": 0, "total": 0, "overdue": 0}


def test_a_clean_batch_scores_100_and_nulls_in_an_optional_item_lower_completeness(
    client, as_user, population_code
):
    officer = as_user("ga_officer")
    load(client, officer, population_code, good_rows(10))
    dims = quality(client, officer, population_code)["dimensions"]
    assert dims["conformance"]["score"] == 100
    assert dims["accuracy"]["score"] == 100
    assert dims["completeness"]["score"] == 100

    rows = good_rows(10, start=10)
    for row in rows[:4]:
        row[4] = ""  # 户籍地址 (optional) empty
    load(client, officer, population_code, rows, mode="replace")
    dims = quality(client, officer, population_code)["dimensions"]
    # 10 rows, 户籍地址 filled in 6: item fill = (4 × 1 + 0.6) / 5
    assert dims["completeness"]["score"] == round(100 * (0.5 * 1 + 0.5 * 4.6 / 5), 2) == 96.0
    assert dims["completeness"]["details"]["fill_by_item"]["hjdz"] == 0.6
    assert dims["conformance"]["score"] == 100 and dims["accuracy"]["score"] == 100


def test_a_reconciliation_mismatch_costs_accuracy_ten_points(client, as_user, population_code):
    officer = as_user("ga_officer")
    load(client, officer, population_code, good_rows(4), source_rows="5")
    dims = quality(client, officer, population_code)["dimensions"]
    assert dims["accuracy"]["score"] == 90
    assert dims["accuracy"]["details"]["reconciliation_mismatches"]


def test_timeliness_drops_when_the_resource_is_overdue(client, as_user, population_code, session):
    officer = as_user("ga_officer")
    batch = load(client, officer, population_code, good_rows(3))
    before = quality(client, officer, population_code)
    assert before["dimensions"]["timeliness"]["score"] == 100
    assert before["dimensions"]["timeliness"]["details"]["overdue"] is False

    # the daily batch arrived four and a half days ago: due three and a half days ago
    session.execute(
        update(Batch).where(Batch.id == batch["id"]).values(finished_at=utcnow() - timedelta(days=4.5))
    )
    session.commit()
    run_daily_clock_job(client.app)
    after = quality(client, officer, population_code)
    timeliness = after["dimensions"]["timeliness"]
    assert timeliness["details"]["overdue"] is True and timeliness["details"]["overdue_days"] == 4
    assert timeliness["score"] == round(100 * (1 - 4 / 7), 2) == 42.86
    assert "逾期" in timeliness["note"]
    assert after["overall"] < before["overall"]
    # the clock alone moved the score: a snapshot records it, the data dimensions are carried over
    assert len(after["history"]) == len(before["history"]) + 1
    assert after["history"][-1]["trigger"] == "clock"
    assert after["dimensions"]["conformance"]["score"] == before["dimensions"]["conformance"]["score"]

    # another batch brings the resource up to date again
    load(client, officer, population_code, good_rows(3, start=3))
    assert (
        quality(client, officer, population_code)["dimensions"]["timeliness"]["details"]["overdue"] is False
    )


def test_history_grows_with_each_batch_and_recording_is_idempotent(client, as_user, population_code, session):
    officer = as_user("ga_officer")
    ids = [load(client, officer, population_code, good_rows(5, start=5 * i))["id"] for i in range(3)]
    history = quality(client, officer, population_code)["history"]
    assert [h["batch_id"] for h in history] == ids
    assert all(h["trigger"] == "batch" and h["overall"] is not None for h in history)
    assert set(history[0]["dimensions"]) == set(DIMENSIONS)

    app = client.app
    again = record_after_batch(app.state.sessionmaker, app.state.store, ids[-1])
    assert again == session.scalar(select(QualitySnapshot.id).where(QualitySnapshot.batch_id == ids[-1]))
    assert len(quality(client, officer, population_code)["history"]) == 3

    # on demand: the provider asks for a new computation, which is audited
    computed = client.post(f"/api/v1/resources/{population_code}/quality/compute", headers=officer)
    assert computed.status_code == 200 and len(computed.json()["history"]) == 4
    assert computed.json()["history"][-1]["trigger"] == "on_demand"
    assert_problem(
        client.post(f"/api/v1/resources/{population_code}/quality/compute", headers=as_user("rs_officer")),
        403,
    )
    events = client.get("/api/v1/audit/events?action=quality.computed", headers=as_user("auditor")).json()
    assert events["total"] == 1 and events["items"][0]["actor"] == "ga_officer"


def test_a_reader_finds_fresh_scores_when_a_batch_was_not_yet_scored(client, as_user, population_code):
    """A batch posted directly (not through ``load``) is scored by the event handler after it; the
    reader finds those scores (reading never computes them)."""
    officer = as_user("ga_officer")
    load(client, officer, population_code, good_rows(5))
    response = client.post(
        f"/api/v1/resources/{population_code}/batches",
        files={
            "file": ("x.csv", b"gmsfhm,xm\n" + f"{good_rows(1, start=50)[0][0]},new\n".encode(), "text/csv")
        },
        data={"mode": "upsert"},
        headers=officer,
    )
    assert response.json()["status"] == "applied"
    settle(client.app)
    scores = quality(client, officer, population_code)
    assert scores["dimensions"]["completeness"]["details"]["rows"] == 6
    # stored by the handler of the batch's event ("batch")
    assert scores["history"][-1]["trigger"] in ("on_demand", "batch")
    assert scores["history"][-1]["batch_id"] in (None, response.json()["id"])


def test_draft_quality_is_invisible_to_other_departments_and_the_public(client, as_user, population_code):
    draft = client.post(
        "/api/v1/resources", json=population(name="草稿人口"), headers=as_user("ga_officer")
    ).json()["code"]
    for user in ("rs_officer", "rs_user", "citizen"):
        assert_problem(client.get(f"/api/v1/resources/{draft}/quality", headers=as_user(user)), 404)
    own = quality(client, as_user("ga_officer"), draft)
    assert own["overall"] is None and not any(d["measured"] for d in own["dimensions"].values())
    assert quality(client, as_user("dsj_officer"), draft)["overall"] is None

    # a published resource closed to the public: departments see it, the public does not
    load(client, as_user("ga_officer"), population_code, good_rows(3))
    assert quality(client, as_user("rs_user"), population_code)["overall"] is not None
    assert_problem(
        client.get(f"/api/v1/resources/{population_code}/quality", headers=as_user("citizen")), 404
    )
    assert_problem(
        client.get(f"/api/v1/resources/{population_code}/quality", headers=as_user("auditor")), 403
    )
    assert_problem(client.get(f"/api/v1/resources/{population_code}/quality"), 401)


def test_an_open_resource_shows_its_scores_to_the_public_without_details(client, as_user):
    body = population(name="公开人口统计样例", open_type="unconditional", share_type="unconditional")
    code = publish(client, as_user, "ga_officer", body)
    load(client, as_user("ga_officer"), code, good_rows(4))
    public = quality(client, as_user("citizen"), code)
    assert public["dimensions"]["conformance"]["score"] == 100
    assert all(d["details"] is None for d in public["dimensions"].values())
    assert quality(client, as_user("rs_user"), code)["dimensions"]["conformance"]["details"]


def test_consistency_compares_the_same_data_element_for_the_same_person(
    client, as_user, population_code, insured_code
):
    rows = good_rows(10)
    load(client, as_user("ga_officer"), population_code, rows)
    insured = [[r[0], r[1], r[3]] for r in rows]
    insured[0][1] = "别的名字"
    insured[1][1] = "也不同"
    insured.append([ric("41080219900101123"), "只在人社", "1990-01-01"])  # no counterpart: not compared
    response = client.post(
        f"/api/v1/resources/{insured_code}/batches",
        files={"file": ("x.csv", _csv(["公民身份号码", "姓名", "出生日期"], insured), "text/csv")},
        data={"mode": "upsert"},
        headers=as_user("rs_officer"),
    )
    batch = response.json()
    assert batch["status"] == "applied", batch
    settle(client.app)

    # 10 people in both: 姓名 agrees for 8, 出生日期 for 10 → 18 of 20 pairs
    for code, user in ((insured_code, "rs_officer"), (population_code, "ga_officer")):
        consistency = quality(client, as_user(user), code)["dimensions"]["consistency"]
        assert consistency["measured"] is True and consistency["score"] == 90.0, consistency
        assert consistency["details"]["compared"] == 20 and consistency["details"]["agreed"] == 18
        elements = {
            e["element"]: (e["compared"], e["agreed"])
            for r in consistency["details"]["resources"]
            for e in r["elements"]
        }
        assert elements == {"姓名": (10, 8), "出生日期": (10, 10)}


def _csv(header, rows) -> bytes:
    lines = [",".join(header), *(",".join(r) for r in rows)]
    return ("\n".join(lines) + "\n").encode()


def test_department_score_is_the_mean_over_its_resources_with_data(client, as_user, population_code):
    officer = as_user("ga_officer")
    load(client, officer, population_code, defective_rows(), policy="accept_valid")
    second = publish(client, as_user, "ga_officer", population(name="流动人口信息"))
    load(client, officer, second, good_rows(5, start=100))  # other people: nothing to compare
    client.post("/api/v1/resources", json=population(name="无数据草稿"), headers=officer)  # not counted

    first_overall = quality(client, officer, population_code)["overall"]
    second_overall = quality(client, officer, second)["overall"]
    me = client.get("/api/v1/me", headers=officer).json()
    response = client.get(f"/api/v1/departments/{me['department_id']}/quality", headers=officer)
    assert response.status_code == 200, response.text
    department = response.json()
    assert {r["resource_code"] for r in department["resources"]} == {population_code, second}
    assert department["overall"] == round((first_overall + second_overall) / 2, 2)
    assert department["dimensions"]["conformance"] == round((98.1 + 100) / 2, 2)
    assert department["dimensions"]["consistency"] is None
    assert department["history"] and department["history"][-1]["overall"] == department["overall"]

    assert (
        client.get(
            f"/api/v1/departments/{me['department_id']}/quality", headers=as_user("dsj_officer")
        ).status_code
        == 200
    )
    assert (
        client.get(
            f"/api/v1/departments/{me['department_id']}/quality", headers=as_user("ga_head")
        ).status_code
        == 200
    )
    assert_problem(
        client.get(f"/api/v1/departments/{me['department_id']}/quality", headers=as_user("rs_user")), 403
    )
    assert_problem(client.get("/api/v1/departments/99999/quality", headers=as_user("dsj_officer")), 404)
    assert_problem(
        client.get(f"/api/v1/departments/{me['department_id']}/quality", headers=as_user("citizen")), 403
    )
