"""Quality problems (QUA-2, 谁使用、谁反馈).

Consumers — department users and officers of *other* departments, and the authority — report a
problem on a resource or on one record; the provider's catalog officer confirms (and later marks it
fixed) or rejects it with a reason, within the policy's ``deadlines.quality_problem_reply`` working
days (tracked by ``core.calendar``).

A problem names a record by its key — often a person's 公民身份号码 — and describes the data, so it is
seen only by the provider department, the reporting department and the authority (others get 404),
and its record key is shown in clear only to the first two (masked for the authority; SEC-4).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.core import audit, calendar, clock, policy
from govdata.core.auth import Actor, Role, require
from govdata.core.db import paginate
from govdata.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from govdata.orgs import service as orgs
from govdata.quality.auth import (
    PROBLEM_ANSWER,
    PROBLEM_READ,
    PROBLEM_REPORT,
    can_answer,
    can_read_problem,
    is_consumer,
    sees_record_key,
)
from govdata.quality.models import PROBLEM_STATUS_LABELS, UNRESOLVED, ProblemStatus, QualityProblem
from govdata.quality.schemas import AnswerAction, AnswerIn, ProblemIn

DEADLINE_SUBJECT = "quality_problem"
ACTION_LABELS = {AnswerAction.confirm: "确认", AnswerAction.fix: "标记为已整改", AnswerAction.reject: "驳回"}
ACTION_EVENTS = {
    AnswerAction.confirm: "confirmed",
    AnswerAction.fix: "fixed",
    AnswerAction.reject: "rejected",
}


def invalid_field(field_name: str, label: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"{label}：{message}", errors=[{"field": field_name, "label": label, "message": message}]
    )


def mask_key(key: str) -> str:
    """A record key with its middle hidden: ``410802198501010011`` → ``4108**********0011``."""
    if len(key) >= 12:
        return key[:4] + "*" * (len(key) - 8) + key[-4:]
    if len(key) > 4:
        return "*" * (len(key) - 2) + key[-2:]
    return "*" * len(key)


def _readable(actor: Actor):
    """The problems ``actor`` may read, as a SQL condition (the one rule, :func:`can_read_problem`)."""
    if not actor.has(PROBLEM_READ):
        return false()
    if Role.authority in actor.roles:
        return QualityProblem.id.is_not(None)
    if actor.department_id is None:
        return false()
    return or_(
        QualityProblem.provider_id == actor.department_id,
        QualityProblem.reporter_department_id == actor.department_id,
    )


def report_problem(session: Session, actor: Actor, code: str, data: ProblemIn) -> QualityProblem:
    require(actor, PROBLEM_REPORT)
    resource = catalog.find_resource(session, actor, code)
    if not is_consumer(actor, resource):
        raise PermissionDenied("提供部门不能对本部门的资源反馈质量问题，请直接整改数据。")
    if resource.published_version is None:
        raise Conflict("资源尚未发布，不能反馈数据质量问题。", slug="not-published")
    description = data.description.strip()
    if not description:
        raise invalid_field("description", "问题描述", "必填，请说明发现的数据质量问题")
    spec, rules = aggregation.table_of(session, resource)
    item = (data.item or "").strip().lower() or None
    if item is not None and item not in spec.codes:
        raise invalid_field("item", "信息项", f"“{data.item}”不是该资源的信息项")
    # The key is normalised as the store keeps it but not looked up: telling a consumer without a
    # grant whether a person's record exists would disclose it (the provider checks the key).
    record_key = (data.record_key or "").strip() or None
    if record_key is not None:
        keys = [r for r in rules if r.key]
        if len(keys) == 1 and keys[0].key_kind in ("ric", "uscc"):
            record_key = record_key.upper()
    problem = QualityProblem(
        resource_id=resource.id,
        resource_code=resource.code,
        provider_id=resource.provider_id,
        reporter_department_id=actor.department_id,
        reporter_user_id=actor.user_id,
        reporter=actor.name,
        reporter_name=actor.display_name,
        description=description,
        record_key=record_key,
        item=item,
        status=ProblemStatus.open,
    )
    session.add(problem)
    session.flush()
    working_days = policy.active_policy(session).deadlines.quality_problem_reply.working_days
    problem.tracked = calendar.track_deadline(
        session,
        calendar.WorkingCalendar.load(session),
        DEADLINE_SUBJECT,
        problem.id,
        "quality_problem_reply",
        clock.today(),
        working_days,
    )
    session.flush()
    audit.record(
        session,
        actor,
        "quality.problem.reported",
        "quality_problem",
        problem.id,
        details={
            "resource": resource.code,
            "record_key": record_key,
            "item": item,
            "deadline": problem.deadline.isoformat() if problem.deadline else None,
        },
    )
    return problem


def get_problem(session: Session, actor: Actor, problem_id: int) -> QualityProblem:
    """A problem the caller may read (404 otherwise, also when its resource is no longer visible)."""
    require(actor, PROBLEM_READ)
    problem = session.get(QualityProblem, problem_id)
    if problem is None or not can_read_problem(actor, problem):
        raise NotFound(f"质量问题 {problem_id} 不存在。")
    try:
        catalog.find_resource(session, actor, problem.resource_code)
    except NotFound:
        raise NotFound(f"质量问题 {problem_id} 不存在。") from None
    return problem


def answer_problem(session: Session, actor: Actor, problem_id: int, data: AnswerIn) -> QualityProblem:
    """The provider's officer confirms, marks fixed, or rejects with a reason."""
    require(actor, PROBLEM_ANSWER)
    problem = get_problem(session, actor, problem_id)
    if not can_answer(actor, problem):
        raise PermissionDenied("只有提供部门的目录管理员可以答复该质量问题。")
    reason = (data.reason or "").strip() or None
    if data.action == AnswerAction.reject and reason is None:
        raise invalid_field("reason", "驳回理由", "驳回质量问题时必须说明理由")
    allowed = {
        AnswerAction.confirm: (ProblemStatus.open,),
        AnswerAction.reject: (ProblemStatus.open,),
        AnswerAction.fix: (ProblemStatus.open, ProblemStatus.confirmed),
    }[data.action]
    if problem.status not in allowed:
        raise Conflict(
            f"该问题当前状态为“{PROBLEM_STATUS_LABELS[problem.status]}”，不能再{ACTION_LABELS[data.action]}。",
            slug="invalid-state",
            status_now=problem.status,
        )
    now = clock.now()
    first_answer = problem.answered_at is None
    if first_answer:
        problem.answered_at, problem.answered_by = now, actor.name
    if data.action == AnswerAction.fix:
        problem.status = ProblemStatus.fixed
        problem.fixed_at, problem.fixed_by, problem.fixed_note = now, actor.name, reason
        if first_answer:
            problem.answer_reason = reason
    else:
        problem.status = (
            ProblemStatus.confirmed if data.action == AnswerAction.confirm else ProblemStatus.rejected
        )
        problem.answer_reason = reason
    session.flush()
    audit.record(
        session,
        actor,
        f"quality.problem.{ACTION_EVENTS[data.action]}",
        "quality_problem",
        problem.id,
        details={
            "resource": problem.resource_code,
            "reason": reason,
            "late": bool(first_answer and problem.deadline and clock.china_date(now) > problem.deadline),
        },
    )
    return problem


def list_problems(
    session: Session,
    actor: Actor,
    code: str,
    *,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[QualityProblem], int]:
    """A resource's problems that the caller may read."""
    require(actor, PROBLEM_READ)
    resource = catalog.find_resource(session, actor, code)
    stmt = select(QualityProblem).where(QualityProblem.resource_id == resource.id, _readable(actor))
    return _page(session, _status_filter(stmt, status), limit, offset)


def _status_filter(stmt, status: str | None):
    if status == "unresolved":
        return stmt.where(QualityProblem.status.in_(UNRESOLVED))
    if status:
        if status not in ProblemStatus.__members__:
            raise invalid_field("status", "状态", "应为 open、confirmed、fixed、rejected 或 unresolved")
        return stmt.where(QualityProblem.status == status)
    return stmt


def _page(session: Session, stmt, limit: int, offset: int) -> tuple[list[QualityProblem], int]:
    return paginate(session, stmt, QualityProblem.id.desc(), limit=limit, offset=offset)


def department_problems(
    session: Session,
    actor: Actor,
    *,
    side: str | None = None,
    status: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[QualityProblem], int]:
    """Problems the caller's department reported (``reported``) or received as provider
    (``received``); both when unsaid. The authority sees every problem."""
    require(actor, PROBLEM_READ)
    stmt = select(QualityProblem).where(_readable(actor))
    if side not in (None, "reported", "received"):
        raise invalid_field("side", "范围", "应为 reported 或 received")
    if Role.authority in actor.roles and side is None:
        pass
    elif actor.department_id is None:
        return [], 0
    elif side == "reported":
        stmt = stmt.where(QualityProblem.reporter_department_id == actor.department_id)
    elif side == "received":
        stmt = stmt.where(QualityProblem.provider_id == actor.department_id)
    return _page(session, _status_filter(stmt, status), limit, offset)


def problem_counts(
    session: Session, resource_ids: list[int] | None, *, provider_id: int | None = None
) -> dict[str, int]:
    """How many problems (unresolved, all, overdue) a resource or a department has: counts only, for
    everyone who may see the scores."""
    stmt = select(QualityProblem.status, func.count()).group_by(QualityProblem.status)
    if resource_ids is not None:
        stmt = stmt.where(QualityProblem.resource_id.in_(resource_ids))
    if provider_id is not None:
        stmt = stmt.where(QualityProblem.provider_id == provider_id)
    counts = dict(session.execute(stmt).all())
    overdue_stmt = (
        select(func.count())
        .select_from(QualityProblem)
        .join(calendar.TrackedDeadline, calendar.TrackedDeadline.id == QualityProblem.tracked_deadline_id)
        .where(QualityProblem.status == ProblemStatus.open, calendar.TrackedDeadline.due_date < clock.today())
    )
    if resource_ids is not None:
        overdue_stmt = overdue_stmt.where(QualityProblem.resource_id.in_(resource_ids))
    if provider_id is not None:
        overdue_stmt = overdue_stmt.where(QualityProblem.provider_id == provider_id)
    return {
        "open": sum(n for s, n in counts.items() if s in UNRESOLVED),
        "total": sum(counts.values()),
        "overdue": session.scalar(overdue_stmt) or 0,
    }


def problem_views(session: Session, actor: Actor, problems: list[QualityProblem]) -> list[dict[str, Any]]:
    """What ``actor`` is shown of each problem (the record key masked unless provider or reporter)."""
    names = orgs.department_names(
        session, [i for p in problems for i in (p.provider_id, p.reporter_department_id)]
    )
    resources = {p.resource_id: catalog.resource_ref(session, id=p.resource_id) for p in problems}
    today = clock.today()
    out = []
    for problem in problems:
        deadline = problem.deadline
        answered_day = clock.china_date(problem.answered_at) if problem.answered_at else None
        resource = resources[problem.resource_id]
        record_key = problem.record_key
        if record_key is not None and not sees_record_key(actor, problem):
            record_key = mask_key(record_key)
        out.append(
            {
                "id": problem.id,
                "resource_code": problem.resource_code,
                "resource_name": resource.name if resource else None,
                "provider_id": problem.provider_id,
                "provider": names.get(problem.provider_id),
                "reporter": problem.reporter,
                "reporter_name": problem.reporter_name,
                "reporter_department_id": problem.reporter_department_id,
                "reporter_department": names.get(problem.reporter_department_id),
                "description": problem.description,
                "record_key": record_key,
                "item": problem.item,
                "status": problem.status,
                "status_label": PROBLEM_STATUS_LABELS[problem.status],
                "deadline": deadline,
                "deadline_provisional": problem.deadline_provisional,
                "overdue": bool(problem.status == ProblemStatus.open and deadline and today > deadline),
                "answered_late": bool(answered_day and deadline and answered_day > deadline),
                "answer_reason": problem.answer_reason,
                "answered_by": problem.answered_by,
                "answered_at": problem.answered_at,
                "fixed_note": problem.fixed_note,
                "fixed_by": problem.fixed_by,
                "fixed_at": problem.fixed_at,
                "created_at": problem.created_at,
            }
        )
    return out


def problem_view(session: Session, actor: Actor, problem: QualityProblem) -> dict[str, Any]:
    return problem_views(session, actor, [problem])[0]
