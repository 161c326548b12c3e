"""AGG-5 for the first load of a resource: with the DuckDB store it is validated straight into a
staging table that then takes the empty current table's place. What the provider sees must not
differ from any other batch: exact row numbers across many row groups, nothing applied by a rejected
batch, a batch interrupted after staging runs again cleanly. Both stores (PostgreSQL copies a first
load into a new table, builds its primary key and puts it in the current table's place, keeping the
privileges granted on the old one)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from govdata.store.base import TableSpec
from tests.support.batches import csv_bytes, ric, upload

ROWS = 250_000  # DuckDB row groups hold 122,880 rows: three of them
BROKEN = {3: "ric", 130_000: "code_list", ROWS: "type"}  # data row -> the rule it breaks


def many_rows() -> list[list[str]]:
    rows = []
    for i in range(ROWS):
        born = dt.date(1950, 1, 1) + dt.timedelta(days=i // 1000)
        rows.append([ric(f"410802{born:%Y%m%d}{i % 1000:03d}"), f"居民{i}", "1", f"{born}", "焦作市"])
    wrong = rows[2][0][:-1] + ("0" if rows[2][0][-1] != "0" else "1")
    rows[2][0] = wrong
    rows[129_999][2] = "7"
    rows[ROWS - 1][3] = "1990-02-30"
    return rows


def staging_tables(store) -> list[str]:
    return [t for t in store.fetchall("SELECT table_name FROM information_schema.tables") if "_load_" in t[0]]


def test_row_numbers_stay_exact_across_row_groups(client, as_user, population_code):
    officer = as_user("ga_officer")
    response = upload(client, officer, population_code, csv_bytes(many_rows()), policy="accept_valid")
    assert response.status_code == 201, response.text
    batch = response.json()
    assert (batch["status"], batch["rows_total"], batch["rows_rejected"]) == ("applied", ROWS, 3)
    assert (batch["rows_inserted"], batch["rows_updated"]) == (ROWS - 3, 0)
    errors = client.get(f"/api/v1/batches/{batch['id']}/errors", headers=officer).json()
    assert {e["row"]: e["rule"] for e in errors} == BROKEN
    records = client.get(f"/api/v1/share/{population_code}/records?limit=1", headers=officer).json()
    assert records["total"] == ROWS - 3
    assert staging_tables(client.app.state.store) == []


def test_a_rejected_first_load_leaves_nothing(client, as_user, population_code):
    officer = as_user("ga_officer")
    rows = many_rows()[:1000]
    rejected = upload(client, officer, population_code, csv_bytes(rows), policy="strict").json()
    assert rejected["status"] == "rejected" and rejected["rows_rejected"] == 1
    assert client.get(f"/api/v1/share/{population_code}/records", headers=officer).json()["total"] == 0
    assert staging_tables(client.app.state.store) == []
    # the next load is again a first load, and the one after it updates what the first wrote
    first = upload(client, officer, population_code, csv_bytes(rows[3:]), policy="strict").json()
    again = upload(client, officer, population_code, csv_bytes(rows[3:10]), policy="strict").json()
    assert (first["status"], first["rows_inserted"]) == ("applied", 997)
    assert (again["status"], again["rows_inserted"], again["rows_updated"]) == ("applied", 0, 7)


def test_a_staging_table_left_by_a_crash_is_dropped_when_the_batch_runs_again(
    client, as_user, population_code, session
):
    """The process died after the staged rows were committed and before they took the current
    table's place: the batch's staging table is still there when the batch runs again."""
    from govdata.catalog.models import Resource

    store = client.app.state.store
    resource = session.query(Resource).filter_by(code=population_code).one()
    spec = TableSpec(resource.id, (), ())
    store.ensure_table(spec)
    leftover = store.first_load(spec, 1, {"_errors": "VARCHAR"})  # what batch 1 would have staged
    if leftover:
        store.execute(f"INSERT INTO \"{leftover}\" (_key, _batch_id, _written_at) VALUES ('junk', 1, now())")
    officer = as_user("ga_officer")
    batch = upload(client, officer, population_code, csv_bytes(many_rows()[3:13]), policy="strict").json()
    assert (batch["id"], batch["status"], batch["rows_inserted"]) == (1, "applied", 10)
    keys = [
        r["gmsfhm"]
        for r in client.get(f"/api/v1/share/{population_code}/records", headers=officer).json()["items"]
    ]
    assert len(keys) == 10 and "junk" not in keys
    assert staging_tables(store) == []


def test_the_current_table_keeps_one_row_per_key_after_a_first_load(
    client, as_user, population_code, session
):
    """PostgreSQL drops the primary key while it copies a first load in: it must stand again after,
    refusing a key twice (DuckDB keeps one row per key by construction)."""
    import psycopg

    from govdata.catalog.models import Resource

    officer = as_user("ga_officer")
    rows = many_rows()[3:13]
    batch = upload(client, officer, population_code, csv_bytes(rows), policy="strict").json()
    assert (batch["status"], batch["rows_inserted"]) == ("applied", 10)
    store = client.app.state.store
    if store.dialect != "postgresql":
        return
    resource = session.query(Resource).filter_by(code=population_code).one()
    spec = TableSpec(resource.id, (), ())
    with pytest.raises(psycopg.errors.UniqueViolation):
        store.execute(
            f"INSERT INTO {store.table_name(spec.name)} (_key, _batch_id, _written_at) VALUES (?, 2, now())",
            [rows[0][0]],
        )
    again = upload(client, officer, population_code, csv_bytes(rows[:5]), policy="strict").json()
    assert (again["status"], again["rows_inserted"], again["rows_updated"]) == ("applied", 0, 5)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_privileges_granted_on_a_table_survive_its_first_load(client, as_user, population_code, session):
    """A DBA let a reporting role read the resource's table before its first batch came: the table
    that takes its place must let that role read too."""
    from govdata.catalog.models import Resource

    store = client.app.state.store
    resource = session.query(Resource).filter_by(code=population_code).one()
    spec = TableSpec(resource.id, (), ())
    store.ensure_table(spec)
    table = store.table_name(spec.name)
    role = f"govdata_reporting_{uuid.uuid4().hex[:8]}"
    store.execute(f'CREATE ROLE "{role}"')
    try:
        store.execute(f'GRANT SELECT ON {table} TO "{role}"')
        store.execute(f'GRANT INSERT ON {table} TO "{role}" WITH GRANT OPTION')
        officer = as_user("ga_officer")
        batch = upload(client, officer, population_code, csv_bytes(many_rows()[3:13]), policy="strict").json()
        assert (batch["status"], batch["rows_inserted"]) == ("applied", 10)
        granted = store.fetchall(
            "SELECT privilege_type, is_grantable FROM information_schema.role_table_grants "
            "WHERE grantee = ? AND table_name = ? ORDER BY privilege_type",
            [role, spec.name],
        )
        assert granted == [("INSERT", "YES"), ("SELECT", "NO")]
    finally:
        store.execute(f'DROP OWNED BY "{role}"')
        store.execute(f'DROP ROLE "{role}"')
