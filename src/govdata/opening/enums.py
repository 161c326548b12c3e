"""Enumerations of opening (OPN-1, OPN-5, OPN-6), with their Chinese labels."""

from __future__ import annotations

from govdata.core.labels import LabelledEnum


class OpenStatus(LabelledEnum):
    """Where a resource stands in the open catalog."""

    preparing = "preparing", "准备中"
    published = "published", "已开放"
    withdrawn = "withdrawn", "已撤回"


class OpenType(LabelledEnum):
    """The open type a dataset has in the open catalog."""

    unconditional = "unconditional", "无条件开放"
    conditional = "conditional", "有条件开放"


class Method(LabelledEnum):
    """What the de-identification plan does with an item (OPN-5)."""

    keep = "keep", "原样开放"
    mask = "mask", "掩码"
    pseudonymise = "pseudonymise", "假名化（HMAC-SM3）"
    generalise = "generalise", "泛化"
    suppress = "suppress", "删除（不开放）"


class Generalisation(LabelledEnum):
    """How a generalised item is coarsened."""

    year = "year", "日期泛化到年"
    age_band = "age_band", "年龄泛化到 10 岁一段"
    region_city = "region_city", "行政区划代码泛化到地市级"
    region_province = "region_province", "行政区划代码泛化到省级"


class NonOpenReason(LabelledEnum):
    """Why a resource of open type none is not open (OPN-1)."""

    state_secret = "state_secret", "涉及国家秘密"
    commercial_secret = "commercial_secret", "涉及商业秘密"
    personal_privacy = "personal_privacy", "涉及个人隐私"
    undisclosed_information = "undisclosed_information", "属于未披露信息"
    prohibited_by_law = "prohibited_by_law", "法律法规禁止开放"


class Basis(LabelledEnum):
    """Why a resource may be opened."""

    open_type = "open_type", "目录登记为可开放"
    deidentified = "deidentified", "经脱敏处理后开放"
    consent = "consent", "经权利人同意后开放"


class Conclusion(LabelledEnum):
    """The conclusion of a confidentiality review (保密审查)."""

    passed = "passed", "通过"
    failed = "failed", "未通过"


class IncidentCategory(LabelledEnum):
    """Categories of emergencies (《突发事件应对法》第三条)."""

    natural_disaster = "natural_disaster", "自然灾害"
    accident_disaster = "accident_disaster", "事故灾难"
    public_health = "public_health", "公共卫生事件"
    social_security = "social_security", "社会安全事件"


class UseKind(LabelledEnum):
    download = "download", "下载"
    api_call = "api_call", "接口调用"
