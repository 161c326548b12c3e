"""A year of history for the demo region (issue 17's demo): month by month since January, departments
apply for each other's conditional data; most providers answer in time, some late (the hourly sweep
escalates them and records ``application_overdue``), one refuses without a legal basis; the
authority confirms most violations, which opens rectification notices that the departments answer
and the authority accepts, reopens or escalates; the quarters that have ended are closed, so the
dashboards, the scorecards and the year's annual report show something real on ``make run``.

Everything goes through the capabilities' use cases as the people themselves would act, with the
platform's clock set to each day in turn (``core.clock.frozen``): the dates recorded are those days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.catalog.enums import LegalBasisKind
from govdata.core import clock
from govdata.evaluation import service as evaluation
from govdata.orgs import service as orgs
from govdata.orgs.schemas import SystemIn
from govdata.sharing import service as sharing
from govdata.sharing.enums import Decision, Phase
from govdata.sharing.schemas import ApplicationIn, CheckIn, DecisionIn
from govdata.supervision import notices
from govdata.supervision import service as supervision


@dataclass(frozen=True)
class Flow:
    """A consumer department's need for a provider's resource, and how the provider behaves."""

    consumer: str  # the consumer's officer (username)
    system: str  # the consumer's application system
    resource: str  # the provider's resource (name)
    purpose: str
    scenario: str
    answer_days: int  # calendar days the provider takes to answer
    refuses: bool = False


FLOWS = (
    Flow(
        "mz_officer",
        "社会救助核对系统",
        "社保参保人员信息",
        "最低生活保障对象家庭经济状况核对",
        "核对低保申请家庭成员的参保缴费情况",
        3,
    ),
    Flow(
        "zj_officer",
        "住房保障审核系统",
        "不动产登记信息",
        "保障性住房申请家庭住房情况核查",
        "审核申请家庭在本市的房产登记情况",
        4,
    ),
    Flow(
        "yb_officer",
        "医保待遇审核系统",
        "婚姻登记信息",
        "医保家庭共济账户绑定核验",
        "核验共济绑定人员之间的夫妻关系",
        5,
    ),
    Flow(
        "wj_officer",
        "出生医学证明管理系统",
        "人口基础信息",
        "出生医学证明签发前核验父母身份",
        "签发出生医学证明时核验父母的户籍与身份信息",
        22,
    ),
    Flow(
        "jy_officer",
        "民办教育审批系统",
        "企业登记信息",
        "民办学校举办者资格核查",
        "审批民办学校设立时核查举办企业的登记状态",
        6,
    ),
    Flow(
        "mz_officer",
        "社会救助核对系统",
        "住房公积金缴存信息",
        "低保家庭收入核对",
        "核对申请家庭成员的公积金缴存基数",
        25,
        refuses=True,
    ),
)


REVIEW_DAYS = 92  # a quarter ended within this many days is not yet frozen


def _actor(session: Session, username: str):
    return orgs.actor_named(session, username)


def _systems(session: Session) -> dict[tuple[str, str], int]:
    """Each consumer's application system, registered by its officer (made once)."""
    ids: dict[tuple[str, str], int] = {}
    for flow in FLOWS:
        key = (flow.consumer, flow.system)
        if key in ids:
            continue
        officer = _actor(session, flow.consumer)
        known = [s for s in orgs.department_systems(session, officer.department_id) if s.name == flow.system]
        system = (
            known[0]
            if known
            else orgs.create_system(
                session, officer, officer.department_id, SystemIn(name=flow.system, description=flow.scenario)
            )
        )
        ids[key] = system.id
    return ids


def _items_and_mode(session: Session, resource_id: int) -> tuple[list[str], list[str]]:
    """The items a consumer asks for: the conditional ones (an item without a share type has its
    resource's), else the first few; and one service mode."""
    body = catalog.version_body(session, resource_id) or {}
    items = body.get("items", [])
    conditional = [
        i["code"].lower() for i in items if (i.get("share_type") or body.get("share_type")) == "conditional"
    ]
    modes = [m for m in ("query", "verify") if m in (body.get("share_modes") or [])]
    return (conditional or [i["code"].lower() for i in items])[:3], modes[:1]


def _provider_officer(session: Session, department_id: int) -> str | None:
    officers = [
        m.username for m in orgs.department_members(session, department_id) if "dept_officer" in m.roles
    ]
    return officers[0] if officers else None


def _months(today: date) -> list[date]:
    """The first working-ish day (the 6th) of each month of this year that has ended a month ago."""
    return [
        date(today.year, month, 6)
        for month in range(1, today.month)
        if date(today.year, month, 6) + timedelta(days=30) < today
    ]


def _sweep(session: Session, day: date) -> None:
    with clock.frozen(day):
        sharing.sweep(session)
        notices.sweep(session)


def _one_application(session: Session, flow: Flow, resource, system_id: int, start: date) -> None:
    items, modes = _items_and_mode(session, resource.id)
    if not items or not modes:
        return
    consumer = _actor(session, flow.consumer)
    with clock.frozen(start):
        application = sharing.apply(
            session,
            consumer,
            ApplicationIn(
                resource_code=resource.code,
                system_id=system_id,
                items=items,
                purpose=flow.purpose,
                scenario=flow.scenario,
                legal_basis="《社会救助暂行办法》" if flow.consumer == "mz_officer" else "部门履职需要",
                period_start=start,
                period_end=start + timedelta(days=365),
                modes=modes,
            ),
        )
    if application.phase == Phase.compliance_check:
        with clock.frozen(start + timedelta(days=1)):
            sharing.check(session, _actor(session, "dsj_officer"), application.id, CheckIn(passed=True))
    provider = _provider_officer(session, resource.provider_id)
    if provider is None or application.status != "pending":  # unconditional items: granted at once
        return
    answered = start + timedelta(days=flow.answer_days)
    if flow.answer_days > 14:  # the sweep finds it overdue first, as it would in an hourly run
        _sweep(session, start + timedelta(days=16))
    decision = (
        DecisionIn(
            decision=Decision.refuse,
            reason="申请核对的缴存基数属于个人财产信息，社会救助核对应通过家庭经济状况核对平台按授权查询",
            basis_kind=LegalBasisKind.law,
            basis="《中华人民共和国个人信息保护法》第十三条",
        )
        if flow.refuses
        else DecisionIn(decision=Decision.approve)
    )
    with clock.frozen(answered):
        sharing.decide(session, _actor(session, provider), application.id, decision)


def _supervise(session: Session, month_end: date, *, last: bool) -> None:
    """The month's new violations: a department contests some (the authority withdraws one contest
    with a good reason and confirms the other), the authority confirms the rest, which opens their
    notices; departments answer; the authority accepts, or reopens an answer that says too little. In
    the last month one notice is left unanswered, for the sweep to escalate when it falls due."""
    authority = _actor(session, "dsj_officer")
    with clock.frozen(month_end):
        found, _ = supervision.list_violations(session, authority, status="detected", limit=100)
        for violation in found:
            officer = _provider_officer(session, violation.department_id)
            if officer and violation.id % 3 == 0:
                supervision.contest(
                    session, _actor(session, officer), violation.id, "答复已于期限内通过线下公文送达申请部门"
                )
                if violation.id % 2 == 0:
                    supervision.withdraw(
                        session, authority, violation.id, "经核实，线下公文已按期送达，不属于超期"
                    )
                    continue
            supervision.confirm(session, authority, violation.id, "经核实属实，请按期整改")
    with clock.frozen(month_end + timedelta(days=5)):
        open_notices, _ = notices.list_notices(session, authority, status="open", limit=100)
        for notice in open_notices:
            officer = _provider_officer(session, notice.department_id)
            if officer is None or (last and notice.id % 2 == 0):
                continue
            notices.answer(
                session,
                _actor(session, officer),
                notice.id,
                "已完善共享申请受理台账，指定专人每日查看待答复申请，并对超期申请逐件补充答复。",
            )
    with clock.frozen(month_end + timedelta(days=8)):
        answered, _ = notices.list_notices(session, authority, status="answered", limit=100)
        for notice in answered:
            if notice.id % 3 == 2:
                notices.reopen(session, authority, notice.id, "整改说明未附受理台账，请补充后重新报送")
            else:
                notices.accept(session, authority, notice.id, "整改到位")


def create_demo_history(session: Session) -> int:
    """The year's history up to a month ago; returns how many applications it made."""
    today = clock.today()
    resources = {r.name: r for r in catalog.published_resources(session)}
    systems = _systems(session)
    made = 0
    months = _months(today)
    for month_index, start in enumerate(months):
        for flow_index, flow in enumerate(FLOWS):
            if (month_index + flow_index) % 2:  # each flow every other month
                continue
            resource = resources.get(flow.resource)
            if resource is None:
                continue
            _one_application(session, flow, resource, systems[(flow.consumer, flow.system)], start)
            made += 1
        month_end = start + timedelta(days=26)
        _sweep(session, month_end)
        _supervise(session, month_end, last=month_index == len(months) - 1)
    _sweep(session, today - timedelta(days=1))  # notices left unanswered past their deadline escalate
    authority = _actor(session, "dsj_officer")
    # the quarters reviewed and frozen; the latest one that ended stays open, as it is still reviewed
    for quarter in range(1, 5):
        label = f"{today.year}-Q{quarter}"
        if evaluation.parse_period(label).end <= today - timedelta(days=REVIEW_DAYS):
            evaluation.close_period(session, authority, label)
    return made
