"""SEC-3 (#13 item 16): the audit log an auditor can read — Chinese action names, objects by name with
links, details laid out, people by their names, filters by action, person, department and date range,
export — and the chain check."""

from __future__ import annotations

import ast
import csv
import html
import io
import re
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import text as sql

from govdata.core import audit, clock
from govdata.core.auth import Actor, Role
from govdata.workbench import audit_log
from tests.support.catalog import create, population
from tests.support.pages import HTML, browser, nav_labels, text, web_login

SRC = Path(__file__).resolve().parents[2] / "src" / "govdata"
COMMENT = "请补充共享条件。"


def rows_of(page: str) -> list[str]:
    table = re.search(r'<table class="audit">.*?</table>', page, re.S).group(0)
    return [
        html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))).strip()
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ][1:]


def _a_returned_resource(client, as_user) -> str:
    officer = as_user("ga_officer")
    code = create(client, officer, population(name="户籍迁移信息"))["code"]
    assert client.post(f"/api/v1/resources/{code}/submit", headers=officer).status_code == 200
    client.post(f"/api/v1/resources/{code}/return", json={"comment": COMMENT}, headers=as_user("dsj_officer"))
    return code


def test_sec3_the_log_says_who_did_what_to_which_object_in_chinese(app, client, as_user):
    """#13 item 16: action names in Chinese, people by name, objects by name with a link to their
    events, details laid out (no raw JSON)."""
    code = _a_returned_resource(client, as_user)
    auditor = browser(app, "auditor")
    page = auditor.get("/audit", headers=HTML)
    assert page.status_code == 200 and "审计日志" in nav_labels(page.text)
    rows = rows_of(page.text)
    returned = next(r for r in rows if "退回资源目录" in r)
    assert "李明" in returned and "数据资源主管部门" in returned and "焦作市大数据管理局" in returned
    assert f"资源 户籍迁移信息（{code}）" in returned and "相关事件" in returned
    assert f"意见 {COMMENT}" in returned and "版本 1" in returned
    assert any("编制资源目录" in r and "张丽" in r and "焦作市公安局" in r for r in rows)
    assert any("登录" in r and "孙燕" in r for r in rows)
    body = page.text.split('<table class="audit">')[1]
    assert '{"' not in html.unescape(body) and "catalog.resource" not in text(body)

    trail = re.search(r'href="(/audit\?object_type=resource&amp;object_id=[^"]+)"', page.text).group(1)
    only = auditor.get(html.unescape(trail), headers=HTML).text
    shown = rows_of(only)
    assert len(shown) == 3 and all(code in r for r in shown)  # created, submitted, returned
    assert f"只看： 资源 户籍迁移信息（{code}）" in text(only)


def test_sec3_filters_by_action_person_department_and_dates(app, client, as_user):
    """#13 item 16: the filters an auditor uses, in Chinese: action, person by name, department, dates."""
    _a_returned_resource(client, as_user)
    auditor = browser(app, "auditor")
    page = auditor.get("/audit", headers=HTML).text
    assert re.search(r'<option value="catalog.resource.returned"\s*>退回资源目录</option>', page)
    assert '<optgroup label="资源目录">' in page and re.search(
        r'<option value="ga_officer"\s*>张丽</option>', page
    )

    exact = rows_of(auditor.get("/audit", params={"action": "catalog.resource.returned"}, headers=HTML).text)
    assert len(exact) == 1 and "退回资源目录" in exact[0]
    family = rows_of(auditor.get("/audit", params={"action": "catalog."}, headers=HTML).text)
    assert len(family) == 3 and all("资源目录" in r for r in family)
    logins = rows_of(auditor.get("/audit", params={"action": "auth.login"}, headers=HTML).text)
    assert logins and all("登录" in r and "登录失败" not in r for r in logins)

    zhang = rows_of(auditor.get("/audit", params={"person": "ga_officer"}, headers=HTML).text)
    assert zhang and all("张丽" in r for r in zhang)
    departments = dict(re.findall(r'<option value="(\d+)"\s*>([^<]+)</option>', page))
    ga = next(i for i, name in departments.items() if name == "焦作市公安局")
    by_department = rows_of(auditor.get("/audit", params={"department_id": ga}, headers=HTML).text)
    assert by_department and all("焦作市公安局" in r for r in by_department)

    today = clock.today()
    all_today = auditor.get(
        "/audit", params={"since": today.isoformat(), "until": today.isoformat()}, headers=HTML
    )
    # the newest events, those of today (a run that starts before midnight in China has older ones)
    dated_today = [r for r in rows_of(page) if r.split()[1] == today.isoformat()]
    assert dated_today and rows_of(all_today.text) == dated_today
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert "没有符合条件的事件" in text(auditor.get("/audit", params={"since": tomorrow}, headers=HTML).text)
    yesterday = (today - timedelta(days=1)).isoformat()
    before = auditor.get("/audit", params={"until": yesterday}, headers=HTML).text
    assert "没有符合条件的事件" in text(before) or all(r.split()[1] <= yesterday for r in rows_of(before))
    wrong = auditor.get("/audit", params={"since": "2026-13-01"}, headers=HTML)
    assert wrong.status_code == 200 and "不是有效的日期" in text(wrong.text)
    backwards = auditor.get("/audit", params={"since": tomorrow, "until": yesterday}, headers=HTML)
    assert "结束日期早于开始日期" in text(backwards.text)


def test_sec3_the_filtered_log_exports_in_chinese(app, client, as_user):
    """#13 item 16: export what the filters select, as CSV or XLSX, with Chinese headers and names."""
    code = _a_returned_resource(client, as_user)
    auditor = browser(app, "auditor")
    exported = auditor.get("/audit/export", params={"format": "csv", "action": "catalog."})
    assert exported.status_code == 200 and exported.headers["x-event-count"] == "3"
    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert lines[0][:7] == ["序号", "时间（北京时间）", "操作人", "账号", "角色", "部门", "动作"]
    assert [line[6] for line in lines[1:]] == ["退回资源目录", "提交资源目录", "编制资源目录"]
    assert lines[1][2] == "李明" and lines[1][9] == f"户籍迁移信息（{code}）" and COMMENT in lines[1][14]

    workbook = auditor.get("/audit/export", params={"format": "xlsx", "person": "ga_officer"})
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "序号" and len(values) > 1 and all(row[2] == "张丽" for row in values[1:])
    page = auditor.get("/audit", params={"person": "ga_officer"}, headers=HTML).text
    assert "/audit/export?person=ga_officer&amp;format=xlsx" in page


def test_sec3_only_auditors_and_administrators_read_the_log(app, client):
    for username in ("ga_officer", "dsj_officer", "citizen"):
        other = browser(app, username)
        assert other.get("/audit", headers=HTML).status_code == 403
        assert other.get("/audit/export", params={"format": "csv"}).status_code == 403
        assert "审计日志" not in nav_labels(other.get("/home", headers=HTML).text)
    web_login(client, "admin")
    assert client.get("/audit", headers=HTML).status_code == 200


def test_sec3_the_log_pages_newest_first_and_checks_the_chain(app, session):
    """The log pages newest first, 50 at a time; the chain check names the first broken event."""
    actor = Actor(kind="user", roles=frozenset({Role.admin}), username="batch")
    for n in range(60):
        audit.record(session, actor, "catalog.imported", "catalog", n)
    session.commit()
    auditor = browser(app, "auditor")
    page = auditor.get("/audit", headers=HTML).text
    seqs = [int(r.split()[0]) for r in rows_of(page)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 50 and "下一页" in page
    second = auditor.get("/audit", params={"offset": 50}, headers=HTML).text
    assert "上一页" in second and set(rows_of(second)).isdisjoint(rows_of(page))

    intact = auditor.get("/audit", params={"verify": "1"}, headers=HTML).text
    assert "审计链完整" in text(intact)
    session.execute(sql("UPDATE audit_events SET actor = 'mallory' WHERE seq = 7"))
    session.commit()
    broken = text(auditor.get("/audit", params={"verify": "1"}, headers=HTML).text)
    assert "审计链断裂" in broken and "事件 7" in broken and "篡改" in broken


# --- every action and detail the code records has its Chinese name ---------------------------------------


def _recorded() -> tuple[set[str], set[str]]:
    """The literal actions and detail keys of every ``audit.record`` call in the code."""
    actions, keys = set(), set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and getattr(node.func.value, "id", "") == "audit"
                and len(node.args) >= 3
            ):
                continue
            action = node.args[2]
            candidates = [action.body, action.orelse] if isinstance(action, ast.IfExp) else [action]
            actions |= {c.value for c in candidates if isinstance(c, ast.Constant)}
            for keyword in node.keywords:
                if keyword.arg == "details" and isinstance(keyword.value, ast.Dict):
                    keys |= {k.value for k in keyword.value.keys if isinstance(k, ast.Constant)}
    return actions, keys


def test_sec3_every_recorded_action_and_detail_has_a_chinese_name():
    """#13 item 16: an action or a detail the code records without a Chinese name would show its code."""
    actions, keys = _recorded()
    assert len(actions) > 50
    missing = sorted(a for a in actions if a not in audit_log.ACTION_LABELS)
    assert not missing, f"actions without a Chinese name in workbench/audit_log.py: {missing}"
    unnamed = sorted(k for k in keys if k not in audit_log.DETAIL_LABELS)
    assert not unnamed, f"detail keys without a Chinese name in workbench/audit_log.py: {unnamed}"
    # the actions made of a state (f-strings): every state they take
    from govdata.aggregation.models import BatchStatus
    from govdata.aggregation.pull_models import RunOutcome
    from govdata.supervision.enums import ViolationStatus

    for status in ("applied", "rejected", "failed"):
        assert BatchStatus(status) and f"aggregation.batch.{status}" in audit_log.ACTION_LABELS
    for outcome in RunOutcome:
        assert f"aggregation.pull.{outcome.value}" in audit_log.ACTION_LABELS
    for status in ViolationStatus:
        assert f"violation.{status.value}" in audit_log.ACTION_LABELS
    for action in ("suspend", "resume", "revoke"):
        assert f"sharing.grant.{action}" in audit_log.ACTION_LABELS
    for mode in ("verify", "query", "export", "changes", "interface"):
        assert f"sharing.data.{mode}" in audit_log.ACTION_LABELS
    assert audit_log.action_label("catalog.something_new") == "资源目录：其他操作"
