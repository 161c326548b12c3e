"""The store's CSV export (SHR-6 exchange): the rows of the platform's CSV written by the database
itself, with the same bytes on both stores: CRLF, quoting only where RFC 4180 needs it, nulls empty,
every text cell made safe as ``core.files.safe_cell`` makes it; through a named pipe or a file, with
or without rows passing through Python (masking) on the way."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from govdata.core import files
from govdata.store import csv_export, open_store
from govdata.store.base import Column, TableSpec
from govdata.store.sql import SqlStore
from tests.support.postgres import create_database, drop_database

TEXT = TableSpec(900101, (Column("code", "C", 10), Column("note", "C", 200)), ("code",))
TYPED = TableSpec(
    900102,
    (
        Column("code", "C", 10),
        Column("born", "D"),
        Column("seen", "T"),
        Column("n", "I"),
        Column("amount", "N", 10, 2),
        Column("ratio", "B"),
        Column("alive", "L"),
    ),
    ("code",),
)
AT = dt.datetime(2026, 3, 2, 9, 0)
BATCH_IDS = itertools.count(1)


@pytest.fixture
def store(backend, request, tmp_path) -> Iterator[SqlStore]:
    """An empty store of the test's backend (no metadata database: the store alone)."""
    if backend == "sqlite":
        opened = open_store(f"duckdb:///{tmp_path / 'data.duckdb'}")
        opened.initialise()
        yield opened
        opened.close()
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"govdata_x_{uuid.uuid4().hex[:12]}"
    opened = open_store(create_database(admin_url, name))
    opened.initialise()
    yield opened
    opened.close()
    drop_database(admin_url, name)


class Sink:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> None:
        self.parts.append(bytes(data))

    @property
    def data(self) -> bytes:
        return b"".join(self.parts)


def load(store: SqlStore, spec: TableSpec, columns: dict[str, pa.Array], batch_id: int = 1) -> None:
    store.ensure_table(spec)
    key = columns[spec.key_columns[0]]
    store.apply(spec, batch_id, "replace", pa.table({"_key": key, **columns}), AT)


def export(store: SqlStore, spec: TableSpec, **options) -> tuple[int, bytes]:
    sink = Sink()
    rows = store.export_csv(spec, spec.codes, sink, **options)
    return rows, sink.data


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_text_cells_are_made_safe_and_quoted_only_where_needed(store):
    notes = [
        "=1+1\n第二行\x07",  # a formula, a line break inside, a control character
        "\x01=SUM(A1)",  # a formula once the control character is gone
        "@x",
        "-2",
        "+1",
        "\tx",
        "\rx",
        "a,b",
        'say "hi"',
        "a\x00b\x0bc\x85d\x9fe",  # C0 and C1 controls inside
        "阿依古丽·买买提",  # a middle dot (C2 B7): not a control
        "",
        None,
        "正常",
    ]
    codes = [f"k{i:02d}" for i in range(len(notes))]
    if store.backend == "postgresql":  # PostgreSQL text holds no NUL
        notes[9] = notes[9].replace("\x00", "")
    load(store, TEXT, {"code": pa.array(codes), "note": pa.array(notes, pa.string())})
    rows, data = export(store, TEXT)
    assert rows == len(notes)
    got = {row[0]: row[1] for row in parse(data)}
    assert got == {c: "" if v is None else files.safe_cell(v) for c, v in zip(codes, notes, strict=True)}
    lines = dict(line.split(b",", 1) for line in data.split(b"\r\n") if line[:1] == b"k" and b'"' not in line)
    assert lines[b"k13"] == "正常".encode() and lines[b"k12"] == b""  # no quotes where none is needed
    assert b'k11,""\r\n' in data  # an empty text is told from a null
    assert b'k00,"\'=1+1\n\xe7\xac\xac\xe4\xba\x8c\xe8\xa1\x8c"\r\n' in data  # LF inside stays LF
    assert data.endswith(b"\r\n") and data.count(b"\r\n") == len(notes)


@hypothesis_settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(notes=st.lists(st.one_of(st.none(), st.text(max_size=12)), min_size=1, max_size=20))
def test_any_text_is_exported_as_safe_cell_makes_it(store, notes):
    if store.backend == "postgresql":
        notes = [None if v is None else v.replace("\x00", "") for v in notes]
    codes = [f"k{i:02d}" for i in range(len(notes))]
    batch_id = next(BATCH_IDS)  # each example replaces the rows of the one before
    load(store, TEXT, {"code": pa.array(codes), "note": pa.array(notes, pa.string())}, batch_id)
    rows, data = export(store, TEXT)
    assert rows == len(notes)
    expected = [[c, "" if v is None else files.safe_cell(v)] for c, v in zip(codes, notes, strict=True)]
    assert sorted(parse(data)) == expected


def test_typed_columns_read_the_same_on_both_stores(store):
    load(
        store,
        TYPED,
        {
            "code": pa.array(["a", "b"]),
            "born": pa.array([dt.date(1985, 1, 2), None], pa.date32()),
            "seen": pa.array([dt.datetime(2026, 3, 2, 9, 30, 15), None], pa.timestamp("us")),
            "n": pa.array([-7, None], pa.int64()),
            "amount": pa.array([Decimal("-12.50"), None], pa.decimal128(10, 2)),
            "ratio": pa.array([0.25, None], pa.float64()),
            "alive": pa.array([True, False], pa.bool_()),
        },
    )
    rows, data = export(store, TYPED)
    assert rows == 2
    # numbers are not text: a leading minus stays as it is
    assert sorted(data.split(b"\r\n")) == sorted(
        [b"a,1985-01-02,2026-03-02 09:30:15,-7,-12.50,0.25,true", b"b,,,,,,false", b""]
    )
    assert export(store, TYPED, transform=lambda batch: batch) == (rows, data)


def test_record_batches_hold_the_stored_values_and_types(store):
    values = {
        "code": ["a", "b", "c"],
        "born": [dt.date(1985, 1, 2), None, dt.date(2000, 2, 29)],
        "seen": [dt.datetime(2026, 3, 2, 9, 30, 15, 500000), None, dt.datetime(1999, 12, 31, 23, 59)],
        "n": [-7, None, 0],
        "amount": [Decimal("-12.50"), None, Decimal("0.00")],
        "ratio": [0.25, None, -1.5e10],
        "alive": [True, None, False],
    }
    types = {
        "code": pa.string(),
        "born": pa.date32(),
        "seen": pa.timestamp("us"),
        "n": pa.int64(),
        "amount": pa.decimal128(10, 2),
        "ratio": pa.float64(),
        "alive": pa.bool_(),
    }
    load(store, TYPED, {c: pa.array(v, types[c]) for c, v in values.items()})
    load(store, TEXT, {"code": pa.array(["x", "y", "z"]), "note": pa.array(['a,"b"\nc', "", None])})
    batches = list(store.export_batches(TYPED, TYPED.codes, batch_size=2))
    assert [b.num_rows for b in batches] == [2, 1]
    table = pa.Table.from_batches(batches).sort_by("code")
    assert table.schema == store.arrow_schema(TYPED, TYPED.codes)
    assert table.to_pydict() == values
    notes = pa.Table.from_batches(store.export_batches(TEXT, TEXT.codes)).sort_by("code")
    assert notes.column("note").to_pylist() == ['a,"b"\nc', "", None]


def test_rows_passing_through_python_are_written_alike(store):
    notes = ["=1+1\n二\x07", "13900001234", None, "", "a,b"]
    codes = [f"k{i}" for i in range(len(notes))]
    load(store, TEXT, {"code": pa.array(codes), "note": pa.array(notes, pa.string())})
    _, direct = export(store, TEXT)
    rows, through = export(store, TEXT, transform=lambda batch: batch, batch_size=2)
    assert rows == len(notes) and sorted(direct.split(b"\r\n")) == sorted(through.split(b"\r\n"))

    def shout(batch: pa.RecordBatch) -> pa.RecordBatch:  # a "mask" that makes a formula
        note = pc.binary_join_element_wise("=", batch.column(1), "")
        return pa.record_batch([batch.column(0), note], names=batch.schema.names)

    _, shouted = export(store, TEXT, transform=shout)
    assert {r[0]: r[1] for r in parse(shouted)} == {
        "k0": "'==1+1\n二",
        "k1": "'=13900001234",
        "k2": "",
        "k3": "'=",
        "k4": "'=a,b",
    }


@pytest.mark.parametrize("through_python", [False, True])
def test_a_single_column_of_nulls_keeps_every_row_SHR6(store, through_python):
    # a grant of a single item exports one column: a null there was an empty line, which csv readers
    # (and spreadsheets) skip, so the file held fewer rows than its manifest said
    load(store, TEXT, {"code": pa.array(["k0", "k1", "k2"]), "note": pa.array([None, "", "a"], pa.string())})
    sink = Sink()
    options = {"transform": lambda batch: batch} if through_python else {}
    rows = store.export_csv(TEXT, ["note"], sink, **options)
    assert rows == 3
    assert sorted(sink.data.split(b"\r\n")) == sorted([b'""', b'""', b"a", b""])  # as core.files.write_csv
    assert sorted(parse(sink.data)) == [[""], [""], ["a"]]
    many = Sink()
    store.export_csv(TEXT, ["code", "note"], many, **options)
    assert b"k0,\r\n" in many.data  # with more than one column a null is still an empty field
    batches = list(store.export_batches(TEXT, ["note"]))  # masking and Parquet read these
    assert sorted(pa.Table.from_batches(batches).column("note").to_pylist(), key=str) == ["", None, "a"]


def test_an_empty_table_writes_nothing(store):
    store.ensure_table(TEXT)
    assert export(store, TEXT) == (0, b"")
    assert export(store, TEXT, transform=lambda batch: batch) == (0, b"")


def test_without_a_named_pipe_a_file_serves(store, monkeypatch):
    load(store, TEXT, {"code": pa.array(["a", "b"]), "note": pa.array(["=x", "y\x01"])})
    expected = export(store, TEXT)

    def no_pipes(*args, **kwargs):
        raise OSError("no named pipes here")

    monkeypatch.setattr(csv_export.os, "mkfifo", no_pipes)
    assert export(store, TEXT, transform=lambda batch: batch) == expected
    if store.backend == "sqlite":
        assert export(store, TEXT) == expected


def test_a_failing_writer_fails_the_export_without_hanging(store):
    load(
        store,
        TEXT,
        {"code": pa.array([f"k{i}" for i in range(50_000)]), "note": pa.array(["x" * 40] * 50_000)},
    )

    class Full:
        def write(self, data) -> None:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        store.export_csv(TEXT, TEXT.codes, Full())
    with pytest.raises(OSError, match="No space left"):
        store.export_csv(TEXT, TEXT.codes, Full(), transform=lambda batch: batch)
    assert export(store, TEXT)[0] == 50_000  # and the store goes on


@pytest.mark.parametrize(
    ("writes", "expected"),
    [
        ([b"a\xc2", b"\x85b"], b"ab"),  # a C1 control cut between two writes
        ([b"a\xc2", b"\xb7b"], "a·b".encode()),  # a middle dot cut the same way stays
        ([b"\x00a\x1f\x7f\r\n\t"], b"a\r\n\t"),
        (["中\x85文".encode()], "中文".encode()),
        ([b"x\xc2"], b"x\xc2"),  # nothing follows: what was held is written
    ],
)
def test_control_characters_are_dropped_from_the_bytes(writes, expected):
    sink = Sink()
    cleaned = csv_export.Cleaned(sink)
    for data in writes:
        cleaned.write(data)
    cleaned.close()
    assert sink.data == expected
