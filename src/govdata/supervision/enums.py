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
}
