"""What the catalog pages show: labels of fields and values, readable diffs, the buttons a caller gets.

Nothing here decides a rule: which actions a caller has comes from :mod:`govdata.catalog.auth`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from govdata.catalog import auth
from govdata.catalog.enums import (
    DataType,
    Grade,
    KeyKind,
    LegalBasisKind,
    OpenType,
    ResourceFormat,
    ResourceStatus,
    ShareMethod,
    ShareMode,
    ShareType,
    Subject,
    UpdateCycle,
    VersionStatus,
)
from govdata.catalog.models import Resource, ResourceVersion
from govdata.catalog.schemas import CATALOG_FIELD_LABELS
from govdata.core.auth import Actor
from govdata.core.labels import LabelledEnum, label, labels
from govdata.web import local_time


def _field_labels(fields: str, **own: str) -> dict[str, str]:
    """The pages' names of ``fields``: the schema's (those of the error messages), or ``own``."""
    return {field: own.get(field) or CATALOG_FIELD_LABELS[field] for field in fields.split()}


RESOURCE_FIELDS = _field_labels(
    "name summary classification format share_type share_conditions legal_basis legal_basis_kind"
    " usage_requirements share_modes share_methods open_type open_conditions update_cycle grade"
    " materials related_codes subject items",
    name="资源名称",
    summary="资源摘要",
    related_codes="关联资源代码",
)
ITEM_FIELDS = _field_labels(
    "code name data_type length precision required key key_kind level code_list pattern minimum"
    " maximum element share_type description",
    name="名称",
    description="说明",
)
# The enumeration of each field the pages label.
ENUMS: dict[str, type[LabelledEnum]] = {
    "share_type": ShareType,
    "open_type": OpenType,
    "format": ResourceFormat,
    "update_cycle": UpdateCycle,
    "grade": Grade,
    "legal_basis_kind": LegalBasisKind,
    "share_modes": ShareMode,
    "share_methods": ShareMethod,
    "data_type": DataType,
    "key_kind": KeyKind,
    "status": ResourceStatus,
    "subject": Subject,
}
VERSION_STATUS = labels(VersionStatus)
LOG_ACTIONS = {
    "created": "创建草稿",
    "edited": "修改",
    "revision_opened": "开启修订",
    "submitted": "提交审核",
    "returned": "退回",
    "published": "发布",
    "retired": "停用",
}
SUBJECTS = {"person": "自然人", "legal_person": "法人"}
SORTS = {
    "relevance": "相关度",
    "updated": "最近更新",
    "published": "最近发布",
    "name": "名称",
    "code": "资源代码",
}
FACET_TITLES = {
    "provider_id": "提供部门",
    **{
        field: RESOURCE_FIELDS[field]
        for field in ("classification", "share_type", "open_type", "format", "update_cycle", "grade")
    },
    "status": "状态",
}
DONE_MESSAGES = {
    "created": "已保存为草稿。检查无误后请提交审核。",
    "saved": "已保存修改。",
    "unchanged": "内容没有变化，没有开启修订。",
    "revision": "已开启修订并保存。已发布的版本在修订发布前继续提供服务。",
    "submitted": "已提交审核，等待数据资源主管部门审核。",
    "returned": "已退回，提供部门将看到退回意见。",
    "published": "已发布，资源代码从此固定。",
    "retired": "已停用。",
}
STATUS_BADGES = {
    "draft": "",
    "submitted": "info",
    "returned": "warn",
    "published": "ok",
    "retired": "off",
    "superseded": "off",
}
# The edit form's notice for a change the rules refuse, by the refusal's slug (else its detail).
LOCKED_MESSAGES = {"under-review": "该版本正在审核中，不能修改；审核退回后可以继续修改。"}


def enum_label(field: str, value: Any) -> str:
    """The label of a value of a catalog field (``share_type``, ``update_cycle`` …)."""
    return label(ENUMS.get(field), value)


def show_value(field: str, value: Any, classifications: dict[str, str] | None = None) -> str:
    """A metadata value as a person reads it: labels for enumerations, 是/否, lists joined."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if field == "classification" and classifications is not None:
        return f"{value} {classifications.get(value, '')}".strip()
    if field == "level":
        return f"{value} 级"
    if isinstance(value, list):
        return "、".join(enum_label(field, v) if field in ENUMS else str(v) for v in value)
    if field in ENUMS:
        return enum_label(field, value)
    return str(value)


def item_summary(item: dict[str, Any]) -> str:
    parts = [f"{item.get('data_type')} {enum_label('data_type', item.get('data_type'))}"]
    if item.get("length"):
        parts.append(f"长度 {item['length']}")
    if item.get("required"):
        parts.append("必填")
    if item.get("key"):
        parts.append("关键标识")
    parts.append(f"{item.get('level', 1)} 级")
    if item.get("element"):
        parts.append(f"数据元“{item['element']}”")
    if item.get("share_type"):
        parts.append(enum_label("share_type", item["share_type"]))
    if item.get("code_list"):
        parts.append("代码表 " + "、".join(item["code_list"]))
    return "，".join(parts)


def describe_diff(diff: list[dict[str, Any]] | None, classifications: dict[str, str]) -> list[dict[str, Any]]:
    """A published version's changes, readable: added/removed/changed items and fields, before → after."""
    out = []
    for change in diff or []:
        field = change["field"]
        if field.startswith("items."):
            item = change.get("after") or change.get("before") or {}
            title = f"{item.get('name', '')}（{item.get('code', field[6:])}）"
            if change["change"] == "added":
                out.append({"kind": "added", "title": f"新增信息项 {title}", "note": item_summary(item)})
            elif change["change"] == "removed":
                out.append({"kind": "removed", "title": f"删除信息项 {title}", "note": item_summary(item)})
            else:
                before, after = change.get("before") or {}, change.get("after") or {}
                rows = [
                    (ITEM_FIELDS.get(f, f), show_value(f, before.get(f)), show_value(f, after.get(f)))
                    for f in change.get("fields") or []
                ]
                out.append({"kind": "changed", "title": f"修改信息项 {title}", "rows": rows})
        else:
            out.append(
                {
                    "kind": "changed",
                    "title": f"修改{RESOURCE_FIELDS.get(field, field)}",
                    "rows": [
                        (
                            RESOURCE_FIELDS.get(field, field),
                            show_value(field, change.get("before"), classifications),
                            show_value(field, change.get("after"), classifications),
                        )
                    ],
                }
            )
    return out


def resource_href(code: str, suffix: str = "") -> str:
    return "/catalog/r/" + quote(code, safe="/") + suffix


def helpers() -> dict[str, Any]:
    """What every catalog template may call."""
    return {
        "label": enum_label,
        "show": show_value,
        "local_time": local_time,
        "href": resource_href,
        "status_badge": STATUS_BADGES,
        "version_status": VERSION_STATUS,
    }


def facet_label(name: str, value: str, departments: dict[int, str], classifications: dict[str, str]) -> str:
    if name == "provider_id":
        return departments.get(int(value), f"部门 {value}") if value.isdigit() else value
    if name == "classification":
        return f"{classifications.get(value, '')}（{value}）" if value in classifications else value
    return enum_label(name, value)


# --- the resource page -------------------------------------------------------------------------------


def actions(
    actor: Actor, resource: Resource, working: ResourceVersion | None, publisher: str
) -> dict[str, bool]:
    """Which buttons this caller gets on this resource in its current state (the catalog's rules
    decide; ``working`` is the version being prepared, ``publisher`` the policy's catalog publisher)."""
    return {
        "submit": auth.can_submit(actor, resource, working),
        "edit": auth.can_edit(actor, resource, working),
        "revise": auth.can_revise(actor, resource, working),
        "return": auth.can_return(actor, resource, working),
        "publish": auth.can_publish(actor, resource, working, publisher),
        "retire": auth.can_retire(actor, resource, working),
    }


def locked_reason(resource: Resource, working: ResourceVersion | None) -> str | None:
    """Why the edit form cannot be saved now (retired, under review), or None."""
    refusal = auth.change_refusal(resource, working)
    return None if refusal is None else LOCKED_MESSAGES.get(refusal.slug, refusal.detail)


def person(username: str | None, names: dict[str, str] | None) -> str:
    """A person as the pages name them: the display name, never the login name (#13 item 22)."""
    if not username:
        return "—"
    if username == "govdata":
        return "平台"
    return (names or {}).get(username, "（已删除的账号）")


def version_facts(
    version: ResourceVersion | None, view: dict[str, Any], names: dict[str, str]
) -> dict[str, Any]:
    """The status and dates of the version a page shows: the shown version's own, not the resource's."""
    if version is None:
        return {
            "status": view["status"],
            "status_label": enum_label("status", view["status"]),
            "published_at": view.get("published_at"),
            "updated_at": view.get("updated_at"),
            "badge": STATUS_BADGES.get(view["status"], ""),
            "published_by": None,
            "current": True,
        }
    current = version.version == view["version"]
    status = view["status"] if current else version.status
    return {
        "status": status,
        "status_label": enum_label("status", status) if current else VERSION_STATUS.get(status, status),
        "badge": STATUS_BADGES.get(status, ""),
        "published_at": version.published_at
        if version.published_at
        else (view.get("published_at") if current else None),
        "published_by": person(version.published_by, names) if version.published_by else None,
        "updated_at": version.updated_at if not current else view.get("updated_at"),
        "created_at": version.created_at,
        "created_by": person(version.created_by, names),
        "current": current,
    }


def history_rows(
    versions: list[ResourceVersion], classifications: dict[str, str], names: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    return [
        {
            "version": v.version,
            "status": v.status,
            "reason": v.reason,
            "created_by": person(v.created_by, names),
            "created_at": v.created_at,
            "submitted_at": v.submitted_at,
            "published_at": v.published_at,
            "published_by": person(v.published_by, names),
            "changes": describe_diff(v.diff, classifications),
            "first": v.diff is None,
        }
        for v in versions
    ]


def log_rows(entries, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "at": e.at,
            "action": LOG_ACTIONS.get(e.action, e.action),
            "returned": e.action == "returned",
            "actor": person(e.actor, names),
            "version": e.version,
            "comment": e.comment,
        }
        for e in entries
    ]
