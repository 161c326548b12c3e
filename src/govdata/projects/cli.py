"""``govdata projects …``: information projects on the command line (PRJ-1, PRJ-2).

Authorisation lives in the services, so these commands act as a named, active user (``--as``) and get
exactly that user's rights and visibility. They read the metadata database only, so they work beside a
running server.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.table import Table

from govdata.core.cli import cli_session, console, reports_problems
from govdata.orgs import service as orgs
from govdata.projects import service
from govdata.projects.enums import ProjectStatus

projects_app = typer.Typer(
    help="政务信息化项目：列出、查看（初审发现与验收报告），以指定用户的身份（权限与可见范围同该用户）",
    no_args_is_help=True,
)

AsUser = Annotated[str, typer.Option("--as", help="以哪个用户的身份执行（用户名），权限与可见范围同该用户")]


@projects_app.command("list")
@reports_problems
def list_projects(
    username: AsUser,
    status: Annotated[ProjectStatus | None, typer.Option(help="状态")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="最多显示几个")] = 50,
) -> None:
    """列出该用户能看到的项目（部门：本部门的；主管部门：全部）。"""
    with cli_session() as session:
        actor = dataclasses.replace(orgs.actor_named(session, username), source="cli")
        rows, total = service.list_projects(session, actor, status=status, limit=limit)
        views = service.project_views(session, actor, rows)
    table = Table("编号", "项目名称", "建设单位", "预编目录", "状态")
    for v in views:
        table.add_row(
            str(v["id"]),
            v["name"],
            v["department_name"] or "",
            f"{len(v['resource_codes'])} 个资源",
            v["status_label"] + ("（不予安排运维经费）" if v["not_funded"] else ""),
        )
    console.print(table)
    console.print(f"共 {total} 个项目" + (f"，显示前 {len(rows)} 个。" if len(rows) < total else "。"))


@projects_app.command("show")
@reports_problems
def show(
    project_id: Annotated[int, typer.Argument(help="项目编号")],
    username: AsUser,
) -> None:
    """显示一个项目：预编目录、初审发现和最近一次验收报告。"""
    with cli_session() as session:
        actor = dataclasses.replace(orgs.actor_named(session, username), source="cli")
        project = service.get_project(session, actor, project_id)
        v = service.project_views(session, actor, [project], full=True)[0]
    console.print(f"[bold]项目 #{v['id']}：{v['name']}（{v['status_label']}）[/bold]")
    facts = Table(show_header=False, box=None)
    rows = [
        ("建设单位", v["department_name"] or ""),
        ("概要", v["summary"]),
        ("预算", f"{v['budget']} 万元" if v["budget"] is not None else "—"),
        ("自建数据中心或平台", "是" if v["builds_own_platform"] else "否"),
        ("预编目录", "；".join(f"{r['code']} {r['name'] or ''}" for r in v["resources"]) or "（无）"),
    ]
    if v["review_reason"]:
        rows.append(("初审意见", v["review_reason"]))
    findings = v["findings"] or {}
    for text in findings.get("blocking", []) + findings.get("flags", []):
        rows.append(("初审发现", text))
    for d in findings.get("duplication", []):
        for e in d["elements"]:
            holders = "、".join(f"{h['department_name']}《{h['name']}》{h['code']}" for h in e["holders"])
            rows.append(("可能重复", f"{d['code']} 的 {e['element']} 已由 {holders} 提供"))
    acceptance = v["acceptance"]
    if acceptance:
        rows.append(("验收", "通过" if acceptance["accepted"] else "未通过，不予安排运维经费"))
        for reason in acceptance["reasons"]:
            rows.append(("未通过原因", reason))
    for name, value in rows:
        facts.add_row(f"[dim]{name}[/dim]", value)
    console.print(facts)
