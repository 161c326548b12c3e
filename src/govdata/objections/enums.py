"""Enumerations of objections (SPEC §15 objection values, Chinese labels)."""

from __future__ import annotations

from govdata.core.labels import LabelledEnum


class ObjectionStatus(LabelledEnum):
    under_review = "under_review", "复核中"
    corrected = "corrected", "已更正"
    rejected = "rejected", "维持原数据"


class Outcome(LabelledEnum):
    corrected = "corrected", "更正数据"
    rejected = "rejected", "维持原数据（驳回）"


class FilerKind(LabelledEnum):
    """Who filed: a department's user, or (once public accounts exist) a natural or legal person about
    their own record."""

    department_user = "department_user", "部门用户"
    public_account = "public_account", "社会公众账户"


class Channel(LabelledEnum):
    """Where the objection was raised: on the platform, or off it and entered by the provider's officer."""

    platform = "platform", "平台提出"
    off_platform = "off_platform", "线下提出、提供部门录入"
