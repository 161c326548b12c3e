"""`govdata share …` and `govdata tick` (SHR-2 … SHR-5): applications, decisions and grants on the command
line act as the named user (`--as`), with the same rules and visibility as the API — on both stores."""

# ruff: noqa: F811  (the fixtures of tests.support.sharing, named as parameters)
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from govdata.cli import app
from govdata.core import clock
from govdata.core.audit import AuditEvent
from govdata.core.config import get_settings
from tests.support.sharing import shared_code, system  # noqa: F401


@pytest.fixture
def cli(settings, monkeypatch) -> Iterator:
    """Run ``govdata …`` against the test's store, as an operator would (GOVDATA_* variables)."""
    for key, value in {
        "GOVDATA_DATA_DIR": str(settings.data_dir),
        "GOVDATA_DATABASE_URL": settings.resolved_database_url(),
        "GOVDATA_STORE_URL": settings.resolved_store_url(),
        "COLUMNS": "240",  # wide enough that tables do not fold codes
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    yield run
    get_settings.cache_clear()


def apply(cli, code: str, system_id: int, *items: str, username: str = "rs_user"):
    today = clock.today()
    args = ["share", "apply", "--as", username, "--resource", code, "--system", str(system_id)]
    for item in items:
        args += ["--item", item]
    return cli(
        *args,
        "--purpose",
        "困难群众参保补贴核定",
        "--scenario",
        "经办人员按公民身份号码核对联系电话",
        "--start",
        today.isoformat(),
        "--end",
        (today + dt.timedelta(days=365)).isoformat(),
        "--mode",
        "query",
    )


def test_apply_decide_list_and_suspend_through_the_cli(cli, client, as_user, session, shared_code, system):
    applied = apply(cli, shared_code, system["id"], "gmsfhm", "xm", "lxdh")
    assert applied.exit_code == 0, applied.output
    found = re.search(
        r"已提交申请 #(\d+)：待答复（待提供部门答复），答复期限 (\d{4}-\d{2}-\d{2})", applied.output
    )
    assert found, applied.output
    application_id = int(found.group(1))
    assert re.search(r"剩 \d+ 个工作日", applied.output)

    queue = cli("share", "applications", "--as", "ga_officer", "--role", "provider")
    assert queue.exit_code == 0, queue.output
    assert "人口基础信息" in queue.output and "焦作市人力资源和社会保障局" in queue.output
    assert "共 1 件申请" in queue.output
    # another department sees nothing of it
    other = cli("share", "applications", "--as", "wj_user")
    assert other.exit_code == 0 and "共 0 件申请" in other.output
    hidden = cli("share", "show", str(application_id), "--as", "wj_user")
    assert hidden.exit_code == 2 and "不存在" in hidden.output

    # a partial approval: 联系电话 withheld, 姓名 served masked
    decided = cli(
        "share", "decide", str(application_id), "partial", "--as", "ga_officer",
        "--item", "gmsfhm", "--item", "xm", "--masked", "xm", "--conditions", "仅限补贴核定使用",
    )  # fmt: skip
    assert decided.exit_code == 0, decided.output
    grant_id = int(re.search(r"部分同意（已答复），授权 #(\d+)", decided.output).group(1))
    shown = cli("share", "show", str(application_id), "--as", "rs_user")
    assert (
        shown.exit_code == 0 and "gmsfhm、xm（脱敏）" in shown.output and "仅限补贴核定使用" in shown.output
    )

    grants = cli("share", "grants", "--as", "rs_user", "--role", "consumer")
    assert grants.exit_code == 0, grants.output
    assert (
        f"{grant_id}" in grants.output and "gmsfhm、xm（脱敏）" in grants.output and "有效" in grants.output
    )

    # only the provider suspends; a reason is required; the API sees the suspension at once
    refused = cli("share", "suspend", str(grant_id), "--as", "rs_user", "--reason", "试试")
    assert refused.exit_code == 2 and "无权" in refused.output
    missing = cli("share", "suspend", str(grant_id), "--as", "ga_officer", "--reason", " ")
    assert missing.exit_code == 2 and "必须说明理由" in missing.output
    suspended = cli("share", "suspend", str(grant_id), "--as", "ga_officer", "--reason", "发现超出用途使用")
    assert suspended.exit_code == 0 and f"授权 #{grant_id}（人口基础信息）已暂停" in suspended.output
    answer = client.get(f"/api/v1/grants/{grant_id}", headers=as_user("rs_user")).json()
    assert (answer["status"], answer["status_reason"]) == ("suspended", "发现超出用途使用")
    session.rollback()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "sharing.grant.suspend"))
    assert event is not None and event.actor == "ga_officer" and event.source == "cli"

    resumed = cli("share", "resume", str(grant_id), "--as", "ga_officer")
    assert resumed.exit_code == 0 and "有效" in resumed.output
    revoked = cli("share", "revoke", str(grant_id), "--as", "ga_officer", "--reason", "业务系统停用")
    assert revoked.exit_code == 0 and "已撤销" in revoked.output


def test_a_refusal_needs_a_reason_and_invalid_options_are_named(cli, shared_code, system):
    application_id = re.search(
        r"#(\d+)", apply(cli, shared_code, system["id"], "gmsfhm", "jzdz").output
    ).group(1)
    bare = cli("share", "decide", application_id, "refuse", "--as", "ga_officer")
    assert bare.exit_code == 2 and "不予共享必须说明理由" in bare.output
    refused = cli(
        "share", "decide", application_id, "refuse", "--as", "ga_officer",
        "--reason", "居住地址涉及个人隐私", "--basis-kind", "law",
    )  # fmt: skip
    assert refused.exit_code == 0 and "不予共享" in refused.output
    unknown = apply(cli, shared_code, system["id"], "nosuchitem")
    assert unknown.exit_code == 2 and "不是该资源的信息项" in unknown.output

    # the consumer disputes, the authority negotiates and then orders the grant (SHR-4)
    assert cli("share", "dispute", application_id, "--as", "ga_officer", "--reason", "x").exit_code == 2
    disputed = cli(
        "share", "dispute", application_id, "--as", "rs_user", "--reason", "办理补贴核定的法定职责所需"
    )
    assert disputed.exit_code == 0 and "异议" in disputed.output
    assert (
        cli(
            "share", "coordinate", application_id, "negotiate", "--as", "dsj_officer", "--note", "召集协商"
        ).exit_code
        == 0
    )
    ordered = cli(
        "share", "coordinate", application_id, "decide", "--as", "dsj_officer",
        "--note", "依法应予共享", "--outcome", "grant", "--item", "jzdz",
    )  # fmt: skip
    assert ordered.exit_code == 0 and "已协调" in ordered.output and "授权 #" in ordered.output


def test_tick_escalates_overdue_applications_and_says_what_it_did(cli, client, as_user, shared_code, system):
    applied = apply(cli, shared_code, system["id"], "gmsfhm", "lxdh")
    application_id = int(re.search(r"#(\d+)", applied.output).group(1))
    quiet = cli("tick")
    assert quiet.exit_code == 0 and "0 件申请超期" in quiet.output
    with clock.frozen(clock.today() + dt.timedelta(days=40)):
        late = cli("tick")
        again = cli("tick")
    assert late.exit_code == 0 and "1 件申请超期，已报主管部门督办" in late.output, late.output
    assert "0 件申请超期" in again.output  # the sweep is idempotent
    answer = client.get(f"/api/v1/applications/{application_id}", headers=as_user("dsj_officer")).json()
    assert answer["status"] == "escalated"
