"""Use cases over the platform's own records, with their permission checks (SEC-2, SEC-3, CAL, POL).

The mechanisms live in ``core`` (audit chain, working days, policy profiles); this layer decides who
may use them, so that API, CLI and pages share one rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.core import audit, calendar, policy
from govdata.core.auth import Actor, require
from govdata.core.db import paginate
from govdata.core.errors import InvalidInput, PayloadTooLarge, field_error
from govdata.platform.auth import AUDIT_READ, CALENDAR_MANAGE, CALENDAR_READ, POLICY_MANAGE, POLICY_READ

MAX_WORKING_DAYS = 1000
MAX_UPLOAD_BYTES = 1_000_000
"""A year's schedule or a policy profile is a few kilobytes; anything this large is a wrong file."""


def _reject_nul(value: Any, field: str) -> None:
    """PostgreSQL stores no NUL character in text: refuse it as bad input rather than fail later."""
    if isinstance(value, str):
        if "\x00" in value:
            raise field_error(field, "含有不允许的空字符（NUL）。")
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_nul(key, field or "body")
            _reject_nul(item, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_nul(item, field)


def list_audit_events(
    session: Session,
    actor: Actor,
    *,
    limit: int,
    offset: int,
    action: str | None = None,
    actor_name: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    exact_action: str | None = None,
    actor_names: list[str] | None = None,
    department_id: int | None = None,
) -> tuple[list[audit.AuditEvent], int]:
    """Events, newest first: ``action`` is a prefix (``catalog.`` for every catalog event),
    ``exact_action`` one action; ``actor_names`` any of these accounts; ``department_id`` the
    department the caller belonged to."""
    require(actor, AUDIT_READ)
    for field, value in (
        ("action", action),
        ("action", exact_action),
        ("actor", actor_name),
        ("object_type", object_type),
        ("object_id", object_id),
        ("actor", actor_names),
    ):
        _reject_nul(value, field)
    stmt = select(audit.AuditEvent)
    if action:
        stmt = stmt.where(audit.AuditEvent.action.startswith(action, autoescape=True))
    if exact_action:
        stmt = stmt.where(audit.AuditEvent.action == exact_action)
    if actor_name:
        stmt = stmt.where(audit.AuditEvent.actor == actor_name)
    if actor_names is not None:
        stmt = stmt.where(audit.AuditEvent.actor.in_(sorted(set(actor_names))))
    if department_id is not None:
        stmt = stmt.where(audit.AuditEvent.department_id == department_id)
    if object_type:
        stmt = stmt.where(audit.AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(audit.AuditEvent.object_id == object_id)
    if since:
        stmt = stmt.where(audit.AuditEvent.occurred_at >= since)
    if until:
        stmt = stmt.where(audit.AuditEvent.occurred_at < until)
    return paginate(session, stmt, audit.AuditEvent.seq.desc(), limit=limit, offset=offset)


def audit_actors(session: Session, actor: Actor) -> list[str]:
    """Every account name that appears in the audit trail (for choosing a person to filter by)."""
    require(actor, AUDIT_READ)
    return sorted(session.scalars(select(audit.AuditEvent.actor).distinct()))


def verify_audit(session: Session, actor: Actor) -> audit.Verification:
    require(actor, AUDIT_READ)
    return audit.verify_chain(session)


@dataclass(frozen=True)
class DeadlineAnswer:
    """A computed deadline and, when provisional, the years whose schedule is not published yet."""

    start: date
    working_days: int
    date: date
    provisional: bool
    unpublished_years: tuple[int, ...] = ()

    @property
    def note(self) -> str | None:
        if not self.provisional:
            return None
        years = "、".join(f"{y} 年" for y in self.unpublished_years) or "相关年度"
        return (
            f"暂定：{years}的放假与调休安排尚未公布，期间按周一至周五计算；"
            "平台管理员导入该年度安排后，已登记的暂定期限会自动重算。"
        )


def deadline(session: Session, actor: Actor, start: date, working_days: int) -> DeadlineAnswer:
    """The ``working_days``-th working day after ``start`` (CAL-1), provisional over unknown years (CAL-2)."""
    require(actor, CALENDAR_READ)
    if isinstance(working_days, bool) or not isinstance(working_days, int):
        raise field_error("working_days", "工作日数须为整数。")
    if not 0 <= working_days <= MAX_WORKING_DAYS:
        raise field_error("working_days", f"工作日数应在 0 至 {MAX_WORKING_DAYS} 之间。")
    cal = calendar.WorkingCalendar.load(session)
    result = cal.add_working_days(start, working_days)
    unknown: tuple[int, ...] = ()
    if result.provisional:
        first = (start + timedelta(days=1)).year
        unknown = tuple(y for y in range(first, result.date.year + 1) if not cal.year_is_known(y))
    return DeadlineAnswer(start, working_days, result.date, result.provisional, unknown)


def import_calendar_year(
    session: Session,
    actor: Actor,
    year: int,
    holidays: list[date],
    workdays: list[date],
    note: str | None = None,
) -> calendar.ImportResult:
    require(actor, CALENDAR_MANAGE)
    _reject_nul(note, "note")
    return calendar.import_year(session, actor, year, holidays, workdays, note)


def _upload_text(content: bytes, what: str) -> str:
    if len(content) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"{what}过大（超过 {MAX_UPLOAD_BYTES // 1000} KB），请检查是否选错了文件。")
    if not content.strip():
        raise field_error("file", f"{what}为空。")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise field_error("file", f"{what}不是 UTF-8 编码，请另存为 UTF-8 后重新上传。") from None


def import_calendar_file(
    session: Session, actor: Actor, year: int, content: bytes, note: str | None = None
) -> calendar.ImportResult:
    """Import a year's schedule from an uploaded ``date,kind`` CSV (see ``core.calendar.parse_year_file``)."""
    require(actor, CALENDAR_MANAGE)
    _reject_nul(note, "note")
    holidays, workdays = calendar.parse_year_file(_upload_text(content, "节假日安排文件"))
    return calendar.import_year(session, actor, year, holidays, workdays, note)


def list_calendar_years(session: Session, actor: Actor) -> list[calendar.CalendarYear]:
    require(actor, CALENDAR_READ)
    return calendar.list_years(session)


def builtin_calendar_years() -> tuple[int, int]:
    """First and last year the bundled chinese_calendar package knows."""
    years = calendar.chinese_calendar_years()
    return min(years), max(years)


def active_policy(session: Session, actor: Actor) -> policy.PolicyProfile:
    require(actor, POLICY_READ)
    return policy.active_policy(session)


def list_policies(session: Session, actor: Actor):
    require(actor, POLICY_READ)
    return policy.list_profiles(session)


def save_policy(session: Session, actor: Actor, profile: policy.PolicyProfile, activate: bool = False):
    require(actor, POLICY_MANAGE)
    return policy.save_profile(session, actor, profile, activate=activate)


def save_policy_data(
    session: Session, actor: Actor, data: Any, activate: bool = False
) -> policy.PolicyProfile:
    """Save a profile given as (possibly partial) data merged over the default (POL-1)."""
    require(actor, POLICY_MANAGE)
    _reject_nul(data, "")
    profile = policy.profile_from_dict(data)
    policy.save_profile(session, actor, profile, activate=activate)
    return profile


def save_policy_file(
    session: Session, actor: Actor, filename: str, content: bytes, activate: bool = False
) -> policy.PolicyProfile:
    """Save a profile uploaded as a ``.toml`` or ``.json`` file."""
    require(actor, POLICY_MANAGE)
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in (".toml", ".json"):
        raise InvalidInput(
            f"不支持的策略配置文件类型“{suffix or filename or '（无扩展名）'}”，应为 .toml 或 .json。",
            errors=[{"field": "file", "message": "应为 .toml 或 .json 文件"}],
        )
    text = _upload_text(content, "策略配置文件")
    _reject_nul(text, "file")
    profile = policy.parse_profile_text(text, "toml" if suffix == ".toml" else "json")
    policy.save_profile(session, actor, profile, activate=activate)
    return profile


def activate_policy(session: Session, actor: Actor, name: str):
    require(actor, POLICY_MANAGE)
    _reject_nul(name, "name")
    return policy.activate_profile(session, actor, name)
