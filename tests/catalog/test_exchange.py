"""CAT-10: the XLSX template, import with row-level errors (all or nothing), export of any catalog view,
JSON both ways; NF-4 for hostile and broken files — on both stores."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest

from govdata.catalog import exchange
from govdata.core import clock
from tests.support.catalog import enterprises, population
from tests.support.exchange import (
    ENTERPRISE_ITEMS,
    ENTERPRISE_ROW,
    ITEM_HEADERS,
    POPULATION_ITEMS,
    POPULATION_ROW,
    RESOURCE_HEADERS,
    workbook,
)
from tests.support.http import assert_problem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "catalog-exchange.md"


def upload(client, headers, content: bytes, name: str = "目录.xlsx", **params):
    return client.post(
        "/api/v1/catalog/import",
        files={"file": (name, content, "application/octet-stream")},
        params={k: str(v).lower() for k, v in params.items()},
        headers=headers,
    )


def create(client, headers, body) -> dict:
    response = client.post("/api/v1/resources", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def publish(client, as_user, officer: str, code: str) -> None:
    assert client.post(f"/api/v1/resources/{code}/submit", headers=as_user(officer)).status_code == 200
    response = client.post(f"/api/v1/resources/{code}/publish", headers=as_user("dsj_officer"))
    assert response.status_code == 200, response.text


def codes(client, headers) -> set[str]:
    """What the caller's catalog search lists (any status)."""
    found = set()
    for status in ("draft", "submitted", "returned", "published", "retired"):
        page = client.get(
            "/api/v1/resources", params={"status": status, "limit": 200}, headers=headers
        ).json()
        found |= {r["code"] for r in page["items"]}
    return found


def export(client, headers, fmt: str = "json", **filters):
    response = client.get("/api/v1/catalog/export", params={"format": fmt, **filters}, headers=headers)
    assert response.status_code == 200, response.text
    return response


def compiled(view: dict) -> dict:
    """The compiled metadata of a resource view, without what the platform adds."""
    return {k: v for k, v in view.items() if k in exchange.RESOURCE_FIELDS or k == "items"}


# --- template -----------------------------------------------------------------------------------------


def test_template_has_three_sheets_with_chinese_headers(client, as_user):
    response = client.get("/api/v1/catalog/template.xlsx", headers=as_user("rs_user"))
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "目录交换模板.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["资源", "信息项", "说明"]
    assert [c.value for c in book["资源"][1]] == RESOURCE_HEADERS
    assert RESOURCE_HEADERS[:6] == ["资源代码", "资源名称", "摘要", "资源分类", "资源格式", "共享类型"]
    assert [c.value for c in book["信息项"][1]] == ITEM_HEADERS
    assert book["资源"].max_row == 1 and book["信息项"].max_row == 1
    guide = "\n".join(str(c.value) for row in book["说明"].iter_rows() for c in row if c.value)
    for allowed in (
        "有条件共享（conditional）",
        "每日（daily）",
        "比对验证（verify）",
        "字符型（C）",
        "重要（important）",
    ):
        assert allowed in guide
    assert_problem(client.get("/api/v1/catalog/template.xlsx"), 401)


def test_the_documented_template_names_every_column_and_value():
    text = DOCS.read_text(encoding="utf-8")
    for column in exchange.RESOURCE_COLUMNS + exchange.ITEM_COLUMNS + exchange.EXPORT_INFO_COLUMNS:
        assert f"| {column.header} |" in text, column.header
        if column.enum is not None:
            for member in column.enum:
                assert member.label in text and member.value in text, (column.header, member)


# --- import ---------------------------------------------------------------------------------------------


def test_xlsx_import_creates_drafts_of_the_callers_department(client, as_user):
    officer = as_user("ga_officer")
    before = codes(client, officer)
    content = workbook([POPULATION_ROW, ENTERPRISE_ROW], POPULATION_ITEMS + ENTERPRISE_ITEMS)
    response = upload(client, officer, content)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["format"] == "xlsx" and answer["total"] == 2 and len(answer["created"]) == 2
    assert codes(client, officer) - before == set(answer["created"])

    people = client.get(f"/api/v1/resources/{answer['created'][0]}", headers=officer).json()
    assert people["status"] == "draft" and people["provider"] == "焦作市公安局"
    assert people["code"].startswith("101/002")
    assert people["share_type"] == "conditional" and people["grade"] == "important"
    assert people["share_modes"] == ["verify", "query"] and people["share_methods"] == ["interface"]
    assert people["legal_basis_kind"] == "law" and people["update_cycle"] == "daily"
    assert people["materials"] == ["共享申请函（加盖公章）", "数据安全承诺书"]
    assert [i["code"] for i in people["items"]] == ["gmsfhm", "xm", "xb"]
    key = people["items"][0]
    assert key["key"] is True and key["required"] is True and key["level"] == 3 and key["length"] == 18
    assert people["items"][2]["code_list"] == ["0", "1", "2", "9"]

    firms = client.get(f"/api/v1/resources/{answer['created'][1]}", headers=officer).json()
    assert firms["share_type"] == "unconditional" and firms["open_type"] == "unconditional"
    assert firms["items"][0]["key_kind"] == "uscc" and firms["grade"] == "general"
    assert firms["local_catalog"] is True and people["local_catalog"] is False
    # other departments do not see the new drafts
    assert not set(answer["created"]) & codes(client, as_user("rs_user"))


def test_one_bad_row_rejects_the_whole_file_and_names_each_cell(client, as_user):
    officer = as_user("ga_officer")
    before = codes(client, officer)
    bad_items = [dict(i) for i in POPULATION_ITEMS]
    bad_items[1]["数据类型"] = "Z"
    content = workbook([ENTERPRISE_ROW, {**POPULATION_ROW, "共享条件": None}], ENTERPRISE_ITEMS + bad_items)
    body = assert_problem(upload(client, officer, content), 422, "catalog-import-invalid")
    assert [(e["sheet"], e["row"], e["column"]) for e in body["errors"]] == [
        ("资源", 3, "共享条件"),
        ("信息项", 5, "数据类型"),
    ]
    assert body["errors"][1]["value"] == "Z" and "字符型" in body["errors"][1]["message"]
    assert "第 3 行（资源）：共享条件：有条件共享的资源必须写明共享条件" in body["detail"]
    assert "第 5 行（信息项）：数据类型" in body["detail"]
    assert codes(client, officer) == before  # the valid row was not imported either


def test_dry_run_checks_without_writing(client, as_user):
    officer = as_user("ga_officer")
    before = codes(client, officer)
    content = workbook([POPULATION_ROW, ENTERPRISE_ROW], POPULATION_ITEMS + ENTERPRISE_ITEMS)
    answer = upload(client, officer, content, dry_run=True).json()
    assert answer["dry_run"] is True and answer["to_create"] == 2 and answer["created"] == []
    assert codes(client, officer) == before


def test_rows_with_a_code_update_the_departments_resources(client, as_user):
    officer = as_user("ga_officer")
    draft = create(client, officer, population())
    row = {**POPULATION_ROW, "资源代码": draft["code"], "摘要": "全市户籍人口（含流动人口登记）"}
    answer = upload(client, officer, workbook([row], [])).json()
    assert answer["updated"] == [draft["code"]] and answer["created"] == []
    view = client.get(f"/api/v1/resources/{draft['code']}", headers=officer).json()
    assert view["summary"] == "全市户籍人口（含流动人口登记）" and view["version"] == 1
    assert len(view["items"]) == 5  # no rows on 信息项: the items stay as they were

    publish(client, as_user, "ga_officer", draft["code"])
    changed = {**row, "摘要": "全市户籍人口基础信息（2027 版）"}
    body = assert_problem(upload(client, officer, workbook([changed], [])), 422)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "修订原因")]
    revised = upload(client, officer, workbook([{**changed, "修订原因": "增加流动人口"}], []))
    assert revised.status_code == 200, revised.text
    view = client.get(f"/api/v1/resources/{draft['code']}", headers=officer).json()
    assert view["status"] == "published" and view["summary"] == "全市户籍人口（含流动人口登记）"
    assert view["revision"] == {"version": 2, "status": "draft", "reason": "增加流动人口"}


def test_an_officer_cannot_update_another_departments_resource(client, as_user):
    scjg = as_user("scjg_officer")
    published = create(client, scjg, enterprises())
    publish(client, as_user, "scjg_officer", published["code"])
    hidden = create(client, scjg, enterprises(name="个体工商户登记信息"))
    rows = [
        {**ENTERPRISE_ROW, "资源代码": published["code"], "摘要": "被改写", "修订原因": "越权"},
        {**ENTERPRISE_ROW, "资源代码": hidden["code"], "资源名称": "个体工商户登记信息"},
    ]
    body = assert_problem(upload(client, as_user("ga_officer"), workbook(rows, [])), 422)
    # a draft of another department stays invisible: its code is an error of the file
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "资源代码")]
    assert "不存在" in body["errors"][0]["message"]
    # a resource the officer sees but may not change is reported, not imported (#13 item 19)
    answer = upload(client, as_user("ga_officer"), workbook(rows[:1], []))
    assert answer.status_code == 200, answer.text
    skipped = answer.json()["skipped"]
    assert [(s["code"], s["row"]) for s in skipped] == [(published["code"], 2)]
    assert "不是本部门的资源" in skipped[0]["reason"] and "只能更新本部门的资源" in skipped[0]["reason"]
    assert answer.json()["updated"] == [] and answer.json()["created"] == []
    after = client.get(f"/api/v1/resources/{published['code']}", headers=scjg).json()
    assert after["summary"] == published["summary"] and after["revision"] is None
    # users who may not compile get 403 before the file is looked at
    assert_problem(upload(client, as_user("rs_user"), workbook(rows, [])), 403)
    assert_problem(upload(client, as_user("citizen"), workbook(rows, [])), 403)


def test_hostile_cells_are_text_and_are_validated(client, as_user):
    officer = as_user("ga_officer")
    before = codes(client, officer)
    rows = [
        {**ENTERPRISE_ROW, "摘要": "=cmd|' /C calc'!A0"},
        {**ENTERPRISE_ROW, "资源名称": "企" * 300},
        {**ENTERPRISE_ROW, "资源名称": "企业_x0007_登记"},  # how XLSX stores a BEL character
    ]
    body = assert_problem(upload(client, officer, workbook(rows, ENTERPRISE_ITEMS)), 422)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "资源名称"), (4, "资源名称")]
    assert "太长" in body["errors"][0]["message"] and "控制字符" in body["errors"][1]["message"]
    assert codes(client, officer) == before
    answer = upload(client, officer, workbook(rows[:1], ENTERPRISE_ITEMS)).json()
    stored = client.get(f"/api/v1/resources/{answer['created'][0]}", headers=officer).json()
    assert stored["summary"] == "=cmd|' /C calc'!A0"


# --- export ---------------------------------------------------------------------------------------------


def test_export_shows_only_what_the_caller_may_see(client, as_user):
    ga = as_user("ga_officer")
    draft = create(client, ga, population())
    closed = create(client, ga, population(name="人口迁移信息"))
    publish(client, as_user, "ga_officer", closed["code"])
    scjg = as_user("scjg_officer")
    opened = create(client, scjg, enterprises())
    publish(client, as_user, "scjg_officer", opened["code"])

    exported = export(client, as_user("rs_user")).json()
    listed = {r["code"]: r for r in exported["resources"]}
    assert draft["code"] not in listed and {closed["code"], opened["code"]} <= set(listed)
    assert listed[closed["code"]]["status"] == "published" and listed[closed["code"]]["version"] == 1
    assert listed[closed["code"]]["provider"] == "焦作市公安局" and len(listed[closed["code"]]["items"]) == 5

    sheet = openpyxl.load_workbook(io.BytesIO(export(client, as_user("rs_user"), "xlsx").content))
    in_xlsx = {row[0].value for row in sheet["资源"].iter_rows(min_row=2)}
    assert draft["code"] not in in_xlsx and {closed["code"], opened["code"]} <= in_xlsx
    item_owners = [row[0].value for row in sheet["信息项"].iter_rows(min_row=2)]
    assert item_owners.count(closed["code"]) == 5 and draft["code"] not in item_owners

    public = export(client, as_user("citizen")).json()
    assert [r["code"] for r in public["resources"]] == [opened["code"]]
    mine = {r["code"] for r in export(client, ga).json()["resources"]}
    assert {draft["code"], closed["code"]} <= mine  # a department exports its own drafts
    filtered = export(client, as_user("rs_user"), share_type="unconditional").json()
    assert [r["code"] for r in filtered["resources"]] == [opened["code"]]


def test_export_is_a_named_download_in_the_template_layout(client, as_user):
    officer = as_user("ga_officer")
    create(client, officer, population())
    response = export(client, officer, "xlsx")
    assert response.headers["content-type"] == XLSX
    disposition = response.headers["content-disposition"]
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert (
        name.startswith("目录导出-") and name.endswith(".xlsx") and len(name) == len("目录导出-20261124.xlsx")
    )
    assert 'filename="catalog-export-' in disposition
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["资源", "信息项", "说明"]
    headers = [c.value for c in book["资源"][1]]
    assert headers[: len(RESOURCE_HEADERS)] == RESOURCE_HEADERS and headers[-3:] == [
        "提供部门",
        "状态",
        "版本",
    ]
    row = {h: c.value for h, c in zip(headers, book["资源"][2], strict=True)}
    assert row["共享类型"] == "有条件共享" and row["更新周期"] == "每日" and row["状态"] == "草稿"
    assert row["服务方式"] == "比对验证；检索查询"
    assert json.loads(export(client, officer, "json").content)["total"] == 1
    assert_problem(client.get("/api/v1/catalog/export", params={"format": "csv"}, headers=officer), 422)


def test_the_export_is_named_by_the_date_in_china(client, as_user):
    officer = as_user("ga_officer")
    create(client, officer, population())
    # 20:30 UTC on 24 November is already 25 November in China
    with clock.frozen(datetime(2026, 11, 24, 20, 30, tzinfo=UTC)):
        response = export(client, officer, "xlsx")
        exported = json.loads(export(client, officer, "json").content)
    name = unquote(response.headers["content-disposition"].split("filename*=UTF-8''")[1])
    assert name == "目录导出-20261125.xlsx"
    assert exported["exported_at"] == "2026-11-25T04:30:00+08:00"


def test_formula_looking_text_is_exported_with_a_leading_quote(client, as_user):
    officer = as_user("ga_officer")
    items = population()["items"]
    items[4]["description"] = "@SUM(1+1)"
    resource = create(client, officer, population(summary='=HYPERLINK("http://evil")', items=items))
    book = openpyxl.load_workbook(io.BytesIO(export(client, officer, "xlsx").content))
    summary = book["资源"]["C2"]
    assert summary.value == '\'=HYPERLINK("http://evil")' and summary.data_type == "s"
    descriptions = [row[-1].value for row in book["信息项"].iter_rows(min_row=2)]
    assert "'@SUM(1+1)" in descriptions
    # importing the export back changes nothing: the guard is taken off again
    buffer = io.BytesIO()
    book.save(buffer)
    answer = upload(client, officer, buffer.getvalue()).json()
    assert answer["unchanged"] == [resource["code"]] and answer["updated"] == []


def test_control_characters_are_left_out_of_an_export(client, as_user):
    officer = as_user("ga_officer")
    items = population()["items"]
    items[4]["description"] = "居住\x01地址\x1f"
    create(client, officer, population(summary="全市\x07户籍人口", items=items))
    book = openpyxl.load_workbook(io.BytesIO(export(client, officer, "xlsx").content))
    assert book["资源"]["C2"].value == "全市户籍人口"
    assert "居住地址" in [row[-1].value for row in book["信息项"].iter_rows(min_row=2)]


# --- round trips ------------------------------------------------------------------------------------------


def test_json_export_imported_by_another_department_creates_equal_drafts(client, as_user):
    ga = as_user("ga_officer")
    original = create(client, ga, population())
    exported = export(client, ga).content
    scjg = as_user("scjg_officer")
    # the codes are ga's: without as_new they are refused, not silently copied
    assert_problem(upload(client, scjg, exported, "export.json"), 422)
    answer = upload(client, scjg, exported, "export.json", as_new=True).json()
    assert answer["format"] == "json" and len(answer["created"]) == 1
    copy = client.get(f"/api/v1/resources/{answer['created'][0]}", headers=scjg).json()
    assert copy["code"] != original["code"] and copy["provider"] == "焦作市市场监督管理局"
    assert copy["status"] == "draft"
    assert compiled(copy) == compiled(original)


def test_xlsx_export_edit_import_round_trip(client, as_user):
    ga = as_user("ga_officer")
    first = create(client, ga, population())
    second = create(client, ga, enterprises())
    content = export(client, ga, "xlsx").content
    unchanged = upload(client, ga, content).json()
    assert sorted(unchanged["unchanged"]) == sorted([first["code"], second["code"]])

    book = openpyxl.load_workbook(io.BytesIO(content))
    rows = {row[0].value: row for row in book["资源"].iter_rows(min_row=2)}
    rows[first["code"]][2].value = "修改后的摘要"
    buffer = io.BytesIO()
    book.save(buffer)
    answer = upload(client, ga, buffer.getvalue()).json()
    assert answer["updated"] == [first["code"]] and answer["unchanged"] == [second["code"]]
    view = client.get(f"/api/v1/resources/{first['code']}", headers=ga).json()
    assert view["summary"] == "修改后的摘要" and compiled(view)["items"] == compiled(first)["items"]

    copies = upload(client, as_user("scjg_officer"), content, as_new=True).json()
    assert len(copies["created"]) == 2
    sources = {first["name"]: first, second["name"]: second}
    for code in copies["created"]:
        copy = client.get(f"/api/v1/resources/{code}", headers=as_user("scjg_officer")).json()
        assert copy["code"] not in (first["code"], second["code"])
        assert compiled(copy) == compiled(sources[copy["name"]])


# --- broken and hostile files -------------------------------------------------------------------------------


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _far_cell() -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "资源"
    book.active.append(RESOURCE_HEADERS)
    book.active.cell(row=1_000_000, column=16_000, value="x")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "status", "words"),
    [
        ("random.xlsx", bytes(range(256)) * 64, 415, "XLSX"),
        ("readme.xlsx", "这是一个改了扩展名的文本文件".encode(), 415, "XLSX"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), 415, ".xls"),
        ("empty.xlsx", b"", 422, "空"),
        ("blank.json", b"  \n", 422, "空"),
        ("notes.xlsx", _zip({"notes.txt": b"hello"}), 422, "不是 .xlsx"),
        ("broken.xlsx", b"PK\x03\x04" + bytes(2000), 422, "损坏"),
        ("other.xlsx", workbook([], [], sheets=("Sheet1", "Sheet2")), 422, "资源"),
        ("bad.json", b'{"resources": [', 422, "JSON"),
        ("shape.json", b'{"items": 3}', 422, "resources"),
        ("many.json", json.dumps([{}] * 5001).encode(), 413, "5000"),
        ("huge.xlsx", b"PK\x03\x04" + bytes(11 * 1024 * 1024), 413, "10 MiB"),
        ("far.xlsx", _far_cell(), 413, "工作表过大"),
    ],
)
def test_broken_files_get_a_clear_problem_and_change_nothing(client, as_user, name, content, status, words):
    officer = as_user("ga_officer")
    before = codes(client, officer)
    body = assert_problem(upload(client, officer, content, name), status)
    assert words in body["detail"], body["detail"]
    assert codes(client, officer) == before


@pytest.fixture
def configure(monkeypatch):
    """Set ``GOVDATA_*`` variables as an operator would; the settings are read again."""
    from govdata.core.config import get_settings

    def setenv(**variables):
        for name, value in variables.items():
            monkeypatch.setenv(name, str(value))
        get_settings.cache_clear()

    yield setenv
    get_settings.cache_clear()


def test_the_configured_spreadsheet_limits_apply_to_imports(client, as_user, configure):
    officer = as_user("ga_officer")
    before = codes(client, officer)
    rows = [{**ENTERPRISE_ROW, "资源名称": f"企业登记信息{i}"} for i in range(5)]
    configure(GOVDATA_MAX_SHEET_ROWS=4)  # a header and three rows
    body = assert_problem(upload(client, officer, workbook(rows, [])), 422, "too-many-rows")
    assert "最多 3 行数据" in body["detail"]
    configure(GOVDATA_MAX_SHEET_ROWS=1_048_576, GOVDATA_MAX_XLSX_INFLATED_MB=1)
    padded = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook(rows, []))) as source,
        zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            target.writestr(entry, source.read(entry))
        target.writestr("xl/padding.xml", b" " * (4 * 1024 * 1024))
    body = assert_problem(upload(client, officer, padded.getvalue()), 413)
    assert "解压后过大" in body["detail"]
    assert codes(client, officer) == before


def test_header_problems_are_named(client, as_user):
    content = workbook([ENTERPRISE_ROW], [])
    book = openpyxl.load_workbook(io.BytesIO(content))
    book["资源"]["E1"].value = "格式类型"  # renamed 资源格式
    buffer = io.BytesIO()
    book.save(buffer)
    body = assert_problem(upload(client, as_user("ga_officer"), buffer.getvalue()), 422)
    assert {(e["sheet"], e["row"], e["column"]) for e in body["errors"]} == {
        ("资源", 1, "格式类型"),
        ("资源", 1, "资源格式"),
    }
    assert "缺少这一列" in body["detail"]


def test_items_must_belong_to_a_resource_row(client, as_user):
    orphan = {**ENTERPRISE_ITEMS[1], "资源名称": "不存在的资源"}
    content = workbook([ENTERPRISE_ROW], ENTERPRISE_ITEMS + [orphan])
    body = assert_problem(upload(client, as_user("ga_officer"), content), 422)
    assert [(e["sheet"], e["row"], e["column"]) for e in body["errors"]] == [("信息项", 4, "资源名称")]


def test_json_errors_name_the_resource_and_the_field(client, as_user):
    first = {**enterprises(), "share_type": "有条件共享"}
    second = population(items=[{**population()["items"][0], "data_type": "Z"}] + population()["items"][1:])
    content = json.dumps({"resources": [first, second]}, ensure_ascii=False).encode()
    body = assert_problem(upload(client, as_user("ga_officer"), content, "catalog.json"), 422)
    where = [(e["row"], e["column"]) for e in body["errors"]]
    assert (1, "共享条件") in where and (2, "信息项第 1 项的数据类型") in where
    assert "第 1 个资源：共享条件" in body["detail"]


def test_formatting_on_empty_rows_does_not_count_as_data(client, as_user):
    from openpyxl.styles import Font

    book = openpyxl.load_workbook(io.BytesIO(workbook([ENTERPRISE_ROW], ENTERPRISE_ITEMS)))
    for row in range(3, 60_000, 997):  # an officer formatted the column far down
        book["资源"].cell(row=row, column=40).font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    answer = upload(client, as_user("scjg_officer"), buffer.getvalue())
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["created"]) == 1


def test_json_update_changes_only_the_given_fields(client, as_user):
    officer = as_user("ga_officer")
    draft = create(client, officer, population())
    content = json.dumps(
        [{"code": draft["code"], "summary": "只改摘要"}, "不是资源"], ensure_ascii=False
    ).encode()
    body = assert_problem(upload(client, officer, content, "update.json"), 422)
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, None)]
    assert "第 2 个资源：应为对象" in body["detail"]
    answer = upload(client, officer, content.replace(', "不是资源"'.encode(), b""), "update.json").json()
    assert answer["updated"] == [draft["code"]]
    view = client.get(f"/api/v1/resources/{draft['code']}", headers=officer).json()
    assert view["summary"] == "只改摘要"
    assert compiled(view) == compiled({**draft, "summary": "只改摘要"})
