"""Enumerations of the catalog (SPEC §15 values, Chinese labels from the catalog guide)."""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    @property
    def label(self) -> str:
        return LABELS[type(self).__name__][self.value]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class ResourceStatus(LabelledEnum):
    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    published = "published"
    retired = "retired"


class VersionStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    published = "published"
    superseded = "superseded"
    retired = "retired"


class ShareType(LabelledEnum):
    unconditional = "unconditional"
    conditional = "conditional"
    none = "none"


class OpenType(LabelledEnum):
    unconditional = "unconditional"
    conditional = "conditional"
    none = "none"


class ResourceFormat(LabelledEnum):
    file = "file"
    spreadsheet = "spreadsheet"
    database = "database"
    image = "image"
    streaming = "streaming"
    self_describing = "self_describing"
    service = "service"


class UpdateCycle(LabelledEnum):
    realtime = "realtime"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    half_yearly = "half_yearly"
    yearly = "yearly"
    irregular = "irregular"


class Grade(LabelledEnum):
    core = "core"
    important = "important"
    general = "general"


class ShareMode(LabelledEnum):
    verify = "verify"
    query = "query"
    interface = "interface"
    exchange = "exchange"


class ShareMethod(LabelledEnum):
    table = "table"
    interface = "interface"
    file = "file"


class LegalBasisKind(LabelledEnum):
    law = "law"
    administrative_regulation = "administrative_regulation"
    central_policy = "central_policy"
    local_regulation = "local_regulation"
    rule = "rule"


class DataType(LabelledEnum):
    """The catalog's data-type letters (CAT-3)."""

    C = "C"
    N = "N"
    Y = "Y"
    D = "D"
    T = "T"
    L = "L"
    M = "M"
    G = "G"
    B = "B"
    I = "I"  # noqa: E741 - the catalog's letter for 整型
    F = "F"


class KeyKind(LabelledEnum):
    ric = "ric"
    uscc = "uscc"
    other = "other"


class EventKind(LabelledEnum):
    law_revised = "law_revised"
    functions_changed = "functions_changed"
    resource_changed = "resource_changed"


class TaskStatus(LabelledEnum):
    open = "open"
    done = "done"


# Legal bases on which a refusal of sharing may stand (CAT-1).
REFUSAL_BASES = {LegalBasisKind.law, LegalBasisKind.administrative_regulation, LegalBasisKind.central_policy}

LABELS: dict[str, dict[str, str]] = {
    "ResourceStatus": {
        "draft": "草稿",
        "submitted": "待审核",
        "returned": "已退回",
        "published": "已发布",
        "retired": "已停用",
    },
    "ShareType": {"unconditional": "无条件共享", "conditional": "有条件共享", "none": "不予共享"},
    "OpenType": {"unconditional": "无条件开放", "conditional": "有条件开放", "none": "非开放"},
    "ResourceFormat": {
        "file": "电子文件",
        "spreadsheet": "电子表格",
        "database": "数据库",
        "image": "图形图像",
        "streaming": "流媒体",
        "self_describing": "自描述格式",
        "service": "服务接口",
    },
    "UpdateCycle": {
        "realtime": "实时",
        "daily": "每日",
        "weekly": "每周",
        "monthly": "每月",
        "quarterly": "每季度",
        "half_yearly": "每半年",
        "yearly": "每年",
        "irregular": "不定期",
    },
    "Grade": {"core": "核心", "important": "重要", "general": "一般"},
    "ShareMode": {"verify": "比对验证", "query": "检索查询", "interface": "接口访问", "exchange": "数据交换"},
    "ShareMethod": {"table": "库表", "interface": "接口", "file": "文件"},
    "LegalBasisKind": {
        "law": "法律",
        "administrative_regulation": "行政法规",
        "central_policy": "党中央、国务院政策",
        "local_regulation": "地方性法规",
        "rule": "规章",
    },
    "DataType": {
        "C": "字符型",
        "N": "数值型",
        "Y": "货币型",
        "D": "日期型",
        "T": "日期时间型",
        "L": "逻辑型",
        "M": "备注型",
        "G": "通用型",
        "B": "双精度型",
        "I": "整型",
        "F": "浮点型",
    },
    "KeyKind": {"ric": "公民身份号码", "uscc": "统一社会信用代码", "other": "其他关键标识"},
    "EventKind": {
        "law_revised": "法律法规修订",
        "functions_changed": "部门职能调整",
        "resource_changed": "登记的资源发生变化",
    },
    "TaskStatus": {"open": "待完成", "done": "已完成"},
}
