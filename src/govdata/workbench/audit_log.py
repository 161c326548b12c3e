"""The audit trail as an auditor reads it (SEC-3, #13 item 16).

Events are stored as the platform writes them (``core.audit``): an action code, an object type and
id, a JSON of details, the account name. This module says them in Chinese: each action's name, each
object by its name (a resource's, a department's, a person's …) with a link to every event about it,
the details laid out field by field, people by their names. Names are read at display time through
the capabilities' facts: the trail itself is never rewritten (its hash chain covers it).

Naming an object in the audit log tells the auditor what the event was about; it shows no data of
the object and opens no page the reader may not open (a resource's page is linked only for a reader
the catalog lets see it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.catalog.enums import EventKind, ShareMode, Subject
from govdata.core import files
from govdata.core.audit import AuditEvent
from govdata.core.auth import ROLE_LABELS, Actor
from govdata.core.clock import CHINA
from govdata.core.errors import NotFound, PermissionDenied, field_error
from govdata.evaluation.measures import MEASURES
from govdata.opening.enums import (
    Basis,
    Conclusion,
    Generalisation,
    IncidentCategory,
    Method,
    NonOpenReason,
    OpenType,
)
from govdata.orgs import service as orgs
from govdata.platform import service as platform
from govdata.sharing import service as sharing
from govdata.sharing.enums import Phase
from govdata.supervision.enums import EVIDENCE_LABELS, EscalationStep, ViolationKind
from govdata.web import local_time
from govdata.workbench.auth import can_read_department_page

# --- names of actions ---------------------------------------------------------------------------------

FAMILIES: dict[str, str] = {
    "auth.": "登录与会话",
    "access.": "访问控制",
    "orgs.": "机构与用户",
    "platform.": "平台",
    "calendar.": "工作日历",
    "policy.": "政策配置",
    "catalog.": "资源目录",
    "aggregation.": "数据归集",
    "quality.": "数据质量",
    "library.": "基础库",
    "sharing.": "数据共享",
    "objections.": "疑义与纠错",
    "violation.": "监督考核",
    "notice.": "监督考核",
    "opening.": "数据开放",
    "project.": "政务信息化项目",
    "notification.": "站内消息",
}

ACTION_LABELS: dict[str, str] = {
    # login and sessions, refusals
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.account_locked": "账号锁定",
    "auth.logout": "退出登录",
    "access.denied": "拒绝访问",
    # organisations
    "orgs.department.created": "登记部门",
    "orgs.department.updated": "修改部门",
    "orgs.user.created": "创建用户",
    "orgs.user.updated": "修改用户",
    "orgs.system.created": "登记应用系统",
    "orgs.system.updated": "修改应用系统",
    "orgs.credential.issued": "签发访问凭证",
    "orgs.credential.revoked": "吊销访问凭证",
    "orgs.regions.imported": "导入行政区划",
    # the platform
    "platform.initialised": "初始化平台",
    "platform.node_created": "创建本节点",
    "calendar.year_imported": "导入年度工作日安排",
    "policy.profile_saved": "保存政策配置",
    "policy.profile_activated": "启用政策配置",
    "policy.value_changed": "修改政策配置项",
    # catalog
    "catalog.classification.created": "登记目录分类",
    "catalog.element.created": "新增数据元",
    "catalog.element.updated": "修改数据元",
    "catalog.resource.created": "编制资源目录",
    "catalog.resource.edited": "修改资源目录",
    "catalog.resource.revision_opened": "开启目录修订",
    "catalog.resource.submitted": "提交资源目录",
    "catalog.resource.returned": "退回资源目录",
    "catalog.resource.published": "发布资源目录",
    "catalog.resource.retired": "停用资源目录",
    "catalog.event.recorded": "登记目录更新事件",
    "catalog.task.completed": "完成目录更新任务",
    "catalog.imported": "导入资源目录",
    # aggregation
    "aggregation.batch.created": "提交归集批次",
    "aggregation.batch.applied": "批次入库",
    "aggregation.batch.rejected": "批次被拒绝",
    "aggregation.batch.failed": "批次处理失败",
    "aggregation.batch.rolled_back": "回滚批次",
    "aggregation.data.read": "查询数据",
    "aggregation.pull.created": "登记定时抽取",
    "aggregation.pull.updated": "修改定时抽取",
    "aggregation.pull.disabled": "停用定时抽取",
    "aggregation.pull.running": "定时抽取运行中",
    "aggregation.pull.applied": "定时抽取入库",
    "aggregation.pull.rejected": "定时抽取被拒绝",
    "aggregation.pull.failed": "定时抽取失败",
    "aggregation.pull.empty": "定时抽取无新数据",
    "aggregation.pull.skipped": "跳过定时抽取",
    "aggregation.uploads.removed": "清理过期上传文件",
    # quality
    "quality.computed": "重新计算质量评分",
    "quality.problem.reported": "反馈质量问题",
    "quality.problem.confirmed": "确认质量问题",
    "quality.problem.fixed": "质量问题已整改",
    "quality.problem.rejected": "驳回质量问题",
    # base libraries
    "library.seeded": "初始化基础库",
    "library.created": "新建基础库",
    "library.updated": "修改基础库",
    "library.field.source_set": "指定权威来源",
    "library.source.designated": "指定一数一源的权威来源",
    "library.duplicate.stop_requested": "要求停止重复采集",
    "library.built": "融合基础库",
    "library.records.read": "查询基础库记录",
    "library.conflicts.detected": "发现数据冲突",
    "library.conflicts.auto_closed": "数据冲突自动关闭",
    "library.conflict.commented": "协商数据冲突",
    "library.conflict.agreed": "同意协商结果",
    "library.conflict.resolved": "协商解决数据冲突",
    "library.conflict.escalated": "数据冲突提请主管部门",
    "library.conflict.decided": "主管部门裁定数据冲突",
    # sharing
    "sharing.application.submitted": "提交共享申请",
    "sharing.application.checked": "合规审查共享申请",
    "sharing.application.received": "签收共享申请",
    "sharing.application.decided": "答复共享申请",
    "sharing.application.disputed": "对共享答复提出异议",
    "sharing.application.escalated": "共享申请超期督办",
    "sharing.application.negotiate": "协调共享争议（协商）",
    "sharing.application.decide": "协调共享争议（决定）",
    "sharing.attachment.added": "上传申请材料",
    "sharing.grant.suspend": "暂停共享授权",
    "sharing.grant.resume": "恢复共享授权",
    "sharing.grant.revoke": "撤销共享授权",
    "sharing.data.verify": "比对验证",
    "sharing.data.query": "检索查询",
    "sharing.data.export": "批量导出",
    "sharing.data.changes": "获取增量数据",
    "sharing.data.interface": "接口访问",
    "sharing.data.exchange": "数据交换",
    "sharing.direct_evidence.set": "设置直接作为办事依据",
    "sharing.interface.register": "登记接口服务",
    "sharing.interface.change": "修改接口服务",
    "sharing.interface.remove": "删除接口服务",
    "sharing.subscription.create": "订阅数据更新",
    "sharing.subscription.change": "修改数据订阅",
    "sharing.subscription.end": "取消数据订阅",
    "sharing.subscription.notify": "推送数据更新通知",
    "sharing.delivery.delivered": "推送成功",
    "sharing.delivery.failed": "推送失败",
    "sharing.delivery.cancelled": "取消推送",
    "sharing.delivery.pending": "等待推送",
    "sharing.delivery.message_only": "仅发站内消息",
    "sharing.demand.submitted": "提出共享需求",
    "sharing.demand.assigned": "指定共享需求的提供部门",
    "sharing.demand.answered": "答复共享需求",
    # objections and corrections
    "objections.objection.filed": "提出疑义",
    "objections.objection.extended": "延长复核期限",
    "objections.objection.extension_requested": "申请延长复核期限",
    "objections.objection.corrected": "更正数据",
    "objections.objection.correction_queued": "更正数据排队入库",
    "objections.objection.correction_failed": "更正数据入库失败",
    "objections.objection.rejected": "驳回疑义",
    "objections.objection.escalated": "复核超期督办",
    "objections.attachment.added": "上传疑义证明材料",
    # supervision
    "violation.recorded": "记录违规",
    "violation.detected": "发现违规",
    "violation.confirmed": "确认违规",
    "violation.withdrawn": "撤销违规",
    "violation.contested": "对违规提出异议",
    "violation.rectified": "违规已整改",
    "notice.opened": "通知整改",
    "notice.answered": "答复整改通知",
    "notice.accepted": "整改验收通过",
    "notice.reopened": "退回重新整改",
    "notice.escalated": "整改通知升级督办",
    # evaluation
    "scorecard.weights_set": "设置考核指标权重",
    "scorecard.closed": "锁定考核周期",
    "scorecard.manual_score": "录入第三方评估得分",
    # opening
    "opening.plan_saved": "保存开放脱敏方案",
    "opening.non_open_reason": "登记不予开放理由",
    "opening.consent_recorded": "登记权利人同意",
    "opening.reviewed": "保密审查",
    "opening.published": "发布到开放目录",
    "opening.emergency_flagged": "突发事件数据开放",
    "opening.withdrawn": "撤回开放数据集",
    "opening.priority_added": "新增开放重点",
    "opening.priority_changed": "修改开放重点",
    "opening.application.submitted": "提交有条件开放申请",
    "opening.application.decided": "答复有条件开放申请",
    "opening.key.created": "创建开放数据接口密钥",
    "opening.key.revoked": "吊销开放数据接口密钥",
    "opening.demand.proposed": "提出开放需求",
    "opening.demand.answered": "答复开放需求",
    "opening.reuse.registered": "登记开放数据应用成果",
    "opening.feed_exported": "导出门户数据包",
    "opening.feed_imported": "导入门户数据包",
    "orgs.user.registered": "注册公众账号",
    "catalog.resource.mirrored": "从政务外网节点同步开放目录",
    # information projects
    "project.filed": "申报政务信息化项目",
    "project.approved": "项目初审通过",
    "project.refused": "项目初审未通过",
    "project.accepted": "项目验收通过",
    "project.not_accepted": "项目验收未通过",
    "project.acceptance_reported": "项目验收报主管部门备案",
    # the message centre
    "notification.read": "阅读站内消息",
    "notification.read_all": "全部标为已读",
}


def family_of(action: str) -> str | None:
    return next((prefix for prefix in FAMILIES if action.startswith(prefix)), None)


def action_label(action: str) -> str:
    """The Chinese name of an action; one the table does not know yet is named by its family."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    family = family_of(action)
    return f"{FAMILIES[family]}：其他操作" if family else "其他操作"


def action_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The action filter's choices: each family (value: its prefix) with its actions."""
    groups = []
    for prefix, label in FAMILIES.items():
        actions = [(code, name) for code, name in ACTION_LABELS.items() if code.startswith(prefix)]
        groups.append((label, [(prefix, f"全部{label}操作"), *actions]))
    return groups


# --- names of objects ---------------------------------------------------------------------------------

OBJECT_TYPES: dict[str, str] = {
    "resource": "资源",
    "batch": "归集批次",
    "pull": "定时抽取",
    "user": "用户",
    "department": "部门",
    "application_system": "应用系统",
    "system_credential": "访问凭证",
    "regions": "行政区划",
    "node": "本节点",
    "calendar_year": "工作日历年度",
    "policy_profile": "政策配置",
    "classification": "目录分类",
    "data_element": "数据元",
    "catalog": "资源目录",
    "catalog_event": "目录更新事件",
    "catalog_update_task": "目录更新任务",
    "library": "基础库",
    "library_conflict": "数据冲突",
    "quality_problem": "质量问题",
    "application": "共享申请",
    "grant": "共享授权",
    "demand": "共享需求",
    "objection": "疑义",
    "violation": "违规记录",
    "notification": "站内消息",
    "request": "请求",
}


@dataclass(frozen=True)
class ObjectView:
    """An event's object as the log shows it: its kind, its name, where its own page is (if the
    reader may open it) and where every event about it is."""

    type_label: str
    name: str
    href: str | None
    trail_href: str | None


def audit_href(**params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return "/audit" + (f"?{query}" if query else "")


def _ids(events: Iterable[AuditEvent], object_type: str) -> list[int]:
    return [
        int(e.object_id) for e in events if e.object_type == object_type and (e.object_id or "").isdigit()
    ]


def describe_objects(
    session: Session, reader: Actor, events: list[AuditEvent]
) -> dict[tuple[str, str | None], ObjectView]:
    """(object type, object id) → how to show it, for every object of ``events``."""
    users = orgs.user_names(session, _ids(events, "user"))
    departments = orgs.department_names(session, _ids(events, "department"))
    systems = orgs.system_names(session, _ids(events, "application_system"))
    batches = aggregation.batch_resource_codes(session, _ids(events, "batch"))
    applications = sharing.application_names(session, _ids(events, "application"))
    grants = sharing.grant_names(session, _ids(events, "grant"))
    demands = sharing.demand_titles(session, _ids(events, "demand"))
    elements = {ref.code: name for name, ref in catalog.data_elements(session).items()}
    resources: dict[str, catalog.ResourceRef | None] = {}

    def resource(code: str) -> catalog.ResourceRef | None:
        if code not in resources:
            resources[code] = catalog.resource_ref(session, code=code)
        return resources[code]

    def readable(code: str) -> bool:
        try:
            catalog.find_resource(session, reader, code)
        except (NotFound, PermissionDenied):
            return False
        return True

    views: dict[tuple[str, str | None], ObjectView] = {}
    for event in events:
        kind, oid = event.object_type, event.object_id
        if (kind, oid) in views:
            continue
        type_label = OBJECT_TYPES.get(kind, "对象")
        number = int(oid) if (oid or "").isdigit() else None
        name, href = (f"#{oid}" if oid else ""), None
        if kind == "resource" and oid:
            ref = resource(oid)
            name = f"{ref.name}（{oid}）" if ref else oid
            href = "/catalog/r/" + quote(oid, safe="/") if ref and readable(oid) else None
        elif kind == "batch" and number is not None:
            code = batches.get(number)
            ref = resource(code) if code else None
            name = f"#{oid} · {ref.name}" if ref else f"#{oid}"
        elif kind == "user" and number is not None:
            name = users.get(number, f"#{oid}")
        elif kind == "department" and number is not None:
            name = departments.get(number, f"#{oid}")
            href = f"/region/departments/{number}" if can_read_department_page(reader, number) else None
        elif kind == "application_system" and number is not None:
            name = systems.get(number, f"#{oid}")
        elif kind == "application" and number is not None:
            name = f"#{oid} · {applications[number]}" if number in applications else f"#{oid}"
        elif kind == "grant" and number is not None:
            name = f"#{oid} · {grants[number]}" if number in grants else f"#{oid}"
        elif kind == "demand" and number is not None:
            name = f"#{oid} · {demands[number]}" if number in demands else f"#{oid}"
        elif kind == "data_element" and oid:
            name = f"{elements[oid]}（{oid}）" if oid in elements else oid
        elif kind == "calendar_year" and oid:
            name = f"{oid} 年"
        elif kind in ("policy_profile", "classification", "request") and oid:
            name = oid
        trail = audit_href(object_type=kind, object_id=oid) if oid else None
        views[(kind, oid)] = ObjectView(type_label, name, href, trail)
    return views


# --- details, laid out ---------------------------------------------------------------------------------

DETAIL_LABELS: dict[str, str] = {
    **EVIDENCE_LABELS,  # a violation's evidence, recorded with it
    # a scorecard's weights (keyed by measure) and manual scores
    **{name: measure.label_zh for name, measure in MEASURES.items()},
    "period": "考核周期",
    "indicator": "考核指标",
    "score": "评分",
    "weights": "指标权重",
    "detected_on": "发现日期",
    "added": "新增",
    "after": "修改后",
    "after_deadline": "超过期限",
    "application_id": "共享申请",
    "applied": "入库行数",
    "as_new": "作为新资源",
    "as_of": "截至时间",
    "as_of_batch": "截至批次",
    "at": "时间",
    "attachment": "材料",
    "attempt": "推送次数",
    "attempts": "推送次数",
    "awaiting_departments": "待答复部门",
    "base_url": "服务地址",
    "batch": "批次",
    "batch_id": "批次",
    "batches": "批次",
    "batches_count": "批次数",
    "before": "修改前",
    "by": "操作人",
    "bytes": "字节数",
    "cancelled_deliveries": "取消的推送",
    "changed": "修改的内容",
    "changes": "修改内容",
    "channel": "提出渠道",
    "code": "代码",
    "comment": "意见",
    "conflicts": "冲突数",
    "count": "数量",
    "created": "新建",
    "date": "日期",
    "deadline": "期限",
    "deadline_provisional": "期限为暂定",
    "deadline_working_days": "期限（工作日）",
    "decision": "决定",
    "delivery_id": "推送",
    "department_id": "部门",
    "departments": "涉及部门",
    "duplicated": "重复采集",
    "element": "数据元",
    "evidence": "依据",
    "expires_at": "有效期至",
    "extended": "已延期",
    "fields": "修改的字段",
    "file": "文件",
    "filename": "文件名",
    "files": "文件数",
    "filters": "筛选条件",
    "format": "格式",
    "from": "原状态",
    "grant_id": "共享授权",
    "hint": "提示",
    "history": "查看记录历史",
    "holidays": "节假日天数",
    "item": "信息项",
    "items": "信息项",
    "key": "关键标识",
    "keys": "关键标识数",
    "kind": "类型",
    "late": "逾期",
    "locked_until": "锁定至",
    "message": "说明",
    "method": "请求方法",
    "mode": "方式",
    "modes": "服务方式",
    "name": "名称",
    "note": "备注",
    "object_id": "对象标识",
    "object_type": "对象类型",
    "original_deadline": "原期限",
    "orphans": "遗留文件",
    "overall": "综合得分",
    "overdue": "逾期",
    "passed": "审查通过",
    "path": "请求地址",
    "period_end": "使用期限至",
    "policy": "校验策略",
    "previous": "原配置",
    "previous_base_url": "原服务地址",
    "previous_webhook_url": "原回调地址",
    "proposed_value": "提议的值",
    "provider_id": "提供部门",
    "reason": "理由",
    "received_on": "收到日期",
    "recomputed": "重算的期限数",
    "record_key": "记录关键标识",
    "records": "记录数",
    "region": "行政区划",
    "regions": "行政区划数",
    "rejected": "拒绝行数",
    "replaced": "替换原安排",
    "requested_by": "申请人",
    "resource": "资源",
    "resource_code": "资源",
    "retention_days": "保留天数",
    "roles": "角色",
    "rows": "行数",
    "run": "运行",
    "scores": "各维度得分",
    "secret_changed": "密钥已更换",
    "secret_header": "密钥请求头",
    "sha256": "SHA-256 校验值",
    "size": "大小（字节）",
    "skipped": "跳过",
    "source": "来源",
    "stage": "环节",
    "status": "状态",
    "subject": "主体",
    "subscription_id": "订阅",
    "synonyms": "同义词",
    "system_id": "应用系统",
    "temporary": "临时文件",
    "timeout_seconds": "超时（秒）",
    "title": "标题",
    "total": "总行数",
    "trigger": "触发方式",
    "type": "问题类型",
    "unchanged": "未改变",
    "unknown": "未知账号",
    "updated": "更新",
    "username": "用户名",
    "value": "值",
    "version": "版本",
    "versions": "版本数",
    "violation_id": "违规记录",
    "watermark": "增量水位",
    "webhook": "回调",
    "webhook_url": "回调地址",
    "workdays": "调休上班天数",
    "working_days": "工作日数",
    "year": "年度",
    "accepted": "是否通过",
    "acceptor": "验收方",
    "attachments": "附件",
    "basis": "开放依据",
    "budget": "预算",
    "builds_own_platform": "自建平台或数据中心",
    "category": "事件类型",
    "conclusion": "审查结论",
    "dataset_code": "开放数据集",
    "datasets": "数据集",
    "document": "同意文件",
    "flags": "提示",
    "holder": "权利人",
    "identity_kind": "身份类型",
    "loaded": "已入库",
    "not_funded": "不予安排运维经费",
    "notice_id": "整改通知",
    "open_type": "开放类型",
    "outcome": "结果",
    "reasons": "原因",
    "resource_codes": "资源",
    "smallest_group": "最小等价组",
    "step": "督办步骤",
    "text": "内容",
    "with_rows": "含数据",
    "withdrawn": "已撤回",
}
# Values of the details that are codes, by key (then ``COMMON_VALUES`` for any key).
VALUE_LABELS: dict[str, dict[str, str]] = {
    "mode": {
        "replace": "全量替换",
        "upsert": "增量更新",
        "delete": "按关键标识删除",
        "migrate": "目录修订迁移",
        **{m.value: m.label for m in ShareMode},
        "export": "批量导出",
        "changes": "增量获取",
    },
    "modes": {m.value: m.label for m in ShareMode},
    "policy": {"strict": "严格", "accept_valid": "接受有效行"},
    "source": {"upload": "文件上传", "records": "接口推送", "pull": "定时抽取"},
    "decision": {"approve": "同意", "partial": "部分同意", "refuse": "不予共享"},
    "trigger": {"schedule": "定时", "manual": "手动"},
    "kind": {**{k.value: k.label for k in ViolationKind}, **{k.value: k.label for k in EventKind}},
    "subject": {s.value: s.label for s in Subject} | {"person": "自然人"},
    "stage": {"negotiate": "协商", "decide": "协调决定"},
    "format": {"xlsx": "XLSX", "json": "JSON", "csv": "CSV"},
    "open_type": {t.value: t.label for t in OpenType},
    "basis": {b.value: b.label for b in Basis},
    "conclusion": {c.value: c.label for c in Conclusion},
    "category": {c.value: c.label for c in IncidentCategory},
    "reason": {r.value: r.label for r in NonOpenReason},
    "identity_kind": {
        "natural_person": "自然人",
        "legal_person": "法人",
        "unincorporated_organization": "非法人组织",
    },
    "step": {s.value: s.label for s in EscalationStep},
}
COMMON_VALUES: dict[str, str] = {
    **{phase.value: phase.label for phase in Phase},
    "pending": "待答复",
    "approved": "已同意",
    "partially_approved": "部分同意",
    "refused": "不予共享",
    "disputed": "异议待协调",
    "escalated": "超期已督办",
    "coordinated": "已协调",
    "applied": "已入库",
    "rejected": "已拒绝",
    "failed": "失败",
    "rolled_back": "已回滚",
    "detected": "待确认",
    "contested": "部门有异议",
    "confirmed": "已确认",
    "withdrawn": "已撤销",
    "rectified": "已整改",
    "under_review": "复核中",
    "corrected": "已更正",
    "active": "有效",
    "suspended": "已暂停",
    "revoked": "已撤销",
    "expired": "已到期",
    "open": "待处理",
    "fixed": "已整改",
    # a de-identification plan's methods (its keys are item codes)
    **{m.value: m.label for m in Method},
    **{g.value: g.label for g in Generalisation},
    "unconditional": "无条件开放",
    "conditional": "有条件开放",
}
PEOPLE_KEYS = {"by", "requested_by", "username"}
ROLE_NAMES = {role.value: label for role, label in ROLE_LABELS.items()}
LONGEST = 300


def _text(value: Any, names: dict[str, str], key: str = "") -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_text(v, names, key) for v in value) or "—"
    if isinstance(value, dict):
        return "；".join(
            f"{DETAIL_LABELS.get(str(k), str(k))}：{_text(v, names, str(k))}" for k, v in value.items()
        )
    if isinstance(value, str):
        value = VALUE_LABELS.get(key, {}).get(value) or COMMON_VALUES.get(value) or value
    text = str(value)
    return text if len(text) <= LONGEST else text[:LONGEST] + "…"


def layout_details(details: str, people: dict[str, str]) -> list[tuple[str, str]]:
    """An event's details as (label, text) pairs: keys named in Chinese, lists joined, nested values
    spelled out, accounts by their people's names."""
    try:
        data = json.loads(details or "{}")
    except ValueError:
        return [("详情", details)] if details else []
    if not isinstance(data, dict):
        return [("详情", _text(data, people))]
    rows = []
    for key, value in data.items():
        if key in PEOPLE_KEYS and isinstance(value, str):
            value = people.get(value, value)
        elif key == "roles" and isinstance(value, list):
            value = [ROLE_NAMES.get(str(v), v) for v in value]
        rows.append((DETAIL_LABELS.get(key, key), _text(value, people, key)))
    return rows


def role_names(roles: str) -> str:
    return "、".join(ROLE_NAMES.get(r, r) for r in filter(None, roles.split(","))) or "—"


# --- reading the log -----------------------------------------------------------------------------------


@dataclass
class Filters:
    """What the auditor asked for (as the page's query string has it)."""

    action: str = ""
    person: str = ""
    department_id: int | None = None
    since: date | None = None
    until: date | None = None
    object_type: str = ""
    object_id: str = ""

    @classmethod
    def parse(cls, **raw: str) -> Filters:
        found = cls(
            action=raw.get("action", "").strip()[:100],
            person=raw.get("person", "").strip()[:128],
            object_type=raw.get("object_type", "").strip()[:64],
            object_id=raw.get("object_id", "").strip()[:128],
        )
        department = raw.get("department_id", "").strip()
        if department:
            if not department.isdigit() or len(department) > 9:
                raise field_error("department_id", "应为部门")
            found.department_id = int(department)
        for name in ("since", "until"):
            text = raw.get(name, "").strip()
            if text:
                try:
                    setattr(found, name, date.fromisoformat(text))
                except ValueError:
                    raise field_error(name, f"“{text[:20]}”不是有效的日期（YYYY-MM-DD）") from None
        if found.since and found.until and found.since > found.until:
            raise field_error("until", "结束日期早于开始日期")
        return found

    def query(self) -> dict[str, Any]:
        """As the page's query string (empty values left out)."""
        values = {
            "action": self.action,
            "person": self.person,
            "department_id": self.department_id,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "object_type": self.object_type,
            "object_id": self.object_id,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}

    def arguments(self) -> dict[str, Any]:
        """As ``platform.list_audit_events`` takes them: dates are China days, ``until`` inclusive."""
        family = self.action.endswith(".")
        return {
            "action": self.action if family else None,
            "exact_action": self.action if self.action and not family else None,
            "actor_names": [self.person] if self.person else None,
            "department_id": self.department_id,
            "since": datetime.combine(self.since, time(), CHINA) if self.since else None,
            "until": datetime.combine(self.until + timedelta(days=1), time(), CHINA) if self.until else None,
            "object_type": self.object_type or None,
            "object_id": self.object_id or None,
        }


@dataclass
class Row:
    seq: int
    at: str
    person: str
    username: str
    roles: str
    department: str
    action: str
    action_label: str
    object: ObjectView
    object_id: str | None
    source: str
    purpose: str | None
    end_user: str | None
    details: list[tuple[str, str]] = field(default_factory=list)


def rows_of(session: Session, reader: Actor, events: list[AuditEvent]) -> list[Row]:
    """The events as the log shows them (names of people, departments, objects; details laid out)."""
    usernames = {e.actor for e in events}
    for event in events:
        try:
            data = json.loads(event.details or "{}")
        except ValueError:
            continue
        if isinstance(data, dict):
            usernames |= {v for k, v in data.items() if k in PEOPLE_KEYS and isinstance(v, str)}
    people = people_names(session, usernames)
    departments = orgs.department_names(session, [e.department_id for e in events])
    objects = describe_objects(session, reader, events)
    return [
        Row(
            seq=e.seq,
            at=local_time(e.occurred_at, seconds=True),
            person=people.get(e.actor, e.actor),
            username=e.actor,
            roles=role_names(e.roles),
            department=departments.get(e.department_id, "—") if e.department_id else "—",
            action=e.action,
            action_label=action_label(e.action),
            object=objects[(e.object_type, e.object_id)],
            object_id=e.object_id,
            source=e.source or "—",
            purpose=e.purpose,
            end_user=e.end_user,
            details=layout_details(e.details, people),
        )
        for e in events
    ]


def people_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """Account → how the log names it: a person's name, the platform, or an application system."""
    names = orgs.display_names(session, usernames)
    for username in usernames:
        if username in names:
            continue
        if username in ("govdata", "system"):
            names[username] = "平台（自动）"
        elif username.startswith("system:"):
            names[username] = "应用系统 " + username.removeprefix("system:")
    return names


def read_log(
    session: Session, reader: Actor, filters: Filters, *, limit: int, offset: int
) -> tuple[list[Row], int]:
    events, total = platform.list_audit_events(
        session, reader, limit=limit, offset=offset, **filters.arguments()
    )
    return rows_of(session, reader, events), total


def people_choices(session: Session, reader: Actor) -> list[tuple[str, str]]:
    """Everyone who appears in the log, as (account, name), by name."""
    accounts = platform.audit_actors(session, reader)
    names = people_names(session, accounts)
    return sorted(((a, names.get(a, a)) for a in accounts), key=lambda pair: (pair[1], pair[0]))


# --- export ----------------------------------------------------------------------------------------------

EXPORT_LIMIT = 100_000
EXPORT_HEADER = [
    "序号",
    "时间（北京时间）",
    "操作人",
    "账号",
    "角色",
    "部门",
    "动作",
    "动作代码",
    "对象类型",
    "对象",
    "对象标识",
    "来源地址",
    "用途",
    "最终用户",
    "详情",
]


def export(session: Session, reader: Actor, filters: Filters, *, format: str) -> tuple[bytes, int]:
    """The events the filters select (newest first, at most ``EXPORT_LIMIT``) as CSV or XLSX, in
    Chinese like the page; and how many."""
    rows, _ = read_log(session, reader, filters, limit=EXPORT_LIMIT, offset=0)
    lines = [
        [
            r.seq,
            r.at,
            r.person,
            r.username,
            r.roles,
            r.department,
            r.action_label,
            r.action,
            r.object.type_label,
            r.object.name,
            r.object_id or "",
            r.source,
            r.purpose or "",
            r.end_user or "",
            "；".join(f"{label}：{text}" for label, text in r.details),
        ]
        for r in rows
    ]
    if format == "xlsx":
        return files.write_xlsx({"审计日志": (EXPORT_HEADER, lines)}), len(lines)
    return files.write_csv(EXPORT_HEADER, lines), len(lines)
