"""Enumerations of supervision (SPEC §15 violation), with their Chinese labels."""

from __future__ import annotations

from govdata.core.labels import LabelledEnum


class ViolationKind(LabelledEnum):
    """SUP-2: what a department failed to do."""

    catalog_not_compiled = "catalog_not_compiled", "目录未按期编制"
    catalog_update_late = "catalog_update_late", "目录未按期更新"
    aggregation_late = "aggregation_late", "数据未按期归集"
    aggregation_inconsistent = "aggregation_inconsistent", "归集数据与源数据不一致"
    duplicate_collection = "duplicate_collection", "重复采集数据"
    application_overdue = "application_overdue", "共享申请逾期未答复"
    refusal_without_basis = "refusal_without_basis", "无依据拒绝共享"
    objection_overdue = "objection_overdue", "疑义数据逾期未复核"
    use_outside_grant = "use_outside_grant", "超出授权范围使用共享数据"


class ViolationStatus(LabelledEnum):
    detected = "detected", "待确认"
    contested = "contested", "部门有异议"
    confirmed = "confirmed", "已确认"
    withdrawn = "withdrawn", "已撤销"
    rectified = "rectified", "已整改"


# a violation the authority may still confirm or withdraw
UNDECIDED = (ViolationStatus.detected, ViolationStatus.contested)

# what the objects a violation names are called on a page
OBJECT_TYPE_LABELS = {
    "application": "共享申请",
    "grant": "共享授权",
    "resource": "目录资源",
    "catalog_task": "目录更新任务",
    "batch": "归集批次",
    "objection": "疑义",
    "department": "部门",
    "demand": "共享需求",
    "usage": "共享调用",
}


class NoticeStatus(LabelledEnum):
    """A rectification notice (通知整改): the department rectifies and answers, the authority accepts."""

    open = "open", "待整改"
    answered = "answered", "已答复待验收"
    closed = "closed", "已整改销号"


class EscalationStep(LabelledEnum):
    """What follows a notice not rectified in time, in the order of seed 002 (《安徽省政务数据资源管理
    办法（草案征求意见稿）》第四十条): the authority reports to the government of its level, which orders
    correction within a time limit; a department still not correcting is criticised publicly."""

    reported = "reported", "报告本级人民政府"
    ordered = "ordered", "责令限期改正"
    criticised = "criticised", "通报批评"


ESCALATION_STEPS = (EscalationStep.reported, EscalationStep.ordered, EscalationStep.criticised)


class NoticeAction(LabelledEnum):
    """The entries of a notice's timeline."""

    opened = "opened", "通知整改"
    answered = "answered", "部门答复"
    accepted = "accepted", "验收通过"
    reopened = "reopened", "退回重新整改"
    escalated = "escalated", "升级督办"
