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


# the evidence's keys, as each capability records them (``supervision.service.record_violation``)
EVIDENCE_LABELS = {
    "application_id": "申请编号",
    "assigned_at": "交办时间",
    "basis_kind": "依据类别",
    "batch_id": "批次编号",
    "calls": "调用次数",
    "consumer_department_id": "使用部门",
    "date": "日期",
    "deadline": "期限",
    "deadline_provisional": "期限为暂定",
    "declared_checksum": "申报的校验值",
    "declared_rows": "申报的行数",
    "demand_id": "需求编号",
    "detected_at": "发现时间",
    "detected_on": "发现日期",
    "done_at": "完成时间",
    "duplicated": "重复采集",
    "event_date": "事项发生日期",
    "event_id": "事项编号",
    "event_kind": "事项类别",
    "event_title": "事项",
    "extended": "已延期",
    "file_checksum": "文件校验值",
    "first_call_at": "首次调用时间",
    "first_call_id": "首次调用编号",
    "grant_ids": "授权编号",
    "last_batch_at": "最近入库时间",
    "loaded_at": "入库时间",
    "modes": "服务方式",
    "next_due": "应更新日期",
    "objection_id": "疑义编号",
    "provider_id": "提供部门",
    "reason": "理由",
    "received_on": "收到日期",
    "refused_at": "答复时间",
    "requested_by": "申请人",
    "resource": "资源",
    "resource_code": "资源代码",
    "resource_name": "资源名称",
    "rows_received": "收到的行数",
    "submitted_at": "提交时间",
    "task_id": "任务编号",
    "title": "标题",
    "update_cycle": "更新周期",
}
