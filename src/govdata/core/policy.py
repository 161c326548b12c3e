"""Policy profiles: deadlines and rule switches per node (POL-1).

The seeds (local and national rules on government data) disagree on several points, so every such
point is a switch whose first value is the default, and every deadline is a :class:`DeadlineRule`
that says whether a rule text sets it (``statutory``) and which (``source``). The default profile
uses the seeds' values; another profile, e.g. ``platform/policies/province-fast.toml``, states only what it
changes and is merged over the default.

Profiles are stored in ``policy_profiles``; at most one is active. Services read
:func:`active_policy` once per unit of work (nothing is cached across sessions).
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON, Boolean, Index, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from govdata.core import audit
from govdata.core.auth import Actor
from govdata.core.db import Base, UTCDateTime, utcnow
from govdata.core.errors import InvalidInput, NotFound

# --- switches -----------------------------------------------------------------------------------


class _Switch(StrEnum):
    """A rule switch; ``label`` is the Chinese wording shown in the UI."""

    @property
    def label(self) -> str:
        return SWITCH_LABELS.get(self, self.value)


class ShareReplyClockStart(_Switch):
    submission = "submission"
    provider_receipt = "provider_receipt"
    authority_check = "authority_check"


class ReviewExtensionBy(_Switch):
    any_dept_head = "any_dept_head"
    principal_head = "principal_head"


class RefusalWithoutBasis(_Switch):
    refused = "refused"
    flagged = "flagged"


class BaseItemsNotUnconditional(_Switch):
    refused = "refused"
    warned = "warned"


class ObjectionsOffPlatform(_Switch):
    allowed = "allowed"
    not_allowed = "not_allowed"


class Objector(_Switch):
    consumer_department = "consumer_department"
    natural_person = "natural_person"
    legal_person = "legal_person"
    unincorporated_organization = "unincorporated_organization"


class CatalogPublisher(_Switch):
    authority = "authority"
    provider = "provider"


class ProjectAcceptor(_Switch):
    building_department = "building_department"
    approving_authority = "approving_authority"


class AuthorizedDevelopmentApplicants(_Switch):
    domestic_controlled = "domestic_controlled"
    registered_in_province = "registered_in_province"
    both = "both"


SWITCH_LABELS: dict[StrEnum, str] = {
    ShareReplyClockStart.submission: "自使用部门提交申请起算",
    ShareReplyClockStart.provider_receipt: "自提供部门收到申请起算",
    ShareReplyClockStart.authority_check: "自主管部门合规审查通过起算",
    ReviewExtensionBy.any_dept_head: "提供部门任一负责人",
    ReviewExtensionBy.principal_head: "提供部门主要负责人",
    RefusalWithoutBasis.refused: "不予受理",
    RefusalWithoutBasis.flagged: "允许但标记",
    BaseItemsNotUnconditional.refused: "不予通过",
    BaseItemsNotUnconditional.warned: "提示警告",
    ObjectionsOffPlatform.allowed: "允许线下提出",
    ObjectionsOffPlatform.not_allowed: "仅限平台提出",
    Objector.consumer_department: "数据使用部门",
    Objector.natural_person: "自然人",
    Objector.legal_person: "法人",
    Objector.unincorporated_organization: "非法人组织",
    CatalogPublisher.authority: "主管部门统一发布",
    CatalogPublisher.provider: "提供部门发布、事后核查",
    ProjectAcceptor.building_department: "建设单位验收、报主管部门备案",
    ProjectAcceptor.approving_authority: "审批部门验收",
    AuthorizedDevelopmentApplicants.domestic_controlled: "境内资本控股的企业",
    AuthorizedDevelopmentApplicants.registered_in_province: "在本省注册的企业",
    AuthorizedDevelopmentApplicants.both: "两项条件均须满足",
}


# --- the profile --------------------------------------------------------------------------------

PLATFORM_SOURCE = "平台默认值（依据文件未规定期限）"


class DeadlineRule(BaseModel):
    """A deadline in working days, and whether (and where) a rule text sets it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    working_days: int = Field(ge=0, le=365, description="期限（工作日）")
    statutory: bool = Field(default=False, description="是否由法规、规章或规范性文件规定")
    source: str = Field(default="", max_length=500, description="依据（文件名称及条款）")


class Deadlines(BaseModel):
    """All deadlines of the platform, in working days counted from the day after the event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    share_reply: DeadlineRule = Field(
        default=DeadlineRule(
            working_days=10,
            statutory=True,
            source="国务院《政务信息资源共享管理暂行办法》（国发〔2016〕51号）第十二条；焦作市、安徽省等地办法",
        ),
        description="有条件共享申请的答复期限",
    )
    compliance_check: DeadlineRule | None = Field(
        default=None,
        description="主管部门对共享申请的合规审查期限（在提供部门答复之前；未设置即不经审查）",
    )
    correction_review: DeadlineRule = Field(
        default=DeadlineRule(
            working_days=10,
            statutory=True,
            source="《安徽省政务数据资源管理办法（草案征求意见稿）》等地办法：收到复核申请之日起10个工作日内校核",
        ),
        description="疑义、纠错的复核期限",
    )
    correction_extension_max: DeadlineRule = Field(
        default=DeadlineRule(
            working_days=10,
            statutory=True,
            source="《安徽省政务数据资源管理办法（草案征求意见稿）》等地办法：延长复核期限不超过10个工作日",
        ),
        description="复核期限可延长的最多工作日数（仅可延长一次）",
    )
    catalog_update: DeadlineRule = Field(
        default=DeadlineRule(
            working_days=15,
            statutory=True,
            source="国务院《政务信息资源共享管理暂行办法》（国发〔2016〕51号）第八条",
        ),
        description="法律法规修订或职能变化后更新资源目录的期限",
    )
    conditional_open_decision: DeadlineRule = Field(
        default=DeadlineRule(working_days=15, statutory=False, source=PLATFORM_SOURCE),
        description="有条件开放申请的决定期限",
    )
    quality_problem_reply: DeadlineRule = Field(
        default=DeadlineRule(working_days=10, statutory=False, source=PLATFORM_SOURCE),
        description="数据质量问题的答复期限",
    )
    conflict_coordination: DeadlineRule = Field(
        default=DeadlineRule(working_days=15, statutory=False, source=PLATFORM_SOURCE),
        description="部门间数据冲突的协商期限（逾期提交主管部门裁决）",
    )
    share_demand_answer: DeadlineRule = Field(
        default=DeadlineRule(working_days=15, statutory=False, source=PLATFORM_SOURCE),
        description="共享需求指定提供部门后的答复期限（编目或说明理由）",
    )
    open_demand_answer: DeadlineRule = Field(
        default=DeadlineRule(working_days=15, statutory=False, source=PLATFORM_SOURCE),
        description="开放需求的答复期限",
    )
    rectification: DeadlineRule = Field(
        default=DeadlineRule(working_days=20, statutory=False, source=PLATFORM_SOURCE),
        description="监督考核发现问题的整改期限",
    )


class Switches(BaseModel):
    """Rules on which the seeds disagree; the first value of each is the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    share_reply_clock_start: ShareReplyClockStart = Field(
        default=ShareReplyClockStart.submission,
        description="共享申请答复期限的起算点：提交申请 | 提供部门收到申请 | 主管部门合规审查通过",
    )
    review_extension_by: ReviewExtensionBy = Field(
        default=ReviewExtensionBy.any_dept_head,
        description="可批准延长复核期限的人：提供部门任一负责人 | 主要负责人",
    )
    refusal_without_basis: RefusalWithoutBasis = Field(
        default=RefusalWithoutBasis.refused,
        description="无有效依据拒绝共享：不予受理 | 允许但标记",
    )
    base_items_not_unconditional: BaseItemsNotUnconditional = Field(
        default=BaseItemsNotUnconditional.refused,
        description="基础信息项未列为无条件共享：不予通过 | 提示警告",
    )
    objections_off_platform: ObjectionsOffPlatform = Field(
        default=ObjectionsOffPlatform.allowed,
        description="是否允许在平台之外提出疑义：允许 | 不允许",
    )
    objectors: tuple[Objector, ...] = Field(
        default=tuple(Objector),
        min_length=1,
        description="可提出疑义的主体：数据使用部门、自然人、法人、非法人组织",
    )
    catalog_publisher: CatalogPublisher = Field(
        default=CatalogPublisher.authority,
        description="资源目录的发布者：主管部门 | 提供部门（事后核查）",
    )
    project_acceptor: ProjectAcceptor = Field(
        default=ProjectAcceptor.building_department,
        description="政务信息化项目的验收者：建设单位（报主管部门备案） | 审批部门",
    )
    authorized_development_applicants: AuthorizedDevelopmentApplicants = Field(
        default=AuthorizedDevelopmentApplicants.domestic_controlled,
        description="授权运营（开发利用）申请人条件：境内资本控股 | 在本省注册 | 两者均须满足",
    )

    @field_validator("objectors")
    @classmethod
    def _unique_objectors(cls, value: tuple[Objector, ...]) -> tuple[Objector, ...]:
        return tuple(dict.fromkeys(value))


class Opening(BaseModel):
    """Rules of opening (OPN-5)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    k_min: int = Field(
        default=5,
        ge=2,
        le=1000,
        description="开放前 k-匿名检验的最小 k 值（准标识符组合相同的记录至少 k 条，否则不予发布）",
    )


class PolicyProfile(BaseModel):
    """A node's deadlines and rule switches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="配置名称（小写字母、数字、-、_）",
    )
    label: str = Field(min_length=1, max_length=200, description="配置的中文名称")
    description: str = Field(default="", max_length=2000, description="说明")
    deadlines: Deadlines = Field(default_factory=Deadlines, description="各项期限（工作日）")
    switches: Switches = Field(default_factory=Switches, description="规则开关")
    opening: Opening = Field(default_factory=Opening, description="数据开放")

    @model_validator(mode="after")
    def _clock_needs_check(self) -> PolicyProfile:
        if (
            self.switches.share_reply_clock_start == ShareReplyClockStart.authority_check
            and self.deadlines.compliance_check is None
        ):
            raise PydanticCustomError(
                "clock_needs_check",
                "共享答复自主管部门合规审查通过起算（switches.share_reply_clock_start = authority_check）时，"
                "必须设置合规审查期限",
                {"field": "deadlines.compliance_check"},
            )
        return self

    def body(self) -> dict[str, Any]:
        """The profile as JSON-ready data (what is stored and exported)."""
        return self.model_dump(mode="json")


DEFAULT_PROFILE = PolicyProfile(name="default", label="默认（依据各地办法）")


# --- reading profiles ---------------------------------------------------------------------------

_MESSAGES = {
    "extra_forbidden": "未知字段（可能拼写错误）",
    "missing": "缺少必填字段",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为文本",
    "model_type": "应为一组字段（表）",
    "model_attributes_type": "应为一组字段（表）",
    "dict_type": "应为一组字段（表）",
    "tuple_type": "应为列表",
    "list_type": "应为列表",
    "too_short": "不能为空",
}


def _error_message(error: dict[str, Any]) -> tuple[str, str]:
    ctx = error.get("ctx") or {}
    field = ".".join(str(part) for part in error["loc"]) or ctx.get("field") or "(根)"
    kind = error["type"]
    if kind == "enum":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", "、").replace(", ", "、")
        message = f"取值“{error.get('input')}”无效，可选：{expected}"
    elif kind == "clock_needs_check":
        message = error["msg"]
    elif kind in ("greater_than_equal", "less_than_equal"):
        bound = ctx.get("ge", ctx.get("le"))
        message = f"应{'不小于' if kind == 'greater_than_equal' else '不大于'} {bound}"
    elif kind == "string_pattern_mismatch":
        message = "格式无效（只能使用小写字母、数字、-、_，并以字母或数字开头）"
    elif kind in ("string_too_long", "string_too_short"):
        message = "长度不符合要求"
    elif kind == "value_error":
        message = str(ctx.get("error", error.get("msg", "")))
    else:
        message = _MESSAGES.get(kind, f"取值无效（{error.get('msg', '')}）")
    return field, message


def _invalid(exc: ValidationError) -> InvalidInput:
    errors = []
    for error in exc.errors():
        field, message = _error_message(error)
        errors.append({"field": field, "message": message})
    first = errors[0]
    more = f"（共 {len(errors)} 处错误）" if len(errors) > 1 else ""
    return InvalidInput(f"策略配置有误：{first['field']}：{first['message']}{more}", errors=errors)


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def profile_from_dict(data: dict[str, Any], *, base: PolicyProfile = DEFAULT_PROFILE) -> PolicyProfile:
    """Build a profile from (possibly partial) data merged over ``base``; ``name`` is required.

    Nested deadline rules merge too: ``{"deadlines": {"share_reply": {"working_days": 5}}}`` keeps
    the base's ``statutory`` and ``source`` (so a changed deadline should restate its source).
    A profile named differently from ``base`` gets its name as label unless it gives one.
    """
    if not isinstance(data, dict):
        raise InvalidInput(
            "策略配置有误：应为一组字段（表）。", errors=[{"field": "(根)", "message": "应为一组字段"}]
        )
    if not data.get("name"):
        raise InvalidInput(
            "策略配置有误：name：缺少必填字段", errors=[{"field": "name", "message": "缺少必填字段"}]
        )
    start = base.body()
    if data["name"] != base.name:  # a new profile: the base's label and description are not its own
        start["label"] = data["name"]
        start["description"] = ""
    try:
        return PolicyProfile.model_validate(_merge(start, data))
    except ValidationError as exc:
        raise _invalid(exc) from None


def parse_profile_text(text: str, fmt: Literal["toml", "json"] = "toml") -> PolicyProfile:
    """Parse a TOML or JSON profile (see :func:`profile_from_dict` for merging)."""
    try:
        data = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(
            f"策略配置文件格式错误（{fmt.upper()}）：{exc}", errors=[{"field": "file", "message": str(exc)}]
        ) from None
    return profile_from_dict(data)


def load_profile_file(path: str | Path) -> PolicyProfile:
    """Read a profile from a ``.toml`` or ``.json`` file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise InvalidInput(f"不支持的策略配置文件类型“{path.suffix}”，应为 .toml 或 .json。")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"无法读取策略配置文件 {path}：{exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"策略配置文件 {path} 不是 UTF-8 编码。") from None
    return parse_profile_text(text, "toml" if suffix == ".toml" else "json")


# --- persistence --------------------------------------------------------------------------------


class PolicyProfileRecord(Base):
    """A stored profile; at most one row is active (enforced by a partial unique index)."""

    __tablename__ = "policy_profiles"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def profile(self) -> PolicyProfile:
        """The stored profile, merged over the default so that fields added later get defaults."""
        return profile_from_dict(self.body)


Index(
    "uq_policy_profiles_active",
    PolicyProfileRecord.active,
    unique=True,
    sqlite_where=PolicyProfileRecord.active.is_(True),
    postgresql_where=PolicyProfileRecord.active.is_(True),
)


def _changed_fields(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    changed: list[str] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        path = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            changed.extend(_changed_fields(a, b, path + "."))
        elif a != b:
            changed.append(path)
    return changed


def changed_values(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """Each leaf that differs between two profile bodies: ``{field, before, after}`` (a deadline that
    is set on one side only is one change of the whole rule)."""
    changes: list[dict[str, Any]] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        path = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            changes.extend(changed_values(a, b, path + "."))
        elif a != b:
            changes.append({"field": path, "before": a, "after": b})
    return changes


def active_policy(session: Session) -> PolicyProfile:
    """The active stored profile, else :data:`DEFAULT_PROFILE`. Read afresh on every call."""
    record = session.scalars(select(PolicyProfileRecord).where(PolicyProfileRecord.active.is_(True))).first()
    return DEFAULT_PROFILE if record is None else record.profile()


def get_profile(session: Session, name: str) -> PolicyProfile:
    """A stored profile by name; the built-in default is found as ``default`` even when not stored."""
    record = session.get(PolicyProfileRecord, name)
    if record is None:
        if name == DEFAULT_PROFILE.name:
            return DEFAULT_PROFILE
        raise NotFound(f"未找到名为“{name}”的策略配置。")
    return record.profile()


def list_profiles(session: Session) -> list[PolicyProfileRecord]:
    """The stored profiles by name (the built-in default is listed only once saved)."""
    return list(session.scalars(select(PolicyProfileRecord).order_by(PolicyProfileRecord.name)))


def save_profile(
    session: Session,
    actor: Actor,
    profile: PolicyProfile,
    activate: bool = False,
    *,
    reason: str | None = None,
) -> PolicyProfileRecord:
    """Store (or replace) a profile by name, audited as ``policy.profile_saved``; optionally activate it.

    The audit event names the changed fields and, for a replaced profile, their values before and
    after (``values``), with the ``reason`` given: the profile's history is read from these events.
    """
    body = profile.body()
    record = session.get(PolicyProfileRecord, profile.name)
    created = record is None
    values: list[dict[str, Any]] = []
    if record is None:
        record = PolicyProfileRecord(name=profile.name, label=profile.label, body=body, active=False)
        session.add(record)
        changed = ["*"]
        if profile.name == DEFAULT_PROFILE.name:  # the built-in default, stored with changes
            values = changed_values(DEFAULT_PROFILE.body(), body)
    else:
        changed = _changed_fields(record.body or {}, body)
        values = changed_values(record.body or {}, body)
        record.label = profile.label
        record.body = body
    session.flush()
    details: dict[str, Any] = {
        "name": profile.name,
        "label": profile.label,
        "created": created,
        "changed": changed,
    }
    if values:
        details["values"] = values
    if reason:
        details["reason"] = reason
    audit.record(session, actor, "policy.profile_saved", "policy_profile", profile.name, details=details)
    if activate:
        record = activate_profile(session, actor, profile.name)
    return record


def activate_profile(session: Session, actor: Actor, name: str) -> PolicyProfileRecord:
    """Make a stored profile the active one (audited as ``policy.profile_activated``).

    Activating ``default`` when it was never stored stores the built-in default first.
    """
    record = session.get(PolicyProfileRecord, name)
    if record is None:
        if name != DEFAULT_PROFILE.name:
            raise NotFound(f"未找到名为“{name}”的策略配置。")
        record = save_profile(session, actor, DEFAULT_PROFILE)
    previous = session.scalars(
        select(PolicyProfileRecord.name).where(PolicyProfileRecord.active.is_(True))
    ).first()
    if previous != name:
        session.execute(
            update(PolicyProfileRecord)
            .where(PolicyProfileRecord.active.is_(True))
            .values(active=False, updated_at=utcnow())
        )
        session.flush()
        record.active = True
        session.flush()
    audit.record(
        session,
        actor,
        "policy.profile_activated",
        "policy_profile",
        name,
        details={"name": name, "previous": previous},
    )
    return record
