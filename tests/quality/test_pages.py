"""The 质量 pages (QUA-1, QUA-2, NF-5) as a person with a browser session sees them, on both stores:
scores with their SVG charts and criteria, the report form for consumers, the answer forms for the
provider, errors in Chinese next to the form."""

from __future__ import annotations

import re

from tests.support.batches import good_rows
from tests.support.pages import HTML, browser, nav_labels, text
from tests.support.quality import load


def page(client, code: str):
    return client.get(f"/quality/{code}", headers=HTML)


def test_quality_page_shows_scores_charts_and_criteria(client, as_user, population_code):
    rows = good_rows(6)
    rows[1][2] = "7"
    load(client, as_user("ga_officer"), population_code, rows, policy="accept_valid")
    user = browser(client.app, "rs_user")
    response = page(user, population_code)
    assert response.status_code == 200, response.text[:500]
    html = response.text
    assert html.count("<svg") == 2 and 'role="img"' in html and "<script" not in html
    visible = text(html)
    for label in ("规范性", "完整性", "准确性", "一致性", "时效性", "可访问性", "综合得分", "未测量"):
        assert label in visible
    conformance = round(100 * (1 - 1 / 30), 2)  # one code-list error in 6 rows × 5 items
    assert f"规范性：{conformance:g} 分" in html
    assert "代码表" in visible and "反馈质量问题" in visible
    assert "数据质量" in nav_labels(html)


def test_report_and_answer_through_the_forms(client, as_user, population_code):
    load(client, as_user("ga_officer"), population_code, good_rows(3))
    consumer = browser(client.app, "rs_user")
    empty = consumer.post(f"/quality/{population_code}/problems", data={"description": ""}, headers=HTML)
    assert empty.status_code == 422 and "问题描述" in text(empty.text)
    sent = consumer.post(
        f"/quality/{population_code}/problems",
        data={"description": "出生日期与身份证号码不符", "item": "csrq"},
        headers=HTML,
    )
    assert sent.status_code == 200 and "已提交质量问题" in text(sent.text)
    assert "出生日期与身份证号码不符" in text(sent.text) and "待答复" in text(sent.text)
    assert "确认问题" not in sent.text  # the consumer gets no answer forms
    problem_id = int(re.search(r'id="problem-(\d+)"', sent.text).group(1))

    provider = browser(client.app, "ga_officer")
    shown = page(provider, population_code)
    assert "确认问题" in shown.text and "驳回" in shown.text and "反馈质量问题" not in text(shown.text)
    target = f"/quality/{population_code}/problems/{problem_id}/answer"
    refused = provider.post(target, data={"action": "reject", "reason": ""}, headers=HTML)
    assert refused.status_code == 422 and "驳回理由" in text(refused.text)
    done = provider.post(target, data={"action": "reject", "reason": "出生日期经核对无误"}, headers=HTML)
    assert done.status_code == 200 and "已驳回" in text(done.text)
    assert "驳回理由：出生日期经核对无误" in text(page(consumer, population_code).text)
    again = provider.post(target, data={"action": "confirm"}, headers=HTML)
    assert again.status_code == 409 and "不能再确认" in text(again.text)

    overview = provider.get("/quality", headers=HTML)
    assert overview.status_code == 200 and "综合得分" in text(overview.text)
    authority = browser(client.app, "dsj_officer").get("/quality", headers=HTML)
    assert authority.status_code == 200 and "各部门数据质量评分" in text(authority.text)
    assert "焦作市公安局" in text(authority.text)


def test_draft_quality_page_is_not_found_for_others(client, as_user):
    from tests.support.catalog import population

    code = client.post("/api/v1/resources", json=population(), headers=as_user("ga_officer")).json()["code"]
    assert page(browser(client.app, "rs_officer"), code).status_code == 404
    own = page(browser(client.app, "ga_officer"), code)
    assert own.status_code == 200 and "尚无可测量的维度" in text(own.text)
    anonymous = client.get(f"/quality/{code}", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
