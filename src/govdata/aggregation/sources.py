"""Reading a batch's source into DuckDB (AGG-2): CSV (UTF-8, UTF-8 with BOM, GBK, GB18030, UTF-16
with a BOM — detected, or named by the provider), XLSX, JSON / NDJSON, Parquet, and JSON records
pushed through the API. Every source becomes a temp view ``src`` of text columns, in the order of the file, so
validation treats all formats alike. A JSON value is read as what it is, whatever its neighbours in
the column are (a string without its quotes, a number as its text); where a column may hold an
object or array (JSON, nested Parquet), ``src`` flags those rows, which validation rejects.

``src`` is a view, not a copy: validation reads the file once, as a stream, so a batch of ten
million rows never has to fit in memory. It has no row number: numbering rows as they are read
(``row_number() OVER ()``) would make DuckDB read the file on one thread; validation keeps the
rows in file order instead and takes a row's number from its position (see ``validation.py``). For the same reason DuckDB's CSV reader checks UTF-8 as it
parses (no separate Python pass over the file), and its dialect sniffer looks at a sample only.
A read error therefore surfaces when ``src`` is first scanned; ``read_error`` turns it into the
same clear message.

A broken, empty, binary or oversized file raises a clear ``InvalidInput`` before anything is applied.
An XLSX is checked by ``core.files`` (zip bomb, far-away cells, too many rows) as soon as it is
uploaded, so the caller gets a 413 or 422 at once, and again before it is read.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import json
import re
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from charset_normalizer import from_bytes

from govdata.core import files
from govdata.core.errors import InvalidInput, Problem
from govdata.store.sql import q

SNIFF_BYTES = 256 * 1024
ENCODINGS = {"utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312", "utf-16", "utf-16le", "utf-16be"}
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
XLSX_BATCH_ROWS = 65_536  # rows of a workbook turned into Arrow at a time


@dataclass
class SourceInfo:
    format: str
    encoding: str | None
    columns: list[str]
    rows: int | None = None  # known once validation has scanned ``src``
    warnings: list[str] = field(default_factory=list)
    # source column → the boolean column of ``src`` that is true where its value is an object or
    # array (JSON, nested Parquet), which no item takes
    shapes: dict[str, str] = field(default_factory=dict)


def sniff_format(head: bytes, filename: str | None) -> str:
    name = (filename or "").lower()
    if head.startswith(b"PAR1"):
        return "parquet"
    if files.is_xlsx(head):
        return "xlsx"
    if head.startswith((b"\xd0\xcf\x11\xe0",)):
        raise InvalidInput("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV。", slug="unsupported-file")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    # the content decides before the name: mongoexport writes NDJSON as .json
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "ndjson"
    if name.endswith(".json"):
        return "json"
    if name.endswith((".ndjson", ".jsonl")):
        return "ndjson"
    return "csv"


def detect_delimiter(head: bytes, encoding: str) -> str:
    """The field separator of a CSV from its header line: comma unless tab, semicolon or | is clearly it."""
    first = head.decode(encoding, errors="ignore").lstrip("\ufeff").splitlines()[0] if head.strip() else ""
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def check_declared_encoding(head: bytes, declared: str) -> None:
    """A UTF-8 file named GBK/GB18030 would be stored as mojibake, a UTF-16 one named anything else
    would not be read: refuse them."""
    if head.startswith(UTF16_BOMS) and not declared.startswith("utf-16"):
        raise InvalidInput(
            f"文件实际是 UTF-16 编码，与指定的 {declared.upper()} 不符；请改选“自动”后重新上传。",
            slug="bad-encoding",
        )
    if declared in ("gbk", "gb18030", "gb2312") and not head.isascii():
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            return
        raise InvalidInput(
            f"文件实际是 UTF-8 编码，与指定的 {declared.upper()} 不符；请改选“自动”或 UTF-8 后重新上传。",
            slug="bad-encoding",
        )


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(UTF16_BOMS):  # Excel's "Unicode text"; transcoded to UTF-8 before DuckDB reads it
        return "utf-16"
    if b"\x00" in head:
        raise InvalidInput(
            "文件不是文本文件（含有二进制内容），请上传 CSV、XLSX、JSON 或 Parquet 文件；"
            "UTF-16 编码的 CSV 须带字节顺序标记（BOM），或另存为 UTF-8。",
            slug="binary-file",
        )
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut by the sniff window
            return "utf-8"
    best = from_bytes(head, cp_isolation=["gb18030", "gbk", "utf_8"]).best()
    if best is None:
        raise InvalidInput(
            "无法识别文件的字符编码，请指定编码（utf-8、gbk 或 gb18030）。", slug="unknown-encoding"
        )
    # GBK is a subset of GB18030: decoding as GB18030 reads both
    return (
        "gb18030" if best.encoding.replace("_", "").lower() in ("gb18030", "gbk", "gb2312") else best.encoding
    )


def _transcode(path: Path, encoding: str, target: Path) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as out:
        while chunk := src.read(4 * 1024 * 1024):
            try:
                out.write(decoder.decode(chunk))
            except UnicodeDecodeError as exc:
                raise InvalidInput(
                    f"文件不是有效的 {encoding} 编码（约第 {offset + exc.start} 字节处），请确认编码后重新上传。",
                    slug="bad-encoding",
                ) from exc
            offset += len(chunk)
        out.write(decoder.decode(b"", final=True))


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    filename: str | None,
    encoding: str | None,
    work: Path,
    limits: files.SheetLimits | None = None,
) -> SourceInfo:
    """Read the file into ``src``; an XLSX within ``limits`` (default: as configured)."""
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput("文件为空。", slug="empty-file")
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    kind = sniff_format(head, filename)
    used_encoding = None
    try:
        if kind == "csv":
            if encoding and encoding.lower() not in ENCODINGS:
                raise InvalidInput(
                    f"不支持的编码 {encoding}，可选 utf-8、gbk、gb18030、utf-16。", slug="unknown-encoding"
                )
            used_encoding = (encoding or detect_encoding(head)).lower()
            check_declared_encoding(head, used_encoding)
            delimiter = detect_delimiter(
                head, "gb18030" if used_encoding in ("gbk", "gb2312") else used_encoding
            )
            if used_encoding not in ("utf-8", "utf-8-sig"):
                target = work / "source-utf8.csv"
                _transcode(path, "gb18030" if used_encoding in ("gbk", "gb2312") else used_encoding, target)
                path = target
            relation = (
                f"read_csv({literal(str(path))}, header = true, all_varchar = true, delim = {literal(delimiter)}, "
                "quote = '\"', escape = '\"', strict_mode = true)"
            )
        elif kind in ("json", "ndjson"):
            relation = _json_relation(con, path, kind)
        elif kind == "parquet":
            relation = f"read_parquet({literal(str(path))})"
        else:
            con.register("xlsx_source", read_xlsx(path, limits))
            relation = "xlsx_source"
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        columns = [r[0] for r in described]
        values, shapes = _text_columns(described, json=kind in ("json", "ndjson"))
        con.execute(f"CREATE OR REPLACE TEMP VIEW src AS SELECT {', '.join(values)} FROM {relation}")
    except duckdb.Error as exc:
        if kind == "csv" and (line := _ragged_line(path, delimiter)):
            raise ragged_csv(line) from exc  # the reader's sniffer fails on it before naming a line
        raise read_error(exc, kind) from exc
    return SourceInfo(kind, used_encoding, columns, shapes=shapes)


RAGGED_SCAN_ROWS = 100_000  # the reader's sniffer looks at fewer rows than this


def _ragged_line(path: Path, delimiter: str) -> int | None:
    """The first line (1-based, the header being 1) of a UTF-8 CSV whose fields are more or fewer
    than the header's, among its first rows; None if they all agree."""
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            width = None
            for row in itertools.islice(reader, RAGGED_SCAN_ROWS):
                if width is None:
                    width = len(row)
                elif row and len(row) != width:
                    return reader.line_num
    except (OSError, csv.Error):
        return None
    return None


def ragged_csv(line: int | str) -> InvalidInput:
    return InvalidInput(
        f"CSV 第 {line} 行（含表头）的列数与表头不符（可能是少了列，或字段中的逗号未加引号），整批未入库。",
        slug="ragged-csv",
    )


def _json_relation(con: duckdb.DuckDBPyConnection, path: Path, kind: str) -> str:
    """The JSON file with every key read as JSON, whatever DuckDB would infer: a key holding a
    number in one record and text in another must not come out as JSON text with its quotes."""
    options = (
        "format = 'array', maximum_object_size = 16777216"
        if kind == "json"
        else "format = 'newline_delimited'"
    )
    detected = f"read_json({literal(str(path))}, {options})"
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {detected}").fetchall()]
    columns = "{" + ", ".join(f"{literal(name)}: 'JSON'" for name in names) + "}"
    return f"read_json({literal(str(path))}, {options}, columns = {columns})"


NESTED_TYPES = ("STRUCT", "MAP", "UNION")


def _text_columns(described: list[tuple], *, json: bool) -> tuple[list[str], dict[str, str]]:
    """The ``src`` columns: each source column as text, in order, then for each column that may hold
    an object or array a boolean column saying which rows do (``SourceInfo.shapes``).

    A JSON value is read as what it is: a string without its quotes, a number or true/false as its
    text, null as NULL; an object or array keeps its JSON text, to be shown in its row's error."""
    names = {r[0] for r in described}
    values: list[str] = []
    flags: list[str] = []
    shapes: dict[str, str] = {}
    for i, (name, type_name, *_rest) in enumerate(described):
        column = q(name)
        nested = str(type_name).upper()
        if json:
            values.append(f"{column}->>'$' AS {column}")
            flag = f"json_type({column}) IN ('OBJECT', 'ARRAY')"
        elif nested.startswith(NESTED_TYPES) or nested.endswith("]"):
            values.append(f"CAST({column} AS VARCHAR) AS {column}")
            flag = f"{column} IS NOT NULL"
        else:
            values.append(f"CAST({column} AS VARCHAR) AS {column}")
            continue
        shape = f"_shape_{i}"
        while shape in names:
            shape = "_" + shape
        names.add(shape)
        shapes[name] = shape
        flags.append(f"{flag} AS {q(shape)}")
    return values + flags, shapes


def read_error(exc: Exception, kind: str) -> InvalidInput:
    """The clear message for an error DuckDB raised while reading the source."""
    text = str(exc)
    if "Invalid unicode" in text:
        return InvalidInput(
            "文件不是有效的 UTF-8 编码，可能是 GBK/GB18030，请指定编码后重新上传。", slug="bad-encoding"
        )
    line = re.search(r"CSV Error on Line: (\d+)", text)
    if line and ("Expected Number of Columns" in text or "columns" in text.lower()):
        return ragged_csv(line.group(1))
    if line:
        return InvalidInput(
            f"CSV 第 {line.group(1)} 行格式错误，无法读取，整批未入库。", slug="unreadable-file"
        )
    return InvalidInput(
        f"无法读取{_KIND_LABELS.get(kind, ' ')}文件，请检查文件内容是否完整。", slug="unreadable-file"
    )


NO_ROWS = "文件没有数据行（只有表头或为空）。"


_KIND_LABELS = {
    "csv": " CSV ",
    "json": " JSON ",
    "ndjson": " NDJSON ",
    "parquet": " Parquet ",
    "xlsx": " XLSX ",
}


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _cell(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _blank(row: list[Any]) -> bool:
    return all(value is None or value == "" for value in row)


def read_xlsx(path: Path, limits: files.SheetLimits | None = None) -> pa.Table:
    """The first sheet as text columns named by its first row, once ``core.files`` has checked it."""
    try:
        with files.open_xlsx(path, limits or files.SheetLimits.from_settings()) as workbook:
            # calamine's rows start at row 1 (its columns at the first one used): skip the empty rows above
            rows = itertools.dropwhile(_blank, workbook.get_sheet_by_index(0).iter_rows())
            header = next(rows, None)
            if header is None:
                raise InvalidInput("XLSX 文件的第一个工作表为空。", slug="no-rows")
            names = [str(h).strip() if h not in (None, "") else f"列{i + 1}" for i, h in enumerate(header)]
            # a repeated header keeps its last column, at the place of its first
            positions = {name: i for i, name in enumerate(names)}
            order = list(dict.fromkeys(names))
            batches = []
            while chunk := list(itertools.islice(rows, XLSX_BATCH_ROWS)):
                columns = [
                    pa.array([_cell(r[i]) if i < len(r) else None for r in chunk], pa.string())
                    for i in (positions[name] for name in order)
                ]
                batches.append(pa.record_batch(columns, names=order))
    except Problem as exc:  # a batch fails with the problem's message, whatever its status
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(exc.detail, slug=exc.slug) from exc
    schema = pa.schema([(name, pa.string()) for name in order])
    return pa.Table.from_batches(batches, schema=schema)


def check_upload(path: Path, head: bytes, limits: files.SheetLimits | None = None) -> None:
    """Refuse a saved upload that is an XLSX beyond the spreadsheet limits (413, or 422 for too many
    rows) before a batch is made of it, removing it; a broken workbook is left to fail its batch."""
    if not files.is_xlsx(head):
        return
    try:
        files.check_xlsx(path, limits or files.SheetLimits.from_settings())
    except files.LIMIT_PROBLEMS:
        path.unlink(missing_ok=True)
        raise
    except Problem:  # a broken workbook fails its batch, as any unreadable file does
        pass


def records_checksum(records: list[Any]) -> str:
    """The SHA-256 of JSON records as a provider computes it before posting them (AGG-7): the
    ``records`` array as canonical JSON — keys sorted, no whitespace between tokens, non-ASCII
    characters as themselves, UTF-8 (Python: ``json.dumps(records, ensure_ascii=False,
    sort_keys=True, separators=(",", ":"))``)."""
    canonical = json.dumps(records, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def declared_checksum(value: str | None) -> str | None:
    """A provider's declared SHA-256 as stored: trimmed, lower case, without a ``sha256:`` prefix."""
    value = (value or "").strip().lower()
    value = value.removeprefix("sha256:").strip()
    return value or None


def remove_work(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
