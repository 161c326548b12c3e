"""#13 item 18 (AGG-5): the errors file a department gives the vendor of its source system is in Chinese —
headers, item names, rule names — and carries the row's values beside each error."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from tests.support.batches import csv_bytes, good_rows, upload
from tests.support.pages import HTML, browser

VENDOR_HEADER = [
    "行号",
    "出错信息项",
    "错误值",
    "校验规则",
    "错误说明",
    "公民身份号码",
    "姓名",
    "性别",
    "出生日期",
    "户籍地址",
]


def _defective_rows() -> list[list[str]]:
    rows = good_rows(8)
    rows[1][2] = "7"  # 性别 not in the code list: data row 2
    rows[3][3] = "19850230"  # not a date: row 4
    rows[5][1] = ""  # required 姓名 missing: row 6
    return rows


def _sheet(content: bytes) -> list[list]:
    book = load_workbook(io.BytesIO(content))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_agg5_errors_file_for_the_vendor_is_chinese_with_the_rows_values(client, as_user, population_code):
    """#13 item 18: headers, item names and rule names in Chinese; each error has its row beside it,
    the failing value as sent and the others as read."""
    officer = as_user("ga_officer")
    rows = _defective_rows()
    batch = upload(client, officer, population_code, csv_bytes(rows), policy="accept_valid").json()
    assert (batch["status"], batch["rows_rejected"]) == ("applied", 3)

    workbook = client.get(f"/api/v1/batches/{batch['id']}/errors?format=xlsx", headers=officer)
    assert workbook.status_code == 200
    assert "filename*=UTF-8''" in workbook.headers["content-disposition"]
    table = _sheet(workbook.content)
    assert table[0] == VENDOR_HEADER
    by_row = {line[0]: line for line in table[1:]}
    assert sorted(by_row) == [2, 4, 6]
    assert by_row[2][1:5] == ["性别（xb）", "7", "代码表", "不在代码表中（可选：0、1、2、9）"]
    # the whole row beside the error: the failing value as sent, the other values as read
    assert by_row[2][5:] == [rows[1][0], rows[1][1], "7", rows[1][3], rows[1][4]]
    assert by_row[4][1:4] == ["出生日期（csrq）", "19850230", "数据类型"]
    assert by_row[4][5] == rows[3][0] and by_row[4][8] == "19850230"
    assert by_row[6][1:4] == ["姓名（xm）", None, "必填"] and by_row[6][5] == rows[5][0]

    as_csv = client.get(f"/api/v1/batches/{batch['id']}/errors?format=csv&lang=zh", headers=officer)
    lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert lines[0] == VENDOR_HEADER and len(lines) == 4
    assert lines[1][:4] == ["2", "性别（xb）", "7", "代码表"] and lines[1][6] == rows[1][1]

    # the API's CSV keeps its columns (SPEC §15)
    contract = client.get(f"/api/v1/batches/{batch['id']}/errors?format=csv", headers=officer)
    assert contract.content.decode("utf-8-sig").splitlines()[0] == "row,item,value,rule,message"
    # and the JSON answer carries the row's values too
    first = client.get(f"/api/v1/batches/{batch['id']}/errors", headers=officer).json()[0]
    assert first["row"] == 2 and first["line"]["gmsfhm"] == rows[1][0]


def test_agg5_errors_file_of_a_later_batch_and_of_a_rejected_one(client, as_user, population_code):
    """#13 item 18: batches onto a table that holds data, and a rejected batch whose upload is gone,
    still give the rows' values; a duplicated key lists both rows with their own values."""
    officer = as_user("ga_officer")
    first = upload(client, officer, population_code, csv_bytes(good_rows(5))).json()
    assert first["status"] == "applied"

    rows = good_rows(4, start=10)
    rows.append(list(rows[0]))
    rows[4][1] = "另一个名字"  # the key of row 1 again, with another name: both rows rejected
    rows[2][2] = "X"
    rejected = upload(client, officer, population_code, csv_bytes(rows), policy="strict").json()
    assert rejected["status"] == "rejected"
    table = _sheet(
        client.get(f"/api/v1/batches/{rejected['id']}/errors?format=xlsx", headers=officer).content
    )
    lines = {(line[0], line[3]): line for line in table[1:]}
    assert set(lines) == {(1, "关键标识重复"), (3, "代码表"), (5, "关键标识重复")}
    assert lines[(1, "关键标识重复")][6] == rows[0][1]
    assert lines[(5, "关键标识重复")][6] == "另一个名字"
    assert lines[(3, "代码表")][5:] == [rows[2][0], rows[2][1], "X", rows[2][3], rows[2][4]]


def test_the_batch_page_offers_the_chinese_errors_file(app, client, as_user, population_code):
    """#13 item 18: the report's downloads are the vendor's Chinese file."""
    officer = as_user("ga_officer")
    batch = upload(
        client, officer, population_code, csv_bytes(_defective_rows()), policy="accept_valid"
    ).json()
    page = browser(app, "ga_officer").get(f"/data/batches/{batch['id']}", headers=HTML).text
    assert f"/api/v1/batches/{batch['id']}/errors?format=xlsx" in page
    assert f"/api/v1/batches/{batch['id']}/errors?format=csv&amp;lang=zh" in page
    assert "下载错误清单 XLSX" in page and "开发商" in page
