"""Enumerations of the catalog (SPEC §15 values, Chinese labels from the catalog guide).

Each member carries its label (:class:`govdata.core.labels.LabelledEnum`); ``labels(ShareType)`` gives
a template its value → label map.
"""

from __future__ import annotations

from govdata.core.labels import LabelledEnum, labels


class ResourceStatus(LabelledEnum):
    draft = "draft", "草稿"
    submitted = "submitted", "待审核"
    returned = "returned", "已退回"
    published = "published", "已发布"
    retired = "retired", "已停用"


class VersionStatus(LabelledEnum):
    draft = "draft", "草稿"
    submitted = "submitted", "待审核"
    returned = "returned", "已退回"
    published = "published", "已发布"
    superseded = "superseded", "已被新版本替代"
    retired = "retired", "已停用"


class ShareType(LabelledEnum):
    unconditional = "unconditional", "无条件共享"
    conditional = "conditional", "有条件共享"
    none = "none", "不予共享"


class OpenType(LabelledEnum):
    unconditional = "unconditional", "无条件开放"
    conditional = "conditional", "有条件开放"
    none = "none", "非开放"


class ResourceFormat(LabelledEnum):
    file = "file", "电子文件"
    spreadsheet = "spreadsheet", "电子表格"
    database = "database", "数据库"
    image = "image", "图形图像"
    streaming = "streaming", "流媒体"
    self_describing = "self_describing", "自描述格式"
    service = "service", "服务接口"


class UpdateCycle(LabelledEnum):
    realtime = "realtime", "实时"
    daily = "daily", "每日"
    weekly = "weekly", "每周"
    monthly = "monthly", "每月"
    quarterly = "quarterly", "每季度"
    half_yearly = "half_yearly", "每半年"
    yearly = "yearly", "每年"
    irregular = "irregular", "不定期"


class Grade(LabelledEnum):
    core = "core", "核心"
    important = "important", "重要"
    general = "general", "一般"


class ShareMode(LabelledEnum):
    verify = "verify", "比对验证"
    query = "query", "检索查询"
    interface = "interface", "接口访问"
    exchange = "exchange", "数据交换"


class ShareMethod(LabelledEnum):
    table = "table", "库表"
    interface = "interface", "接口"
    file = "file", "文件"


class LegalBasisKind(LabelledEnum):
    law = "law", "法律"
    administrative_regulation = "administrative_regulation", "行政法规"
    central_policy = "central_policy", "党中央、国务院政策"
    local_regulation = "local_regulation", "地方性法规"
    rule = "rule", "规章"


class DataType(LabelledEnum):
    """The catalog's data-type letters (CAT-3)."""

    C = "C", "字符型"
    N = "N", "数值型"
    Y = "Y", "货币型"
    D = "D", "日期型"
    T = "T", "日期时间型"
    L = "L", "逻辑型"
    M = "M", "备注型"
    G = "G", "通用型"
    B = "B", "双精度型"
    I = "I", "整型"  # noqa: E741 - the catalog's letter for 整型
    F = "F", "浮点型"


class KeyKind(LabelledEnum):
    ric = "ric", "公民身份号码"
    uscc = "uscc", "统一社会信用代码"
    other = "other", "其他关键标识"


class Subject(LabelledEnum):
    """Whom a resource is about (CAT-3): it decides the key identifier the resource must carry."""

    natural_person = "natural_person", "自然人"
    legal_person = "legal_person", "法人"
    unincorporated_org = "unincorporated_org", "非法人组织"
    other = "other", "其他"


class EventKind(LabelledEnum):
    law_revised = "law_revised", "法律法规修订"
    functions_changed = "functions_changed", "部门职能调整"
    resource_changed = "resource_changed", "登记的资源发生变化"


class TaskStatus(LabelledEnum):
    open = "open", "待完成"
    done = "done", "已完成"


# Legal bases on which conditional sharing and a refusal of sharing may stand (CAT-1; seeds 002, 003).
REFUSAL_BASES = {LegalBasisKind.law, LegalBasisKind.administrative_regulation, LegalBasisKind.central_policy}
# The key identifier a resource about each subject must carry (CAT-3; seed 003: 收集公共数据应当包含被收集对象
# 统一社会信用代码、身份证号等关键标识信息).
SUBJECT_KEYS = {
    Subject.natural_person: KeyKind.ric,
    Subject.legal_person: KeyKind.uscc,
    Subject.unincorporated_org: KeyKind.uscc,
}

# Value → label per enumeration, by class name. Kept for pages of other capabilities that read it;
# new code uses ``labels(Enum)`` or ``member.label``.
LABELS: dict[str, dict[str, str]] = {
    enum.__name__: labels(enum)
    for enum in (
        ResourceStatus,
        ShareType,
        OpenType,
        ResourceFormat,
        UpdateCycle,
        Grade,
        ShareMode,
        ShareMethod,
        LegalBasisKind,
        DataType,
        KeyKind,
        Subject,
        EventKind,
        TaskStatus,
    )
}
