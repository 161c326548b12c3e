"""``govdata scorecards show 2026`` (the ranking as a table) and ``govdata scorecards close 2026``
(freeze an ended period). Reading runs as the local operator; closing is the data authority's act, so
it runs as a named user (``--as``) or, by default, the first active authority officer."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from govdata.core.auth import Actor, Role
from govdata.core.cli import CLI_ACTOR, cli_session, console, reports_problems
from govdata.core.errors import NotFound
from govdata.evaluation import service
from govdata.orgs import service as orgs

scorecards_app = typer.Typer(help="考核评估：部门排名与锁定考核周期", no_args_is_help=True)


def as_authority(session: Session, username: str | None, doing: str) -> Actor:
    """The user a command acts as: the one named (``--as``), else the first active officer of the
    node's data authority, with that user's own rights (never the platform's)."""
    if username:
        return dataclasses.replace(orgs.actor_named(session, username), source="cli")
    authority = orgs.authority_department(session)
    members = orgs.department_members(session, authority[0]) if authority else []
    officer = next((m for m in members if m.active and Role.authority.value in m.roles), None)
    if officer is None:
        raise NotFound(f"没有在用的主管部门账号，请用 --as 指定以哪个用户的身份{doing}。")
    return dataclasses.replace(orgs.actor_named(session, officer.username), source="cli")


def _fmt(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{100 * float(value):.1f}%"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _print(card: service.Scorecard) -> None:
    state = "已锁定" if card.frozen else "未锁定，实时计算"
    table = Table(title=f"考核评估 {card.period}（{state}）")
    table.add_column("名次", justify="right")
    table.add_column("部门")
    table.add_column("综合得分", justify="right")
    for name in service.MAIN_MEASURES:
        table.add_column(service.MEASURES[name].label_zh, justify="right")
    for item in card.items:
        table.add_row(
            str(item.rank or "—"),
            item.department_name,
            _fmt(item.score, "分"),
            *(_fmt(item.measures.get(n), service.MEASURES[n].unit) for n in service.MAIN_MEASURES),
        )
    console.print(table)


@scorecards_app.command("show")
@reports_problems
def show(period: Annotated[str, typer.Argument(help="考核周期：2026 或 2026-Q3")]) -> None:
    """显示一个考核周期的部门排名。"""
    with cli_session() as session:
        _print(service.scorecard(session, CLI_ACTOR, period))


@scorecards_app.command("close")
@reports_problems
def close(
    period: Annotated[str, typer.Argument(help="考核周期：2026 或 2026-Q3")],
    username: Annotated[str | None, typer.Option("--as", help="以哪个主管部门用户的身份锁定")] = None,
) -> None:
    """锁定已结束的考核周期：保存当时的成绩，之后权重不能再修改。"""
    with cli_session() as session:
        card = service.close_period(session, as_authority(session, username, "锁定"), period)
    console.print(f"已锁定考核周期 {card.period}：{len(card.items)} 个部门的成绩已保存。")
