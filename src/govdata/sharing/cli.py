"""``govdata share …``: share applications, decisions and grants on the command line (SHR-2 … SHR-5).

Authorisation lives in the services, so these commands act as a named, active user (``--as``) and get
exactly that user's rights and visibility; what they change is audited under that user's name. They
use the metadata database only (never the data store), so they work beside a running server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.table import Table
from sqlalchemy.orm import Session

from govdata.catalog.enums import LegalBasisKind, ShareMode
from govdata.core.auth import Actor
from govdata.core.cli import cli_session, console, reports_problems
from govdata.core.errors import InvalidInput, validation_problem
from govdata.core.labels import label
from govdata.orgs import service as orgs
from govdata.sharing import service
from govdata.sharing.enums import (
    ApplicationStatus,
    CoordinationOutcome,
    CoordinationStep,
    Decision,
    GrantStatus,
    Phase,
)
from govdata.sharing.schemas import ApplicationIn, CheckIn, CoordinateIn, DecisionIn, DisputeIn
from govdata.sharing.web.common import FIELD_NAMES
from govdata.web import field_messages

share_app = typer.Typer(
    help="数据共享：共享申请、答复与授权，以指定用户的身份（权限与可见范围同该用户）", no_args_is_help=True
)

AsUser = Annotated[str, typer.Option("--as", help="以哪个用户的身份执行（用户名），权限与可见范围同该用户")]
RoleOption = Annotated[
    str | None, typer.Option("--role", help="consumer（本部门提出的）或 provider（本部门提供的）")
]
DateOption = typer.Option(formats=["%Y-%m-%d"])
M = TypeVar("M", bound=BaseModel)


@contextmanager
def acting(username: str) -> Iterator[tuple[Session, Actor]]:
    """A unit of work on the configured store, acting as ``username``. An invalid option is reported
    with the option's Chinese name, one line per field."""
    try:
        with cli_session() as session:
            actor = dataclasses.replace(orgs.actor_named(session, username), source="cli")
            yield session, actor
    except InvalidInput as problem:
        fields = field_messages(problem)
        if not fields:
            raise
        lines = [f"{FIELD_NAMES.get(f.split('.')[0], f)}：{m}" for f, m in fields.items()]
        raise InvalidInput("；".join(lines), slug=problem.slug) from None


def _parse(model: type[M], **data) -> M:
    """The command's options as ``model``; invalid ones become the 422 the API would answer."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc.errors(), prefix="参数有误") from None


def _role(role: str | None) -> str | None:
    if role not in (None, "consumer", "provider"):
        raise typer.BadParameter("应为 consumer 或 provider", param_hint="--role")
    return role


def _deadline(session: Session, application) -> str:
    deadline = service.deadline_of(session, application)
    if deadline is None:
        return "—"
    text = deadline.due_date.isoformat() + ("（暂定）" if deadline.provisional else "")
    left = service.working_days_left(session, application)
    if left is not None:
        text += f"，剩 {left} 个工作日" if left >= 0 else f"，已超期 {-left} 个工作日"
    return text


def _summary(session: Session, application) -> str:
    text = f"申请 #{application.id}：{label(ApplicationStatus, application.status)}（{label(Phase, application.phase)}）"
    if application.grant_id:
        text += f"，授权 #{application.grant_id}"
    if service.deadline_of(session, application) is not None and application.phase != Phase.decided:
        text += f"，答复期限 {_deadline(session, application)}"
    return text


@share_app.command("applications")
@reports_problems
def list_applications(
    username: AsUser,
    role: RoleOption = None,
    status: Annotated[ApplicationStatus | None, typer.Option(help="状态")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="最多显示几条")] = 50,
) -> None:
    """列出该用户能看到的共享申请（本部门提出的和本部门提供的；主管部门：全部），含答复期限。"""
    with acting(username) as (session, actor):
        rows, total = service.list_applications(
            session, actor, role=_role(role), status=status.value if status else None, limit=limit
        )
        departments = orgs.department_names(
            session, {d for a in rows for d in (a.provider_id, a.consumer_department_id)}
        )
        table = Table("编号", "资源", "申请部门", "提供部门", "状态", "阶段", "答复期限")
        for a in rows:
            table.add_row(
                str(a.id),
                f"{a.resource_name}（{a.resource_code}）",
                departments.get(a.consumer_department_id, ""),
                departments.get(a.provider_id, ""),
                label(ApplicationStatus, a.status) + ("（逾期答复）" if a.late else ""),
                label(Phase, a.phase),
                _deadline(session, a) if a.phase not in (Phase.decided, Phase.closed) else "—",
            )
    console.print(table)
    console.print(f"共 {total} 件申请" + (f"，显示前 {len(rows)} 件。" if len(rows) < total else "。"))


@share_app.command("show")
@reports_problems
def show(application_id: Annotated[int, typer.Argument(help="申请编号")], username: AsUser) -> None:
    """显示一件共享申请：内容、信息项、答复与授权、办理过程。"""
    with acting(username) as (session, actor):
        a = service.get_application(session, actor, application_id)
        departments = orgs.department_names(session, [a.provider_id, a.consumer_department_id])
        systems = orgs.system_names(session, [a.system_id])
        console.print(f"[bold]{_summary(session, a)}[/bold]")
        facts = Table(show_header=False, box=None)
        for name, value in (
            ("资源", f"{a.resource_name}（{a.resource_code}）"),
            ("提供部门", departments.get(a.provider_id, "")),
            ("申请部门", departments.get(a.consumer_department_id, "")),
            ("应用系统", systems.get(a.system_id, "")),
            ("申请人", a.applicant_name or a.applicant),
            ("使用目的", a.purpose),
            ("应用场景", a.scenario),
            ("依据", a.legal_basis or "—"),
            ("使用期限", f"{a.period_start} 至 {a.period_end}"),
            ("服务方式", "、".join(label(ShareMode, m) for m in a.modes)),
            (
                "申请的信息项",
                "、".join(c + ("（脱敏）" if c in (a.masked_items or []) else "") for c in a.items),
            ),
            ("答复期限", _deadline(session, a)),
        ):
            facts.add_row(f"[dim]{name}[/dim]", value)
        if a.decision:
            given = "、".join(
                d["code"] + ("（脱敏）" if d.get("masked") else "") for d in a.decided_items or []
            )
            facts.add_row("[dim]答复[/dim]", label(Decision, a.decision) + ("（逾期答复）" if a.late else ""))
            if given:
                facts.add_row("[dim]提供的信息项[/dim]", f"{given}，期限至 {a.decided_period_end}")
            for name, value in (("附加条件", a.conditions), ("理由", a.reason)):
                if value:
                    facts.add_row(f"[dim]{name}[/dim]", value)
        if a.dispute_reason:
            facts.add_row("[dim]异议理由[/dim]", a.dispute_reason)
        for entry in a.coordination or []:
            facts.add_row(
                f"[dim]主管部门{label(CoordinationStep, entry.get('step'))}[/dim]", entry.get("note", "")
            )
        console.print(facts)


@share_app.command("apply")
@reports_problems
def apply(
    username: AsUser,
    resource: Annotated[str, typer.Option("--resource", help="资源代码，如 101/002000001")],
    system: Annotated[int, typer.Option("--system", help="使用数据的应用系统编号")],
    item: Annotated[list[str], typer.Option("--item", help="申请的信息项代码，可多次给出")],
    purpose: Annotated[str, typer.Option(help="使用目的")],
    scenario: Annotated[str, typer.Option(help="具体应用场景")],
    start: Annotated[datetime, DateOption],
    end: Annotated[datetime, DateOption],
    mode: Annotated[list[ShareMode], typer.Option("--mode", help="服务方式，可多次给出")] = [ShareMode.query],  # noqa: B006
    masked: Annotated[
        list[str] | None, typer.Option("--masked", help="申请脱敏提供的信息项，可多次给出")
    ] = None,
    legal_basis: Annotated[str | None, typer.Option("--legal-basis", help="法律依据或履职需要")] = None,
    rate_limit: Annotated[int | None, typer.Option(min=1, help="每分钟调用上限")] = None,
    coordination: Annotated[
        bool, typer.Option("--request-coordination", help="不予共享的资源：请求主管部门协调")
    ] = False,
) -> None:
    """提出共享申请：全部为无条件共享的信息项时立即获得授权，否则由提供部门在期限内答复。"""
    with acting(username) as (session, actor):
        data = _parse(
            ApplicationIn,
            resource_code=resource,
            system_id=system,
            items=item,
            masked_items=masked or [],
            purpose=purpose,
            scenario=scenario,
            legal_basis=legal_basis,
            period_start=start.date(),
            period_end=end.date(),
            modes=mode,
            rate_limit=rate_limit,
            request_coordination=coordination,
        )
        application = service.apply(session, actor, data)
        console.print(f"已提交{_summary(session, application)}。")


@share_app.command("decide")
@reports_problems
def decide(
    application_id: Annotated[int, typer.Argument(help="申请编号")],
    decision: Annotated[Decision, typer.Argument(help="approve 同意、partial 部分同意或 refuse 不予共享")],
    username: AsUser,
    item: Annotated[
        list[str] | None, typer.Option("--item", help="提供的信息项（部分同意时），可多次给出")
    ] = None,
    masked: Annotated[list[str] | None, typer.Option("--masked", help="脱敏提供的信息项，可多次给出")] = None,
    end: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="缩短后的使用期限止")] = None,
    conditions: Annotated[str | None, typer.Option(help="附加条件")] = None,
    reason: Annotated[str | None, typer.Option(help="理由（不予共享时必填）")] = None,
    basis_kind: Annotated[
        LegalBasisKind | None, typer.Option("--basis-kind", help="不予共享的依据类别")
    ] = None,
    basis: Annotated[str | None, typer.Option(help="不予共享的依据（法规名称、条款）")] = None,
    rate_limit: Annotated[int | None, typer.Option(min=1, help="每分钟调用上限")] = None,
) -> None:
    """答复共享申请（提供部门）：同意、部分同意（减少信息项、缩短期限、脱敏或附加条件）或不予共享。"""
    with acting(username) as (session, actor):
        data = _parse(
            DecisionIn,
            decision=decision,
            items=item or None,
            masked=masked,
            period_end=end.date() if end else None,
            conditions=conditions,
            reason=reason,
            basis_kind=basis_kind,
            basis=basis,
            rate_limit=rate_limit,
        )
        application = service.decide(session, actor, application_id, data)
        console.print(f"已答复{_summary(session, application)}。")


@share_app.command("grants")
@reports_problems
def list_grants(
    username: AsUser,
    role: RoleOption = None,
    status: Annotated[GrantStatus | None, typer.Option(help="状态")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="最多显示几条")] = 50,
) -> None:
    """列出该用户能看到的共享授权（本部门获得的和本部门提供的；主管部门：全部）。"""
    with acting(username) as (session, actor):
        rows, total = service.list_grants(
            session, actor, role=_role(role), status=status.value if status else None, limit=limit
        )
        departments = orgs.department_names(
            session, {d for g in rows for d in (g.provider_id, g.consumer_department_id)}
        )
        systems = orgs.system_names(session, {g.system_id for g in rows})
        table = Table("编号", "资源", "使用部门 · 应用系统", "提供部门", "信息项", "有效期", "状态")
        for g in rows:
            items = "、".join(i["code"] + ("（脱敏）" if i.get("masked") else "") for i in g.items)
            status_text = label(GrantStatus, g.status) + (f"：{g.status_reason}" if g.status_reason else "")
            table.add_row(
                str(g.id),
                f"{g.resource_name}（{g.resource_code}）",
                f"{departments.get(g.consumer_department_id, '')} · {systems.get(g.system_id, '')}",
                departments.get(g.provider_id, ""),
                items,
                f"{g.period_start} 至 {g.period_end}",
                status_text,
            )
    console.print(table)
    console.print(f"共 {total} 个授权" + (f"，显示前 {len(rows)} 个。" if len(rows) < total else "。"))


def _change(grant_id: int, username: str, action: str, reason: str | None) -> None:
    with acting(username) as (session, actor):
        grant = service.change_grant(session, actor, grant_id, action, reason)
        console.print(f"授权 #{grant.id}（{grant.resource_name}）{label(GrantStatus, grant.status)}。")


GrantId = Annotated[int, typer.Argument(help="授权编号")]


@share_app.command("suspend")
@reports_problems
def suspend(
    grant_id: GrantId, username: AsUser, reason: Annotated[str, typer.Option(help="暂停理由（必填）")]
) -> None:
    """暂停授权（提供部门）：自使用方的下一次调用起生效。"""
    _change(grant_id, username, "suspend", reason)


@share_app.command("resume")
@reports_problems
def resume(
    grant_id: GrantId, username: AsUser, reason: Annotated[str | None, typer.Option(help="恢复说明")] = None
) -> None:
    """恢复已暂停的授权（提供部门）。"""
    _change(grant_id, username, "resume", reason)


@share_app.command("revoke")
@reports_problems
def revoke(
    grant_id: GrantId, username: AsUser, reason: Annotated[str, typer.Option(help="撤销理由（必填）")]
) -> None:
    """撤销授权（提供部门）：自使用方的下一次调用起生效，不能恢复。"""
    _change(grant_id, username, "revoke", reason)


ApplicationId = Annotated[int, typer.Argument(help="申请编号")]


@share_app.command("check")
@reports_problems
def check(
    application_id: ApplicationId,
    username: AsUser,
    passed: Annotated[bool, typer.Option("--pass/--fail", help="是否通过合规审查")],
    note: Annotated[str | None, typer.Option(help="审查意见（不通过时必填）")] = None,
) -> None:
    """合规审查（主管部门）：通过后提供部门的答复期限起算，不通过即办结。"""
    with acting(username) as (session, actor):
        application = service.check(session, actor, application_id, _parse(CheckIn, passed=passed, note=note))
        console.print(f"已审查{_summary(session, application)}。")


@share_app.command("receive")
@reports_problems
def receive(application_id: ApplicationId, username: AsUser) -> None:
    """签收申请（提供部门）：按“自收到申请起算”的配置，答复期限自签收起算。"""
    with acting(username) as (session, actor):
        application = service.receive(session, actor, application_id)
        console.print(f"已签收{_summary(session, application)}。")


@share_app.command("dispute")
@reports_problems
def dispute(
    application_id: ApplicationId,
    username: AsUser,
    reason: Annotated[str, typer.Option(help="异议理由（必填）")],
) -> None:
    """对不予共享或部分同意提出异议（申请部门），由主管部门协调。"""
    with acting(username) as (session, actor):
        application = service.dispute(session, actor, application_id, _parse(DisputeIn, reason=reason).reason)
        console.print(f"已提出异议：{_summary(session, application)}。")


@share_app.command("coordinate")
@reports_problems
def coordinate(
    application_id: ApplicationId,
    step: Annotated[CoordinationStep, typer.Argument(help="negotiate 记录协商，decide 作出协调决定")],
    username: AsUser,
    note: Annotated[str, typer.Option(help="协商或协调意见（必填）")],
    outcome: Annotated[
        CoordinationOutcome | None, typer.Option(help="协调决定：grant 责令提供，refuse 维持不予共享")
    ] = None,
    item: Annotated[list[str] | None, typer.Option("--item", help="责令提供的信息项，可多次给出")] = None,
) -> None:
    """协商、协调共享争议（主管部门）：协调决定有约束力，可责令提供。"""
    with acting(username) as (session, actor):
        data = _parse(CoordinateIn, step=step, note=note, outcome=outcome, items=item or None)
        application = service.coordinate(session, actor, application_id, data)
        console.print(f"已记录{label(CoordinationStep, step)}：{_summary(session, application)}。")
