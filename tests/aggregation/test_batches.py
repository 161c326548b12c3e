"""AGG-2…7: files and records become validated, atomic batches with history and rollback."""

from __future__ import annotations

from tests.support.batches import HEADER, csv_bytes, good_rows, ric, upload
from tests.support.http import assert_problem
from tests.support.jobs import settle


def test_gbk_csv_with_known_defects_reports_exactly_those_rows(client, as_user, population_code):
    officer = as_user("ga_officer")
    rows = good_rows(50)
    rows[4][0] = rows[4][0][:-1] + ("0" if rows[4][0][-1] != "0" else "1")  # wrong check digit: data row 5
    rows[9][0] = ric("41080219851332001")  # impossible birth date (month 13): data row 10
    rows[19][2] = "7"  # not in the 性别 code list: row 20
    rows[29][3] = "1985-02-30"  # not a date: row 30
    rows[39][1] = ""  # required 姓名 missing: row 40
    response = upload(client, officer, population_code, csv_bytes(rows, "gbk"), policy="accept_valid")
    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch["status"] == "applied" and batch["encoding"] == "gb18030"
    assert (batch["rows_total"], batch["rows_applied"], batch["rows_rejected"]) == (50, 45, 5)

    errors = client.get(f"/api/v1/batches/{batch['id']}/errors", headers=officer).json()
    assert [(e["row"], e["item"], e["rule"]) for e in errors] == [
        (5, "gmsfhm", "ric"),
        (10, "gmsfhm", "ric"),
        (20, "xb", "code_list"),
        (30, "csrq", "type"),
        (40, "xm", "required"),
    ]
    assert "公民身份号码" in errors[0]["message"]
    exported = client.get(f"/api/v1/batches/{batch['id']}/errors?format=csv", headers=officer)
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "row,item,value,rule,message" and lines[1].startswith("5,gmsfhm,")
    records = client.get(f"/api/v1/share/{population_code}/records?limit=100", headers=officer).json()
    assert records["total"] == 45
    assert (
        client.get(f"/api/v1/batches/{batch['id']}/errors?format=xlsx", headers=officer).content[:2] == b"PK"
    )


def test_strict_batches_are_all_or_nothing(client, as_user, population_code):
    officer = as_user("ga_officer")
    rows = good_rows(20)
    rows[7][2] = "X"
    rejected = upload(client, officer, population_code, csv_bytes(rows), policy="strict").json()
    assert (
        rejected["status"] == "rejected" and rejected["rows_applied"] == 0 and rejected["rows_rejected"] == 1
    )
    assert client.get(f"/api/v1/share/{population_code}/records", headers=officer).json()["total"] == 0
    rows[7][2] = "1"
    applied = upload(client, officer, population_code, csv_bytes(rows), policy="strict").json()
    assert applied["status"] == "applied" and applied["rows_applied"] == 20


def test_duplicate_keys_reject_every_row_of_that_key(client, as_user, population_code):
    officer = as_user("ga_officer")
    rows = good_rows(5)
    rows.append(list(rows[1]))
    rows[5][1] = "另一个名字"
    batch = upload(client, officer, population_code, csv_bytes(rows), policy="accept_valid").json()
    assert batch["rows_rejected"] == 2 and batch["rows_applied"] == 4
    errors = client.get(f"/api/v1/batches/{batch['id']}/errors", headers=officer).json()
    assert [(e["row"], e["rule"]) for e in errors] == [(2, "duplicate_key"), (6, "duplicate_key")]


def test_upsert_delete_replace_and_rollback_change_what_the_provider_reads(client, as_user, population_code):
    officer = as_user("ga_officer")
    rows = good_rows(10)
    first = upload(client, officer, population_code, csv_bytes(rows)).json()
    key = rows[3][0]
    renamed = [list(rows[3])]
    renamed[0][1] = "改名后"
    second = upload(client, officer, population_code, csv_bytes(renamed)).json()
    assert (second["rows_inserted"], second["rows_updated"]) == (0, 1)
    read = client.get(f"/api/v1/share/{population_code}/records?key={key}", headers=officer).json()
    assert read["items"][0]["xm"] == "改名后" and read["items"][0]["csrq"] == rows[3][3]
    as_of = client.get(
        f"/api/v1/share/{population_code}/records?key={key}&as_of_batch={first['id']}", headers=officer
    ).json()
    assert as_of["items"][0]["xm"] == rows[3][1]

    delete = upload(
        client, officer, population_code, csv_bytes([[rows[0][0]]], header=["gmsfhm"]), mode="delete"
    )
    assert delete.json()["rows_deleted"] == 1
    assert client.get(f"/api/v1/share/{population_code}/records", headers=officer).json()["total"] == 9

    rollback = client.post(f"/api/v1/batches/{second['id']}/rollback", headers=officer)
    assert rollback.status_code == 200 and rollback.json()["status"] == "rolled_back"
    read = client.get(f"/api/v1/share/{population_code}/records?key={key}", headers=officer).json()
    assert read["items"][0]["xm"] == rows[3][1]
    assert_problem(client.post(f"/api/v1/batches/{second['id']}/rollback", headers=officer), 409)

    replace = upload(client, officer, population_code, csv_bytes(rows[:2]), mode="replace").json()
    assert replace["rows_deleted"] == 8
    assert client.get(f"/api/v1/share/{population_code}/records", headers=officer).json()["total"] == 2
    client.post(f"/api/v1/batches/{replace['id']}/rollback", headers=officer)
    assert client.get(f"/api/v1/share/{population_code}/records", headers=officer).json()["total"] == 9


def test_json_records_through_the_api_and_filters(client, as_user, population_code):
    officer = as_user("ga_officer")
    records = [dict(zip(["gmsfhm", "xm", "xb", "csrq", "hjdz"], row, strict=True)) for row in good_rows(6)]
    response = client.post(
        f"/api/v1/resources/{population_code}/batches",
        json={"mode": "upsert", "policy": "strict", "records": records},
        headers=officer,
    )
    assert response.status_code == 201 and response.json()["rows_applied"] == 6
    women = client.get(f"/api/v1/share/{population_code}/records?xb=2", headers=officer).json()
    assert women["total"] == 3 and all(r["xb"] == "2" for r in women["items"])
    assert_problem(client.get(f"/api/v1/share/{population_code}/records?salary=1", headers=officer), 422)
    assert women["freshness"]["last_batch_at"] and women["freshness"]["overdue"] is False


def test_only_the_provider_loads_and_reads_before_any_grant(client, as_user, population_code):
    data = csv_bytes(good_rows(2))
    assert_problem(upload(client, as_user("rs_officer"), population_code, data), 403)
    assert_problem(upload(client, as_user("ga_head"), population_code, data), 403)
    assert_problem(client.get(f"/api/v1/share/{population_code}/records", headers=as_user("rs_user")), 403)
    assert (
        client.get(f"/api/v1/share/{population_code}/records", headers=as_user("ga_head")).status_code == 200
    )


def test_broken_empty_binary_and_wrong_files_change_nothing(client, as_user, population_code):
    officer = as_user("ga_officer")
    upload(client, officer, population_code, csv_bytes(good_rows(3)))
    cases = [
        (b"", "empty"),
        (b"\x00\x01\x02binary\x00" * 10, "binary"),
        (csv_bytes([], header=HEADER), "header only"),
        ("姓名,出生日期\n张三,1985-01-01\n".encode(), "no key column"),
        (b"PK\x03\x04 not really a workbook", "broken xlsx"),
        (csv_bytes(good_rows(2), "gbk"), "gbk declared as utf-8"),
    ]
    for data, label in cases:
        form = {"encoding": "utf-8"} if label.startswith("gbk") else {}
        batch = upload(client, officer, population_code, data, **form).json()
        assert batch["status"] == "failed", (label, batch)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in batch["message"]), (label, batch["message"])
    assert client.get(f"/api/v1/share/{population_code}/records", headers=officer).json()["total"] == 3


def test_reconciliation_flags_a_row_count_mismatch(client, as_user, population_code):
    officer = as_user("ga_officer")
    batch = upload(client, officer, population_code, csv_bytes(good_rows(4)), source_rows="5").json()
    assert batch["reconciliation"] == "mismatch" and "申报 5 行" in batch["warnings"]
    batch = upload(client, officer, population_code, csv_bytes(good_rows(4)), source_rows="4").json()
    assert batch["reconciliation"] == "ok"


def test_unpublished_resources_take_no_batches(client, as_user):
    from tests.support.catalog import population

    code = client.post(
        "/api/v1/resources", json=population(name="草稿人口"), headers=as_user("ga_officer")
    ).json()["code"]
    assert_problem(upload(client, as_user("ga_officer"), code, csv_bytes(good_rows(1))), 409)


def test_out_of_range_ids_and_refused_uploads_leave_no_trace(client, as_user, population_code, settings):
    officer = as_user("ga_officer")
    assert_problem(client.get("/api/v1/batches/99999999999999999999", headers=officer), 422)
    assert_problem(client.post("/api/v1/batches/99999999999999999999/rollback", headers=officer), 422)
    before = sorted(p.name for p in settings.data_dir.iterdir())
    assert_problem(upload(client, as_user("rs_officer"), population_code, csv_bytes(good_rows(50))), 403)
    assert sorted(p.name for p in settings.data_dir.iterdir()) == before
    long_name = "导出" * 200 + ".csv"
    batch = upload(client, officer, population_code, csv_bytes(good_rows(2)), name=long_name).json()
    assert batch["status"] == "applied" and len(batch["filename"]) == 255


def test_a_retired_resource_takes_no_batches_but_keeps_its_data(client, as_user, population_code):
    officer = as_user("ga_officer")
    assert upload(client, officer, population_code, csv_bytes(good_rows(2))).json()["status"] == "applied"
    retired = client.post(
        f"/api/v1/resources/{population_code}/retire", json={}, headers=as_user("dsj_officer")
    )
    assert retired.status_code == 200, retired.text
    assert_problem(
        upload(client, officer, population_code, csv_bytes(good_rows(1, start=5))), 409, "resource-retired"
    )
    records = [dict(zip(HEADER, row, strict=True)) for row in good_rows(1, start=6)]
    pushed = client.post(
        f"/api/v1/resources/{population_code}/batches",
        json={"mode": "upsert", "records": records},
        headers=officer,
    )
    assert_problem(pushed, 409, "resource-retired")


def test_a_batchs_options_may_come_in_the_query_string(client, as_user, population_code):
    officer = as_user("ga_officer")
    url = f"/api/v1/resources/{population_code}/batches"
    rows = good_rows(3)
    queued = client.post(
        f"{url}?wait=false&policy=accept_valid",
        files={"file": ("people.csv", csv_bytes(rows), "text/csv")},
        headers=officer,
    )
    assert queued.status_code == 202 and queued.json()["status"] in ("queued", "running", "applied"), (
        queued.text
    )
    settle(client.app)
    keys_only = csv_bytes([[rows[0][0]]], header=["公民身份号码"])
    deleted = client.post(
        f"{url}?mode=delete", files={"file": ("gone.csv", keys_only, "text/csv")}, headers=officer
    )
    assert deleted.status_code == 201 and deleted.json()["status"] == "applied", deleted.text
    assert deleted.json()["rows_applied"] == 1
    # the body wins over the query string
    body_wins = client.post(
        f"{url}?mode=delete",
        json={"mode": "upsert", "records": [dict(zip(["gmsfhm", "xm"], rows[1][:2], strict=True))]},
        headers=officer,
    )
    assert body_wins.status_code == 201 and body_wins.json()["mode"] == "upsert", body_wins.text
