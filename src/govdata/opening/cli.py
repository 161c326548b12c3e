"""``govdata open …``: the open catalog on the command line (OPN-1, OPN-5).

Commands act as a named, active user (``--as``) and get exactly that user's rights; what they change is
audited under that user's name. ``list`` uses the metadata database only; ``k-report`` and ``publish``
read the data store: with the embedded store (DuckDB, one process at a time) run them while no server
runs, or use the pages or the API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.table import Table

from govdata.core.cli import cli_session, console, reports_problems
from govdata.core.config import get_settings
from govdata.core.errors import Problem
from govdata.core.labels import label
from govdata.opening import service
from govdata.opening.enums import OpenStatus, OpenType
from govdata.orgs import service as orgs
from govdata.store import open_store

open_app = typer.Typer(help="数据开放：开放目录、k-匿名检验、发布（以指定用户的身份）", no_args_is_help=True)

AsUser = Annotated[str, typer.Option("--as", help="以哪个用户的身份执行（用户名），权限与可见范围同该用户")]
Code = Annotated[str, typer.Argument(help="资源代码")]


@contextmanager
def _acting(username: str):
    with cli_session() as session:
        yield session, dataclasses.replace(orgs.actor_named(session, username), source="cli")


@contextmanager
def _store() -> Iterator[Any]:
    try:
        store = open_store(get_settings().resolved_store_url())
    except Exception as exc:  # DuckDB's lock, an unreachable server
        raise Problem(
            "无法打开数据存储（内嵌存储正被平台服务使用时，请在页面或通过 HTTP 接口办理）："
            f"{str(exc).splitlines()[0][:200]}",
            slug="cli",
        ) from exc
    try:
        yield store
    finally:
        store.close()


@open_app.command("list")
@reports_problems
def list_command(
    as_user: AsUser,
    status: Annotated[str | None, typer.Option(help="candidate | preparing | published | withdrawn")] = None,
) -> None:
    """开放候选资源与已开放数据集。"""
    with _acting(as_user) as (session, actor):
        rows = service.list_openings(session, actor, status=status)
        table = Table("资源代码", "名称", "提供部门", "开放类型", "状态", "应急")
        for row in rows:
            table.add_row(
                row.code,
                row.name,
                row.provider_name,
                label(OpenType, row.open_type),
                "候选" if row.status == "candidate" else label(OpenStatus, row.status),
                "是" if row.emergency else "",
            )
        console.print(table)


@open_app.command("k-report")
@reports_problems
def k_report_command(
    code: Code,
    as_user: AsUser,
    quasi: Annotated[str | None, typer.Option(help="准标识符，逗号分隔（缺省为方案中选定的）")] = None,
) -> None:
    """k-匿名检验报告：按准标识符（脱敏后）分组的记录数。"""
    chosen = [c.strip() for c in quasi.split(",") if c.strip()] if quasi else None
    with _acting(as_user) as (session, actor), _store() as store:
        report = service.k_report(session, actor, store, code, chosen)
    console.print(
        f"准标识符：{'、'.join(report.quasi) or '（未选定）'}；记录 {report.rows} 条，分组 {report.groups} 个，"
        f"最小组 {report.smallest if report.smallest is not None else '—'} 条；k = {report.k}："
        + ("[green]通过[/green]" if report.passed else "[red]不通过[/red]")
    )
    for size, groups, rows in report.below:
        console.print(f"  {size} 条的组：{groups} 个（{rows} 条记录）")
    if not report.passed:
        raise typer.Exit(1)


@open_app.command("publish")
@reports_problems
def publish_command(code: Code, as_user: AsUser) -> None:
    """发布到开放目录（须经保密审查，并通过 k-匿名检验）。"""
    with _acting(as_user) as (session, actor), _store() as store:
        found = service.publish(session, actor, store, code)
        console.print(f"已开放：{found.ref.code} {found.ref.name}（{label(OpenType, found.open_type)}）")


from govdata.opening.feed.cli import feed_app  # noqa: E402  (govdata open feed …)

open_app.add_typer(feed_app, name="feed")
