"""Catalog exchange in the pages (#13 item 19, CAT-10): export buttons where the lists are, an import
form with its report; importing a fresh export works — the rows the department cannot change (another
department's, under review) are reported as not imported, not fatal — on both stores."""

from __future__ import annotations

import html
import io
import json
import re

import openpyxl

from tests.support.catalog import enterprises, population, publish
from tests.support.exchange import ENTERPRISE_ITEMS, ENTERPRISE_ROW, workbook
from tests.support.pages import HTML, text, web_login

SAME_SITE = {**HTML, "origin": "http://testserver"}


def import_page(client, content: bytes, name: str, **options: str):
    return client.post(
        "/catalog/import",
        files={"file": (name, content, "application/octet-stream")},
        data=options,
        headers=SAME_SITE,
    )


def shown(page: str) -> str:
    return html.unescape(text(re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)))


def rows_of(page: str, table_class: str) -> list[str]:
    found = re.search(rf'<table class="{table_class}">.*?</table>', page, re.S)
    if not found:
        return []
    return [shown(row).strip() for row in re.findall(r"<tr>(.*?)</tr>", found.group(0), re.S)][1:]


def regional_catalog(client, as_user) -> dict[str, str]:
    """市公安局 and 市市场监管局 each publish a resource; 市公安局 has one more under review."""
    codes = {
        "population": publish(client, as_user, "ga_officer", population()),
        "enterprises": publish(client, as_user, "scjg_officer", enterprises()),
    }
    officer = as_user("ga_officer")
    pending = client.post(
        "/api/v1/resources", json=population(name="流动人口居住登记", classification="212"), headers=officer
    )
    assert pending.status_code == 201, pending.text
    codes["pending"] = pending.json()["code"]
    assert client.post(f"/api/v1/resources/{codes['pending']}/submit", headers=officer).status_code == 200
    return codes


def test_a_fresh_export_of_the_search_page_imports_back(client, as_user):
    """#13 item 19: an officer exports the whole catalog view (other departments' resources too) from
    the search page and imports it as it is: nothing changes, nothing fails; the rows the department
    cannot change are listed with the reason."""
    codes = regional_catalog(client, as_user)
    web_login(client, "ga_officer")
    search = client.get("/catalog", headers=HTML).text
    links = dict(
        re.findall(r'href="(/catalog/export\?[^"]*?format=(xlsx|json))"', search.replace("&amp;", "&"))
    )
    assert len(links) == 2, "the search page offers both exports"
    for link, fmt in links.items():
        exported = client.get(link)
        assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
        assert exported.headers["x-resource-count"] == "3"
        answer = import_page(client, exported.content, f"目录导出.{fmt}")
        assert answer.status_code == 200, shown(answer.text)[:2000]
        report = shown(answer.text)
        assert "导入完成" in report and "未导入任何资源" not in report
        skipped = rows_of(answer.text, "skipped")
        assert len(skipped) == 2
        assert any(codes["enterprises"] in row and "不是本部门的资源" in row for row in skipped)
        assert any(codes["pending"] in row and "正在审核中" in row for row in skipped)
        assert "新建（草稿） 0" in report and "更新 0" in report and "无变化 1" in report
    # nothing was changed by the imports
    mine = client.get(
        "/api/v1/resources", params={"provider_id": 2, "limit": 50}, headers=as_user("ga_officer")
    )
    assert {r["code"] for r in mine.json()["items"]} == {codes["population"], codes["pending"]}
    enterprise = client.get(
        f"/api/v1/resources/{codes['enterprises']}", headers=as_user("scjg_officer")
    ).json()
    assert enterprise["revision"] is None


def test_the_api_reports_skipped_rows_too(client, as_user):
    """#13 item 19 over the API: the same export, imported through /api/v1/catalog/import, answers 200
    with ``skipped``."""
    codes = regional_catalog(client, as_user)
    officer = as_user("ga_officer")
    exported = client.get("/api/v1/catalog/export", params={"format": "json"}, headers=officer).content
    answer = client.post(
        "/api/v1/catalog/import", files={"file": ("x.json", exported, "application/json")}, headers=officer
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["unchanged"] == [codes["population"]] and body["created"] == []
    assert {s["code"] for s in body["skipped"]} == {codes["enterprises"], codes["pending"]}
    assert all(s["reason"] for s in body["skipped"])


def test_a_faulty_file_is_listed_cell_by_cell_and_nothing_is_imported(client, as_user):
    """#13 item 19: the page lists every faulty cell (sheet, row, column, value) in Chinese."""
    web_login(client, "scjg_officer")
    rows = [
        {**ENTERPRISE_ROW, "共享类型": "随便共享"},
        {**ENTERPRISE_ROW, "资源名称": "个体工商户登记", "更新周期": "每秒"},
    ]
    answer = import_page(client, workbook(rows, []), "目录.xlsx")
    assert answer.status_code == 422
    errors = rows_of(answer.text, "import-errors")
    assert any(row.startswith("资源 第 2 行 共享类型 随便共享") for row in errors), errors
    assert any(row.startswith("资源 第 3 行 更新周期 每秒") for row in errors), errors
    assert "未导入任何资源" in shown(answer.text)
    listed = client.get("/api/v1/resources", params={"limit": 50}, headers=as_user("scjg_officer")).json()
    assert listed["total"] == 0


def test_a_dry_run_writes_nothing_and_a_good_file_creates_drafts(client, as_user):
    web_login(client, "scjg_officer")
    content = workbook([ENTERPRISE_ROW], ENTERPRISE_ITEMS)
    checked = import_page(client, content, "目录.xlsx", dry_run="1")
    assert checked.status_code == 200, shown(checked.text)[-1500:]
    assert "校验通过（未写入）" in shown(checked.text)
    assert "将新建 1" in shown(checked.text)
    assert client.get("/api/v1/resources", headers=as_user("scjg_officer")).json()["total"] == 0
    done = import_page(client, content, "目录.xlsx")
    assert done.status_code == 200 and "新建（草稿） 1" in shown(done.text)
    created = re.search(r'新建 <a href="/catalog/r/([^"]+)">企业登记信息</a>', done.text)
    assert created, "the report links the new draft by its name"
    assert client.get(f"/catalog/r/{created.group(1)}", headers=HTML).status_code == 200


def test_exchange_buttons_are_where_the_lists_are_and_only_for_who_may(client, as_user):
    """#13 item 19: 本部门目录 offers import and export to the officer; a data user gets no import."""
    publish(client, as_user, "ga_officer", population())
    web_login(client, "ga_officer")
    mine = client.get("/catalog/mine", headers=HTML).text
    assert 'href="/catalog/import"' in mine and "/catalog/export?provider_id=" in mine
    own = client.get(
        re.search(r'href="(/catalog/export\?provider_id=[^"]+)"', mine).group(1).replace("&amp;", "&")
    )
    sheet = openpyxl.load_workbook(io.BytesIO(own.content)).worksheets[0]
    assert [c.value for c in sheet[2]][:2] == [None, None] or "人口基础信息" in [c.value for c in sheet[2]]
    template = client.get("/catalog/template.xlsx")
    assert template.status_code == 200 and "attachment" in template.headers["content-disposition"]

    web_login(client, "rs_user")
    assert 'href="/catalog/import"' not in client.get("/catalog/mine", headers=HTML).text
    refused = client.get("/catalog/import", headers=HTML)
    assert refused.status_code == 403 and "无权访问" in refused.text
    exported = client.get("/catalog/export", params={"format": "json"})
    assert exported.status_code == 200 and json.loads(exported.content)["total"] == 1
