"""Issue 12, data integrity: stored values are never changed behind the provider's back. A JSON value
is read as its item's type says (or rejected), a revision that would change stored values needs a
migration that keeps the old ones in the history (AGG-1), and an upsert that lacks columns keeps
what is stored in them. Both stores."""

from __future__ import annotations

import json

from tests.support.batches import HEADER, csv_bytes, good_rows, ric, upload
from tests.support.catalog import population, publish
from tests.support.http import assert_problem
from tests.support.jobs import settle

RECORDS = "/api/v1/share/{code}/records"


def records(client, headers, code, **params) -> dict[str, dict]:
    query = "&".join(f"{k}={v}" for k, v in {"limit": 100, **params}.items())
    answer = client.get(f"{RECORDS.format(code=code)}?{query}", headers=headers)
    assert answer.status_code == 200, answer.text
    return {row["gmsfhm"]: row for row in answer.json()["items"]}


def post_records(client, headers, code, rows, **body):
    body = {"mode": "upsert", "policy": "accept_valid", "records": rows, **body}
    return client.post(f"/api/v1/resources/{code}/batches", json=body, headers=headers)


# --- 1. a JSON value is read as its item's type says -------------------------------------------------


def test_json_records_of_mixed_types_are_stored_as_their_items_say(client, as_user, population_code):
    officer = as_user("ga_officer")
    numeric_key = ric("41080219850101001")
    assert numeric_key.isdigit()  # a 公民身份号码 sent as a JSON number
    text_key, nested_key = ric("41080219850101002"), ric("41080219850101003")
    rows = [
        {"gmsfhm": int(numeric_key), "xm": 12, "xb": 1, "csrq": "1985-01-01"},
        {"gmsfhm": text_key, "xm": "李四", "xb": "2", "csrq": "1985-01-01"},
        {"gmsfhm": nested_key, "xm": {"姓": "王"}, "xb": ["1"]},
    ]
    batch = post_records(client, officer, population_code, rows).json()
    assert (batch["status"], batch["rows_applied"], batch["rows_rejected"]) == ("applied", 2, 1), batch

    stored = records(client, officer, population_code)
    assert stored[numeric_key]["xm"] == "12" and stored[numeric_key]["xb"] == "1"
    assert stored[text_key]["xm"] == "李四"  # not "\"李四\"", whatever came first
    # text keys throughout, a name that is a number first: the text names keep no JSON quotes
    others = [ric("41080219850101005"), ric("41080219850101006")]
    mixed = [{"gmsfhm": others[0], "xm": 3.5}, {"gmsfhm": others[1], "xm": "王五"}]
    assert post_records(client, officer, population_code, mixed).json()["rows_applied"] == 2
    stored = records(client, officer, population_code)
    assert (stored[others[0]]["xm"], stored[others[1]]["xm"]) == ("3.5", "王五")
    errors = client.get(f"/api/v1/batches/{batch['id']}/errors", headers=officer).json()
    assert [(e["row"], e["item"], e["rule"]) for e in errors] == [
        (3, "xb", "not_scalar"),
        (3, "xm", "not_scalar"),
    ]
    assert errors[1]["value"] == '{"姓":"王"}' and "不能是对象或数组" in errors[1]["message"]


def test_an_ndjson_file_of_mixed_types_reads_the_same(client, as_user, population_code):
    officer = as_user("ga_officer")
    first, second = ric("41080219850101001"), ric("41080219850101004")
    lines = [
        {"公民身份号码": int(first), "姓名": 7, "出生日期": "1985-01-01"},
        {"公民身份号码": second, "姓名": "张三", "出生日期": 19850101},
    ]
    data = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()
    batch = upload(client, officer, population_code, data, name="people.ndjson", policy="strict").json()
    assert (batch["status"], batch["file_format"], batch["rows_applied"]) == ("applied", "ndjson", 2), batch
    stored = records(client, officer, population_code)
    assert (stored[first]["xm"], stored[second]["xm"]) == ("7", "张三")
    assert stored[second]["csrq"] == "1985-01-01"


# --- 2. a revision that would change stored values needs a migration (AGG-1) ---------------------------


def amounts(**overrides) -> dict:
    body = population(name="人口补贴发放信息", **overrides)
    body["items"] = body["items"][:2] + [
        {"code": "je", "name": "补贴金额", "data_type": "N", "length": 10, "precision": 2},
        {"code": "bz", "name": "备注", "data_type": "C", "length": 20},
    ]
    return body


def revise(client, as_user, code: str, items: list[dict], **patch):
    officer = as_user("ga_officer")
    body = {"items": items, "reason": "补贴金额改按整数元登记", **patch}
    answer = client.patch(f"/api/v1/resources/{code}", json=body, headers=officer)
    assert answer.status_code == 200, answer.text
    assert client.post(f"/api/v1/resources/{code}/submit", headers=officer).status_code == 200


def test_narrowing_an_item_is_refused_without_a_migration_and_keeps_the_old_values_with_one(client, as_user):
    officer, authority = as_user("ga_officer"), as_user("dsj_officer")
    code = publish(client, as_user, "ga_officer", amounts())
    keys = [ric("41080219850101001"), ric("41080219850101002"), ric("41080219850101003")]
    data = csv_bytes(
        [[keys[0], "甲", "12.34", "一"], [keys[1], "乙", "12.00", "二"], [keys[2], "丙", "", "三"]],
        header=["公民身份号码", "姓名", "补贴金额", "备注"],
    )
    first = upload(client, officer, code, data).json()
    assert first["status"] == "applied", first

    items = amounts()["items"]
    items[2] = {**items[2], "precision": 0}
    revise(client, as_user, code, items)
    refused = client.post(f"/api/v1/resources/{code}/publish", headers=authority)
    assert_problem(refused, 409, "migration-required")
    assert "补贴金额（je）" in refused.json()["detail"] and "1 个已存值" in refused.json()["detail"]
    # nothing changed: the published version and the stored 12.34 stay
    assert records(client, officer, code)[keys[0]]["je"] == 12.34
    # the count is there before anything is applied: a dry run of the publication
    dry_run = client.get(f"/api/v1/resources/{code}/revision/impact", headers=authority).json()
    assert dry_run["publishable"] is False and dry_run["migration"] is None
    assert [
        (i["item"], i["change"], i["before"], i["after"], i["values"], i["covered"])
        for i in dry_run["impacts"]
    ] == [("je", "narrowed", "N(10,2)", "N(10,0)", 1, False)]

    returned = client.post(
        f"/api/v1/resources/{code}/return", json={"comment": "请声明数据迁移"}, headers=authority
    )
    assert returned.status_code == 200
    revise(client, as_user, code, items, migration={"confirm": True, "items": ["JE"]})
    assert client.get(f"/api/v1/resources/{code}/revision/impact", headers=authority).json()["publishable"]
    published = client.post(f"/api/v1/resources/{code}/publish", headers=authority)
    assert published.status_code == 200, published.text
    settle(client.app)

    batches = client.get(f"/api/v1/resources/{code}/batches", headers=officer).json()["items"]
    migration = batches[0]
    assert (migration["mode"], migration["status"], migration["rows_updated"]) == ("migrate", "applied", 1)
    now = records(client, officer, code)
    assert (now[keys[0]]["je"], now[keys[1]]["je"], now[keys[2]]["je"]) == (12, 12, None)
    before = records(client, officer, code, as_of_batch=first["id"])
    # the history keeps the old value (read across the type change, DuckDB gives it as its text)
    assert str(before[keys[0]]["je"]) == "12.34"
    # a migration cannot be undone, nor a batch before it
    for batch_id in (migration["id"], first["id"]):
        refused = client.post(f"/api/v1/batches/{batch_id}/rollback", headers=officer)
        assert_problem(refused, 409, "migration-final")
    # later batches are loaded under the new definition
    again = upload(
        client,
        officer,
        code,
        csv_bytes([[keys[0], "甲", "13", "一"]], header=["公民身份号码", "姓名", "补贴金额", "备注"]),
    )
    assert again.json()["status"] == "applied", again.text
    assert records(client, officer, code)[keys[0]]["je"] == 13


def test_removing_or_retyping_an_item_with_stored_values_is_refused_without_a_migration(client, as_user):
    officer, authority = as_user("ga_officer"), as_user("dsj_officer")
    code = publish(client, as_user, "ga_officer", amounts())
    key = ric("41080219850101001")
    header = ["公民身份号码", "姓名", "补贴金额", "备注"]
    assert (
        upload(client, officer, code, csv_bytes([[key, "甲", "5", "很长的备注文字"]], header=header)).json()[
            "status"
        ]
        == "applied"
    )
    items = amounts()["items"]
    revise(client, as_user, code, [items[0], items[1], {**items[3], "length": 3}])  # je removed, bz shortened
    refused = client.post(f"/api/v1/resources/{code}/publish", headers=authority)
    assert_problem(refused, 409, "migration-required")
    assert {i["item"]: (i["change"], i["values"]) for i in refused.json()["impacts"]} == {
        "je": ("removed", 1),
        "bz": ("shortened", 1),
    }
    # a revision that changes no stored value is published as before
    client.post(f"/api/v1/resources/{code}/return", json={"comment": "保留原定义"}, headers=authority)
    revise(client, as_user, code, [*items, {"code": "dz", "name": "地址", "data_type": "C", "length": 100}])
    assert client.post(f"/api/v1/resources/{code}/publish", headers=authority).status_code == 200


# --- 3. an upsert that lacks columns keeps what is stored in them ------------------------------------


def test_an_upsert_without_optional_columns_keeps_their_stored_values(client, as_user, population_code):
    officer = as_user("ga_officer")
    rows = good_rows(3)
    assert upload(client, officer, population_code, csv_bytes(rows)).json()["status"] == "applied"
    newcomer = good_rows(1, start=10)[0]
    partial = csv_bytes([[rows[0][0], "改名后"], newcomer[:2]], header=HEADER[:2])
    batch = upload(client, officer, population_code, partial).json()
    assert batch["status"] == "applied" and (batch["rows_inserted"], batch["rows_updated"]) == (1, 1)
    stored = records(client, officer, population_code)
    changed, kept = stored[rows[0][0]], stored[rows[1][0]]
    assert (changed["xm"], changed["xb"], changed["csrq"], changed["hjdz"]) == ("改名后", *rows[0][2:])
    assert kept["xm"] == rows[1][1]
    assert (stored[newcomer[0]]["xm"], stored[newcomer[0]]["hjdz"]) == (newcomer[1], None)
    # the report says which item columns the file lacked
    assert batch["absent_items"] == ["xb", "csrq", "hjdz"]
    assert "性别（xb）" in batch["warnings"] and "保留" in batch["warnings"]

    # a replace is the whole table: the columns it lacks are empty, and its report says which
    whole = upload(client, officer, population_code, partial, mode="replace").json()
    assert whole["absent_items"] == ["xb", "csrq", "hjdz"] and "均为空" in whole["warnings"]
    assert records(client, officer, population_code)[rows[0][0]]["hjdz"] is None
