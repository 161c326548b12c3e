"""The ``govdata`` command. Store commands (init, migrate, demo) use the stores directly; the
capabilities' sub-commands live with them."""

from __future__ import annotations

from typing import Annotated

import typer

from govdata.aggregation.cli import ingest, storage
from govdata.catalog.cli import catalog_app
from govdata.core.cli import cli_session, console, reports_problems
from govdata.core.config import get_settings
from govdata.evaluation.cli import scorecards_app
from govdata.evaluation.report.cli import report_app
from govdata.objections.cli import objections_app
from govdata.opening.cli import open_app
from govdata.orgs.cli import regions_app, users_app
from govdata.platform.cli import audit_app, calendar_app, policy_app
from govdata.projects.cli import projects_app
from govdata.sharing.cli import share_app

app = typer.Typer(help="GovData Hub 政务数据资源管理平台", no_args_is_help=True, add_completion=False)
app.add_typer(regions_app, name="regions")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(calendar_app, name="calendar")
app.add_typer(policy_app, name="policy")
app.add_typer(catalog_app, name="catalog")
app.add_typer(share_app, name="share")
app.add_typer(objections_app, name="objections")
app.add_typer(open_app, name="open")
app.add_typer(projects_app, name="projects")
app.add_typer(report_app, name="report")
app.add_typer(scorecards_app, name="scorecards")
app.command("ingest")(ingest)
app.command("storage")(storage)

LOGINS_FILE = "demo-logins.txt"


@app.command()
@reports_problems
def migrate() -> None:
    """把元数据库升级到当前版本（Alembic）。"""
    from govdata.bootstrap import migrate as run_migrations

    run_migrations(get_settings().resolved_database_url())
    console.print("元数据库已是最新版本。")


@app.command()
@reports_problems
def init(region: Annotated[str | None, typer.Option(help="本节点的行政区划代码，如 410800")] = None) -> None:
    """创建（或升级）存储：元数据库、数据存储、行政区划代码和平台管理员账号。"""
    from govdata.bootstrap import initialise

    settings = get_settings()
    with console.status("正在初始化存储…"):
        result = initialise(settings, node_region=region)
    if not result.created:
        console.print("存储已存在，已应用待执行的迁移。")
        return
    console.print(f"已创建存储（{settings.data_dir}），载入行政区划 {result.regions_added} 条。")
    if result.admin_password:
        console.print(f"平台管理员 admin 的初始密码：[bold]{result.admin_password}[/bold]（仅显示这一次）")


@app.command()
@reports_problems
def demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="存储中已有部门时不做任何改动")] = False,
) -> None:
    """创建演示地区（焦作市）：部门、各角色的用户、应用系统及其访问凭证，并打印演示账号。"""
    from sqlalchemy import func, select

    from govdata.bootstrap import initialise
    from govdata.demo import REGION, create_demo, write_logins
    from govdata.orgs.models import Department

    settings = get_settings()
    logins_path = settings.data_dir / LOGINS_FILE
    with console.status("正在准备存储…"):
        result = initialise(settings, node_region=REGION)
    with cli_session() as session:
        if session.scalar(select(func.count()).select_from(Department)):
            if not if_empty:
                console.print("[red]错误：[/red]存储中已有部门，演示数据只能在新存储中创建。")
                raise typer.Exit(2)
            if logins_path.exists():
                console.print(logins_path.read_text(encoding="utf-8"))
            return
        with console.status("正在创建演示地区…"):
            logins, token = create_demo(session)
    with console.status("正在载入演示数据…"):
        _load_demo_data(settings)
    console.print(write_logins(logins_path, result.admin_password, logins, token))


def _load_demo_data(settings) -> None:
    """The demo's batches (``aggregation.demo``), into the stores directly: no server holds them yet."""
    from govdata.aggregation.demo import create_demo_data
    from govdata.core.db import make_engine, make_sessionmaker
    from govdata.store import open_store

    engine = make_engine(settings.resolved_database_url())
    store = open_store(settings.resolved_store_url())
    try:
        store.initialise()
        create_demo_data(make_sessionmaker(engine), store, settings.data_dir)
    finally:
        store.close()
        engine.dispose()


@app.command()
@reports_problems
def tick() -> None:
    """运行一次共享、疑义复核与监督巡检（平时每小时自动运行）：超期未答复的申请和超期未复核的疑义报主管部门督办并记录违规，授权到期，提醒即将到期的授权；发现其他违规，逾期未整改的整改通知升级督办。"""
    from govdata.core.cli import CLI_ACTOR
    from govdata.objections import service as objections
    from govdata.sharing import service as sharing
    from govdata.supervision import notices

    with cli_session() as session:
        done = sharing.tick(session, CLI_ACTOR)
        reviews = objections.tick(session, CLI_ACTOR)
        supervised = notices.tick(session, CLI_ACTOR)
    console.print(
        f"共享期限巡检完成：{done.get('escalated', 0)} 件申请超期，已报主管部门督办；"
        f"{done.get('expired', 0)} 个授权到期；{done.get('expiring', 0)} 个授权即将到期，已提醒使用部门。"
    )
    console.print(
        f"疑义复核巡检完成：{reviews.get('escalated', 0)} 件疑义复核超期，已报主管部门督办并记录违规；"
        f"{reviews.get('settled', 0)} 件更正已核对入库结果。"
    )
    found = sum(v for k, v in supervised.items() if k != "escalated")
    console.print(
        f"监督巡检完成：新发现 {found} 条违规线索（重复发现不重复记录）；"
        f"{supervised.get('escalated', 0)} 件整改通知逾期，已升级督办。"
    )


@app.command()
@reports_problems
def worker(
    threads: Annotated[int, typer.Option(min=1, max=32, help="同时运行的作业数")] = 1,
) -> None:
    """运行后台作业（批次、事件处理）。PostgreSQL 部署中可与服务进程分开运行多个；内嵌存储由服务进程自行运行。"""
    import signal
    import threading

    from govdata import capabilities
    from govdata.aggregation.cli import open_data_store
    from govdata.core.db import make_engine, make_sessionmaker

    settings = get_settings()
    store = open_data_store(settings.resolved_store_url())
    engine = make_engine(settings.resolved_database_url())
    jobs = capabilities.make_worker(settings, make_sessionmaker(engine), store, threads=threads)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    jobs.start(reclaim_all=store.dialect == "duckdb")
    console.print(f"作业进程已启动（{threads} 个并发），按 Ctrl+C 停止。")
    try:
        stop.wait()
    finally:
        console.print("正在等待进行中的作业结束…")
        jobs.stop()
        store.close()
        engine.dispose()


def proxy_options(settings) -> dict[str, object]:
    """How uvicorn treats forwarding headers: only from ``GOVDATA_TRUSTED_PROXIES`` (none by default).

    uvicorn's own default trusts ``X-Forwarded-For`` from 127.0.0.1, so any local client could name
    its address, dodging the login limit and spoofing the audited source address."""
    proxies = settings.trusted_proxy_list()
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies}


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="监听地址")] = None,
    port: Annotated[int | None, typer.Option(help="端口")] = None,
) -> None:
    """启动平台（网页与 API）。"""
    import uvicorn

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    console.print(f"GovData Hub 已启动：http://{host}:{port}/ （API 文档 /docs）")
    uvicorn.run(
        "govdata.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="warning",
        **proxy_options(settings),
    )


def main() -> None:
    app()
