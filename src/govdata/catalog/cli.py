"""``govdata catalog import|export|search``: the catalog exchange (CAT-10) and search (CAT-11) on the
command line.

Authorisation lives in the services, so these commands act as a named, active user (``--as``) and
get exactly that user's rights and visibility; their changes are audited under that user's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.catalog import exchange, service
from govdata.catalog.enums import (
    Grade,
    OpenType,
    ResourceFormat,
    ResourceStatus,
    ShareType,
    UpdateCycle,
)
from govdata.catalog.schemas import SearchParams
from govdata.core.auth import Actor
from govdata.core.cli import cli_session, console, err_console, reports_problems
from govdata.core.errors import InvalidInput, NotFound
from govdata.orgs.models import User
from govdata.orgs.service import actor_for_user

catalog_app = typer.Typer(help="目录：导入、导出（XLSX/JSON）与检索，以指定用户的身份", no_args_is_help=True)

AsUser = Annotated[str, typer.Option("--as", help="以哪个用户的身份执行（用户名），权限与可见范围同该用户")]
PROGRESS_FROM = 50  # rows from which a progress bar is worth showing
SHOWN_CODES = 50

PHASES = {"check": "校验", "apply": "写入", "export": "导出"}


def acting_user(session: Session, username: str) -> Actor:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise NotFound(f"用户 {username} 不存在或已停用。", slug="unknown-user")
    return actor_for_user(user, source="cli")


@contextmanager
def progress_bar() -> Iterator[exchange.Progress]:
    """A Rich progress bar fed by the service's ``progress(phase, done, total)`` callback."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    tasks: dict[str, int] = {}

    def update(phase: str, done: int, total: int) -> None:
        if total < PROGRESS_FROM:
            return
        if phase not in tasks:
            if not tasks:
                bar.start()
            tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total)
        bar.update(tasks[phase], completed=done, total=total)

    try:
        yield update
    finally:
        if tasks:
            bar.stop()


def _print_row_errors(problem: InvalidInput) -> None:
    err_console.print(f"[red]错误：[/red]{problem.detail}")
    errors = problem.extra.get("errors") or []
    if not errors:
        return
    table = Table("工作表", "行", "列", "值", "问题", title=f"共 {len(errors)} 处错误", title_justify="left")
    for error in errors[:200]:
        value = error.get("value")
        table.add_row(
            str(error.get("sheet") or ""),
            str(error.get("row") or ""),
            str(error.get("column") or ""),
            "" if value is None else str(value),
            str(error.get("message") or ""),
        )
    err_console.print(table)
    if len(errors) > 200:
        err_console.print(f"……另有 {len(errors) - 200} 处错误未列出。")


@catalog_app.command("import")
@reports_problems
def import_catalog(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="按模板填写的 .xlsx，或导出格式的 .json")
    ],
    username: AsUser,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只校验，不写入")] = False,
    as_new: Annotated[bool, typer.Option("--as-new", help="忽略资源代码，全部新建为本部门的草稿")] = False,
) -> None:
    """导入目录：全部行校验通过才写入，否则列出每一处错误（工作表、行、列）且不做任何修改。"""
    with path.open("rb") as stream:
        data = exchange.read_limited(stream)
    try:
        with cli_session() as session, progress_bar() as progress:
            actor = acting_user(session, username)
            result = exchange.import_catalog(
                session, actor, data, dry_run=dry_run, as_new=as_new, progress=progress
            )
    except InvalidInput as problem:
        if not problem.extra.get("errors"):
            raise
        _print_row_errors(problem)
        raise typer.Exit(2) from None
    if result.dry_run:
        console.print(
            f"校验通过（未写入）：共 {result.total} 个资源，将新建 {result.to_create} 个、"
            f"更新 {result.to_update} 个，{len(result.unchanged)} 个无变化。"
        )
    else:
        console.print(
            f"已导入 {result.total} 个资源：新建 {len(result.created)} 个（草稿）、"
            f"更新 {len(result.updated)} 个，{len(result.unchanged)} 个无变化。"
        )
        changed = [(code, "新建") for code in result.created] + [(code, "更新") for code in result.updated]
        if changed:
            table = Table("资源代码", "操作")
            for code, action in changed[:SHOWN_CODES]:
                table.add_row(code, action)
            console.print(table)
            if len(changed) > SHOWN_CODES:
                console.print(f"……另有 {len(changed) - SHOWN_CODES} 个资源未列出。")
    for warning in result.warnings:
        console.print(f"[yellow]提示：[/yellow]第 {warning['row']} 行：{warning['message']}")
    if result.skipped:
        console.print(f"未导入 {len(result.skipped)} 个本部门不能修改的资源：")
        for row in result.skipped[:SHOWN_CODES]:
            console.print(f"  {row['code']}：{row['reason']}")
        if len(result.skipped) > SHOWN_CODES:
            console.print(f"……另有 {len(result.skipped) - SHOWN_CODES} 个未列出。")


@catalog_app.command("export")
@reports_problems
def export_catalog(
    output: Annotated[Path, typer.Option("-o", "--output", dir_okay=False, help="写入的文件")],
    username: AsUser,
    file_format: Annotated[
        str | None, typer.Option("--format", help="xlsx 或 json；默认按文件扩展名，否则 xlsx")
    ] = None,
    q: Annotated[str | None, typer.Option("--q", help="关键词")] = None,
    provider_id: Annotated[int | None, typer.Option(help="提供部门编号")] = None,
    classification: Annotated[str | None, typer.Option(help="分类代码前缀")] = None,
    share_type: Annotated[ShareType | None, typer.Option(help="共享类型")] = None,
    open_type: Annotated[OpenType | None, typer.Option(help="开放类型")] = None,
    resource_format: Annotated[ResourceFormat | None, typer.Option(help="资源格式")] = None,
    update_cycle: Annotated[UpdateCycle | None, typer.Option(help="更新周期")] = None,
    grade: Annotated[Grade | None, typer.Option(help="数据分级")] = None,
    status: Annotated[ResourceStatus | None, typer.Option(help="状态")] = None,
    sort: Annotated[str | None, typer.Option(help="relevance、updated、name、published 或 code")] = None,
) -> None:
    """导出该用户能看到的目录（可加检索条件），XLSX 为模板格式，可修改后再导入。"""
    fmt = (file_format or (output.suffix.lstrip(".").lower() if output.suffix else "") or "xlsx").lower()
    if fmt not in ("xlsx", "json"):
        raise InvalidInput(f"导出格式只能是 xlsx 或 json，而不是“{fmt}”。")
    filters = SearchParams.parse(
        q=q,
        provider_id=provider_id,
        classification=classification,
        share_type=share_type,
        open_type=open_type,
        format=resource_format,
        update_cycle=update_cycle,
        grade=grade,
        status=status,
        sort=sort,
    )
    with cli_session() as session, progress_bar() as progress:
        actor = acting_user(session, username)
        exported = exchange.export_catalog(session, actor, filters.to_query(), fmt, progress=progress)
    output.write_bytes(exported.content)
    console.print(f"已导出 {exported.count} 个资源到 {output}。")


@catalog_app.command("search")
@reports_problems
def search_catalog(
    username: AsUser,
    q: Annotated[str | None, typer.Argument(help="关键词，支持两字中文词，如 人口、社保")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="最多显示几条")] = 20,
) -> None:
    """检索目录（该用户能看到的资源），按相关度排序。"""
    with cli_session() as session:
        actor = acting_user(session, username)
        query = SearchParams.parse(q=q).to_query(limit=limit)
        result = service.search_resources(session, actor, query)
        table = Table("资源代码", "资源名称", "提供部门", "共享类型", "开放类型", "更新周期", "状态")
        for resource in result.items:
            table.add_row(
                resource.code,
                resource.name,
                resource.provider.name,
                ShareType(resource.share_type).label,
                OpenType(resource.open_type).label,
                UpdateCycle(resource.update_cycle).label,
                ResourceStatus(resource.status).label,
            )
    console.print(table)
    shown = len(result.items)
    console.print(f"共 {result.total} 个资源" + (f"，显示前 {shown} 个。" if shown < result.total else "。"))
