"""``govdata open feed export|import|status``: the one-way open-data feed on the command line
(docs/opening-feed.md). The platform acts in its own name. Both commands read or write the data
store: with the embedded store (DuckDB, one process at a time) run them while no server runs on
that data directory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from govdata.core.cli import CLI_ACTOR, cli_session, console, reports_problems
from govdata.core.config import get_settings
from govdata.core.db import make_engine, make_sessionmaker
from govdata.core.errors import Problem
from govdata.opening.feed import service
from govdata.store import open_store

feed_app = typer.Typer(
    help="开放数据馈送：政务网节点导出签名的开放数据包，互联网门户实例验证后载入（单向）",
    no_args_is_help=True,
)


@contextmanager
def _store() -> Iterator[Any]:
    try:
        store = open_store(get_settings().resolved_store_url())
    except Exception as exc:  # DuckDB's lock, an unreachable server
        raise Problem(
            f"无法打开数据存储（内嵌存储正被平台服务使用时，请先停止服务）：{str(exc).splitlines()[0][:200]}",
            slug="cli",
        ) from exc
    try:
        yield store
    finally:
        store.close()


@feed_app.command("export")
@reports_problems
def export_command(out: Annotated[Path, typer.Argument(help="开放数据包（tar 文件）的保存路径")]) -> None:
    """导出本节点的开放数据包：开放目录、无条件开放数据集的公开数据（已脱敏），以节点密钥签名。"""
    settings = get_settings()
    with cli_session() as session, _store() as store:
        summary = service.export_feed(session, CLI_ACTOR, settings, store, out)
    console.print(
        f"已导出开放数据包 {out}：序号 {summary.sequence}，数据集 {summary.datasets} 个，"
        f"其中附带数据 {summary.with_rows} 个。"
    )


@feed_app.command("import")
@reports_problems
def import_command(path: Annotated[Path, typer.Argument(help="开放数据包（tar 文件）")]) -> None:
    """验证并载入开放数据包（互联网门户实例）：签名、SM3 摘要、序号均须通过，否则整包拒绝。"""
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url())
    try:
        with _store() as store:
            summary = service.import_feed(make_sessionmaker(engine), CLI_ACTOR, settings, store, path)
    finally:
        engine.dispose()
    if summary.unchanged:
        console.print(f"序号 {summary.sequence} 的开放数据包已载入过，未作改动。")
        return
    console.print(
        f"已载入序号 {summary.sequence} 的开放数据包：开放数据集 {len(summary.applied)} 个，"
        f"更新数据 {len(summary.loaded)} 个，撤下 {len(summary.withdrawn)} 个。"
    )


@feed_app.command("status")
def status_command() -> None:
    """本实例最近载入的开放数据包。"""
    state = service.last_import(get_settings())
    if not state:
        console.print("本实例尚未载入开放数据包。")
        return
    console.print(
        f"最近载入：序号 {state.get('sequence')}，载入时间 {state.get('imported_at')}，"
        f"附带数据的数据集 {len(state.get('data') or {})} 个。"
    )
