"""AGG-5/AGG-6 at the store: every batch sequence reads back, as of every batch and time and after
rolling back any batch in any order, exactly as replaying the batches that remain would give; a
store written by the earlier layout (every write in the history) upgrades in place. Both stores."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import duckdb
import psycopg
import pyarrow as pa
import pytest

from govdata.store import open_store
from govdata.store.base import META_TABLE, Column, Staged, TableSpec
from govdata.store.sql import SqlStore

SPEC = TableSpec(900001, (Column("code", "C", 10), Column("name", "C", 20), Column("n", "I")), ("code",))
T0 = dt.datetime(2026, 3, 2, 9, 0)

# (mode, rows as key -> (name, n)); batch ids are 1, 2, … in this order
BATCHES: list[tuple[str, dict[str, tuple[str, int]]]] = [
    ("upsert", {"a": ("甲", 1), "b": ("乙", 2), "c": ("丙", 3)}),
    ("upsert", {"b": ("乙二", 20), "d": ("丁", 4)}),
    ("delete", {"a": ("", 0), "x": ("", 0)}),  # x never existed
    ("replace", {"b": ("乙三", 200), "e": ("戊", 5)}),  # c and d end here
    ("upsert", {"a": ("甲二", 10), "c": ("丙二", 30)}),  # both come back
    ("delete", {"e": ("", 0)}),
    ("upsert", {"a": ("甲三", 100)}),
]


def written_at(batch_id: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=batch_id)


Event = tuple[int, str, str, tuple[str, int] | None]  # batch, key, "U" or "D", values


def events_of(batch_ids: list[int]) -> list[Event]:
    """Each batch's changes, recorded as it was applied after the ones before it: what it wrote, and
    the keys it deleted (a replace deletes the keys that were current then and are not in it)."""
    events: list[Event] = []
    for batch_id in batch_ids:
        mode, rows = BATCHES[batch_id - 1]
        current = state(events, batch_id)
        if mode == "delete":
            events += [(batch_id, key, "D", None) for key in rows if key in current]
            continue
        if mode == "replace":
            events += [(batch_id, key, "D", None) for key in current if key not in rows]
        events += [(batch_id, key, "U", values) for key, values in rows.items()]
    return events


def state(events: list[Event], as_of: int) -> dict[str, tuple[str, int, int]]:
    """key -> (name, n, batch) from the newest change of each key up to batch ``as_of``."""
    newest: dict[str, Event] = {}
    for event in sorted(events, key=lambda e: e[0]):
        if event[0] <= as_of:
            newest[event[1]] = event
    return {key: (*e[3], e[0]) for key, e in newest.items() if e[2] == "U"}


def footprint(events: list[Event], batch_id: int) -> int:
    """Keys the batch wrote, or deleted while they existed (a delete is a change only after a write)."""
    keys = set()
    for key in {e[1] for e in events if e[0] == batch_id}:
        history = sorted((e for e in events if e[1] == key), key=lambda e: e[0])
        for before, event in zip([None, *history], history, strict=False):
            if event[0] == batch_id and (event[2] == "U" or (before is not None and before[2] == "U")):
                keys.add(key)
    return len(keys)


def rows(result) -> dict[str, tuple[str, int, int]]:
    return {r["_key"]: (r["name"], r["n"], r["_batch_id"]) for r in result.rows}


def read(store: SqlStore, **as_of) -> dict[str, tuple[str, int, int]]:
    result = store.query(SPEC, limit=100, **as_of)
    assert result.total == len(result.rows)
    return rows(result)


def arrow(rows: dict[str, tuple[str, int]]) -> pa.Table:
    return pa.table(
        {
            "_key": list(rows),
            "code": list(rows),
            "name": [name for name, _ in rows.values()],
            "n": pa.array([n for _, n in rows.values()], pa.int64()),
        }
    )


@pytest.fixture
def store(settings) -> Iterator[SqlStore]:
    store = open_store(settings.resolved_store_url())
    store.initialise()
    yield store
    store.close()


def apply_all(store: SqlStore) -> list:
    store.ensure_table(SPEC)
    return [
        store.apply(SPEC, batch_id, mode, arrow(rows), written_at(batch_id))
        for batch_id, (mode, rows) in enumerate(BATCHES, start=1)
    ]


def assert_reads_as(store: SqlStore, events: list[Event]) -> None:
    """Current rows and the rows as of every batch and time are what the recorded changes give."""
    batch_ids = sorted({e[0] for e in events})
    assert read(store) == state(events, max(batch_ids, default=0))
    for batch_id in batch_ids:
        expected = state(events, batch_id)
        assert read(store, as_of_batch=batch_id) == expected, f"as of batch {batch_id}"
        assert read(store, as_of_time=written_at(batch_id) + dt.timedelta(minutes=30)) == expected
    assert read(store, as_of_time=T0) == {}


def test_counts_current_rows_and_every_as_of_read(store):
    results = apply_all(store)
    counts = [(r.inserted, r.updated, r.deleted) for r in results]
    assert counts == [(3, 0, 0), (1, 1, 0), (0, 0, 1), (1, 1, 2), (2, 0, 0), (0, 0, 1), (0, 1, 0)]
    assert_reads_as(store, events_of(list(range(1, len(BATCHES) + 1))))
    # a point lookup by key and a filter on an item
    assert rows(store.query(SPEC, keys=["a"])) == {"a": ("甲三", 100, 7)}
    assert rows(store.query(SPEC, filters={"name": "乙三"})) == {"b": ("乙三", 200, 4)}


@pytest.mark.parametrize("order", [[3, 5, 1, 7, 2, 6, 4], [7, 6, 5, 4, 3, 2, 1], [4, 2, 6, 1]])
def test_rolling_back_any_batch_undoes_exactly_its_changes(store, order):
    """Later batches keep their own changes: a rolled-back delete brings a key back until the next
    recorded change of that key."""
    apply_all(store)
    events = events_of(list(range(1, len(BATCHES) + 1)))
    for batch_id in order:
        touched = store.rollback(SPEC, batch_id)
        assert touched == footprint(events, batch_id), f"keys of batch {batch_id}"
        events = [e for e in events if e[0] != batch_id]
        assert_reads_as(store, events)
        assert store.batch_keys(SPEC, batch_id) == 0
    assert store.rollback(SPEC, order[0]) == 0  # twice changes nothing


def test_a_store_of_the_earlier_layout_upgrades_in_place(store):
    """Schema 1 kept every write in the history (``_op`` U or D); schema 2 keeps superseded versions."""
    store.ensure_table(SPEC)
    cur, hist = store.table_name(SPEC.name), store.table_name(SPEC.history)
    store.execute(f"DROP TABLE {hist}")
    store.execute(
        f"CREATE TABLE {hist} (_key VARCHAR NOT NULL, code VARCHAR, name VARCHAR, n BIGINT, "
        "_batch_id BIGINT NOT NULL, _op VARCHAR(1) NOT NULL, _written_at TIMESTAMP NOT NULL)"
    )
    events = events_of([1, 2, 3])
    for batch_id, key, op, values in events:
        name, n = values or (None, None)
        store.execute(
            f"INSERT INTO {hist} VALUES (?, ?, ?, ?, ?, ?, ?)",
            [key, key, name, n, batch_id, op, written_at(batch_id)],
        )
    for key, (name, n, batch_id) in state(events, 3).items():
        store.execute(
            f"INSERT INTO {cur} VALUES (?, ?, ?, ?, ?, ?)",
            [key, key, name, n, batch_id, written_at(batch_id)],
        )
    store.execute(f"UPDATE {store.table_name(META_TABLE)} SET value = '1' WHERE key = 'schema_version'")

    store.initialise()

    assert store.schema_version() == 2
    assert "_op" not in store.existing_columns(SPEC.history)
    assert_reads_as(store, events)
    store.apply(SPEC, 4, "replace", arrow(BATCHES[3][1]), written_at(4))  # and it takes batches again
    store.rollback(SPEC, 2)
    assert_reads_as(store, [e for e in events_of([1, 2, 3, 4]) if e[0] != 2])


@pytest.mark.parametrize("first_load", [True, False], ids=["first load", "later batch"])
@pytest.mark.parametrize("broken", ["reading", "writing"])
def test_a_batch_that_breaks_midway_applies_nothing(store, tmp_path, first_load, broken):
    """The rows stream from the batch's DuckDB into the store (on PostgreSQL, through a pipe into
    COPY) while they are read: a read that fails two hundred thousand rows in, or a value the store
    refuses there, fails the whole batch, leaves the table as it was and hangs nothing."""
    store.ensure_table(SPEC)
    if not first_load:
        store.apply(SPEC, 1, "upsert", arrow(BATCHES[0][1]), written_at(1))
    before = read(store)
    bad = "error('源数据读到一半出错')" if broken == "reading" else "'一百'"  # n is an integer
    sql = (
        "SELECT 'k' || i AS _key, 'k' || i AS code, '名' AS name, CASE WHEN i < 200000 THEN CAST(i AS VARCHAR) "
        f"ELSE {bad} END AS n FROM range(250000) t(i)"
    )
    with store.workspace(tmp_path) as con, pytest.raises(Exception, match="源数据读到一半出错|一百"):
        store.apply(SPEC, 2, "upsert", Staged(con, sql, tmp_path), written_at(2))
    assert read(store) == before


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # DuckDB has no locks to wait on
def test_reading_a_table_is_not_held_up_while_its_first_load_is_copied_in(store, tmp_path):
    """PostgreSQL copies a first load into a table of its own and swaps it in at the end: a reader
    of the (still empty) table gets its answer meanwhile instead of waiting for the whole load."""
    store.ensure_table(SPEC)
    sql = "SELECT 'k' || i AS _key, 'k' || i AS code, '名' AS name, i AS n FROM range(1000000) t(i)"
    done: list = []

    def load() -> None:
        with duckdb.connect() as con:
            done.append(store.apply(SPEC, 1, "upsert", Staged(con, sql, tmp_path), written_at(1)))

    loader = threading.Thread(target=load)
    loader.start()
    table = store.table_name(SPEC.name)
    seen = []
    with psycopg.connect(store._conninfo, autocommit=True) as reader:
        reader.execute("SET lock_timeout = '2s'")
        while loader.is_alive() and not seen:
            seen = reader.execute(
                # the lock that keeps other writers out while the rows are copied
                "SELECT 1 FROM pg_locks WHERE relation = %s::regclass AND granted "
                "AND mode = 'ShareRowExclusiveLock'",
                [table],
            ).fetchall()
        assert seen, "the first load ended before it could be watched"
        assert reader.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)  # not held up
    loader.join()
    assert done[0].inserted == 1_000_000 and store.query(SPEC, limit=1).total == 1_000_000
