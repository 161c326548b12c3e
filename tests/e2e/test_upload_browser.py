"""JOURNEYS 1 step 3 in a browser (AGG-2, AGG-4, AGG-5, NF-5): 市公安局's catalog officer uploads
yesterday's GBK export of the household register on the page, watches the progress bar, reads the
report (99.6 % 已入库, 8 rows rejected, the reasons in Chinese) and downloads the errors for the vendor.
Drives Debian's chromium through Playwright against the real server (uvicorn) on a fresh demo store."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.e2e.support import ARTIFACTS, log_in, shot
from tests.support.batches import HEADER, good_rows, ric
from tests.support.jobs import hold_worker

pytestmark = pytest.mark.e2e

ROWS = 2000
# (1-based data row, item code, rule) of the defects planted in the export
DEFECTS = [
    (101, "gmsfhm", "ric"),
    (250, "gmsfhm", "ric"),
    (400, "xb", "code_list"),
    (777, "csrq", "type"),
    (1000, "xm", "required"),
    (1500, "xb", "code_list"),
    (1998, "gmsfhm", "duplicate_key"),
    (1999, "gmsfhm", "duplicate_key"),
]


def register_export() -> bytes:
    """Yesterday's export of the household register: GBK, Chinese headers, 8 known defects."""
    rows = good_rows(ROWS)
    wrong = rows[100][0]
    rows[100][0] = wrong[:-1] + ("0" if wrong[-1] != "0" else "1")  # wrong check digit
    rows[249][0] = ric("41080219851332249")  # impossible birth date: month 13
    rows[399][2] = "7"  # not in the 性别 code list
    rows[776][3] = "1985-02-30"  # no such day
    rows[999][1] = ""  # 姓名 missing
    rows[1499][2] = "男"  # a label instead of the code
    rows[1998][0] = rows[1997][0]  # the same person twice: neither row can be trusted
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("gbk")


def test_officer_uploads_a_gbk_export_and_reads_the_report(page, live_server, tmp_path):
    from playwright.sync_api import expect

    base_url, app = live_server.url, live_server.app
    export = tmp_path / "户籍人口导出-20261123.csv"
    export.write_bytes(register_export())

    log_in(page, base_url, "ga_officer")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="数据归集").click()
    expect(page).to_have_url(base_url + "/data")
    expect(page.get_by_role("heading", name="数据归集")).to_be_visible()
    pool = page.locator("table.pool")
    expect(pool).to_contain_text("人口基础信息")
    expect(pool).to_contain_text("尚未归集")
    shot(page, "agg-01-resource-pool")

    pool.get_by_role("link", name="人口基础信息").click()
    expect(page).to_have_url(re.compile(r"/data/101/\w+$"))
    expect(page.get_by_role("heading", name="上传数据")).to_be_visible()
    page.get_by_label("数据文件").set_input_files(str(export))
    expect(page.get_by_label("增量更新")).to_be_checked()
    page.get_by_label("接受有效行").check()
    page.get_by_label("申报行数").fill(str(ROWS))
    shot(page, "agg-02-upload-form")

    # hold the one job worker so the batch waits in the queue and the page shows its progress
    with hold_worker(app, 60):
        page.get_by_role("button", name="上传并归集").click()
        expect(page).to_have_url(re.compile(r"/data/batches/\d+$"))
        expect(page.get_by_role("progressbar")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("排队等待处理")
        shot(page, "agg-03-progress", full_page=False)

    report = page.locator("section.report")
    expect(report).to_be_visible(timeout=60_000)  # the script polls, then shows the report
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(report.locator(".headline")).to_contain_text("99.6 % 已入库")
    expect(report.locator(".headline")).to_contain_text("共 2,000 行，入库 1,992 行，拒绝 8 行")
    expect(report.locator("dl.counts .bad dd")).to_have_text("8")
    expect(report).to_contain_text("与申报一致")
    expect(page.locator("#batch-status")).to_have_text("已入库")

    errors = page.locator("table.errors tbody tr")
    expect(errors).to_have_count(8)
    assert [int(t) for t in page.locator("table.errors tbody td.num").all_inner_texts()] == [
        row for row, _, _ in DEFECTS
    ]
    table = page.locator("table.errors")
    for message in (
        "公民身份号码无效（校验码或出生日期错误）",
        "不在代码表中（可选：0、1、2、9）",
        "不是有效的日期",
        "必填项为空",
        "关键标识在本批次中重复出现",
    ):
        expect(table).to_contain_text(message)
    expect(table).to_contain_text("男")
    shot(page, "agg-04-report")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载错误清单 CSV").click()
    download = download_info.value
    assert re.fullmatch(r"批次\d+错误清单\.csv", download.suggested_filename)
    ARTIFACTS.mkdir(exist_ok=True)
    saved = ARTIFACTS / "agg-errors.csv"
    download.save_as(str(saved))
    content = saved.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # Excel shows the Chinese
    # the errors file for the vendor (#13 item 18): Chinese headers, item and rule names, the row beside
    lines = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    codes = [(int(r["行号"]), re.search(r"（(\w+)）", r["出错信息项"]).group(1)) for r in lines]
    assert codes == [(row, item) for row, item, _ in DEFECTS]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r["校验规则"] + r["错误说明"]) for r in lines)
    assert all(r["公民身份号码"] for r in lines)  # the row's key beside each error

    page.get_by_role("link", name="返回资源").click()
    history = page.locator("table.batches")
    expect(history).to_contain_text("户籍人口导出-20261123.csv")
    expect(history).to_contain_text("已入库")
    expect(page.locator("table.preview thead")).to_contain_text("公民身份号码")
    expect(page.locator("table.preview tbody tr")).to_have_count(20)
    shot(page, "agg-05-resource-after")
