"""The sharing services (SHR-6, SEC-4, SHR-9): verification, query, export and changes under a grant, as
a consumer's application system and a provider's own staff see them, on both stores."""

# ruff: noqa: F811  (the fixtures of tests.support.sharing, named as parameters)
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from govdata.core.audit import AuditEvent
from govdata.sharing import usage
from govdata.sharing.service import data
from tests.support.batches import ric
from tests.support.catalog import population, publish
from tests.support.http import assert_problem
from tests.support.sharing import (  # noqa: F401
    grant,
    load,
    people,
    shared_code,
    system,
    usage_of,
)

RECORDS = "/api/v1/share/{code}/records"
VERIFY = "/api/v1/share/{code}/verify"
EXPORT = "/api/v1/share/{code}/export"
CHANGES = "/api/v1/share/{code}/changes"
ABSENT = ric("41080219900101999")  # a valid 公民身份号码 that is not in the data


def verify(client, headers, code, key, values):
    return client.post(VERIFY.format(code=code), json={"key": key, "values": values}, headers=headers)


def records(client, headers, code, **params):
    return client.get(RECORDS.format(code=code), params=params, headers=headers)


def receipt_holds(client, answer: dict, receipt: dict | None = None) -> bool:
    checked = client.post(
        "/api/v1/receipts/verify", json={"receipt": receipt or answer["receipt"], "answer": answer}
    )
    assert checked.status_code == 200, checked.text
    return checked.json()["valid"]


def without_receipt(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "receipt"}


# --- query (检索查询) ----------------------------------------------------------------------------------


def test_query_answers_only_the_granted_items_masked_as_granted_with_a_receipt_SEC4_SHR9(
    client, as_user, shared_code, system
):
    items, masked = ["gmsfhm", "xm", "csrq", "lxdh", "jzdz"], ["xm", "csrq", "lxdh", "jzdz"]
    grant(client, as_user, shared_code, system["id"], items, masked=masked)
    person = people(1, start=3)[0]
    answer = records(client, system["headers"], shared_code, key=person["gmsfhm"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 1 and body["under_review"] == []
    (record,) = body["items"]
    assert set(record) == set(items)  # never 性别 or 户籍地址: not granted
    assert record["gmsfhm"] == person["gmsfhm"]  # granted in clear
    assert record["xm"] == person["xm"][0] + "*" * (len(person["xm"]) - 1)
    assert record["csrq"] == person["csrq"][:4]
    assert record["lxdh"] == "*" * 7 + person["lxdh"][-4:]
    assert record["jzdz"] == "河南省焦作市山阳区" + "*" * (len(person["jzdz"]) - 9)
    assert set(body["freshness"]) == {"last_batch_at", "next_due", "overdue"}
    assert body["freshness"]["last_batch_at"] and body["freshness"]["overdue"] is False
    assert body["receipt"]["grant_id"] and body["receipt"]["resource_code"] == shared_code
    assert receipt_holds(client, body)
    body["items"][0]["lxdh"] = person["lxdh"]  # unmasking the answer breaks its receipt
    assert not receipt_holds(client, body)


def test_query_by_filters_on_granted_items_only(client, as_user, shared_code, system):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xb", "xm"], masked=["xm"])
    headers = system["headers"]
    women = records(client, headers, shared_code, xb="2", limit=5)
    assert women.status_code == 200, women.text
    assert women.json()["total"] == 10 and len(women.json()["items"]) == 5
    assert all(r["xb"] == "2" for r in women.json()["items"])
    page2 = records(client, headers, shared_code, xb="2", limit=5, offset=5).json()["items"]
    assert {r["gmsfhm"] for r in page2}.isdisjoint(r["gmsfhm"] for r in women.json()["items"])
    # an item outside the grant, or one served masked, is no filter; an unknown one is invalid
    assert_problem(
        records(client, headers, shared_code, hjdz="焦作市解放区民主路1号"), 403, "item-not-granted"
    )
    assert_problem(records(client, headers, shared_code, xm="居民1"), 403, "item-masked")
    body = assert_problem(records(client, headers, shared_code, salary="1"), 422)
    assert body["errors"][0]["field"] == "salary"
    # bulk reading under a grant is exchange, not query
    assert_problem(records(client, headers, shared_code), 422)


def test_a_malformed_key_is_422_and_an_unknown_resource_404(client, as_user, shared_code, system):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"], modes=["query", "verify"])
    good = people(1)[0]["gmsfhm"]
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")  # wrong check character
    body = assert_problem(records(client, system["headers"], shared_code, key=bad), 422)
    assert body["errors"][0]["field"] == "key" and "校验码" in body["detail"]
    assert_problem(records(client, system["headers"], shared_code, key="4108"), 422)
    assert_problem(verify(client, system["headers"], shared_code, bad, {"xm": "居民0"}), 422)
    # a lower-case check character is the same key
    lower = ric("41080219900101123")
    assert records(client, system["headers"], shared_code, key=lower.lower()).status_code == 200
    assert_problem(records(client, system["headers"], "101/999999999", key=good), 404)
    assert_problem(verify(client, system["headers"], "101/999999999", good, {"xm": "x"}), 404)


def test_without_a_grant_or_outside_its_modes_the_caller_is_refused(client, as_user, shared_code, system):
    key = people(1)[0]["gmsfhm"]
    assert_problem(records(client, system["headers"], shared_code, key=key), 403, "no-grant")
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"], modes=["query"])
    assert records(client, system["headers"], shared_code, key=key).status_code == 200
    assert_problem(
        verify(client, system["headers"], shared_code, key, {"xm": "居民0"}), 403, "mode-not-granted"
    )
    assert_problem(
        client.get(EXPORT.format(code=shared_code), headers=system["headers"]), 403, "mode-not-granted"
    )
    assert_problem(
        client.get(CHANGES.format(code=shared_code), headers=system["headers"]), 403, "mode-not-granted"
    )
    # another department's staff hold no grant of their own
    assert_problem(records(client, as_user("wj_user"), shared_code, key=key), 403, "no-grant")
    # the authority and the auditor do not call sharing services at all
    assert_problem(records(client, as_user("dsj_officer"), shared_code, key=key), 403)
    assert_problem(records(client, as_user("auditor"), shared_code, key=key), 403)


def test_suspension_is_effective_on_the_next_call_and_resumption_too_SHR5(
    client, as_user, shared_code, system
):
    granted = grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"])
    key = people(1)[0]["gmsfhm"]
    assert records(client, system["headers"], shared_code, key=key).status_code == 200
    suspended = client.post(
        f"/api/v1/grants/{granted['id']}/suspend",
        json={"reason": "超出申请用途使用"},
        headers=as_user("ga_officer"),
    )
    assert suspended.status_code == 200, suspended.text
    body = assert_problem(records(client, system["headers"], shared_code, key=key), 403, "grant-suspended")
    assert "超出申请用途使用" in body["detail"]
    resumed = client.post(f"/api/v1/grants/{granted['id']}/resume", json={}, headers=as_user("ga_officer"))
    assert resumed.status_code == 200, resumed.text
    assert records(client, system["headers"], shared_code, key=key).status_code == 200
    revoked = client.post(
        f"/api/v1/grants/{granted['id']}/revoke",
        json={"reason": "业务系统停用"},
        headers=as_user("ga_officer"),
    )
    assert revoked.status_code == 200
    assert_problem(records(client, system["headers"], shared_code, key=key), 403, "grant-revoked")


def test_calls_beyond_the_grants_rate_limit_get_429_with_retry_after_SHR5(
    client, as_user, shared_code, system
):
    grant(
        client, as_user, shared_code, system["id"], ["gmsfhm", "xm"], modes=["query", "verify"], rate_limit=3
    )
    key = people(1)[0]["gmsfhm"]
    assert records(client, system["headers"], shared_code, key=key).status_code == 200
    assert verify(client, system["headers"], shared_code, key, {"xm": "居民0"}).status_code == 200
    assert records(client, system["headers"], shared_code, key=key).status_code == 200
    refused = records(client, system["headers"], shared_code, key=key)
    body = assert_problem(refused, 429, "rate-limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60 and body["grant_id"]
    assert_problem(verify(client, system["headers"], shared_code, key, {"xm": "居民0"}), 429)
    # the provider's own staff have no grant and no grant limit
    for _ in range(5):
        assert records(client, as_user("ga_officer"), shared_code, key=key).status_code == 200
    limited = usage_of(client, as_user("rs_officer"), outcome="limited")
    assert len(limited) == 2 and {u["status_code"] for u in limited} == {429}


def test_the_consumers_own_staff_use_its_grant_and_the_providers_staff_read_in_clear(
    client, as_user, shared_code, system
):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"], masked=["xm"])
    person = people(1, start=4)[0]
    mine = records(client, as_user("rs_user"), shared_code, key=person["gmsfhm"]).json()["items"]
    assert mine == [{"gmsfhm": person["gmsfhm"], "xm": "居**"}]
    own = records(client, as_user("ga_officer"), shared_code, key=person["gmsfhm"]).json()
    assert own["items"][0]["xm"] == person["xm"] and own["items"][0]["hjdz"] == person["hjdz"]
    assert own["receipt"]["grant_id"] is None and receipt_holds(client, own)
    # the provider may page through all of its records without a key
    everything = records(client, as_user("ga_head"), shared_code, limit=500).json()
    assert everything["total"] == 20 and len(everything["items"]) == 20


def test_under_review_names_the_returned_records_that_are_under_review_COR3(
    client, as_user, shared_code, system, monkeypatch
):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm", "xb"], modes=["query", "verify"])
    reviewed = people(2)[1]

    def lookup(session, resource_id, keys):
        return {reviewed["gmsfhm"]} if keys is None or reviewed["gmsfhm"] in keys else set()

    monkeypatch.setattr(data, "_under_review", [])
    data.register_under_review(lookup)
    women = records(client, system["headers"], shared_code, xb="2").json()
    assert women["under_review"] == [reviewed["gmsfhm"]]
    men = records(client, system["headers"], shared_code, xb="1").json()
    assert men["under_review"] == []
    # the flag never blocks the service (COR-3), and verification shows it only once a value matched
    matched = verify(
        client, system["headers"], shared_code, reviewed["gmsfhm"], {"xm": reviewed["xm"]}
    ).json()
    assert matched["match"] is True and matched["under_review"] == [reviewed["gmsfhm"]]
    missed = verify(client, system["headers"], shared_code, reviewed["gmsfhm"], {"xm": "别人"}).json()
    assert missed["under_review"] == []


# --- verification (比对验证) ------------------------------------------------------------------------


def test_verification_answers_per_item_and_never_a_stored_value(client, as_user, shared_code, system):
    grant(
        client, as_user, shared_code, system["id"], ["gmsfhm", "xm", "csrq"], masked=["xm"], modes=["verify"]
    )
    person = people(1, start=7)[0]
    headers = system["headers"]
    right = verify(
        client, headers, shared_code, person["gmsfhm"], {"xm": person["xm"], "csrq": person["csrq"]}
    )
    assert right.status_code == 200, right.text
    answer = without_receipt(right.json())
    assert answer.pop("request")["key"] == person["gmsfhm"]  # the receipt names what was verified
    assert answer | {"freshness": None} == {
        "match": True,
        "items": {"xm": True, "csrq": True},
        "under_review": [],
        "freshness": None,
    }
    assert receipt_holds(client, right.json())
    # a masked item is verified all the same, only as a yes or no; values agree as numbers or trimmed text
    wrong = verify(
        client, headers, shared_code, person["gmsfhm"], {"xm": " " + person["xm"] + " ", "csrq": "1990-01-01"}
    )
    assert wrong.json()["match"] is False and wrong.json()["items"] == {"xm": True, "csrq": False}
    for answer in (right, wrong):
        assert person["hjdz"] not in answer.text and person["lxdh"] not in answer.text
    # outside the grant: 403; not an item of the resource: 422
    assert_problem(
        verify(client, headers, shared_code, person["gmsfhm"], {"hjdz": "x"}), 403, "item-not-granted"
    )
    body = assert_problem(verify(client, headers, shared_code, person["gmsfhm"], {"salary": "1"}), 422)
    assert body["errors"][0]["field"] == "values.salary"


def test_verification_cannot_tell_a_missing_key_from_a_mismatch(client, as_user, shared_code, system):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm", "csrq"], modes=["verify"])
    person = people(1, start=2)[0]
    claims = {"xm": "张三", "csrq": "1970-01-01"}
    existing = verify(client, system["headers"], shared_code, person["gmsfhm"], claims)
    missing = verify(client, system["headers"], shared_code, ABSENT, claims)
    assert existing.status_code == missing.status_code == 200

    def alike(answer: dict) -> dict:  # the answer, without the key the caller itself sent
        answer = without_receipt(answer)
        return answer | {"request": {**answer["request"], "key": None}}

    assert alike(existing.json()) == alike(missing.json())
    assert existing.json()["items"] == {"xm": False, "csrq": False} and existing.json()["match"] is False
    assert set(existing.headers) == set(missing.headers)
    # nor does the caller's own usage log tell them apart
    calls = usage_of(client, as_user("rs_officer"), mode="verify")
    assert [(c["rows"], c["outcome"], c["status_code"]) for c in calls] == [(1, "ok", 200)] * 2


# --- usage (SHR-7) and audit (SEC-3) ----------------------------------------------------------------------


def test_every_call_is_logged_and_seen_only_by_those_entitled_SHR7(
    client, as_user, shared_code, system, session
):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"], modes=["query"])
    key = people(1)[0]["gmsfhm"]
    assert records(client, system["headers"], shared_code, key=key).status_code == 200
    assert records(client, system["headers"], shared_code, key="123").status_code == 422
    assert records(client, as_user("ga_officer"), shared_code, key=key).status_code == 200
    assert records(client, as_user("wj_user"), shared_code, key=key).status_code == 403

    provider = usage_of(client, as_user("ga_officer"))
    assert len(provider) == 4  # every call on its resource, answered or refused
    consumer = usage_of(client, as_user("rs_officer"))
    assert [(c["outcome"], c["status_code"]) for c in consumer] == [("invalid", 422), ("ok", 200)]
    answered = consumer[1]
    assert answered["system_id"] == system["id"] and answered["end_user"] == "王社保"
    assert (
        answered["caller"] == f"system:{system['id']}" and answered["grant_id"] and answered["application_id"]
    )
    assert answered["purpose"] == "养老保险待遇资格认证" and answered["resource_code"] == shared_code
    assert answered["mode"] == "query" and answered["items"] == ["gmsfhm", "xm"] and answered["rows"] == 1
    assert answered["latency_ms"] >= 0
    assert [c["outcome"] for c in usage_of(client, as_user("wj_user"))] == ["denied"]  # its own refused call
    assert len(usage_of(client, as_user("dsj_officer"))) == 4  # the authority sees all
    assert len(usage_of(client, as_user("dsj_officer"), resource_code=shared_code, outcome="ok")) == 2
    assert len(usage_of(client, as_user("ga_officer"), system_id=system["id"])) == 2
    assert usage_of(client, as_user("mz_officer")) == []  # a department with no part in it
    assert_problem(client.get("/api/v1/usage", headers=as_user("auditor")), 403)
    assert_problem(client.get("/api/v1/usage", headers=system["headers"]), 403)

    # SEC-3: each answered call is an audit event under the caller's own name, in the verified chain
    session.rollback()
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "sharing.data.query").order_by(AuditEvent.seq)
    ).all()
    assert [e.actor for e in events] == [f"system:{system['id']}", "ga_officer"]
    assert events[0].end_user == "王社保" and events[0].purpose == "养老保险待遇资格认证"
    assert client.get("/api/v1/audit/verify", headers=as_user("auditor")).json()["ok"] is True


def test_usage_filters_by_time(client, as_user, shared_code, system):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"])
    records(client, system["headers"], shared_code, key=people(1)[0]["gmsfhm"])
    (call,) = usage_of(client, as_user("rs_officer"))
    assert usage_of(client, as_user("rs_officer"), since=call["at"]) == [call]
    assert usage_of(client, as_user("rs_officer"), until=call["at"]) == []
    assert_problem(client.get("/api/v1/usage?outcome=maybe", headers=as_user("rs_officer")), 422)


# --- export (数据交换) --------------------------------------------------------------------------------


def _manifest(response) -> tuple[dict, dict]:
    manifest = json.loads(base64.b64decode(response.headers["x-govdata-manifest"]))
    receipt = json.loads(base64.b64decode(response.headers["x-govdata-receipt"]))
    return manifest, receipt


def test_export_as_csv_holds_every_record_masked_with_its_digest_and_receipt(
    client, as_user, shared_code, system
):
    grant(
        client,
        as_user,
        shared_code,
        system["id"],
        ["gmsfhm", "xm", "lxdh"],
        masked=["lxdh"],
        modes=["exchange"],
    )
    officer = as_user("ga_officer")
    load(client, officer, shared_code, [{**people(1, start=50)[0], "xm": '=HYPERLINK("http://x")'}])
    response = client.get(
        EXPORT.format(code=shared_code), params={"format": "csv"}, headers=system["headers"]
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    assert response.headers["x-govdata-digest"] == "sm3=" + hashlib.new("sm3", response.content).hexdigest()
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["gmsfhm", "xm", "lxdh"] and len(rows) == 1 + 21
    assert response.content.count(b"\r\n") == 22
    stored = {p["gmsfhm"]: p for p in people(20)}
    exported = {r[0]: r for r in rows[1:]}
    assert set(stored) < set(exported)
    for key, person in stored.items():
        assert exported[key] == [key, person["xm"], "*" * 7 + person["lxdh"][-4:]]
    formula = exported[people(1, start=50)[0]["gmsfhm"]]
    assert formula[1] == '\'=HYPERLINK("http://x")'  # a spreadsheet will not run it
    manifest, receipt = _manifest(response)
    assert manifest["rows"] == 21 and manifest["items"] == ["gmsfhm", "xm", "lxdh"]
    assert manifest["masked"] == ["lxdh"] and manifest["digest"] == response.headers["x-govdata-digest"][4:]
    assert receipt_holds(client, manifest, receipt)
    assert not receipt_holds(client, manifest | {"rows": 20}, receipt)
    (call,) = usage_of(client, as_user("rs_officer"), mode="exchange")
    assert call["rows"] == 21 and call["outcome"] == "ok"


def test_export_as_parquet_reads_back_as_the_stores_rows(client, as_user, shared_code):
    response = client.get(
        EXPORT.format(code=shared_code), params={"format": "parquet"}, headers=as_user("ga_officer")
    )
    assert response.status_code == 200, response.text
    table = pq.read_table(io.BytesIO(response.content))
    assert table.column_names == ["gmsfhm", "xm", "xb", "csrq", "hjdz", "lxdh", "jzdz"]
    assert table.num_rows == 20 == int(response.headers["x-govdata-rows"])
    by_key = {r["gmsfhm"]: r for r in table.to_pylist()}
    for person in people(20):
        row = by_key[person["gmsfhm"]]
        assert {k: (v.isoformat() if k == "csrq" else v) for k, v in row.items()} == person
    manifest, receipt = _manifest(response)
    assert manifest["digest"] == hashlib.new("sm3", response.content).hexdigest()
    assert receipt["grant_id"] is None and receipt_holds(client, manifest, receipt)
    assert_problem(
        client.get(EXPORT.format(code=shared_code), params={"format": "xlsx"}, headers=as_user("ga_officer")),
        422,
    )


def test_an_empty_export_is_a_header_or_an_empty_table(client, as_user):
    from tests.support.catalog import publish
    from tests.support.sharing import shared_population

    code = publish(client, as_user, "ga_officer", shared_population())
    csv_answer = client.get(EXPORT.format(code=code), headers=as_user("ga_officer"))
    assert csv_answer.status_code == 200, csv_answer.text
    assert csv_answer.content.decode("utf-8-sig") == "gmsfhm,xm,xb,csrq,hjdz,lxdh,jzdz\r\n"
    parquet = client.get(
        EXPORT.format(code=code), params={"format": "parquet"}, headers=as_user("ga_officer")
    )
    assert pq.read_table(io.BytesIO(parquet.content)).num_rows == 0


# --- changes since a cursor (数据交换：增量) -----------------------------------------------------------------


def _follow(client, headers, code, cursor=None, limit=None) -> tuple[list[dict], str]:
    """Every change from ``cursor`` on, page after page; the changes and the last cursor."""
    changes, pages = [], 0
    while True:
        params = {k: v for k, v in (("cursor", cursor), ("limit", limit)) if v is not None}
        response = client.get(CHANGES.format(code=code), params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert receipt_holds(client, body)
        changes += body["changes"]
        cursor, pages = body["cursor"], pages + 1
        if not body["more"]:
            return changes, cursor
        assert pages < 50


def test_changes_start_with_every_record_then_follow_upserts_and_deletions(
    client, as_user, shared_code, system
):
    grant(
        client,
        as_user,
        shared_code,
        system["id"],
        ["gmsfhm", "xm", "lxdh"],
        masked=["lxdh"],
        modes=["exchange"],
    )
    headers, officer = system["headers"], as_user("ga_officer")
    first, cursor = _follow(client, headers, shared_code, limit=7)
    assert len(first) == 20 and {c["op"] for c in first} == {"upsert"}
    assert {c["key"] for c in first} == {p["gmsfhm"] for p in people(20)}
    sample = next(c for c in first if c["key"] == people(1, start=5)[0]["gmsfhm"])
    assert sample["record"] == {"gmsfhm": sample["key"], "xm": "居民5", "lxdh": "*******0005"}
    assert _follow(client, headers, shared_code, cursor)[0] == []  # nothing new

    changed = people(2, start=0)
    for person in changed:
        person["xm"] = person["xm"] + "（更名）"
    load(client, officer, shared_code, changed + people(1, start=30))
    gone = people(2, start=10)
    load(client, officer, shared_code, [{"gmsfhm": p["gmsfhm"]} for p in gone], mode="delete")
    later, cursor = _follow(client, headers, shared_code, cursor, limit=2)
    upserts = {c["key"]: c["record"]["xm"] for c in later if c["op"] == "upsert"}
    assert upserts == {
        changed[0]["gmsfhm"]: "居民0（更名）",
        changed[1]["gmsfhm"]: "居民1（更名）",
        people(1, start=30)[0]["gmsfhm"]: "居民30",
    }
    deletions = [c for c in later if c["op"] == "delete"]
    assert {c["key"] for c in deletions} == {p["gmsfhm"] for p in gone} and all(
        "record" not in c or c["record"] is None for c in deletions
    )
    assert [c["op"] for c in later] == ["upsert"] * 3 + ["delete"] * 2  # in the order of the batches
    assert _follow(client, headers, shared_code, cursor)[0] == []
    # a first synchronisation after the deletions does not report them
    again, _ = _follow(client, headers, shared_code)
    assert len(again) == 19 and {c["op"] for c in again} == {"upsert"}


def test_an_export_cursor_follows_on_without_a_gap(client, as_user, shared_code):
    officer = as_user("ga_officer")
    exported = client.get(EXPORT.format(code=shared_code), headers=officer)
    cursor = exported.headers["x-govdata-cursor"]
    assert _follow(client, officer, shared_code, cursor)[0] == []
    load(client, officer, shared_code, people(1, start=40))
    (change,) = _follow(client, officer, shared_code, cursor)[0]
    assert change["op"] == "upsert" and change["key"] == people(1, start=40)[0]["gmsfhm"]


@pytest.mark.parametrize("cursor", ["nonsense", "WzEsMl0", base64.urlsafe_b64encode(b"[-1,null,0]").decode()])
def test_a_cursor_not_given_by_the_platform_is_422(client, as_user, shared_code, cursor):
    body = assert_problem(
        client.get(
            CHANGES.format(code=shared_code), params={"cursor": cursor}, headers=as_user("ga_officer")
        ),
        422,
    )
    assert body["errors"][0]["field"] == "cursor"


def test_a_masked_key_is_shown_masked_in_changes(client, as_user, shared_code, system):
    grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm"], masked=["gmsfhm"], modes=["exchange"])
    changes, _ = _follow(client, system["headers"], shared_code)
    keys = {p["gmsfhm"] for p in people(20)}
    assert len(changes) == 20
    for change in changes:
        assert change["key"] not in keys and change["key"][:6] == "410802" and "*" * 8 in change["key"]
        assert change["record"]["gmsfhm"] == change["key"]
    usage.flush()


# --- several grants on one resource ----------------------------------------------------------------


def test_a_call_is_served_under_the_grant_that_holds_the_items_it_names_SHR5(
    client, as_user, shared_code, system
):
    """A system granted 性别 first and then, by a second application, 姓名 (masked) and 联系电话 keeps
    both grants: a call naming an item is made under the grant that holds it; one naming items no
    single grant holds is refused with what lies outside the newest grant."""
    first = grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xb"], modes=["query", "verify"])
    second = grant(
        client,
        as_user,
        shared_code,
        system["id"],
        ["gmsfhm", "xm", "lxdh"],
        masked=["xm"],
        modes=["query", "verify"],
    )
    person, headers = people(1, start=4)[0], system["headers"]

    by_sex = verify(client, headers, shared_code, person["gmsfhm"], {"xb": person["xb"]})
    assert by_sex.status_code == 200, by_sex.text
    assert by_sex.json()["match"] is True and by_sex.json()["receipt"]["grant_id"] == first["id"]
    by_phone = verify(client, headers, shared_code, person["gmsfhm"], {"lxdh": person["lxdh"]})
    assert by_phone.status_code == 200 and by_phone.json()["receipt"]["grant_id"] == second["id"]
    assert_problem(
        verify(client, headers, shared_code, person["gmsfhm"], {"xb": person["xb"], "lxdh": person["lxdh"]}),
        403,
        "item-not-granted",
    )

    filtered = records(client, headers, shared_code, xb=person["xb"], limit=50)
    assert filtered.status_code == 200, filtered.text
    assert set(filtered.json()["items"][0]) == {"gmsfhm", "xb"}  # what the first grant holds, no more
    by_key = records(client, headers, shared_code, key=person["gmsfhm"]).json()
    assert set(by_key["items"][0]) == {"gmsfhm", "xm", "lxdh"}  # naming no item: the newest grant
    assert by_key["items"][0]["xm"] != person["xm"]  # masked as that grant says

    # 市人社局's staff may object to an item any of its grants holds (not only the newest one's)
    objection = client.post(
        "/api/v1/objections",
        json={
            "resource_code": shared_code,
            "key": person["gmsfhm"],
            "items": {"xb": "9" if person["xb"] != "9" else "1"},
            "reason": "当事人反映性别登记有误",
        },
        headers=as_user("rs_user"),
    )
    assert objection.status_code == 201, objection.text


def test_numbers_are_answered_as_json_numbers_and_found_by_value(client, as_user):
    """A numeric item comes back as the JSON number that was loaded (not its stored decimal text), and
    a filter finds it by value however it is spelt (3500.5 = 3500.50)."""
    body = population(name="居民收入信息")
    body["items"] = [i for i in body["items"] if i["code"] == "gmsfhm"] + [
        {"code": "ysr", "name": "月收入", "data_type": "N", "length": 12, "precision": 2, "level": 2},
        {"code": "nl", "name": "年龄", "data_type": "N", "length": 3, "level": 1},
    ]
    officer = as_user("ga_officer")
    code = publish(client, as_user, "ga_officer", body)
    person = people(1, start=6)[0]["gmsfhm"]
    load(client, officer, code, [{"gmsfhm": person, "ysr": 3500.5, "nl": 30}])

    (record,) = records(client, officer, code, key=person).json()["items"]
    assert record == {"gmsfhm": person, "ysr": 3500.5, "nl": 30}
    for spelt in ({"ysr": "3500.5"}, {"ysr": "3500.50"}, {"nl": "30.0"}, {"nl": "030"}):
        found = records(client, officer, code, **spelt)
        assert found.status_code == 200 and found.json()["total"] == 1, (spelt, found.text)
    assert records(client, officer, code, ysr="3500.51").json()["total"] == 0
    assert records(client, officer, code, ysr="abc").json()["total"] == 0
