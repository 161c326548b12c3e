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


class MalformedBody(Problem):
    status, slug, title = 400, "malformed-body", "Malformed request body"


def field_error(field: str, message: str) -> InvalidInput:
    """A 422 naming one field, for rules a schema cannot express."""
    label = field_label(field.split("."))
    return InvalidInput(f"{label}：{message}", errors=[{"field": field, "label": label, "message": message}])


def fields_error(detail: str, errors: dict[str, str]) -> InvalidInput:
    """A 422 with its own sentence, naming each field (``{field: message}``) with its Chinese label."""
    return InvalidInput(
        detail,
        errors=[
            {"field": field, "label": field_label(field.split(".")), "message": message}
            for field, message in errors.items()
        ],
    )


# Chinese names of input fields, registered by each capability, so that a 422 names the field in
# Chinese whether the error came from a schema or from a rule in a service.
FIELD_LABELS: dict[str, str] = {
    "limit": "每页条数（limit）",
    "offset": "起始位置（offset）",
    "since": "起始时间",
    "until": "截止时间",
    "text": "内容",
    "budget": "预算",
    "records": "记录",
    "commitments": "安全承诺",
    "violation_id": "违规记录",
}

# the bound a number broke, from pydantic's context: "太小" → "应不小于 1"
_BOUNDS = {
    "greater_than_equal": ("ge", "应不小于"),
    "greater_than": ("gt", "应大于"),
    "less_than_equal": ("le", "应不大于"),
    "less_than": ("lt", "应小于"),
}

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
    "datetime_parsing": "应为日期或时间（如 2026-01-01 或 2026-01-01T08:00:00）",
    "datetime_from_date_parsing": "应为日期或时间（如 2026-01-01 或 2026-01-01T08:00:00）",
    "datetime_type": "应为日期或时间（如 2026-01-01 或 2026-01-01T08:00:00）",
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
        elif kind in _BOUNDS and _BOUNDS[kind][0] in error.get("ctx", {}):
            bound, words = _BOUNDS[kind]
            message = f"{words} {error['ctx'][bound]}"
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


# --- bodies the server could not read ---------------------------------------------------------


def unreadable_json() -> InvalidInput:
    """A JSON body that does not parse: invalid syntax or encoding, or nested too deep to read. The
    same 422 as any malformed JSON, whether the framework or a route parsed it."""
    return validation_problem([{"type": "json_invalid", "loc": ("body",)}])


# What the multipart parser says (English, for developers), and what a caller is told.
_MULTIPART_PROBLEMS: tuple[tuple[str, int, str], ...] = (
    ("Part exceeded maximum size", 413, "上传的文件或表单字段超过允许的大小。"),
    ("Field exceeded maximum size", 413, "表单字段超过允许的大小。"),
    ("Too many files", 413, "一次上传的文件太多。"),
    ("Too many fields", 413, "表单字段太多。"),
    ("Missing boundary", 400, "multipart/form-data 请求缺少 boundary 参数。"),
    ("Content-Disposition", 400, "表单数据的每一部分都须在 Content-Disposition 中给出 name。"),
)
_HEADER_TOO_LONG = "Maximum header size"


def unreadable_body(detail: str, cause: BaseException | None, *, json_body: bool) -> Problem:
    """The problem for a 400 the framework raised while reading a request body (``detail`` is its
    English text, ``cause`` the exception behind it; ``json_body`` when the body was sent as JSON):
    the right status and a Chinese detail."""
    for prefix, status, message in _MULTIPART_PROBLEMS:
        if detail.startswith(prefix):
            return PayloadTooLarge(message) if status == 413 else MalformedBody(message)
    causes = []
    while cause is not None and len(causes) < 5:
        causes.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    if any(_HEADER_TOO_LONG in c for c in causes):
        return MalformedBody("表单数据中某一部分的头部超过 4 KiB（例如文件名太长），无法解析。")
    if json_body:  # not JSON's syntax (a 422 already) but its encoding, or nesting too deep to read
        return unreadable_json()
    return MalformedBody("请求体无法解析：表单数据（multipart/form-data）格式不正确。")


# --- the OpenAPI description of problems ------------------------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 问题详情：稳定的 type、英文 title、中文 detail",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": f"{PROBLEM_BASE}<slug>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "中文说明"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "422：逐项的字段错误",
            "items": {
                "type": "object",
                "required": ["field", "label", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "label": {"type": "string", "description": "字段的中文名"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
        "permission": {"type": "string", "description": "403：缺少的权限"},
    },
    "additionalProperties": True,
}
"""The JSON schema of a problem body, as ``components.schemas.Problem`` of the OpenAPI document."""

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_DESCRIPTIONS: dict[int, str] = {
    400: "请求体无法解析（表单数据格式不正确等）",
    401: "未登录，或访问令牌无效、已过期",
    403: "无权执行此操作",
    404: "对象不存在或无权查看",
    409: "与当前状态冲突",
    413: "上传的内容太大",
    422: "输入有误，errors 逐项列出字段（中文名）",
    429: "请求过于频繁",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route: each status answered with ``application/problem+json``."""
    return {
        status: {
            "description": PROBLEM_DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}},
        }
        for status in statuses
    }
