"""SUP-4 the annual report, on both stores: for a region with some data (resources published by two
departments, violations detected, confirmed and rectified during the year), the HTML report has its
Chinese sections and every department's score and rank as the year's scorecard gives them; the PDF's
pages, rendered to images, show the Chinese section titles and the charts' colours; a year without
data still renders and says so; only the authority (and the evaluator) may read it; the command line
writes the PDF."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator

import pypdfium2
import pytest
from typer.testing import CliRunner

from govdata.cli import app as cli_app
from govdata.core import clock
from govdata.core.config import get_settings
from govdata.evaluation import charts
from govdata.evaluation import service as evaluation
from govdata.orgs import service as orgs
from govdata.supervision import notices
from govdata.supervision import service as supervision
from tests.support.catalog import enterprises, population, publish
from tests.support.http import assert_problem, login
from tests.support.pages import browser

DAY = dt.date(2026, 3, 2)
LATER = dt.date(2026, 9, 14)
SECTIONS = (
    "一、总体情况",
    "二、目录编制",
    "三、数据归集",
    "四、数据质量",
    "五、共享服务",
    "六、数据开放",
    "七、违规与整改",
    "八、各部门考核结果",
)
URL = "/api/v1/reports/annual/{year}"


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


@pytest.fixture(autouse=True)
def logged_in(as_user) -> None:
    """Tokens issued at the real time stay valid under the frozen dates."""
    for username in ("dsj_officer", "ga_officer", "scjg_officer", "rs_user"):
        as_user(username)


@pytest.fixture
def region(client, as_user, session) -> dict:
    """Two departments publish resources; three violations are detected in 2026: one rectified,
    one confirmed and still open, one left undecided."""
    with clock.frozen(DAY):
        publish(client, as_user, "ga_officer", population())
        publish(client, as_user, "scjg_officer", enterprises())
        ga = orgs.actor_named(session, "ga_officer")
        scjg = orgs.actor_named(session, "scjg_officer")
        authority = orgs.actor_named(session, "dsj_officer")
        ids = [
            supervision.record_violation(
                session,
                kind=kind,
                department_id=department,
                object_type="application",
                object_id=number,
                evidence={"application_id": number},
            )
            for number, (kind, department) in enumerate(
                [
                    ("application_overdue", ga.department_id),
                    ("refusal_without_basis", ga.department_id),
                    ("application_overdue", scjg.department_id),
                ],
                start=1,
            )
        ]
        supervision.confirm(session, authority, ids[0])
        supervision.confirm(session, authority, ids[1])
        session.commit()
    with clock.frozen(DAY + dt.timedelta(days=7)):
        notice = notices.notice_of_violation(session, authority, ids[0])
        notices.answer(session, ga, notice.id, "已于三月内答复全部积压的共享申请。")
        notices.accept(session, authority, notice.id)
        session.commit()
    return {"authority": authority, "ga": ga.department_id, "scjg": scjg.department_id}


def department_rows(document: str) -> dict[int, str]:
    """The rows of the per-department table, by department id, as text."""
    rows = re.findall(r'<tr data-department="(\d+)">(.*?)</tr>', document, re.S)
    return {int(d): html.unescape(re.sub(r"<[^>]+>", " ", row)) for d, row in rows}


def test_the_html_report_has_its_sections_and_the_scorecards_figures(client, as_user, session, region):
    with clock.frozen(LATER):
        response = client.get(URL.format(year=2026), headers=as_user("dsj_officer"))
        card = evaluation.scorecard(session, region["authority"], "2026")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    document = response.text
    for title in SECTIONS:
        assert title in document
    assert "2026年度" in document and "暂无考核数据" not in document

    rows = department_rows(document)
    assert {item.department_id for item in card.items} == set(rows)
    rank_of = {item.department_id: item.rank for item in card.items}
    in_order = [rank_of[d] for d in rows if rank_of[d] is not None]  # the document's order
    assert in_order == sorted(in_order) and len(in_order) == len({i for i in rank_of if rank_of[i]})
    scored = [item for item in card.items if item.score is not None]
    assert scored, "the published resources give the two departments a score"
    for item in card.items:
        cells = rows[item.department_id].split()
        assert cells[0] == (str(item.rank) if item.rank else "—")
        assert item.department_name in cells
        assert cells[cells.index(item.department_name) + 1] == charts.fmt(
            item.score and round(item.score, 2)
        ).replace("未测量", "—")
    # the catalog's figure of a department is its scorecard's (a rate shown as a percentage)
    ga = next(item for item in card.items if item.department_id == region["ga"])
    completeness = ga.measures["catalog_completeness"]
    assert completeness is not None
    assert charts.fmt(round(completeness * 100, 2), "%") in rows[region["ga"]]

    # violations of the year: 3 found, 2 notices, 1 rectified; per department
    assert "共发现违规 3 条，发出整改通知 2 件，已整改销号 1 件" in document
    assert re.search(r"<td>共享申请逾期未答复</td><td class=\"num\">2</td>", document)


def test_the_pdf_shows_chinese_text_and_charts(client, as_user, region):
    with clock.frozen(LATER):
        response = client.get(URL.format(year=2026), params={"format": "pdf"}, headers=as_user("dsj_officer"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF")

    pdf = pypdfium2.PdfDocument(response.content)
    try:
        texts = [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
        whole = "".join(texts)
        for title in SECTIONS:
            assert title.replace("、", "") in whole.replace("、", "")

        def pixels(page_index: int, colour: str) -> int:
            image = pdf[page_index].render(scale=1).to_pil().convert("RGB")
            want = rgb(colour)
            return sum(
                count
                for count, pixel in image.getcolors(maxcolors=1 << 24)
                if all(abs(a - b) <= 6 for a, b in zip(pixel, want, strict=True))
            )

        # the overall scores' bars, on the page that sums the year up
        overview = next(i for i, t in enumerate(texts) if "综合得分最高的是" in t)
        assert pixels(overview, charts.PRIMARY) > 1000
        # the violations' split bar (待确认, 已确认, 已整改) and the monthly columns
        violations = next(i for i, t in enumerate(texts) if "共发现违规" in t)
        assert pixels(violations, charts.PALETTE[1]) > 1000
        assert pixels(violations, charts.SECOND) > 50
        # and a page without a chart has none of those colours (the cover)
        assert pixels(0, charts.PRIMARY) == 0
    finally:
        pdf.close()


def test_a_year_without_data_still_renders_and_says_so(client, as_user):
    with clock.frozen(LATER):
        response = client.get(URL.format(year=2024), headers=as_user("dsj_officer"))
        pdf = client.get(URL.format(year=2024), params={"format": "pdf"}, headers=as_user("dsj_officer"))
    assert response.status_code == 200, response.text
    assert "2024 年度暂无考核数据" in response.text and "2024 年度未发现违规" in response.text
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_the_authority_and_the_evaluator_read_the_report_and_no_one_else(client, as_user, app):
    created = client.post(
        "/api/v1/users",
        json={
            "username": "pg_evaluator",
            "password": "Evaluator@2026-test",
            "display_name": "第三方评估员",
            "roles": ["evaluator"],
        },
        headers=as_user("admin"),
    )
    assert created.status_code == 201, created.text
    evaluator = login(client, "pg_evaluator", "Evaluator@2026-test")
    assert "八、各部门考核结果" in client.get(URL.format(year=2026), headers=evaluator).text
    # the dashboard's download link works in a logged-in page session (a cookie, no bearer token)
    page = browser(app, "dsj_officer").get(URL.format(year=2026), params={"format": "pdf"})
    assert page.status_code == 200 and page.content.startswith(b"%PDF")
    for user in ("ga_officer", "rs_user", "admin"):
        response = client.get(URL.format(year=2026), headers=as_user(user))
        assert_problem(response, 403)
    assert_problem(client.get(URL.format(year=2026)), 401)


def test_a_bad_format_or_year_is_refused_with_a_clear_message(client, as_user):
    response = client.get(URL.format(year=2026), params={"format": "docx"}, headers=as_user("dsj_officer"))
    assert_problem(response, 422)
    assert_problem(client.get(URL.format(year=1999), headers=as_user("dsj_officer")), 422)


@pytest.fixture
def cli(settings, monkeypatch) -> Iterator:
    for key, value in {
        "GOVDATA_DATA_DIR": str(settings.data_dir),
        "GOVDATA_DATABASE_URL": settings.resolved_database_url(),
        "GOVDATA_STORE_URL": settings.resolved_store_url(),
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli_app, ["report", *args])
    get_settings.cache_clear()


def test_the_command_line_writes_the_pdf_and_the_html(cli, region, tmp_path):
    pdf, page = tmp_path / "report.pdf", tmp_path / "report.html"
    with clock.frozen(LATER):
        result = cli("annual", "2026", "--pdf", str(pdf), "--html", str(page))
    assert result.exit_code == 0, result.output
    assert "已写出" in result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    document = pypdfium2.PdfDocument(pdf.read_bytes())
    try:
        assert "七、违规与整改" in "".join(p.get_textpage().get_text_range() for p in document)
    finally:
        document.close()
    assert "八、各部门考核结果" in page.read_text(encoding="utf-8")

    refused = cli("annual", "2026", "--pdf", str(pdf), "--as", "ga_officer")
    assert refused.exit_code == 2 and "无权" in refused.output
    nothing = cli("annual", "2026")
    assert nothing.exit_code == 2 and "--pdf" in nothing.output


def test_the_charts_give_each_figure_exactly_with_its_link_and_a_chinese_label():
    bars = charts.horizontal_bars(
        [
            charts.Bar("市公安局", 87.456, href="/evaluation/scorecards/2026/departments/2"),
            charts.Bar("<市人社局>", None),
        ],
        title="各部门综合得分",
        unit="分",
        maximum=100,
    )
    assert 'role="img" aria-label="各部门综合得分"' in bars and "<script" not in bars
    assert '<a href="/evaluation/scorecards/2026/departments/2"><rect' in bars
    assert "<title>市公安局：87.46分</title>" in bars
    assert "<title>&lt;市人社局&gt;：未测量</title>" in bars and "<市人社局>" not in bars

    months = charts.columns(
        ["1月", "2月"],
        [charts.Series("发现违规", [3, 0]), charts.Series("整改销号", [1, 2])],
        title="每月违规",
        unit="条",
        hrefs=["/supervision/violations?month=1", None],
    )
    assert "<title>1月：发现违规 3条</title>" in months and "<title>2月：整改销号 2条</title>" in months
    assert '<a href="/supervision/violations?month=1">' in months
    assert "2月：发现违规" not in months  # nothing drawn for a zero

    split = charts.split_bar(
        [charts.Share("已确认", 3), charts.Share("已整改", 1)], title="处理状态", unit="条"
    )
    assert "<title>已确认：3条（75.0%）</title>" in split and "已整改 1条（25%）" in split
    for empty in (
        charts.horizontal_bars([], title="空", empty="本年度没有数据"),
        charts.columns(["1月"], [charts.Series("发现违规", [0])], title="空", empty="本年度没有数据"),
        charts.split_bar([charts.Share("已确认", 0)], title="空", empty="本年度没有数据"),
    ):
        assert "本年度没有数据" in empty and "<rect" not in empty
