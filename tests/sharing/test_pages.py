"""The sharing pages (SHR-2 … SHR-7, NF-5) as people with a browser use them, on both stores: each role
sees its queue, the forms post and change state (apply, partial approval, query under the grant,
suspension, refusal, dispute and coordination), a third department gets 404, and an auditor sees no
数据共享."""

# ruff: noqa: F811  (the fixtures of tests.support.sharing, named as parameters)
from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

from govdata.core import clock
from tests.support.pages import HTML, browser, nav_labels, text
from tests.support.sharing import (  # noqa: F401
    grant,
    people,
    shared_code,
    system,
)

PURPOSE = "困难群众参保补贴核定"
SCENARIO = "经办人员在补贴核定环节按公民身份号码核对联系电话"


def apply_form(code: str, system_id: int, items: list[str], **extra) -> dict:
    today = clock.today()
    form = {
        "resource": code,
        "system_id": str(system_id),
        "items": items,
        "purpose": PURPOSE,
        "scenario": SCENARIO,
        "legal_basis": "《中华人民共和国社会保险法》",
        "period_start": today.isoformat(),
        "period_end": (today + dt.timedelta(days=365)).isoformat(),
        "modes": ["query", "verify"],
    }
    form.update(extra)
    return form


def post(page, path: str, form: dict):
    return page.post(path, data=form, headers=HTML, follow_redirects=False)


def applied(page, form: dict) -> int:
    """Post the apply form; the new application's id (from where the page sends one)."""
    response = post(page, "/sharing/apply", form)
    assert response.status_code == 303, text(response.text)[:600]
    found = re.fullmatch(r"/sharing/applications/(\d+)\?done=\w+", response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def test_a_consumer_applies_the_provider_approves_in_part_and_the_consumer_queries_masked(
    app, client, shared_code, system
):
    rs, ga = browser(app, "rs_user"), browser(app, "ga_officer")

    # the catalog's resource page offers 申请共享 to another department, with the registration facts
    resource_page = rs.get(f"/catalog/r/{shared_code}", headers=HTML)
    assert resource_page.status_code == 200
    assert f'href="/sharing/apply?resource={quote(shared_code, safe="/")}"' in resource_page.text
    shown = text(resource_page.text)
    assert "申请共享" in shown and "共享申请函（加盖公章）" in shown and "不得向第三方提供" in shown

    # the apply form: the items with level and share type, the consumer's system, the modes offered
    form_page = rs.get(f"/sharing/apply?resource={shared_code}", headers=HTML)
    assert form_page.status_code == 200
    shown = text(form_page.text)
    assert "联系电话" in shown and "有条件共享" in shown and "无条件共享" in shown
    assert "养老保险待遇资格认证系统" in shown and "比对验证" in shown and "数据安全承诺书" in shown

    # the scenario is mandatory: the form comes back with the entered values and the error
    missing = post(
        rs, "/sharing/apply", apply_form(shared_code, system["id"], ["gmsfhm", "xm"], scenario=" ")
    )
    assert missing.status_code == 422
    assert "具体应用场景" in text(missing.text) and PURPOSE in missing.text

    application_id = applied(
        rs, apply_form(shared_code, system["id"], ["gmsfhm", "xm", "lxdh"], masked_items=["lxdh"])
    )
    mine = rs.get(f"/sharing/applications/{application_id}", headers=HTML)
    assert mine.status_code == 200
    shown = text(mine.text)
    assert "待提供部门答复" in shown and "个工作日" in shown and "提出申请" in shown

    # the provider's queue: the application with its working-day countdown
    queue = ga.get("/sharing", headers=HTML)
    assert queue.status_code == 200
    row = re.search(rf'<tr id="application-{application_id}".*?</tr>', queue.text, re.S)
    assert row, text(queue.text)[:800]
    assert "人口基础信息" in text(row.group(0)) and "3 个信息项" in text(row.group(0))
    assert re.search(r"剩 \d+ 个工作日", text(row.group(0)))

    # approving fewer items is a partial approval; xm served masked
    wrong = post(
        ga,
        f"/sharing/applications/{application_id}/decision",
        {"decision": "approve", "items": ["gmsfhm", "xm"], "masked": ["xm"]},
    )
    assert wrong.status_code == 422 and "部分同意" in text(wrong.text)
    decided = post(
        ga,
        f"/sharing/applications/{application_id}/decision",
        {
            "decision": "partial",
            "items": ["gmsfhm", "xm"],
            "masked": ["xm"],
            "conditions": "仅限补贴核定使用",
        },
    )
    assert decided.status_code == 303, text(decided.text)[:600]
    after = rs.get(f"/sharing/applications/{application_id}", headers=HTML).text
    assert "部分同意" in text(after) and "仅限补贴核定使用" in text(after) and "不提供" in text(after)
    grant_id = int(re.search(r'href="/sharing/grants/(\d+)"', after).group(1))

    # the consumer queries under the grant: masked as granted, with the receipt's digest
    person = people(1)[0]
    answer = post(rs, f"/sharing/grants/{grant_id}/query", {"keys": person["gmsfhm"]})
    assert answer.status_code == 200, text(answer.text)[:600]
    shown = text(answer.text)
    assert person["gmsfhm"] in shown and "居**" in shown and person["xm"] not in shown
    assert "SM3 摘要" in shown and "共 1 条" in shown
    assert re.search(r"<code>[0-9a-f]{64}</code>", answer.text)
    # a filter on an item served masked would tell its clear values: the service refuses it
    masked_filter = post(rs, f"/sharing/grants/{grant_id}/query", {"item": "xm", "value": person["xm"]})
    assert masked_filter.status_code == 403
    assert "按授权脱敏提供，不能作为筛选条件" in text(masked_filter.text)

    # the provider suspends it (a reason is required); the consumer's next query is refused
    no_reason = post(ga, f"/sharing/grants/{grant_id}/suspend", {"reason": " "})
    assert no_reason.status_code == 422 and "必须说明理由" in text(no_reason.text)
    suspended = post(
        ga,
        f"/sharing/grants/{grant_id}/suspend",
        {"reason": "发现超出申请用途使用", "back": "/sharing?tab=provided"},
    )
    assert (
        suspended.status_code == 303 and suspended.headers["location"] == "/sharing?tab=provided&done=suspend"
    )
    provided = text(ga.get("/sharing?tab=provided", headers=HTML).text)
    assert "已暂停" in provided and "发现超出申请用途使用" in provided
    refused = post(rs, f"/sharing/grants/{grant_id}/query", {"keys": person["gmsfhm"]})
    assert refused.status_code == 403
    assert "该共享授权已被提供部门暂停：发现超出申请用途使用" in text(refused.text)

    # the grant page tells its history; the usage page shows the calls the service answered or
    # refused (the masked filter, and the query under the suspended grant), with charts
    history = text(rs.get(f"/sharing/grants/{grant_id}", headers=HTML).text)
    assert "授权生效" in history and "暂停授权 · 张丽" in history
    used = ga.get("/sharing/usage", headers=HTML)
    assert used.status_code == 200 and used.text.count('class="share-chart"') == 3
    shown = text(used.text)
    assert "共 3 次调用" in shown and "成功 1" in shown and "拒绝 2" in shown
    assert "陈静" in shown  # the caller by name, not by username


def test_each_role_sees_its_own_lists_and_an_auditor_sees_no_sharing(app, client, shared_code, system):
    rs = browser(app, "rs_user")
    application_id = applied(rs, apply_form(shared_code, system["id"], ["gmsfhm", "lxdh"]))

    consumer = rs.get("/sharing", headers=HTML)
    assert consumer.status_code == 200 and "数据共享" in nav_labels(consumer.text)
    shown = text(consumer.text)
    assert "我的申请（1）" in shown and "我的授权" in shown and "待办申请" not in shown
    assert f"#{application_id}" in shown and "待答复" in shown

    provider = text(browser(app, "ga_officer").get("/sharing", headers=HTML).text)
    assert "待办申请（1）" in provider and "本部门授权" in provider and "合规审查" not in provider

    authority = browser(app, "dsj_officer").get("/sharing", headers=HTML)
    shown = text(authority.text)
    assert authority.status_code == 200
    assert "合规审查" in shown and "超期督办" in shown and "异议协调" in shown and "我的申请" not in shown
    assert f"#{application_id}" in text(
        browser(app, "dsj_officer").get("/sharing?tab=all", headers=HTML).text
    )

    auditor = browser(app, "auditor")
    assert "数据共享" not in nav_labels(auditor.get("/home", headers=HTML).text)
    assert auditor.get("/sharing", headers=HTML).status_code == 403


def test_a_third_department_gets_404_on_applications_and_grants(app, client, as_user, shared_code, system):
    granted = grant(client, as_user, shared_code, system["id"], ["gmsfhm", "xm", "lxdh"])
    for username in ("wj_user", "scjg_officer"):
        other = browser(app, username)
        assert (
            other.get(f"/sharing/applications/{granted['application_id']}", headers=HTML).status_code == 404
        )
        assert other.get(f"/sharing/grants/{granted['id']}", headers=HTML).status_code == 404
        assert (
            f'href="/sharing/grants/{granted["id"]}"'
            not in other.get("/sharing?tab=grants", headers=HTML).text
        )
    # another department's officer cannot suspend it either, and learns nothing of it
    answer = post(
        browser(app, "scjg_officer"), f"/sharing/grants/{granted['id']}/suspend", {"reason": "试探"}
    )
    assert answer.status_code == 404
    assert (
        client.get(f"/api/v1/grants/{granted['id']}", headers=as_user("rs_user")).json()["status"] == "active"
    )


def test_a_refusal_needs_a_reason_then_the_consumer_disputes_and_the_authority_orders_a_grant(
    app, client, shared_code, system
):
    rs, ga, dsj = browser(app, "rs_user"), browser(app, "ga_officer"), browser(app, "dsj_officer")
    application_id = applied(rs, apply_form(shared_code, system["id"], ["gmsfhm", "jzdz"]))
    path = f"/sharing/applications/{application_id}"

    without_reason = post(ga, f"{path}/decision", {"decision": "refuse", "basis_kind": "law"})
    assert without_reason.status_code == 422 and "不予共享必须说明理由" in text(without_reason.text)
    assert "待答复" in text(ga.get(path, headers=HTML).text)
    refused = post(
        ga,
        f"{path}/decision",
        {
            "decision": "refuse",
            "reason": "居住地址涉及个人隐私",
            "basis_kind": "law",
            "basis": "《个人信息保护法》",
        },
    )
    assert refused.status_code == 303

    # only the consumer gets the dispute form; it sends the application to the authority
    assert 'action="' + path + '/dispute"' in rs.get(path, headers=HTML).text
    assert 'action="' + path + '/dispute"' not in ga.get(path, headers=HTML).text
    assert post(rs, f"{path}/dispute", {"reason": "补贴核定须核实居住地"}).status_code == 303
    queue = text(dsj.get("/sharing?tab=coordination", headers=HTML).text)
    assert "异议协调（1）" in queue and "补贴核定须核实居住地" in queue

    assert post(dsj, f"{path}/coordinate", {"step": "negotiate", "note": "已组织双方协商"}).status_code == 303
    ordered = post(
        dsj,
        f"{path}/coordinate",
        {
            "step": "decide",
            "note": "依法责令提供",
            "outcome": "grant",
            "items": ["gmsfhm", "jzdz"],
            "masked": ["jzdz"],
            "back": "/sharing?tab=coordination",
        },
    )
    assert (
        ordered.status_code == 303 and ordered.headers["location"] == "/sharing?tab=coordination&done=decide"
    )
    shown = text(rs.get(path, headers=HTML).text)
    assert "已协调" in shown and "主管部门协商" in shown and "主管部门协调决定：责令提供" in shown
    assert "查看授权" in shown


def test_attachments_are_uploaded_on_the_application_page(app, client, shared_code, system):
    rs = browser(app, "rs_user")
    application_id = applied(rs, apply_form(shared_code, system["id"], ["gmsfhm", "lxdh"]))
    path = f"/sharing/applications/{application_id}"
    pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
    sent = rs.post(
        f"{path}/attachments",
        files={"file": ("共享申请函.pdf", pdf, "application/pdf")},
        headers=HTML,
        follow_redirects=False,
    )
    assert sent.status_code == 303, text(sent.text)[:400]
    page = rs.get(path, headers=HTML).text
    assert "共享申请函.pdf" in page
    link = re.search(rf'href="(/api/v1/applications/{application_id}/attachments/\d+)"', page).group(1)
    assert rs.get(link).content == pdf
    script = rs.post(
        f"{path}/attachments",
        files={"file": ("run.pdf", b"#!/bin/sh\necho hi\n", "application/pdf")},
        headers=HTML,
        follow_redirects=False,
    )
    assert script.status_code == 422 and "只接受 PDF" in text(script.text)
    # the provider may read the materials but not add to them
    assert "共享申请函.pdf" in browser(app, "ga_officer").get(path, headers=HTML).text
    assert 'enctype="multipart/form-data"' not in browser(app, "ga_officer").get(path, headers=HTML).text


def test_a_resource_of_share_type_none_offers_a_request_for_coordination(app, client, as_user, system):
    from tests.support.catalog import population, publish

    body = population(
        name="在押人员信息",
        share_type="none",
        share_conditions=None,
        legal_basis="《中华人民共和国监狱法》",
        legal_basis_kind="law",
        share_modes=["query"],
    )
    code = publish(client, as_user, "ga_officer", body)
    rs = browser(app, "rs_user")
    panel = text(rs.get(f"/catalog/r/{code}", headers=HTML).text)
    assert "请求主管部门协调" in panel and "不予共享" in panel
    form = text(rs.get(f"/sharing/apply?resource={code}", headers=HTML).text)
    assert "不能直接申请" in form
    application_id = applied(
        rs, apply_form(code, system["id"], ["gmsfhm"], modes=["query"], request_coordination="1")
    )
    shown = text(rs.get(f"/sharing/applications/{application_id}", headers=HTML).text)
    assert "主管部门协调中" in shown and "请求主管部门协调" in shown
    assert f"#{application_id}" in text(
        browser(app, "dsj_officer").get("/sharing?tab=coordination", headers=HTML).text
    )


def test_the_provider_sees_counts_on_its_resource_page_and_usage_only_its_own(
    app, client, as_user, shared_code, system
):
    granted = grant(
        client, as_user, shared_code, system["id"], ["gmsfhm", "xm", "csrq"], modes=["query", "verify"]
    )
    assert granted["status"] == "active"
    person = people(1)[0]
    rs = browser(app, "rs_user")
    assert post(rs, f"/sharing/grants/{granted['id']}/query", {"keys": person["gmsfhm"]}).status_code == 200
    verified = post(
        rs,
        f"/sharing/grants/{granted['id']}/verify",
        {"key": person["gmsfhm"], "claim_item": ["xm", "csrq"], "claim_value": [person["xm"], "1900-01-01"]},
    )
    assert verified.status_code == 200
    answer = re.search(r'<section class="card" id="answer".*?</section>', verified.text, re.S).group(0)
    assert re.findall(r"<td>(.+?)</td><td>.*?>(一致|不一致)<", answer) == [
        ("姓名", "一致"),
        ("出生日期", "不一致"),
    ]
    assert "1985" not in text(answer)  # never a stored value
    # a value left blank is not compared, and the others keep their items
    partly = post(
        rs,
        f"/sharing/grants/{granted['id']}/verify",
        {"key": person["gmsfhm"], "claim_item": ["xm", "csrq"], "claim_value": ["", "1900-01-01"]},
    )
    answer = re.search(r'<section class="card" id="answer".*?</section>', partly.text, re.S).group(0)
    assert re.findall(r"<td>(.+?)</td><td>.*?>(一致|不一致)<", answer) == [("出生日期", "不一致")]

    panel = text(browser(app, "ga_officer").get(f"/catalog/r/{shared_code}", headers=HTML).text)
    assert (
        "共享申请 1 件" in panel
        and "共享授权 1 个" in panel
        and "申请共享" not in panel.split("数据共享")[-1]
    )

    own = text(browser(app, "ga_officer").get("/sharing/usage", headers=HTML).text)
    assert "共 3 次调用" in own
    none = text(browser(app, "wj_user").get("/sharing/usage", headers=HTML).text)
    assert "共 0 次调用" in none and "所选范围内没有调用记录" in none


def test_an_overdue_application_is_highlighted_for_the_provider_and_the_authority(
    app, client, session, shared_code, system
):
    from govdata.sharing import service

    rs = browser(app, "rs_user")
    application_id = applied(rs, apply_form(shared_code, system["id"], ["gmsfhm", "lxdh"]))
    with clock.frozen(clock.today() + dt.timedelta(days=40)):
        assert service.sweep(session)["escalated"] == 1
        session.commit()
    row = re.search(
        rf'<tr id="application-{application_id}" class="(\w*)".*?</tr>',
        browser(app, "ga_officer").get("/sharing", headers=HTML).text,
        re.S,
    )
    assert row and row.group(1) == "overdue" and "已超期督办" in text(row.group(0))
    escalated = text(browser(app, "dsj_officer").get("/sharing?tab=escalated", headers=HTML).text)
    assert "超期督办（1）" in escalated and f"#{application_id}" in escalated
    # the provider may still answer it
    late = post(
        browser(app, "ga_officer"),
        f"/sharing/applications/{application_id}/decision",
        {"decision": "approve", "items": ["gmsfhm", "lxdh"]},
    )
    assert late.status_code == 303
    assert "已同意" in text(rs.get(f"/sharing/applications/{application_id}", headers=HTML).text)
