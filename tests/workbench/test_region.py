"""SUP-5 (#13 item 15): the authority's region-wide view — what is due, late and failing across
departments, every department's catalog, data, quality (those without data listed as such) and open
violations — and department pages with their resources, people and figures."""

from __future__ import annotations

import re
from datetime import timedelta

from govdata.core import clock
from tests.support.batches import csv_bytes, good_rows, upload
from tests.support.catalog import create, enterprises, population, publish
from tests.support.jobs import settle
from tests.support.pages import HTML, browser, nav_labels, text


def _row(page: str, name: str) -> str:
    """The visible text of the table row naming ``name``."""
    return next(text(r) for r in re.findall(r"<tr[^>]*>.*?</tr>", page, re.S) if name in r)


def _cells(page: str, name: str) -> list[str]:
    """The cells of the departments table's row for ``name``: 部门, 已发布, 待审核, 被退回, 数据行数,
    应归集, 逾期, 有问题, 数据质量, 未解决质量问题, 未整改违规."""
    table = re.search(r'<table class="list region-departments">.*?</table>', page, re.S).group(0)
    row = next(r for r in re.findall(r"<tr>.*?</tr>", table, re.S) if f">{name}</a>" in r)
    return [text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def _section(page: str, anchor: str) -> str:
    found = re.search(rf'<section class="card" id="{anchor}".*?</section>', page, re.S)
    return text(found.group(0)) if found else ""


def _region(client, as_user, app):
    """市公安局's daily 人口基础信息 with data; 市市场监管局's 企业登记信息 whose only batch was rejected;
    a draft of 市人社局 waiting for review."""
    ga = as_user("ga_officer")
    people = publish(client, as_user, "ga_officer", population())
    assert upload(client, ga, people, csv_bytes(good_rows(12))).json()["status"] == "applied"
    firms = publish(client, as_user, "scjg_officer", enterprises())
    header = ["统一社会信用代码", "企业名称"]
    rejected = upload(
        client,
        as_user("scjg_officer"),
        firms,
        csv_bytes([["not-a-code", "某公司"]], header=header),
        policy="strict",
    ).json()
    assert rejected["status"] == "rejected"
    draft = create(client, as_user("rs_officer"), population(name="参保人员信息", classification="203"))
    assert client.post(f"/api/v1/resources/{draft['code']}/submit", headers=as_user("rs_officer")).is_success
    settle(app)
    return people, firms


def test_sup5_the_region_view_shows_due_late_and_failing_across_departments(app, client, as_user):
    """#13 item 15: aggregation across departments — due, late, failing — and each department's line."""
    people, firms = _region(client, as_user, app)
    authority = browser(app, "dsj_officer")
    page = authority.get("/region", headers=HTML)
    assert page.status_code == 200 and "全域视图" in nav_labels(page.text)
    shown = page.text
    due = _section(shown, "due")
    assert "人口基础信息" in due and "企业登记信息" in due  # daily: due tomorrow
    assert "没有逾期未归集的资源" in _section(shown, "late")
    failing = _section(shown, "failing")
    assert "企业登记信息" in failing and "已拒绝" in failing and "人口基础信息" not in failing

    ga = _cells(shown, "焦作市公安局")
    assert ga[1:8] == ["1", "", "", "12", "1", "", ""]  # published, rows, due; not late, not failing
    assert ga[8] not in ("", "尚无数据")  # its quality score
    scjg = _cells(shown, "焦作市市场监督管理局")
    assert scjg[1] == "1" and scjg[7] == "1" and scjg[8] == "尚无数据"  # its only batch was rejected
    rs = _cells(shown, "焦作市人力资源和社会保障局")
    assert rs[1:3] == ["0", "1"] and rs[8] == "尚无数据"  # one resource waiting for review
    assert len(re.findall(r'href="/region/departments/\d+"', shown)) >= 14  # every department
    assert f'href="/data/{people}"' in shown and 'href="/pool?department_id=' in shown

    # three days on, the daily resources are late
    with clock.frozen(clock.china_now() + timedelta(days=3)):
        later = browser(app, "dsj_officer").get("/region", headers=HTML).text
        late = _section(later, "late")
        assert "人口基础信息" in late and "企业登记信息" in late and "已逾期" in late
        assert _cells(later, "焦作市公安局")[5:7] == ["", "1"]  # no longer due: late


def test_sup5_only_the_authority_opens_the_region_view(app):
    for username in ("ga_officer", "auditor", "citizen"):
        other = browser(app, username)
        assert "全域视图" not in nav_labels(other.get("/home", headers=HTML).text)
        assert other.get("/region", headers=HTML).status_code == 403


def test_sup5_a_department_page_shows_its_resources_people_and_figures(app, client, as_user):
    """#13 item 15: the authority opens any department's page; its staff their own only."""
    people, _ = _region(client, as_user, app)
    authority = browser(app, "dsj_officer")
    region = authority.get("/region", headers=HTML).text
    href = re.search(r'href="(/region/departments/\d+)">焦作市公安局</a>', region).group(1)
    page = authority.get(href, headers=HTML)
    assert page.status_code == 200
    shown = text(page.text)
    assert "焦作市公安局" in shown and "政府部门" in shown and "赵永刚" in shown
    assert "张丽 部门目录管理员" in shown and "赵永刚 部门负责人" in shown  # people by name, with roles
    assert "人口基础信息" in shown and "12" in shown and "修武县公安局" in shown  # its unit
    assert "已发布资源" in shown and "数据质量综合得分" in shown

    own = browser(app, "ga_officer")
    assert own.get(href, headers=HTML).status_code == 200
    home = own.get("/home", headers=HTML).text
    assert f'href="{href}"' in home  # the home page leads to the department's page
    unit = re.search(r'href="(/region/departments/\d+)">修武县公安局</a>', own.get(href, headers=HTML).text)
    assert unit and own.get(unit.group(1), headers=HTML).status_code == 200  # its subordinate unit's page
    rs = browser(app, "rs_officer")
    assert rs.get(href, headers=HTML).status_code == 403
    assert rs.get(unit.group(1), headers=HTML).status_code == 403
    assert browser(app, "citizen").get(href, headers=HTML).status_code == 403
    assert authority.get("/region/departments/99999", headers=HTML).status_code == 404


def test_sup5_the_quality_overview_lists_departments_without_data(app, client, as_user):
    """#13 item 15: every department is in the authority's quality overview; those without data say so."""
    _region(client, as_user, app)
    page = browser(app, "dsj_officer").get("/quality", headers=HTML).text
    assert "尚无已归集数据，暂无评分" in _row(page, "焦作市教育局")
    ga = _row(page, "焦作市公安局")
    assert "暂无评分" not in ga and re.search(r"焦作市公安局 \d", ga)
