"""The policy page (#13 item 20, POL-1): Chinese labels only; the authority or the administrator
changes the active profile's values in place, checked as a profile file is, with a reason, and every
change is kept in the page's history; the example profiles download as TOML files that load back."""

from __future__ import annotations

import html
import re

from govdata.core.policy import DEFAULT_PROFILE, Deadlines, Switches, parse_profile_text
from tests.support.pages import HTML, text, web_login

SAME_SITE = {**HTML, "origin": "http://testserver"}


def edit_form(reason: str = "依据省政府办公厅通知调整", **changes: str | list[str]) -> list[tuple[str, str]]:
    """What the edit form posts for the default profile, with ``changes`` (form field → value)."""
    fields: list[tuple[str, str]] = []
    body = DEFAULT_PROFILE.body()
    for name in Deadlines.model_fields:
        rule = body["deadlines"][name]
        fields.append((f"deadline-{name}-days", "" if rule is None else str(rule["working_days"])))
        if rule and rule["statutory"]:
            fields.append((f"deadline-{name}-statutory", "1"))
        fields.append((f"deadline-{name}-source", "" if rule is None else rule["source"]))
    for name in Switches.model_fields:
        value = body["switches"][name]
        for v in value if isinstance(value, list) else [value]:
            fields.append((f"switch-{name}", v))
    fields.append(("reason", reason))
    replaced = {k for k in changes}
    fields = [(k, v) for k, v in fields if k not in replaced]
    for key, value in changes.items():
        for v in value if isinstance(value, list) else [value]:
            fields.append((key, v))
    return fields


def post_edit(client, fields):
    data: dict[str, list[str]] = {}
    for key, value in fields:
        data.setdefault(key, []).append(value)
    return client.post("/policy/edit", data=data, headers=SAME_SITE)


def visible(page: str) -> str:
    page = re.sub(r"<(script|style|code)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(text(page))


def alerts(page: str) -> str:
    found = re.search(r'role="alert">(.*?)</div>', page, re.S)
    return html.unescape(text(found.group(1))) if found else ""


def test_the_authority_changes_a_deadline_in_place_and_it_is_kept_in_the_history(client, as_user):
    """#13 item 20: edited in place with a reason; the new value applies at once; the history names the
    person, the field in Chinese, the values before and after, and the reason."""
    web_login(client, "dsj_officer")
    page = client.get("/policy", headers=HTML).text
    assert "修改期限和开关" in page and "尚无修改记录" in page
    form = client.get("/policy?edit=1", headers=HTML).text
    assert 'name="deadline-share_reply-days"' in form and "保存修改" in form

    saved = post_edit(client, edit_form(**{"deadline-share_reply-days": "5"}))
    assert saved.status_code == 200, alerts(saved.text)
    assert "已修改“默认（依据各地办法）”：有条件共享申请的答复期限·期限（工作日）" in visible(saved.text)
    policy = client.get("/api/v1/policy", headers=as_user("ga_officer")).json()
    assert policy["name"] == "default" and policy["deadlines"]["share_reply"]["working_days"] == 5

    history = visible(client.get("/policy", headers=HTML).text).split("修改历史", 1)[1]
    assert "李明" in history and "dsj_officer" not in history
    assert "有条件共享申请的答复期限·期限（工作日）： 10 个工作日 → 5 个工作日" in history
    assert "依据省政府办公厅通知调整" in history

    switched = post_edit(
        client,
        edit_form(
            reason="本地办法：目录由提供部门发布，事后核查",
            **{"deadline-share_reply-days": "5", "switch-catalog_publisher": "provider"},
        ),
    )
    assert switched.status_code == 200, alerts(switched.text)
    history = visible(switched.text).split("修改历史", 1)[1]
    newest, older = history.index("本地办法"), history.index("依据省政府办公厅通知调整")
    assert newest < older  # the newest change first
    assert "资源目录的发布者： 主管部门统一发布 → 提供部门发布、事后核查" in history


def test_the_policy_page_speaks_chinese_only(client):
    """#13 item 20: no field name, switch value or profile name in English on the page."""
    for username in ("ga_officer", "dsj_officer", "admin"):
        web_login(client, username)
        for address in ("/policy", "/policy?edit=1"):
            shown = visible(client.get(address, headers=HTML).text)
            for english in ("share_reply", "compliance_check", "catalog_publisher", "objectors", "authority"):
                assert english not in shown, (username, address, english)
            assert "default" not in shown and "submission" not in shown


def test_invalid_values_are_refused_with_every_reason_and_nothing_changes(client, as_user):
    """#13 item 20: validated as a profile file is; the form keeps what was entered."""
    web_login(client, "admin")
    refused = post_edit(
        client,
        edit_form(
            reason="",
            **{
                "deadline-share_reply-days": "400",
                "deadline-catalog_update-days": "",
                "deadline-rectification-days": "十",
            },
        ),
    )
    assert refused.status_code == 422
    shown = alerts(refused.text)
    assert "有条件共享申请的答复期限·期限（工作日）：应不大于 365" not in shown  # days checked first
    assert "修改原因" not in shown or "必填" in shown
    assert "必填：请说明修改的原因或依据" in shown
    assert "法律法规修订或职能变化后更新资源目录的期限·期限（工作日）：必填" in shown
    assert "监督考核发现问题的整改期限·期限（工作日）：应为 0 至 365 之间的整数" in shown
    assert 'value="400"' in refused.text  # what was entered stays in the form

    too_long = post_edit(client, edit_form(**{"deadline-share_reply-days": "400"}))
    assert too_long.status_code == 422
    assert "有条件共享申请的答复期限·期限（工作日）：应不大于 365" in alerts(too_long.text)

    clock = post_edit(client, edit_form(**{"switch-share_reply_clock_start": "authority_check"}))
    assert clock.status_code == 422
    assert "主管部门对共享申请的合规审查期限" in alerts(clock.text) and "必须设置合规审查期限" in alerts(
        clock.text
    )
    nothing = post_edit(client, edit_form())
    assert nothing.status_code == 422 and "没有修改任何期限或开关" in visible(nothing.text)
    unknown = post_edit(client, edit_form(**{"switch-catalog_publisher": "nobody"}))
    assert unknown.status_code == 422 and "资源目录的发布者" in alerts(unknown.text)

    policy = client.get("/api/v1/policy", headers=as_user("ga_officer")).json()
    assert policy["deadlines"]["share_reply"]["working_days"] == 10
    assert policy["switches"]["catalog_publisher"] == "authority"
    assert "尚无修改记录" in client.get("/policy", headers=HTML).text

    # with the compliance check set, the clock may start there
    both = post_edit(
        client,
        edit_form(
            **{
                "switch-share_reply_clock_start": "authority_check",
                "deadline-compliance_check-days": "2",
                "deadline-compliance_check-source": "省级办法",
            }
        ),
    )
    assert both.status_code == 200, alerts(both.text)
    policy = client.get("/api/v1/policy", headers=as_user("ga_officer")).json()
    assert policy["deadlines"]["compliance_check"]["working_days"] == 2
    assert policy["switches"]["share_reply_clock_start"] == "authority_check"


def test_only_the_authority_and_the_administrator_edit(client):
    """#13 item 20: a department officer or an auditor reads the policy and cannot change it."""
    for username in ("ga_officer", "auditor"):
        web_login(client, username)
        page = client.get("/policy?edit=1", headers=HTML).text
        assert "修改期限和开关" not in page and 'action="/policy/edit"' not in page
        refused = post_edit(client, edit_form(**{"deadline-share_reply-days": "5"}))
        assert refused.status_code == 403 and "无权访问" in refused.text
    web_login(client, "dsj_officer")
    cross_site = client.post(
        "/policy/edit",
        data=dict(edit_form(**{"deadline-share_reply-days": "5"})),
        headers={**HTML, "origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    assert "尚无修改记录" in client.get("/policy", headers=HTML).text


def test_example_profiles_download_and_load_back(client):
    """#13 item 20: the complete default and the bundled examples download as TOML, with Chinese
    comments, and read back as the profiles they describe."""
    web_login(client, "ga_officer")
    page = client.get("/policy", headers=HTML).text
    links = re.findall(r'href="(/policy/(?:examples|profiles)/[^"]+)"', page)
    assert "/policy/examples/default.toml" in links and "/policy/examples/province-fast.toml" in links
    full = client.get("/policy/examples/default.toml")
    assert full.status_code == 200 and full.headers["content-type"].startswith("application/toml")
    assert "attachment" in full.headers["content-disposition"]
    assert "# 有条件共享申请的答复期限" in full.text and "authority = 主管部门统一发布" in full.text
    assert parse_profile_text(full.text) == DEFAULT_PROFILE
    fast = parse_profile_text(client.get("/policy/examples/province-fast.toml").text)
    assert fast.deadlines.share_reply.working_days == 5
    assert client.get("/policy/examples/nope.toml", headers=HTML).status_code == 404

    web_login(client, "dsj_officer")
    post_edit(client, edit_form(**{"deadline-share_reply-days": "7"}))
    current = client.get("/policy/profiles/default.toml")
    assert parse_profile_text(current.text).deadlines.share_reply.working_days == 7
