"""The "under review" flag (COR-3): every sharing answer that returns a record under review carries it —
query, verification, export, changes — for the grant holder and the provider alike; nothing refuses or
delays the service because of it; and the lookup stays off the database: a per-process map, dropped
on commit, read again at most every two seconds — on both stores."""

# ruff: noqa: F811  (the fixtures of tests.support, named as parameters)
from __future__ import annotations

import base64
import csv
import io
import json

import pytest
from sqlalchemy import event, update

from govdata.objections import flags
from govdata.objections.models import Objection
from tests.support.objections import BASE_ITEMS, file, query, records  # noqa: F401
from tests.support.sharing import grant, shared_code, system  # noqa: F401


@pytest.fixture
def exchange_grant(client, as_user, shared_code, system) -> dict:
    """The demo system's grant of the base items for query, verification and exchange."""
    return grant(
        client, as_user, shared_code, system["id"], BASE_ITEMS, modes=("query", "verify", "exchange")
    )


def test_every_service_answer_carries_the_flag_and_still_answers_COR3(
    client, as_user, shared_code, system, exchange_grant, records
):
    person, other = records[5], records[6]
    key = person["gmsfhm"]
    headers = system["headers"]
    assert query(client, headers, shared_code, key, other["gmsfhm"])["under_review"] == []
    filed = file(client, as_user("rs_user"), shared_code, key, {"xm": "新名"})

    # query (the system under the grant, and the provider's own staff): flagged, data served as ever
    answer = query(client, headers, shared_code, key, other["gmsfhm"])
    assert answer["under_review"] == [key] and len(answer["items"]) == 2
    assert {r["xm"] for r in answer["items"]} == {person["xm"], other["xm"]}
    assert query(client, as_user("ga_officer"), shared_code, key)["under_review"] == [key]
    # verification
    verified = client.post(
        f"/api/v1/share/{shared_code}/verify",
        json={"key": key, "values": {"xm": person["xm"]}},
        headers=headers,
    )
    assert verified.status_code == 200 and verified.json()["match"] is True
    assert verified.json()["under_review"] == [key]
    # export: the manifest lists it, and the file still holds the record
    exported = client.get(f"/api/v1/share/{shared_code}/export?format=csv", headers=headers)
    assert exported.status_code == 200, exported.text
    manifest = json.loads(base64.b64decode(exported.headers["X-GovData-Manifest"]))
    assert manifest["under_review"] == [key]
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert any(r["gmsfhm"] == key for r in rows)
    # changes
    changes = client.get(f"/api/v1/share/{shared_code}/changes", headers=headers)
    assert changes.status_code == 200 and changes.json()["under_review"] == [key]

    # the provider keeps the data: the flag clears at once, in every answer
    kept = client.post(
        f"/api/v1/objections/{filed['id']}/resolve",
        json={"outcome": "rejected", "reason": "原数据无误"},
        headers=as_user("ga_officer"),
    )
    assert kept.status_code == 200, kept.text
    assert query(client, headers, shared_code, key)["under_review"] == []
    again = client.get(f"/api/v1/share/{shared_code}/export?format=csv", headers=headers)
    assert json.loads(base64.b64decode(again.headers["X-GovData-Manifest"]))["under_review"] == []


def test_the_lookup_reads_no_table_until_an_objection_opens_or_closes_COR3(
    client, app, as_user, shared_code, system, exchange_grant, records, session
):
    engine = app.state.engine
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        if "objections" in statement:
            statements.append(statement)

    key = records[8]["gmsfhm"]
    query(client, system["headers"], shared_code, key)  # the map of this database is read once
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            assert query(client, system["headers"], shared_code, key)["under_review"] == []
        assert statements == []  # answered from the map: a dict lookup
        filed = file(client, as_user("rs_user"), shared_code, key, {"xm": "新名"})
        reads = len(statements)
        # the commit that opened it dropped the map: the very next answer carries the flag
        assert query(client, system["headers"], shared_code, key)["under_review"] == [key]
        assert len(statements) == reads + 1
        assert query(client, system["headers"], shared_code, key)["under_review"] == [key]
        assert len(statements) == reads + 1
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # a change this process did not make (another server) shows once the map is older than its refresh
    session.execute(update(Objection).where(Objection.id == filed["id"]).values(status="rejected"))
    session.commit()
    assert query(client, system["headers"], shared_code, key)["under_review"] == [key]  # still the old map
    url = engine.url
    flags.flags._maps[url] = flags._Map(built=0.0, keys=flags.flags._maps[url].keys)  # as if 2 s had passed
    assert query(client, system["headers"], shared_code, key)["under_review"] == []
