"""The objections pages (COR-1 … COR-4, NF-5) as people with a browser use them, on both stores: the
grant holder files from a query answer, the provider's queue counts working days, the officer asks for
an extension and the head approves it, the officer corrects, the filer's list shows the outcome and
the authority's list the overdue ones; the provider enters an objection raised off the platform."""

# ruff: noqa: F811  (the fixtures of tests.support, named as parameters)
from __future__ import annotations

import datetime as dt
import re

from govdata.core import clock
from tests.support.objections import BASE_ITEMS, query, records  # noqa: F401
from tests.support.pages import HTML, browser, nav_labels, text
from tests.support.sharing import grant, shared_code, system  # noqa: F401


def post(page, path: str, form: dict, files: dict | None = None):
    return page.post(path, data=form, files=files, headers=HTML, follow_redirects=False)


def test_file_extend_and_correct_through_the_pages_COR1_COR2_COR4(
    app, client, as_user, shared_code, system, records
):
    granted = grant(client, as_user, shared_code, system["id"], BASE_ITEMS)
    rs, ga, head, authority = (browser(app, u) for u in ("rs_user", "ga_officer", "ga_head", "dsj_officer"))
    person = records[2]
    # the grant's query answer offers "提出疑义" on the record
    answer = post(rs, f"/sharing/grants/{granted['id']}/query", {"keys": person["gmsfhm"]})
    assert answer.status_code == 200
    link = f"/objections/new?resource={shared_code}&amp;key={person['gmsfhm']}"
    assert link in answer.text
    form = rs.get(link.replace("&amp;", "&"), headers=HTML)
    labels = re.findall(r'<label for="c-[^"]+">([^<]+)', form.text)
    assert form.status_code == 200 and "姓名" in labels and "公民身份号码" not in labels
    filed = post(
        rs,
        "/objections/new",
        {
            "resource_code": shared_code,
            "key": person["gmsfhm"],
            "item_code": ["xm", "csrq"],
            "item_value": ["陈新名", ""],
            "reason": "户籍已更名",
        },
        files={"file": ("户口簿.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    assert filed.status_code == 303, text(filed.text)[:500]
    location = filed.headers["location"]
    oid = int(re.fullmatch(r"/objections/(\d+)\?done=filed", location).group(1))
    shown = text(rs.get(location, headers=HTML).text)
    assert "疑义已提交" in shown and "户口簿.pdf" in shown and "陈新名" in shown

    # the provider's queue, with the working-day countdown; the record flagged on the resource page
    queue = ga.get("/objections", headers=HTML)
    assert "疑义复核" in nav_labels(queue.text)
    row = re.search(rf'<tr id="objection-{oid}".*?</tr>', queue.text, re.S).group(0)
    assert re.search(r"剩 \d+ 个工作日", text(row)) and "陈静" in text(row)
    panel = text(ga.get(f"/catalog/r/{shared_code}", headers=HTML).text)
    assert "疑义复核中" in panel and person["gmsfhm"] in panel
    # the officer asks for five more working days; the head approves, once
    asked = post(
        ga, f"/objections/{oid}/extension-request", {"working_days": "5", "reason": "需调取户籍档案"}
    )
    assert asked.status_code == 303 and asked.headers["location"].endswith("done=extension_requested")
    assert "批准延期" not in ga.get(f"/objections/{oid}", headers=HTML).text  # not the officer's to approve
    assert f"#{oid}" in text(head.get("/objections?tab=approvals", headers=HTML).text)
    approved = post(head, f"/objections/{oid}/extend", {"working_days": "5", "reason": "需调取户籍档案"})
    assert approved.status_code == 303, text(approved.text)[:500]
    page = text(head.get(approved.headers["location"], headers=HTML).text)
    assert "复核期限已延长" in page and "批准延长复核期限 5 个工作日" in page
    assert "批准延期" not in head.get(f"/objections/{oid}", headers=HTML).text  # no second extension

    # the officer corrects with the claimed value; the page waits for the batch
    corrected = post(
        ga,
        f"/objections/{oid}/resolve",
        {"outcome": "corrected", "value_code": ["xm"], "value": ["陈新名"], "reason": "已核实"},
    )
    assert corrected.status_code == 303, text(corrected.text)[:500]
    assert corrected.headers["location"].endswith("done=corrected")
    assert query(client, as_user("ga_officer"), shared_code, person["gmsfhm"])["items"][0]["xm"] == "陈新名"
    mine = rs.get("/objections?tab=mine", headers=HTML)
    row = text(re.search(rf'<tr id="objection-{oid}".*?</tr>', mine.text, re.S).group(0))
    assert "已更正" in row and "已核实" in row
    # the authority sees it, without the record's key or values
    seen = text(authority.get(f"/objections/{oid}", headers=HTML).text)
    assert person["gmsfhm"] not in seen and "陈新名" not in seen and "仅提出方和提供部门可见" in seen


def test_the_provider_enters_one_raised_off_the_platform_and_the_authority_lists_it_overdue(
    app, shared_code, records
):
    ga, authority = browser(app, "ga_officer"), browser(app, "dsj_officer")
    received = clock.today() - dt.timedelta(days=40)  # ten working days have passed since
    form = {
        "resource_code": shared_code,
        "key": records[4]["gmsfhm"],
        "item_code": ["hjdz"],
        "item_value": ["焦作市解放区民主路4号院"],
        "reason": "市民来电反映户籍地址门牌号有误",
        "off_platform": "1",
        "filer_name": "市民 王某",
    }
    missing = post(ga, "/objections/new", form)
    assert missing.status_code == 422 and "收到日期" in text(missing.text)
    entered = post(ga, "/objections/new", {**form, "received_on": received.isoformat()})
    assert entered.status_code == 303, text(entered.text)[:500]
    assert entered.headers["location"].endswith("done=entered")
    oid = int(re.search(r"/objections/(\d+)", entered.headers["location"]).group(1))
    detail = text(ga.get(f"/objections/{oid}", headers=HTML).text)
    assert "录入线下提出的疑义" in detail and received.isoformat() in detail and "已超期" in detail
    overdue = authority.get("/objections?tab=overdue", headers=HTML)
    assert f'id="objection-{oid}"' in overdue.text and "已超期" in text(overdue.text)
    # an auditor has no objections menu
    assert "疑义复核" not in nav_labels(browser(app, "auditor").get("/home", headers=HTML).text)
