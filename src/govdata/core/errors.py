"""Errors as RFC 9457 problem details (NF-4).

Services raise ``Problem`` subclasses; the app turns them into ``application/problem+json`` with a
stable ``type``, an English ``title`` and a Chinese ``detail``. Nothing else reaches a caller: an
unexpected exception becomes a 500 problem without a stack trace (it is logged instead).
"""

from __future__ import annotations

from typing import Any

PROBLEM_BASE = "urn:govdata:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if slug:
            self.slug = slug
        if title:
            self.title = title
        self.headers = headers or {}
        self.extra = extra

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class NotAuthenticated(Problem):
    status, slug, title = 401, "not-authenticated", "Authentication required"

    def __init__(self, detail: str = "需要登录或有效的访问令牌。", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class PermissionDenied(Problem):
    status, slug, title = 403, "forbidden", "Permission denied"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict with the current state"


class InvalidInput(Problem):
    status, slug, title = 422, "invalid-input", "Invalid input"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **kw: Any) -> None:
        if errors is not None:
            kw["errors"] = errors
        super().__init__(detail, **kw)


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class TooManyRequests(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests"


def field_error(field: str, message: str) -> InvalidInput:
    """A 422 naming one field, for rules a schema cannot express."""
    label = field_label(field.split("."))
    return InvalidInput(f"{label}：{message}", errors=[{"field": field, "label": label, "message": message}])


# Chinese names of input fields, registered by each capability, so that a 422 names the field in
# Chinese whether the error came from a schema or from a rule in a service.
FIELD_LABELS: dict[str, str] = {}

VALIDATION_MESSAGES = {
    "missing": "必填",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "json_invalid": "不是有效的 JSON",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_type": "应为日期（YYYY-MM-DD）",
    "greater_than_equal": "太小",
    "less_than_equal": "太大",
    "greater_than": "太小",
    "less_than": "太大",
    "too_short": "条目太少",
    "too_long": "条目太多",
    "bool_parsing": "应为是/否",
    "bool_type": "应为是/否",
    "model_attributes_type": "应为对象",
    "model_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "string_type": "应为文本",
    "extra_forbidden": "未知字段",
    "value_error": "无效",
}


def register_field_labels(labels: dict[str, str]) -> None:
    FIELD_LABELS.update(labels)


def field_label(location: tuple | list) -> str:
    """``("items", 0, "data_type")`` → ``信息项第 1 项的数据类型``."""
    parts: list[str] = []
    for part in location:
        if part in ("body", "query", "path", "form"):
            continue
        if isinstance(part, int):
            parts.append(f"第 {part + 1} 项")
        else:
            parts.append(FIELD_LABELS.get(str(part), str(part)))
    return "的".join(parts).replace("的第", "第") or "请求体"


def validation_problem(errors: list[dict[str, Any]], prefix: str = "请求参数有误") -> InvalidInput:
    """A 422 from pydantic errors, each field named in Chinese."""
    translated = []
    for error in errors:
        kind = error.get("type", "")
        # for malformed JSON pydantic reports the character position, not a field
        location = ("body",) if kind == "json_invalid" else tuple(error.get("loc", ()))
        message = VALIDATION_MESSAGES.get(kind, error.get("msg", "无效"))
        if kind == "value_error" and error.get("ctx", {}).get("error"):
            message = str(error["ctx"]["error"])
        elif kind == "enum" and error.get("ctx", {}).get("expected"):
            message = f"取值不在允许范围内（可选：{error['ctx']['expected']}）"
        translated.append(
            {
                "field": ".".join(str(p) for p in location if p not in ("body", "query", "path", "form"))
                or "body",
                "label": field_label(location),
                "message": message,
                "type": kind,
            }
        )
    summary = "；".join(f"{e['label']}：{e['message']}" for e in translated[:5])
    more = f"（共 {len(translated)} 处）" if len(translated) > 5 else ""
    return InvalidInput(f"{prefix}：{summary}{more}", errors=translated)
