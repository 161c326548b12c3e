"""Use cases of the policy page (POL-1, #13 item 20): the active profile's deadlines and switches
changed in place with a reason, the history of every change, and profiles as downloadable TOML files.

The rules stay in :mod:`govdata.core.policy` (what a valid profile is); this module decides who may
change what, and keeps the history in the audit trail: every save is a ``policy.profile_saved``
event that names the fields changed, their values before and after, and the reason given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.core import audit, policy
from govdata.core.auth import Actor, require
from govdata.core.errors import InvalidInput, NotFound, field_error
from govdata.platform.auth import POLICY_EDIT, POLICY_READ

EXAMPLES_DIR = Path(__file__).parent / "policies"
REASON_MAX = 500


# --- names of the profile's fields, in Chinese ---------------------------------------------------


def _short(description: str | None) -> str:
    return (description or "").split("：", 1)[0].split("（", 1)[0]


DEADLINE_LABELS: dict[str, str] = {
    name: info.description or name for name, info in policy.Deadlines.model_fields.items()
}
SWITCH_LABELS: dict[str, str] = {
    name: _short(info.description) or name for name, info in policy.Switches.model_fields.items()
}
RULE_PARTS = {"working_days": "期限（工作日）", "statutory": "是否法定", "source": "依据"}
TOP_LABELS = {"name": "配置名称", "label": "配置的中文名称", "description": "说明", "reason": "修改原因"}


def switch_enum(name: str) -> type:
    """The enumeration of a switch (``objectors`` holds several values of its own)."""
    annotation = policy.Switches.model_fields[name].annotation
    args = getattr(annotation, "__args__", None)
    return args[0] if args else annotation


def optional_deadline(name: str) -> bool:
    """Whether a deadline may be left unset (the step is then skipped: the compliance check)."""
    return policy.Deadlines.model_fields[name].default is None


def field_label(path: str) -> str:
    """``deadlines.share_reply.working_days`` → 有条件共享申请的答复期限·期限（工作日）."""
    parts = path.split(".")
    if parts[0] == "deadlines" and len(parts) > 1:
        label = DEADLINE_LABELS.get(parts[1], parts[1])
        return f"{label}·{RULE_PARTS.get(parts[2], parts[2])}" if len(parts) > 2 else label
    if parts[0] == "switches" and len(parts) > 1:
        return SWITCH_LABELS.get(parts[1], parts[1])
    return TOP_LABELS.get(parts[0], path)


def value_text(path: str, value: Any) -> str:
    """A value of a profile's field as the page shows it: labels, 是/否, N 个工作日, 未设置."""
    parts = path.split(".")
    if value is None:
        return "未设置"
    if isinstance(value, bool):
        return "是" if value else "否"
    if parts[0] == "switches" and len(parts) > 1 and parts[1] in SWITCH_LABELS:
        enum = switch_enum(parts[1])
        values = value if isinstance(value, list | tuple) else [value]
        return "、".join(_switch_label(enum, v) for v in values)
    if parts[0] == "deadlines" and isinstance(value, dict):
        days = value.get("working_days")
        basis = "法定" if value.get("statutory") else "非法定"
        return f"{days} 个工作日（{basis}）"
    if parts[-1] == "working_days":
        return f"{value} 个工作日"
    return str(value) if value != "" else "（空）"


def _switch_label(enum: type, value: Any) -> str:
    try:
        return enum(value).label
    except ValueError:
        return str(value)


# --- changing the active profile in place -----------------------------------------------------------


def _rule(name: str, given: dict[str, Any] | None, errors: list[dict[str, str]]) -> dict[str, Any] | None:
    """A deadline rule from the form's text: blank days leave an optional deadline unset."""
    if given is None:
        return None
    days = str(given.get("working_days") or "").strip()
    if not days:
        if optional_deadline(name):
            return None
        errors.append({"field": f"deadlines.{name}.working_days", "message": "必填：这项期限不能取消"})
        return None
    if not days.isdigit():
        errors.append({"field": f"deadlines.{name}.working_days", "message": "应为 0 至 365 之间的整数"})
        return None
    return {
        "working_days": int(days),
        "statutory": bool(given.get("statutory")),
        "source": str(given.get("source") or "").strip(),
    }


def edit_active_policy(
    session: Session,
    actor: Actor,
    *,
    deadlines: dict[str, dict[str, Any] | None],
    switches: dict[str, Any],
    reason: str,
) -> tuple[policy.PolicyProfile, list[dict[str, Any]]]:
    """Change deadlines and switches of the active profile, which stays active under its name.

    ``deadlines`` maps a deadline to ``{working_days, statutory, source}`` as the form sends them
    (text), or None to leave an optional deadline unset; ``switches`` maps a switch to its value (a
    list for ``objectors``). Every field is checked as a profile file would be, and all errors are
    reported at once (422, fields named by path). Returns the profile and the changes made.
    """
    require(actor, POLICY_EDIT)
    reason = (reason or "").strip()
    errors: list[dict[str, str]] = []
    if not reason:
        errors.append({"field": "reason", "message": "必填：请说明修改的原因或依据"})
    elif len(reason) > REASON_MAX:
        errors.append({"field": "reason", "message": f"不超过 {REASON_MAX} 字"})
    for name in deadlines:
        if name not in policy.Deadlines.model_fields:
            errors.append({"field": f"deadlines.{name}", "message": "未知的期限"})
    for name in switches:
        if name not in policy.Switches.model_fields:
            errors.append({"field": f"switches.{name}", "message": "未知的规则开关"})
    texts = [reason, *(str(v) for rule in deadlines.values() if rule for v in rule.values())]
    if any("\x00" in text for text in texts):  # PostgreSQL keeps no NUL in text
        errors.append({"field": "reason", "message": "含有不允许的空字符（NUL）"})
    current = policy.active_policy(session)
    body = current.body()
    for name, given in deadlines.items():
        if name in policy.Deadlines.model_fields:
            body["deadlines"][name] = _rule(name, given, errors)
    for name, value in switches.items():
        if name in policy.Switches.model_fields:
            body["switches"][name] = value
    if not errors:
        try:  # checked as a profile file is, with the same messages
            profile = policy.profile_from_dict(body)
        except InvalidInput as exc:
            errors += [e for e in exc.extra.get("errors", []) if isinstance(e, dict)]
    if errors:
        first = errors[0]
        more = f"（共 {len(errors)} 处）" if len(errors) > 1 else ""
        raise InvalidInput(
            f"政策配置未保存：{field_label(first['field'])}：{first['message']}{more}",
            errors=[{**e, "label": field_label(e["field"])} for e in errors],
        )
    changes = policy.changed_values(current.body(), profile.body())
    if not changes:
        raise field_error("reason", "没有修改任何期限或开关。")
    stored = session.get(policy.PolicyProfileRecord, profile.name)
    policy.save_profile(session, actor, profile, activate=stored is None or not stored.active, reason=reason)
    return profile, changes


# --- history -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    action: str  # saved | activated
    profile: str
    reason: str | None
    changes: list[dict[str, Any]]
    created: bool = False
    previous: str | None = None


def policy_history(session: Session, actor: Actor, *, limit: int = 50) -> list[HistoryEntry]:
    """Every change of the stored profiles, the newest first: saves (with the values before and
    after and the reason), and activations (with the profile they replaced)."""
    require(actor, POLICY_READ)
    events = session.scalars(
        select(audit.AuditEvent)
        .where(
            audit.AuditEvent.object_type == "policy_profile",
            audit.AuditEvent.action.in_(("policy.profile_saved", "policy.profile_activated")),
        )
        .order_by(audit.AuditEvent.seq.desc())
        .limit(limit)
    )
    entries = []
    for event in events:
        details = _details(event.details)
        saved = event.action == "policy.profile_saved"
        entries.append(
            HistoryEntry(
                at=event.occurred_at,
                actor=event.actor,
                action="saved" if saved else "activated",
                profile=str(event.object_id or details.get("name") or ""),
                reason=details.get("reason"),
                changes=[c for c in details.get("values") or [] if isinstance(c, dict)] if saved else [],
                created=bool(details.get("created")) if saved else False,
                previous=details.get("previous"),
            )
        )
    return entries


def _details(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        loaded = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


# --- profiles as files -----------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def profile_toml(profile: policy.PolicyProfile, *, title: str | None = None) -> str:
    """The whole profile as a TOML file that ``govdata policy load`` and the upload read back, every
    field with its Chinese meaning (and a switch's possible values) in a comment."""
    body = profile.body()
    lines = [f"# {title or profile.label}（{profile.name}）——政策配置（SPEC POL-1）", "#"]
    lines += [
        "# 期限均以工作日计，自事件次日起算；statutory 表示是否有法规、规章或规范性文件依据，source 写明依据。",
        "# 上传时只需写出与默认配置不同的项，其余沿用默认值；未知字段或无效取值会被拒绝。",
        "",
        f"name = {_toml_value(profile.name)}",
        f"label = {_toml_value(profile.label)}",
        f"description = {_toml_value(profile.description)}",
    ]
    for name, rule in body["deadlines"].items():
        lines += ["", f"# {DEADLINE_LABELS[name]}"]
        if rule is None:
            lines += [
                f"# [deadlines.{name}]  未设置：不经此环节（设置时写出 working_days、statutory、source）"
            ]
            continue
        lines.append(f"[deadlines.{name}]")
        lines += [f"{key} = {_toml_value(rule[key])}" for key in ("working_days", "statutory", "source")]
    lines += ["", "[switches]"]
    for name, value in body["switches"].items():
        enum = switch_enum(name)
        options = "；".join(f"{m.value} = {m.label}" for m in enum)
        lines += [f"# {SWITCH_LABELS[name]}：{options}", f"{name} = {_toml_value(value)}"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Example:
    name: str
    title: str
    filename: str


def examples(session: Session, actor: Actor) -> list[Example]:
    """The example profiles one may download: the complete default with every field explained, and
    the bundled examples of other regions' rules."""
    require(actor, POLICY_READ)
    found = [Example("default", "完整默认配置（列出全部期限和开关及其说明）", "default.toml")]
    for path in sorted(EXAMPLES_DIR.glob("*.toml")):
        profile = policy.load_profile_file(path)
        found.append(Example(profile.name, f"{profile.label}：{profile.description}", path.name))
    return found


def example_file(session: Session, actor: Actor, name: str) -> tuple[str, str]:
    """(file name, text) of an example profile; 404 for an unknown one."""
    require(actor, POLICY_READ)
    if name == policy.DEFAULT_PROFILE.name:
        return "default.toml", profile_toml(policy.DEFAULT_PROFILE, title="完整默认配置")
    for path in EXAMPLES_DIR.glob("*.toml"):
        if path.stem == name:
            return path.name, path.read_text(encoding="utf-8")
    raise NotFound(f"没有名为“{name}”的示例配置。")


def profile_file(session: Session, actor: Actor, name: str) -> tuple[str, str]:
    """(file name, TOML text) of a stored profile, or of the built-in default."""
    require(actor, POLICY_READ)
    profile = policy.get_profile(session, name)
    return f"{profile.name}.toml", profile_toml(profile)
