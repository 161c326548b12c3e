"""Files in and out, once for the whole platform: hardened XLSX reading and safe cell writing.

Reading. An XLSX is a zip of XML parts, and the reader (calamine) holds a sheet as a dense grid up to
its farthest cell, so a small upload can still exhaust the server: a zip bomb (a part that inflates a
thousandfold), or one cell far away in an otherwise empty sheet. ``check_xlsx`` refuses both before a
reader sees the file, within ``SheetLimits``:

* from the zip's directory alone, nothing inflated yet: the parts of a workbook, at most ``max_parts``
  of them, whose declared sizes add up to at most ``max_inflated_bytes`` (413);
* then every part, inflated as a stream and never held whole. A part that inflates beyond the size
  its entry declares is broken (the zip reader stops there and the checksum fails). Every cell that
  holds something is placed as calamine places it (at its ``r`` reference, else after the previous
  cell); a sheet whose cells reach beyond ``max_columns``, or whose grid up to the farthest cell
  would exceed ``max_cells``, is refused with 413, one with cells below row ``max_rows`` with 422.
  Every part is scanned, not only those named like worksheets: a workbook may keep a sheet under any
  name.

The scan is vectorised (Arrow kernels over each chunk) when every cell tag is written the way Excel,
WPS and the usual libraries write it (``<c r="B7" …>``); otherwise, and to tell empty formatted cells
from cells with content when a limit is reached, it places the cells one by one.

Writing. Every CSV and XLSX the platform hands out goes through ``safe_cell``: control characters are
dropped (XML cannot hold them and openpyxl refuses them) and text a spreadsheet would run as a formula
(starting with = + - @, a tab or a CR) gets a leading ``'``. ``write_csv`` writes UTF-8 with a BOM (so
that Excel opens Chinese text correctly), quoted as RFC 4180 asks, with CRLF line ends, so that a value
holding a line break or a lone CR reads back whole.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from govdata.core.config import Settings, get_settings
from govdata.core.errors import InvalidInput, PayloadTooLarge, Problem

MIB = 1024 * 1024
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_CELL_CHARS = 32_767
CHUNK_BYTES = 4 * MIB


@dataclass(frozen=True)
class SheetLimits:
    """How large a workbook may be before it is read. The defaults admit any sheet Excel can save
    whose grid stays within ``max_cells`` (a full-height sheet of 64 columns)."""

    max_rows: int = EXCEL_MAX_ROWS  # rows of a sheet, its header included
    max_columns: int = EXCEL_MAX_COLUMNS
    max_cells: int = 64 * EXCEL_MAX_ROWS  # rows × columns from A1 to the farthest cell
    max_inflated_bytes: int = 4096 * MIB  # all parts together, inflated
    max_parts: int = 10_000

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> SheetLimits:
        """The limits ``GOVDATA_MAX_SHEET_ROWS`` and ``GOVDATA_MAX_XLSX_INFLATED_MB`` set."""
        settings = settings or get_settings()
        return cls(max_rows=settings.max_sheet_rows, max_inflated_bytes=settings.max_xlsx_inflated_mb * MIB)

    def at_most(self, **caps: int) -> SheetLimits:
        """These limits, each lowered to the given cap (a reader with tighter needs of its own)."""
        return replace(self, **{name: min(getattr(self, name), cap) for name, cap in caps.items()})


# --- problems ---------------------------------------------------------------------------------------


def broken_xlsx() -> InvalidInput:
    return InvalidInput("文件不是有效的 XLSX 工作簿：压缩包已损坏。", slug="broken-xlsx")


def unreadable_xlsx() -> InvalidInput:
    return InvalidInput(
        "无法读取工作簿：文件已损坏，或不是由 Excel/WPS 保存的 .xlsx 文件。", slug="broken-xlsx"
    )


class WorkbookTooLarge(PayloadTooLarge):
    """A workbook that inflates beyond the limit, or a sheet too wide or with too large a grid."""


class TooManyRows(InvalidInput):
    """A sheet with content below the last row allowed."""


LIMIT_PROBLEMS = (WorkbookTooLarge, TooManyRows)
"""What ``check_xlsx`` raises for a workbook beyond the limits (rather than a broken one)."""


def _inflated_too_large(limits: SheetLimits) -> WorkbookTooLarge:
    return WorkbookTooLarge(
        f"工作簿解压后过大（超过 {limits.max_inflated_bytes // MIB} MiB），请拆分后分批导入。",
        slug="file-too-large",
        limit=limits.max_inflated_bytes,
    )


def _sheet_too_large(limits: SheetLimits, rows: int, columns: int) -> WorkbookTooLarge:
    if columns > limits.max_columns:
        reason = f"最多 {limits.max_columns} 列，而第 {columns} 列还有内容"
    else:
        reason = f"从 A1 到最远的单元格有 {rows} 行 × {columns} 列，超过 {limits.max_cells} 个单元格"
    return WorkbookTooLarge(
        f"工作表过大：{reason}；请删去远处多余的内容，或拆分后分批导入。", slug="sheet-too-large"
    )


def _too_many_rows(limits: SheetLimits, row: int) -> TooManyRows:
    return TooManyRows(
        f"工作表行数过多：最多 {limits.max_rows - 1} 行数据（另有 1 行表头），而第 {row} 行还有内容；请拆分后分批导入。",
        slug="too-many-rows",
        limit=limits.max_rows - 1,
    )


# --- checking a workbook before it is read ------------------------------------------------------------


def is_xlsx(head: bytes) -> bool:
    """Whether a file starts like an XLSX (a zip); ``check_xlsx`` tells whether it is one."""
    return head.startswith(b"PK\x03\x04")


def check_xlsx(source: Path | bytes, limits: SheetLimits) -> None:
    """Refuse a workbook that is broken, inflates beyond the limits or has a sheet beyond them."""
    try:
        archive = zipfile.ZipFile(source if isinstance(source, Path) else io.BytesIO(source))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise broken_xlsx() from None
    with archive:
        names = {e.filename for e in entries}
        if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise InvalidInput("压缩包里没有 Excel 工作簿，不是 .xlsx 文件。", slug="not-xlsx")
        if len(entries) > limits.max_parts or sum(e.file_size for e in entries) > limits.max_inflated_bytes:
            raise _inflated_too_large(limits)
        try:
            for entry in entries:
                if not entry.is_dir():
                    _check_part(archive, entry, limits)
        except Problem:
            raise
        except Exception:  # zlib, a checksum, an unsupported compression, an encrypted part …
            raise broken_xlsx() from None


class _Extent:
    """The farthest cell of one part so far, held to the limits as cells are placed."""

    def __init__(self, limits: SheetLimits) -> None:
        self.limits, self.rows, self.columns = limits, 0, 0

    def admits(self, row: int, column: int) -> bool:
        """Whether a cell there would keep the part within the limits."""
        limits = self.limits
        rows, columns = max(self.rows, row), max(self.columns, column)
        return column <= limits.max_columns and row <= limits.max_rows and rows * columns <= limits.max_cells

    def add(self, row: int, column: int) -> None:
        """Place a cell with content, raising the problem of the first limit it breaks."""
        if column > self.limits.max_columns:
            raise _sheet_too_large(self.limits, row, column)
        if row > self.limits.max_rows:
            raise _too_many_rows(self.limits, row)
        self.rows, self.columns = max(self.rows, row), max(self.columns, column)
        if self.rows * self.columns > self.limits.max_cells:
            raise _sheet_too_large(self.limits, self.rows, self.columns)


def _check_part(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: SheetLimits) -> None:
    extent = _Extent(limits)
    for chunk in _chunks(archive, entry):
        farthest = _fast_extent(chunk)
        if farthest is not None and extent.admits(*farthest):
            extent.add(*farthest)
            continue
        if farthest is not None:
            # every cell of the chunk has its reference, so it can be placed on its own: this raises
            # when its cells with content break a limit by themselves
            _exact_extent([chunk], _Extent(limits))
        # tags written otherwise, or a limit reached by empty cells or with the chunks before: place
        # every cell, from the start of the part
        _exact_extent(_chunks(archive, entry), _Extent(limits))
        return


def _chunks(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> Iterator[bytes]:
    """The inflated part in chunks that end before a tag, never cutting one."""
    carry = b""
    with archive.open(entry) as stream:
        while block := stream.read(CHUNK_BYTES):
            data = carry + block
            cut = data.rfind(b"<")
            data, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
            yield data
    if carry:
        yield carry


_PLAIN_CELL = b'<c r="'
# what follows _PLAIN_CELL: the reference and its closing quote (an RE2 pattern, for Arrow)
_PLAIN_REF = '^(?P<column>[A-Z]{1,3})(?P<row>[0-9]{1,7})"'
_PREFIXED_CELL = re.compile(rb":c[\s/>]")


def _fast_extent(chunk: bytes) -> tuple[int, int] | None:
    """(row, column) of the farthest cell of a chunk, empty ones included, when every cell tag in it
    starts ``<c r="B7"``; None when one does not."""
    plain = chunk.count(_PLAIN_CELL)
    # tags starting "<c" that are no plain cell tag: other elements ("<col", "<cfRule") or a cell
    # tag written otherwise, which needs the exact placement
    others = chunk.count(b"<c") - plain
    if others:
        others -= chunk.count(b"<co") + chunk.count(b"<cf")
    if others or _PREFIXED_CELL.search(chunk):
        return None
    if plain == 0:
        return 0, 0
    try:
        return _plain_extent(chunk)
    except pa.ArrowException:
        return None


def _plain_extent(chunk: bytes) -> tuple[int, int] | None:
    pieces = pc.list_flatten(pc.split_pattern(pa.array([chunk], pa.large_binary()), _PLAIN_CELL))[1:]
    refs = pc.extract_regex(pc.binary_slice(pieces, 0, 11), _PLAIN_REF)
    if refs.null_count:
        return None
    letters, rows = pc.struct_field(refs, "column"), pc.struct_field(refs, "row")
    widths = pc.binary_length(letters)
    farthest = pc.max(pc.filter(letters, pc.equal(widths, pc.max(widths)))).as_py()
    last_row = pc.max(pc.cast(pc.cast(rows, pa.large_string()), pa.int64())).as_py()
    return last_row, column_number(farthest.decode())


_TAG_START = re.compile(rb"""<(?:[^\s<>/:"'=]+:)?(?:row|c)(?=[\s/>])""")
_TAG = re.compile(
    rb"""<(?:[^\s<>/:"'=]+:)?(row|c)((?:\s+[^\s=<>/"']+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(/?)>"""
)
_ATTRIBUTE = re.compile(rb"""\s+([^\s=<>/"']+)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')""")
_CELL_REF = re.compile(rb"([A-Za-z]+)([0-9]+)")


def _exact_extent(chunks: Iterable[bytes], extent: _Extent) -> None:
    """Place every cell as calamine does; cells written ``<c …/>`` hold nothing and do not count."""
    row = column = 0
    for chunk in chunks:
        for start in _TAG_START.finditer(chunk):
            tag = _TAG.match(chunk, start.start())
            if tag is None:  # not well-formed XML
                raise unreadable_xlsx()
            name, attributes, empty = tag.groups()
            ref = next((_value(a) for a in _ATTRIBUTE.finditer(attributes) if a.group(1) == b"r"), None)
            if name == b"row":
                if ref is not None and not ref.isdigit():
                    raise unreadable_xlsx()
                row, column = (int(ref) if ref is not None else row + 1), 0
                continue
            if ref is None:
                column += 1
            else:
                parts = _CELL_REF.fullmatch(ref)
                if parts is None:
                    raise unreadable_xlsx()
                column, row = column_number(parts.group(1).decode()), int(parts.group(2))
            if not empty:
                extent.add(row, column)


def _value(attribute: re.Match[bytes]) -> bytes:
    return attribute.group(2) if attribute.group(2) is not None else attribute.group(3)


def column_number(letters: str) -> int:
    """``A`` → 1, ``Z`` → 26, ``AA`` → 27."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


# --- reading a workbook ----------------------------------------------------------------------------------


@contextmanager
def open_xlsx(source: Path | bytes, limits: SheetLimits) -> Iterator[Any]:
    """The checked workbook as a ``python_calamine.CalamineWorkbook``, closed afterwards; what
    calamine cannot read within the block becomes a clear 422."""
    from python_calamine import CalamineError, CalamineWorkbook

    check_xlsx(source, limits)
    try:
        if isinstance(source, Path):
            workbook = CalamineWorkbook.from_path(str(source))
        else:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(source))
    except (CalamineError, ValueError, OSError, EOFError):
        raise unreadable_xlsx() from None
    try:
        yield workbook
    except (CalamineError, ValueError, OSError, EOFError):
        raise unreadable_xlsx() from None
    finally:
        workbook.close()


# --- writing cells ---------------------------------------------------------------------------------------

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value as a spreadsheet cell may hold it: numbers, dates and booleans as they are; text
    without control characters, and with a leading ``'`` when a spreadsheet would run it as a formula."""
    if value is None or isinstance(value, bool | int | float | Decimal | date | datetime | time | timedelta):
        return value
    text = CONTROL_CHARS.sub("", str(value))
    if text.startswith(FORMULA_START):
        text = "'" + text
    return text


def xlsx_cell(value: Any) -> Any:
    """``safe_cell``, cut to the length Excel accepts in a cell."""
    value = safe_cell(value)
    if isinstance(value, str) and len(value) > EXCEL_MAX_CELL_CHARS:
        value = value[: EXCEL_MAX_CELL_CHARS - 1] + "…"
    return value


def write_csv(header: Sequence[Any], rows: Iterable[Sequence[Any]], *, for_programs: bool = False) -> bytes:
    """A CSV download: UTF-8 with a BOM and every cell made safe, for spreadsheets; RFC 4180 quoting,
    CRLF line ends. ``for_programs``: a file a program reads, as JSON would carry the same values,
    without the BOM (its first column reads as named) and with every value as it is."""
    cell = (lambda value: value) if for_programs else safe_cell
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # a field holding CR or LF is quoted
    writer.writerow([cell(value) for value in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])
    return (("" if for_programs else "\ufeff") + out.getvalue()).encode("utf-8")


def write_xlsx(sheets: Mapping[str, tuple[Sequence[Any], Iterable[Sequence[Any]]]]) -> bytes:
    """An XLSX download of plain sheets (title → header and rows), every cell made safe."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, (header, rows) in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append([xlsx_cell(value) for value in header])
        for row in rows:
            sheet.append([xlsx_cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
