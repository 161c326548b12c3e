"""The catalog's pages as people read them (#13 item 22) — on both stores: people by name, not login
names; code lists with their labels (性别 1 男、2 女); each version's page with its own status and date;
停用 asks for a reason, kept in the resource's record; related resources and a quality problem's item
picked by name rather than typed as codes."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from govdata.core.audit import AuditEvent
from govdata.web import local_time
from tests.support.catalog import population, publish
from tests.support.pages import HTML, text, web_login

SAME_SITE = {**HTML, "origin": "http://testserver"}
LOGIN_NAMES = ("ga_officer", "dsj_officer", "scjg_officer")


def shown(page: str) -> str:
    page = re.sub(r"<(script|style|code)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(text(page))


def revised(client, as_user, code: str) -> None:
    """市公安局 revises its published resource (version 2) and 市大数据局 publishes the revision."""
    officer = as_user("ga_officer")
    patch = client.patch(
        f"/api/v1/resources/{code}",
        json={"summary": "全市户籍人口（含流动人口）", "reason": "纳入流动人口"},
        headers=officer,
    )
    assert patch.status_code == 200, patch.text
    assert client.post(f"/api/v1/resources/{code}/submit", headers=officer).status_code == 200
    assert client.post(f"/api/v1/resources/{code}/publish", headers=as_user("dsj_officer")).status_code == 200


def test_people_are_named_and_code_lists_are_labelled(client, as_user):
    """#13 item 22: the history and the record name 张丽 and 李明, never ga_officer or dsj_officer; the
    性别 item shows 1 男、2 女."""
    code = publish(client, as_user, "ga_officer", population())
    web_login(client, "rs_user")
    page = shown(client.get(f"/catalog/r/{code}", headers=HTML).text).replace(" 、 ", "、")
    assert "张丽 创建于" in page and "李明 于" in page
    assert not [name for name in LOGIN_NAMES if name in page]
    assert "0 未知的性别、1 男、2 女、9 未说明的性别" in page


def test_each_version_shows_its_own_status_and_date(client, as_user):
    """#13 item 22: version 1, superseded by the revision, reads 已被新版本替代 with its own publication date,
    not the resource's current status and date."""
    code = publish(client, as_user, "ga_officer", population())
    revised(client, as_user, code)
    versions = client.get(f"/api/v1/resources/{code}/versions", headers=as_user("ga_officer")).json()
    by_number = {v["version"]: v for v in (versions if isinstance(versions, list) else versions["items"])}
    assert by_number[1]["status"] == "superseded" and by_number[2]["status"] == "published"
    web_login(client, "rs_user")
    old = client.get(f"/catalog/r/{code}?v=1", headers=HTML).text
    heading = shown(re.search(r"<h1>.*?</h1>", old, re.S).group(0))
    assert "已被新版本替代" in heading and "已发布" not in heading and "第 1 版" in heading
    facts = shown(re.search(r"<dt>状态</dt>.*?</dd>", old, re.S).group(0)).strip()
    assert facts.startswith("状态 已被新版本替代（第 1 版）") and "资源当前为第 2 版，已发布" in facts
    date_1 = shown(re.search(r"<dt>发布日期</dt>.*?</dd>", old, re.S).group(0))
    assert local_time(by_number[1]["published_at"]) in date_1 and "（李明发布）" in date_1
    current = client.get(f"/catalog/r/{code}", headers=HTML).text
    assert "已发布" in shown(re.search(r"<h1>.*?</h1>", current, re.S).group(0))
    date_2 = shown(re.search(r"<dt>发布日期</dt>.*?</dd>", current, re.S).group(0))
    assert local_time(by_number[2]["published_at"]) in date_2


def test_retiring_a_resource_asks_for_a_reason(client, as_user, session):
    """#13 item 22: the 停用 form needs a reason; it is kept in the resource's record and the audit trail."""
    code = publish(client, as_user, "ga_officer", population())
    web_login(client, "dsj_officer")
    page = client.get(f"/catalog/r/{code}", headers=HTML).text
    assert "停用原因" in page and 'name="reason"' in page
    refused = client.post(f"/catalog/r/{code}/retire", data={"reason": " "}, headers=SAME_SITE)
    assert refused.status_code == 422 and "停用原因：必填" in shown(refused.text)
    assert (
        client.get(f"/api/v1/resources/{code}", headers=as_user("dsj_officer")).json()["status"]
        == "published"
    )
    done = client.post(
        f"/catalog/r/{code}/retire",
        data={"reason": "已并入全市人口综合库"},
        headers=SAME_SITE,
        follow_redirects=False,
    )
    assert done.status_code == 303
    record = shown(client.get(f"/catalog/r/{code}", headers=HTML).text)
    assert "停用 李明 第 1 版 已并入全市人口综合库" in record
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "catalog.resource.retired")).one()
    assert "已并入全市人口综合库" in str(event.details)


def test_related_resources_and_a_problems_item_are_picked_by_name(client, as_user):
    """#13 item 22: the compilation form lists the published resources by name for 关联资源; the quality
    problem form lists the resource's items by name."""
    code = publish(client, as_user, "ga_officer", population())
    web_login(client, "ga_officer")
    form = client.get("/catalog/new", headers=HTML).text
    picker = re.search(r'<select name="related_codes".*?</select>', form, re.S).group(0)
    assert f'<option value="{code}"' in picker and "人口基础信息（市公安局）" in html.unescape(picker)
    web_login(client, "rs_user")
    quality = client.get(f"/quality/{code}", headers=HTML).text
    items = re.search(r'<select id="q-item" name="item".*?</select>', quality, re.S).group(0)
    assert '<option value="xb"' in items and ">性别</option>" in items
    reported = client.post(
        f"/quality/{code}/problems",
        data={"description": "性别与户籍登记不一致", "item": "xb"},
        headers=SAME_SITE,
        follow_redirects=False,
    )
    assert reported.status_code == 303, shown(reported.text)[-500:]
