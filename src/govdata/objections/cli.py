"""``govdata objections …``: objections and their review on the command line (COR-1 … COR-4).

Authorisation lives in the services, so these commands act as a named, active user (``--as``) and get
exactly that user's rights and visibility; what they change is audited under that user's name.
``list``, ``show``, ``request-extension``, ``extend`` and ``reject`` use the metadata database only, so
they work beside a running server. ``file`` and ``correct`` read the record in the data store: with the
embedded store (DuckDB, one process at a time) run them while no server runs, or use the pages or the
API. A correction is queued as a batch, which the platform's job worker applies (the server, or
``govdata worker``); the objection becomes ``corrected`` when it is applied.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlalchemy.orm import Session

from govdata.core.auth import Actor
from govdata.core.cli import cli_session, console, reports_problems
from govdata.core.config import get_settings
from govdata.core.errors import InvalidInput, Problem, validation_problem
from govdata.core.labels import label
from govdata.objections import service
from govdata.objections.enums import Channel, ObjectionStatus, Outcome
from govdata.objections.schemas import ExtendIn, ObjectionIn, ResolveIn
from govdata.orgs import service as orgs
from govdata.store import open_store

objections_app = typer.Typer(
    help="疑义与复核：提出疑义、延长复核期限、复核结果，以指定用户的身份（权限与可见范围同该用户）",
    no_args_is_help=True,
)

AsUser = Annotated[str, typer.Option("--as", help="以哪个用户的身份执行（用户名），权限与可见范围同该用户")]
ObjectionId = Annotated[int, typer.Argument(help="疑义编号")]
Days = Annotated[int | None, typer.Option("--days", min=1, help="延长的工作日数（不填即策略规定的上限）")]


class StoreBusy(Problem):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, slug="cli", title="Command failed")


@contextmanager
def acting(username: str) -> Iterator[tuple[Session, Actor]]:
    """A unit of work on the configured store, acting as ``username``."""
    with cli_session() as session:
        yield session, dataclasses.replace(orgs.actor_named(session, username), source="cli")


@contextmanager
def data_store() -> Iterator[Any]:
    """The data store, opened directly (refused clearly while a server holds the embedded one)."""
    try:
        store = open_store(get_settings().resolved_store_url())
    except Exception as exc:  # DuckDB's lock, an unreachable server
        raise StoreBusy(
            "无法打开数据存储（内嵌存储正被平台服务使用时，请在页面或通过 HTTP 接口办理）："
            f"{str(exc).splitlines()[0][:200]}"
        ) from exc
    try:
        yield store
    finally:
        store.close()


def _parse(model, **data):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc.errors(), prefix="参数有误") from None


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values or []:
        code, sep, text = value.partition("=")
        if not sep or not code.strip():
            raise InvalidInput(f"{option} 应写成 信息项代码=值，如 {option} xm=张三")
        found[code.strip()] = text
    return found


def _deadline(session: Session, objection) -> str:
    deadline = service.deadline_of(session, objection)
    if deadline is None:
        return "—"
    text = deadline.due_date.isoformat() + ("（暂定）" if deadline.provisional else "")
    left = service.working_days_left(session, objection)
    if left is not None:
        text += f"，剩 {left} 个工作日" if left >= 0 else f"，已超期 {-left} 个工作日"
    if objection.extended:
        text += f"（已延长 {objection.extension_days} 个工作日）"
    return text


def _summary(session: Session, objection) -> str:
    text = f"疑义 #{objection.id}：{label(ObjectionStatus, objection.status)}"
    if objection.status == ObjectionStatus.under_review:
        text += f"，复核期限 {_deadline(session, objection)}"
        if objection.correction_batch_id:
            text += f"，更正批次 #{objection.correction_batch_id} 入库中"
    elif objection.late:
        text += "（逾期答复）"
    return text


@objections_app.command("list")
@reports_problems
def list_objections(
    username: AsUser,
    role: Annotated[
        str | None, typer.Option(help="filer（本部门提出的）或 provider（对本部门数据的）")
    ] = None,
    status: Annotated[ObjectionStatus | None, typer.Option(help="状态")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="只列超期的")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500, help="最多显示几条")] = 50,
) -> None:
    """列出该用户能看到的疑义（本部门提出的和对本部门数据的；主管部门：全部），含复核期限。"""
    if role not in (None, "filer", "provider"):
        raise typer.BadParameter("应为 filer 或 provider", param_hint="--role")
    with acting(username) as (session, actor):
        rows, total = service.list_objections(
            session, actor, role=role, status=status.value if status else None, overdue=overdue, limit=limit
        )
        departments = orgs.department_names(session, {o.provider_id for o in rows})
        table = Table("编号", "资源", "提出方", "提供部门", "状态", "复核期限")
        for o in rows:
            table.add_row(
                str(o.id),
                f"{o.resource_name}（{o.resource_code}）",
                o.filer_name,
                departments.get(o.provider_id, ""),
                label(ObjectionStatus, o.status) + ("（逾期答复）" if o.late else ""),
                _deadline(session, o) if o.status == ObjectionStatus.under_review else "—",
            )
    console.print(table)
    console.print(f"共 {total} 件疑义" + (f"，显示前 {len(rows)} 件。" if len(rows) < total else "。"))


@objections_app.command("show")
@reports_problems
def show(objection_id: ObjectionId, username: AsUser) -> None:
    """显示一件疑义：记录、信息项、理由、期限与复核结果。"""
    with acting(username) as (session, actor):
        o = service.get_objection(session, actor, objection_id)
        visible = actor.department_id in (o.provider_id, o.filer_department_id)
        console.print(f"[bold]{_summary(session, o)}[/bold]")
        facts = Table(show_header=False, box=None)
        rows = [
            ("资源", f"{o.resource_name}（{o.resource_code}）"),
            ("记录", service.shown_key(o.record_key) if visible else "（仅提出方和提供部门可见）"),
            ("提出方", o.filer_name + ("（线下提出）" if o.channel == Channel.off_platform else "")),
            ("收到日期", o.received_on.isoformat()),
            ("理由", o.reason),
            ("复核期限", _deadline(session, o)),
        ]
        if visible:
            rows.insert(2, ("疑义项", "；".join(f"{c} → {v}" for c, v in o.items.items())))
        if o.extended:
            rows.append(
                (
                    "延期",
                    f"{o.extension_days} 个工作日，{o.extended_by_name or o.extended_by} 批准：{o.extension_reason}",
                )
            )
        if o.outcome and o.status != ObjectionStatus.under_review:
            rows.append(
                (
                    "复核结果",
                    label(Outcome, o.outcome) + (f"：{o.resolution_reason}" if o.resolution_reason else ""),
                )
            )
        if o.correction_error and o.status == ObjectionStatus.under_review:
            rows.append(("更正", o.correction_error))
        for name, value in rows:
            facts.add_row(f"[dim]{name}[/dim]", value)
        console.print(facts)


@objections_app.command("file")
@reports_problems
def file_objection(
    username: AsUser,
    resource: Annotated[str, typer.Option("--resource", help="资源代码，如 101/002000001")],
    key: Annotated[str, typer.Option("--key", help="记录的关键标识，如公民身份号码")],
    item: Annotated[
        list[str], typer.Option("--item", help="有疑义的信息项及认为正确的值：代码=值，可多次给出")
    ],
    reason: Annotated[str, typer.Option(help="疑义理由")],
    received_on: Annotated[
        datetime | None,
        typer.Option(
            "--received-on", formats=["%Y-%m-%d"], help="线下提出的疑义：实际收到的日期（提供部门录入）"
        ),
    ] = None,
    filer_name: Annotated[str | None, typer.Option("--filer-name", help="线下提出疑义的单位或个人")] = None,
) -> None:
    """提出疑义（或由提供部门录入线下提出的疑义）。读取数据存储中的记录。"""
    with acting(username) as (session, actor), data_store() as store:
        data = _parse(
            ObjectionIn,
            resource_code=resource,
            key=key,
            items=_pairs(item, "--item"),
            reason=reason,
            received_on=received_on.date() if received_on else None,
            filer_name=filer_name,
        )
        objection = service.file_objection(session, actor, store, data)
        console.print(f"已提出{_summary(session, objection)}。")


@objections_app.command("request-extension")
@reports_problems
def request_extension(
    objection_id: ObjectionId,
    username: AsUser,
    reason: Annotated[str, typer.Option(help="理由")],
    days: Days = None,
) -> None:
    """申请延长复核期限（提供部门的目录管理员），由部门负责人批准。"""
    with acting(username) as (session, actor):
        objection = service.request_extension(
            session, actor, objection_id, _parse(ExtendIn, reason=reason, working_days=days)
        )
        console.print(f"已申请延期：{_summary(session, objection)}。")


@objections_app.command("extend")
@reports_problems
def extend(
    objection_id: ObjectionId,
    username: AsUser,
    reason: Annotated[str, typer.Option(help="延长理由")],
    days: Days = None,
) -> None:
    """批准延长复核期限（提供部门负责人；仅一次，自原定期限起算）。"""
    with acting(username) as (session, actor):
        objection = service.extend(
            session, actor, objection_id, _parse(ExtendIn, reason=reason, working_days=days)
        )
        console.print(f"已延长：{_summary(session, objection)}。")


@objections_app.command("reject")
@reports_problems
def reject(
    objection_id: ObjectionId, username: AsUser, reason: Annotated[str, typer.Option(help="维持原数据的理由")]
) -> None:
    """复核结果：维持原数据（须说明理由），反馈提出方。"""
    with acting(username) as (session, actor):
        settings = get_settings()
        objection = service.resolve(
            session,
            actor,
            None,  # keeping the data reads nothing from the store
            settings.data_dir,
            objection_id,
            _parse(ResolveIn, outcome=Outcome.rejected, reason=reason),
        )
        console.print(f"已答复：{_summary(session, objection)}。")


@objections_app.command("correct")
@reports_problems
def correct(
    objection_id: ObjectionId,
    username: AsUser,
    value: Annotated[
        list[str] | None, typer.Option("--value", help="更正后的值：代码=值（不填即按疑义主张的值）")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="复核意见")] = None,
) -> None:
    """复核结果：更正数据。以批次入库（由平台的作业进程运行），入库后自动反馈提出方。"""
    settings = get_settings()
    with acting(username) as (session, actor), data_store() as store:
        data = _parse(
            ResolveIn, outcome=Outcome.corrected, reason=reason, values=_pairs(value, "--value") or None
        )
        objection = service.resolve(session, actor, store, settings.data_dir, objection_id, data)
        console.print(
            f"已提交更正：批次 #{objection.correction_batch_id} 已排队，由平台的作业进程入库；"
            "入库后疑义标记为已更正并反馈提出方。"
        )
