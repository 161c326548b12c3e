"""``govdata regions …`` and ``govdata users …``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from govdata.core.auth import Role
from govdata.core.cli import CLI_ACTOR, cli_session, console, reports_problems
from govdata.orgs import regions, service
from govdata.orgs.schemas import UserIn

regions_app = typer.Typer(help="行政区划代码（GB/T 2260）", no_args_is_help=True)
users_app = typer.Typer(help="用户", no_args_is_help=True)


@regions_app.command("import")
@reports_problems
def import_regions(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV：code,name")],
) -> None:
    """从 CSV 导入行政区划代码（UTF-8，列为 code,name，表头可选）。"""
    with cli_session() as session:
        result = regions.import_regions_csv(session, CLI_ACTOR, path.read_bytes())
    console.print(f"已导入 {result['rows']} 条：新增 {result['added']}，更新 {result['updated']}。")


@users_app.command("create")
@reports_problems
def create_user(
    username: str,
    display_name: Annotated[str, typer.Option("--name", help="姓名")],
    role: Annotated[list[Role], typer.Option("--role", help="角色，可多次给出")],
    department_id: Annotated[int | None, typer.Option("--department")] = None,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
) -> None:
    """创建用户（以本机运维身份）。"""
    with cli_session() as session:
        user = service.create_user(
            session,
            CLI_ACTOR,
            UserIn(
                username=username,
                password=password,
                display_name=display_name,
                department_id=department_id,
                roles=role,
            ),
        )
    console.print(f"已创建用户 {user.username}（编号 {user.id}）。")


@users_app.command("list")
@reports_problems
def list_users(limit: int = 200) -> None:
    """列出用户。"""
    with cli_session() as session:
        items, total = service.list_users(session, CLI_ACTOR, limit=limit, offset=0)
        table = Table("编号", "用户名", "姓名", "部门", "角色", "状态")
        for u in items:
            table.add_row(
                str(u.id),
                u.username,
                u.display_name,
                u.department.name if u.department else "—",
                "、".join(u.roles),
                "正常" if u.active else "停用",
            )
    console.print(table)
    console.print(f"共 {total} 个用户。")
