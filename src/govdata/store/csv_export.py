"""Bulk CSV out of the store (SHR-6 exchange): a table's current rows as the rows of the platform's CSV
(``core.files.write_csv``), written by the database itself rather than by a Python loop per row.

What every backend writes, whatever the column types:

* one line per row, fields separated by ``,`` and lines ended by CRLF; a field is quoted (RFC 4180,
  ``"`` doubled inside) only when it holds a comma, a quote, CR or LF; no header (the caller writes
  the BOM and the header of item codes before the rows);
* a null is an empty field, an empty text ``""`` (a row of one null cell is ``""`` too, as Python's
  ``csv`` writes it: an empty line is no row to most readers); dates ``YYYY-MM-DD``, times
  ``YYYY-MM-DD HH:MM:SS``, logical values ``true``/``false``, numbers as stored;
* every text cell made safe as ``core.files.safe_cell`` makes it: control characters dropped (those of
  ``CONTROL_CHARS``: not tab, LF or CR), then a leading ``'`` before ``= + - @``, tab or CR.

The safe cells are made in two places, each where it is cheap. In SQL, the first character of a
text value decides (an integer compare, no regular expression): a value starting with a formula
character gets its ``'``; a value starting with a control character (rare) is cleaned by a regular
expression first and then decided; any other value cannot become a formula. The control
characters inside values are then dropped from the CSV bytes (:class:`Cleaned`): none of them is
CSV syntax, and none is a byte of another UTF-8 character (C1 controls are the two bytes ``C2 80``
… ``C2 9F``, which only they are), so dropping them from the bytes drops them from the cells. The
common case, no control character in a megabyte of output, costs one ``bytes.translate``.

DuckDB writes the CSV itself (``COPY … TO``, in parallel) into a named pipe that a thread of ours
reads (:func:`copy_csv`), so the caller consumes the bytes while DuckDB writes them (the sharing
service computes the file's digest on the way). PostgreSQL sends it (``COPY … TO STDOUT``), one
message per row, which :func:`pg_rows` gathers into blocks and ends with CRLF. Rows that must
pass through Python first (masking) go as Arrow record batches into a DuckDB of their own, which
writes them the same way (:func:`arrow_csv`).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from govdata.core import files

BLOCK = 1 << 20  # bytes handed on at a time
_PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
CSV_OPTIONS = "FORMAT csv, HEADER false, DELIMITER ',', QUOTE '\"', NEW_LINE '\\r\\n', USE_TMP_FILE false"

# the control characters of core.files.CONTROL_CHARS, as code points, and as the bytes of UTF-8 text
_CONTROLS = [c for c in range(0xA0) if files.CONTROL_CHARS.fullmatch(chr(c))]
_ASCII_CONTROLS = bytes(c for c in _CONTROLS if c < 0x80)
_C1_CONTROLS = re.compile(rb"\xc2[\x80-\x9f]")
_FORMULA = ", ".join(str(ord(c)) for c in files.FORMULA_START)


class Writer(Protocol):
    def write(self, data: bytes, /) -> Any: ...


def _ranges(codes: Iterable[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return ranges


def _control_class(dialect: str) -> str:
    """The control characters as a regular-expression class, in the dialect's escapes (PostgreSQL's
    text holds no NUL)."""
    low = 1 if dialect == "postgresql" else 0
    parts = [
        f"\\x{a:02x}" if a == b else f"\\x{a:02x}-\\x{b:02x}"
        for a, b in _ranges(c for c in _CONTROLS if c >= low)
    ]
    return "[" + "".join(parts) + "]"


def _formula_class() -> str:
    """The characters that start a formula, as a regular-expression class both dialects read."""
    escaped = {"\t": "\\t", "\r": "\\r"}
    chars = "".join(escaped.get(c, c) for c in files.FORMULA_START if c != "-")
    return "[" + chars + ("-" if "-" in files.FORMULA_START else "") + "]"


def safe_text_sql(expr: str, dialect: str) -> str:
    """SQL making a text value ``expr`` safe as a cell (see the module), but for the control
    characters inside it, which :class:`Cleaned` drops from the bytes. The rare branch names its
    cleaned value once: named twice, DuckDB computes it for every row, ahead of the CASE. Most
    text starts beyond U+009F (Chinese), which the first test lets through at once."""
    first = f"unicode({expr})" if dialect == "duckdb" else f"ascii({expr})"
    cleaned = f"regexp_replace({expr}, '{_control_class(dialect)}', '', 'g')"
    defused = f"regexp_replace({cleaned}, '^({_formula_class()})', '''\\1')"
    return (
        f"CASE WHEN {first} > 159 THEN {expr} "
        f"WHEN {first} IN ({_FORMULA}) THEN '''' || {expr} "
        f"WHEN {first} BETWEEN 0 AND 31 OR {first} BETWEEN 127 AND 159 THEN {defused} "
        f"ELSE {expr} END"
    )


class Cleaned:
    """Drops the control characters from the CSV bytes written through it (see the module). A C1
    control's two bytes may come in two writes: a trailing ``C2`` waits for the next one."""

    def __init__(self, out: Writer) -> None:
        self.out = out
        self._held = b""

    def write(self, data: bytes | bytearray) -> None:
        if self._held:
            data, self._held = self._held + data, b""
        if data.endswith(b"\xc2"):
            data, self._held = data[:-1], b"\xc2"
        kept = data.translate(None, _ASCII_CONTROLS)
        if b"\xc2" in kept:
            kept = _C1_CONTROLS.sub(b"", kept)
        if kept:
            self.out.write(kept)

    def close(self) -> None:
        if self._held:
            self.out.write(self._held)
            self._held = b""


# --- DuckDB: COPY into a named pipe ------------------------------------------------------------------------


def copy_csv(con: duckdb.DuckDBPyConnection, select: str, out: Writer, *, one_column: bool = False) -> int:
    """DuckDB's ``COPY (select) TO`` as CSV (see the module) into ``out``; the rows written.

    DuckDB writes into a named pipe in a directory of its own while a thread of ours reads it into
    ``out``, so that ``out`` takes the bytes as they come (nothing is written twice). Where no pipe can
    be made, DuckDB writes a temporary file, read into ``out`` afterwards. ``one_column``: the select
    has a single column, whose nulls are written ``""`` (see the module; DuckDB's ``NULLSTR`` may not
    hold a quote): as text, a null as the empty text, which DuckDB quotes."""
    options = CSV_OPTIONS
    if one_column:
        select = f"SELECT coalesce(CAST(c AS VARCHAR), '') FROM ({select}) AS one_column(c)"
    with tempfile.TemporaryDirectory(prefix="govdata-csv-") as work:
        target = Path(work) / "rows.csv"
        try:
            os.mkfifo(target, 0o600)
        except (OSError, AttributeError):
            return _copy_via_file(con, select, target, out, options)
        return _copy_via_pipe(con, select, target, out, options)


def _copy_sql(select: str, target: Path, options: str) -> str:
    return f"COPY ({select}) TO '{str(target).replace(chr(39), chr(39) * 2)}' ({options})"


def _copy_via_file(
    con: duckdb.DuckDBPyConnection, select: str, target: Path, out: Writer, options: str
) -> int:
    rows = con.execute(_copy_sql(select, target, options)).fetchone()[0]
    cleaned = Cleaned(out)
    with target.open("rb") as written:
        while block := written.read(BLOCK):
            cleaned.write(block)
    cleaned.close()
    return int(rows)


def _copy_via_pipe(
    con: duckdb.DuckDBPyConnection, select: str, target: Path, out: Writer, options: str
) -> int:
    # Our own read end first (it does not wait for a writer), then a write end held until the COPY
    # is over, so that the reader sees the pipe's end only then, also when DuckDB fails before it
    # opens the pipe. If the reader fails, it closes its end: DuckDB's next write fails.
    read_end = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
    os.set_blocking(read_end, True)
    with contextlib.suppress(OSError):
        fcntl.fcntl(read_end, _F_SETPIPE_SZ, _PIPE_SIZE)
    held = os.open(target, os.O_WRONLY)
    pump = _Pump(read_end, Cleaned(out))
    pump.start()
    failure: BaseException | None = None
    rows = 0
    try:
        rows = int(con.execute(_copy_sql(select, target, options)).fetchone()[0])
    except BaseException as error:  # the reader's failure, if any, says more
        failure = error
    finally:
        os.close(held)
        pump.join()
    if pump.error is not None:
        raise pump.error
    if failure is not None:
        raise failure
    return rows


class _Pump(threading.Thread):
    """Reads the pipe into the writer, in blocks of up to ``BLOCK`` bytes."""

    def __init__(self, fd: int, out: Cleaned) -> None:
        super().__init__(name="govdata-csv-pipe", daemon=True)
        self.fd, self.out = fd, out
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            pipe = open(self.fd, "rb", buffering=0)  # noqa: SIM115 - closed below, also on failure
        except BaseException as error:  # handed to the thread that waits for us
            os.close(self.fd)
            self.error = error
            return
        block, filled = bytearray(BLOCK), 0
        try:
            with pipe:
                while True:
                    with memoryview(block) as view:
                        got = pipe.readinto(view[filled:])
                    if got:
                        filled += got
                        if filled < BLOCK:
                            continue
                    if filled:
                        del block[filled:]
                        self.out.write(block)  # handed on whole: the next block is a new one
                        block, filled = bytearray(BLOCK), 0
                    if not got:
                        break
            self.out.close()
        except BaseException as error:  # handed to the thread that waits for us
            self.error = error


# --- rows that pass through Python (masking) -----------------------------------------------------------


def arrow_csv(
    batches: Iterator[pa.RecordBatch],
    out: Writer,
    transform: Callable[[pa.RecordBatch], pa.RecordBatch] | None = None,
) -> int:
    """Arrow record batches (each through ``transform`` first) as CSV rows into ``out``, written by a
    DuckDB of their own; the rows written. The batches are read as DuckDB asks for them."""
    if transform is not None:
        batches = (transform(batch) for batch in batches)
    first = next(batches, None)
    if first is None:
        return 0
    schema = first.schema
    rest = (batch if batch.schema == schema else batch.cast(schema) for batch in batches)
    reader = pa.RecordBatchReader.from_batches(schema, itertools.chain([first], rest))
    columns = ", ".join(
        safe_text_sql(_q(f.name), "duckdb") + f" AS {_q(f.name)}"
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        else _q(f.name)
        for f in schema
    )
    with duckdb.connect() as con:
        con.register("export_rows", reader)
        return copy_csv(con, f"SELECT {columns} FROM export_rows", out, one_column=len(schema) == 1)


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# --- PostgreSQL: COPY … TO STDOUT, one message per row -------------------------------------------------


def pg_rows(messages: Iterable[Any], out: Writer, *, one_column: bool = False) -> int:
    """PostgreSQL's ``COPY … TO STDOUT (FORMAT csv)`` messages (one row each, ended by LF) as CSV rows
    ended by CRLF into ``out``, in blocks of about ``BLOCK`` bytes; the rows written. Each message is
    copied into the block at once (holding on to them costs more than the copy). ``one_column``: a
    row of one null cell (a bare LF: PostgreSQL's CSV cannot spell a null ``""``) is written ``""``."""
    cleaned = Cleaned(out)
    rows = 0
    block = bytearray()
    for message in messages:
        block += b'""\n' if one_column and len(message) == 1 else message
        rows += 1
        if len(block) >= BLOCK:
            cleaned.write(_crlf(block))
            block = bytearray()
    if block:
        cleaned.write(_crlf(block))
    cleaned.close()
    return rows


def _crlf(block: bytearray) -> bytearray:
    """A block of whole rows with each row's LF made CRLF: the LFs outside quotes. A LF inside a
    value is inside quotes (PostgreSQL quotes such a value), and a block starts outside them."""
    if b'"' not in block:
        return block.replace(b"\n", b"\r\n")
    parts = block.split(b'"')
    parts[::2] = [part.replace(b"\n", b"\r\n") for part in parts[::2]]
    return bytearray(b'"').join(parts)
