"""``govdata audit …``, ``govdata calendar …`` and ``govdata policy …``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from govdata.core import policy
from govdata.core.cli import CLI_ACTOR, cli_session, console, err_console, reports_problems
from govdata.platform import service

audit_app = typer.Typer(help="审计日志", no_args_is_help=True)
calendar_app = typer.Typer(help="工作日历", no_args_is_help=True)
policy_app = typer.Typer(help="政策配置", no_args_is_help=True)


@audit_app.command("verify")
@reports_problems
def verify() -> None:
    """校验审计哈希链；链断裂时指出第一个断点并以非零状态退出。"""
    with cli_session() as session, console.status("正在校验审计哈希链…"):
        result = service.verify_audit(session, CLI_ACTOR)
    if result.ok:
        console.print(f"[green]审计链完整[/green]：共校验 {result.checked} 个事件。")
        return
    broken = result.first_broken or {}
    err_console.print(
        f"[red]审计链断裂[/red]：第一个断点为事件 {broken.get('id')}"
        f"（{broken.get('at') or '时间未知'}）：{broken.get('reason')}；此前 {result.checked} 个事件完好。"
    )
    raise typer.Exit(1)


@calendar_app.command("deadline")
@reports_problems
def deadline(
    start: Annotated[str, typer.Argument(help="事件日期 YYYY-MM-DD")],
    working_days: Annotated[int, typer.Argument(help="工作日数")],
) -> None:
    """计算期限：第 1 个工作日为事件日之后的第一个工作日。"""
    try:
        start_date = date.fromisoformat(start)
    except ValueError:
        err_console.print(f"[red]错误：[/red]日期 {start!r} 无效，应为 YYYY-MM-DD。")
        raise typer.Exit(2) from None
    with cli_session() as session:
        result = service.deadline(session, CLI_ACTOR, start_date, working_days)
    console.print(f"{start_date} 后第 {working_days} 个工作日：{result.date}")
    if result.note:
        console.print(result.note)


@calendar_app.command("import")
@reports_problems
def import_year(
    year: int,
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV：date,kind（holiday/workday 或 休/班）")
    ],
    note: Annotated[str | None, typer.Option(help="来源，如通知文号")] = None,
) -> None:
    """导入一年的放假与调休安排，并重算暂定期限。"""
    with cli_session() as session:
        result = service.import_calendar_file(session, CLI_ACTOR, year, path.read_bytes(), note)
    console.print(
        f"已导入 {year} 年安排：节假日 {result.holidays} 天、调休上班 {result.workdays} 天；重算期限 {result.recomputed} 个。"
    )


@policy_app.command("show")
@reports_problems
def show() -> None:
    """显示当前生效的政策配置。"""
    with cli_session() as session:
        profile = service.active_policy(session, CLI_ACTOR)
    console.print_json(json.dumps(profile.model_dump(mode="json"), ensure_ascii=False))


@policy_app.command("load")
@reports_problems
def load(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="TOML 或 JSON 文件")],
    activate: Annotated[bool, typer.Option(help="保存后立即启用")] = False,
) -> None:
    """从文件加载政策配置（只需写出与默认值不同的项）。"""
    profile = policy.load_profile_file(path)
    with cli_session() as session:
        service.save_policy(session, CLI_ACTOR, profile, activate=activate)
    console.print(f"已保存政策配置 {profile.name}（{profile.label}）{'并启用' if activate else ''}。")


@policy_app.command("activate")
@reports_problems
def activate(name: str) -> None:
    """启用已保存的政策配置。"""
    with cli_session() as session:
        service.activate_policy(session, CLI_ACTOR, name)
    console.print(f"已启用政策配置 {name}。")
