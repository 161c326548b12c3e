"""Enumerations of sharing (SPEC §7, §15 values, Chinese labels)."""

from __future__ import annotations

from govdata.core.labels import LabelledEnum


class ApplicationStatus(LabelledEnum):
    pending = "pending", "待答复"
    approved = "approved", "已同意"
    partially_approved = "partially_approved", "部分同意"
    refused = "refused", "不予共享"
    disputed = "disputed", "异议待协调"
    escalated = "escalated", "超期已督办"
    coordinated = "coordinated", "已协调"


class Phase(LabelledEnum):
    """Where an undecided application waits (the clock-start switch of POL-1 decides the first)."""

    compliance_check = "compliance_check", "待主管部门合规审查"
    awaiting_receipt = "awaiting_receipt", "待提供部门签收"
    awaiting_decision = "awaiting_decision", "待提供部门答复"
    decided = "decided", "已答复"
    coordination = "coordination", "主管部门协调中"
    closed = "closed", "已办结"


class Decision(LabelledEnum):
    approve = "approve", "同意"
    partial = "partial", "部分同意"
    refuse = "refuse", "不予共享"


class CoordinationStep(LabelledEnum):
    negotiate = "negotiate", "协商"
    decide = "decide", "协调决定"


class CoordinationOutcome(LabelledEnum):
    grant = "grant", "责令提供"
    refuse = "refuse", "维持不予共享"


class GrantStatus(LabelledEnum):
    active = "active", "有效"
    suspended = "suspended", "已暂停"
    revoked = "revoked", "已撤销"
    expired = "expired", "已到期"


class UsageOutcome(LabelledEnum):
    ok = "ok", "成功"
    denied = "denied", "拒绝"
    invalid = "invalid", "参数错误"
    limited = "limited", "超出频率限制"
    not_found = "not_found", "不存在"
    error = "error", "失败"


class DemandStatus(LabelledEnum):
    submitted = "submitted", "待主管部门指定"
    assigned = "assigned", "待提供部门答复"
    fulfilled = "fulfilled", "已编目提供"
    refused = "refused", "不能提供"
