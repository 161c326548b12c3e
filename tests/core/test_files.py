"""core.files: a workbook is checked before it is read (zip bombs, far-away cells, too many rows), and
every cell the platform writes is safe (no formula runs, no control character breaks the file)."""

from __future__ import annotations

import csv
import io
import struct
import tracemalloc
import zipfile

import openpyxl
import pytest

from govdata.core import files
from govdata.core.config import Settings
from govdata.core.errors import InvalidInput, PayloadTooLarge

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def xlsx(sheet_data: bytes, *, prefix: bytes = b"", extra: dict[str, bytes] | None = None) -> bytes:
    """A workbook whose one sheet holds ``sheet_data`` (the XML inside ``<sheetData>``), as written."""
    ns = b"xmlns" + (b":" + prefix.rstrip(b":") if prefix else b"")
    sheet = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        + b"<"
        + prefix
        + b"worksheet "
        + ns
        + b'="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><'
        + prefix
        + b"sheetData>"
        + sheet_data
        + b"</"
        + prefix
        + b"sheetData></"
        + prefix
        + b"worksheet>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def rows_xml(rows: int, columns: int = 3) -> bytes:
    return b"".join(
        f'<row r="{r}">'.encode()
        + b"".join(f'<c r="{chr(64 + c)}{r}"><v>{r * c}</v></c>'.encode() for c in range(1, columns + 1))
        + b"</row>"
        for r in range(1, rows + 1)
    )


def limits(**caps: int) -> files.SheetLimits:
    return files.SheetLimits().at_most(**caps)


def refused(data: bytes, limits: files.SheetLimits, problem: type, words: str):
    with pytest.raises(problem) as raised:
        files.check_xlsx(data, limits)
    assert words in raised.value.detail, raised.value.detail
    return raised.value


# --- zip bombs ----------------------------------------------------------------------------------------------


def test_a_workbook_inflating_beyond_the_configured_cap_is_refused_without_being_inflated():
    settings = Settings(max_xlsx_inflated_mb=1)
    padding = b"<!--" + b" " * (64 * files.MIB) + b"-->"  # 64 MiB of XML, a few dozen KiB zipped
    data = xlsx(rows_xml(3), extra={"xl/padding.xml": padding})
    del padding
    assert len(data) < 200 * 1024
    tracemalloc.start()
    try:
        problem = refused(data, files.SheetLimits.from_settings(settings), PayloadTooLarge, "解压后过大")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problem.status == 413 and "1 MiB" in problem.detail
    assert peak < 4 * files.MIB  # the 64 MiB part was never held, nor inflated
    files.check_xlsx(data, files.SheetLimits.from_settings(Settings(max_xlsx_inflated_mb=100)))


def test_a_part_inflating_beyond_what_its_entry_declares_is_broken():
    data = bytearray(xlsx(rows_xml(3), extra={"xl/padding.xml": b" " * (64 * files.MIB)}))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    entry = archive.getinfo("xl/padding.xml")
    struct.pack_into("<I", data, entry.header_offset + 22, 1000)  # the local header's size
    directory = data.rfind(b"PK\x01\x02" + data[entry.header_offset + 4 : entry.header_offset + 6])
    while data[directory + 46 : directory + 46 + len(b"xl/padding.xml")] != b"xl/padding.xml":
        directory = data.rfind(b"PK\x01\x02", 0, directory)
    struct.pack_into("<I", data, directory + 24, 1000)  # and the central directory's
    assert zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/padding.xml").file_size == 1000
    tracemalloc.start()
    try:
        problem = refused(bytes(data), limits(max_inflated_bytes=files.MIB), InvalidInput, "损坏")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problem.status == 422 and peak < 16 * files.MIB  # a few chunks, never the 64 MiB


# --- sheets too large for the reader ---------------------------------------------------------------------


def test_a_normal_sheet_passes_and_is_read():
    data = xlsx(rows_xml(200, 5))
    files.check_xlsx(data, limits(max_rows=200, max_columns=5, max_cells=1000))
    with files.open_xlsx(data, files.SheetLimits()) as workbook:
        assert workbook.get_sheet_by_index(0).to_python()[-1] == [200.0, 400.0, 600.0, 800.0, 1000.0]


@pytest.mark.parametrize(
    ("sheet", "caps", "problem", "words"),
    [
        (rows_xml(11), {"max_rows": 10}, InvalidInput, "最多 9 行数据"),
        (rows_xml(2, 8), {"max_columns": 7}, PayloadTooLarge, "最多 7 列"),
        (
            rows_xml(2) + b'<row r="900"><c r="Z900"><v>1</v></c></row>',
            {"max_cells": 10_000},
            PayloadTooLarge,
            "900 行 × 26 列",
        ),
        # written otherwise than Excel writes: placed one by one, as calamine places them
        (b"<row>" + b"<c><v>1</v></c>" * 65 + b"</row>", {"max_columns": 64}, PayloadTooLarge, "第 65 列"),
        (
            b"<row r='1'><c r='A1'><v>1</v></c><c r='XFD1'><v>1</v></c></row>",
            {"max_columns": 64},
            PayloadTooLarge,
            "第 16384 列",
        ),
        (
            b'<row r="3"><c t="n"><v>1</v></c></row><row><c><v>1</v></c></row>',
            {"max_rows": 3},
            InvalidInput,
            "第 4 行",
        ),
        (b'<row r="1"><c\tr="A70000"><v>1</v></c></row>', {"max_rows": 60_000}, InvalidInput, "第 70000 行"),
    ],
    ids=["rows", "columns", "cells", "no-references", "single-quotes", "rows-without-r", "tab"],
)
def test_a_sheet_beyond_a_limit_is_refused(sheet, caps, problem, words):
    raised = refused(xlsx(sheet), limits(**caps), problem, words)
    assert raised.status == (422 if problem is InvalidInput else 413)


def test_a_namespace_prefix_does_not_hide_a_cell():
    near = b'<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="C2"><x:v>2</x:v></x:c></x:row>'
    # calamine matches a cell by its local name, so a prefixed cell is placed like any other
    with files.open_xlsx(xlsx(near, prefix=b"x:"), files.SheetLimits()) as workbook:
        assert workbook.get_sheet_by_index(0).to_python() == [[1.0, "", ""], ["", "", 2.0]]
    far = near.replace(b'r="C2"', b'r="XFD1048576"')
    refused(xlsx(far, prefix=b"x:"), files.SheetLimits(), PayloadTooLarge, "工作表过大")


def test_formatted_empty_cells_do_not_count():
    far = b"".join(f'<row r="{r}"><c r="AZ{r}" s="1"/></row>'.encode() for r in range(5, 5000, 7))
    files.check_xlsx(xlsx(rows_xml(3) + far), limits(max_rows=10, max_columns=5))
    with pytest.raises(InvalidInput):  # the same far away cells holding values do count
        files.check_xlsx(xlsx(rows_xml(3) + far.replace(b' s="1"/>', b"><v>1</v></c>")), limits(max_rows=10))


def test_the_fast_path_and_the_exact_placement_agree():
    """A sheet as Excel writes it is placed by the vectorised path; the same sheet with one tag
    written otherwise is placed cell by cell; both find the same farthest cell."""
    book = openpyxl.Workbook()
    for row in range(1, 301):
        book.active.append([f"值{row}", row, None, row * 1.5] + ([None] * 30 + ["远"] if row == 250 else []))
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    archive = zipfile.ZipFile(io.BytesIO(data))
    part = archive.getinfo("xl/worksheets/sheet1.xml")
    assert files._fast_extent(archive.read(part)) == (300, 35)
    extent = files._Extent(files.SheetLimits())
    files._exact_extent([archive.read(part).replace(b'<c r="A1"', b'<c  r="A1"')], extent)
    assert (extent.rows, extent.columns) == (300, 35)
    refused(data, limits(max_columns=34), PayloadTooLarge, "第 35 列")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"PK\x03\x04" + bytes(500), "损坏"),
        (b"not a zip at all", "损坏"),
    ],
)
def test_a_broken_file_is_a_clear_422(content, words):
    raised = refused(content, files.SheetLimits(), InvalidInput, words)
    assert raised.status == 422


def test_a_zip_that_is_no_workbook_is_named_so():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "这不是电子表格")
    refused(buffer.getvalue(), files.SheetLimits(), InvalidInput, "不是 .xlsx")


def test_the_limits_come_from_the_settings():
    configured = files.SheetLimits.from_settings(Settings(max_sheet_rows=1000, max_xlsx_inflated_mb=8))
    assert (configured.max_rows, configured.max_inflated_bytes) == (1000, 8 * files.MIB)
    defaults = files.SheetLimits.from_settings(Settings())
    assert defaults.max_rows >= 1_000_001  # a sheet of a million rows and its header passes
    assert configured.at_most(max_rows=50, max_columns=10**9).max_columns == configured.max_columns


# --- writing cells ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+86 391", "'+86 391"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("男\x01", "男"),
        ("\x01=HYPERLINK()", "'=HYPERLINK()"),
        ("a\x7fb\x9fc\x00", "abc"),
        ("第一行\n第二行\r\n第三行", "第一行\n第二行\r\n第三行"),
        ("普通文本", "普通文本"),
        (-5, -5),
        (1.5, 1.5),
        (None, None),
        (True, True),
    ],
)
def test_safe_cell(value, written):
    assert files.safe_cell(value) == written


def test_csv_is_utf8_with_bom_crlf_and_quotes_what_needs_it():
    values = ["含\r回车", "含\n换行", '含"引号', "含,逗号", "=1+2", "男\x01", 7, None]
    content = files.write_csv(["列一", "列二"], [values, ["尾", "行"]])
    assert content.startswith(b"\xef\xbb\xbf") and content.endswith(b"\r\n")
    text = content.decode("utf-8-sig")
    assert text.split("\r\n")[0] == "列一,列二"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [
        ["列一", "列二"],
        ["含\r回车", "含\n换行", '含"引号', "含,逗号", "'=1+2", "男", "7", ""],
        ["尾", "行"],
    ]


def test_xlsx_cells_are_text_without_control_characters():
    long = "长" * (files.EXCEL_MAX_CELL_CHARS + 10)
    content = files.write_xlsx({"错误明细": (["值", "说明"], [["=1+2", "男\x01"], [long, 3]])})
    sheet = openpyxl.load_workbook(io.BytesIO(content))["错误明细"]
    assert [c.value for c in sheet[2]] == ["'=1+2", "男"]
    assert sheet["A2"].data_type == "s"
    assert len(sheet["A3"].value) == files.EXCEL_MAX_CELL_CHARS and sheet["B3"].value == 3
