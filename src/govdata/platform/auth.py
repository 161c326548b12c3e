"""Permissions over the platform's own records: audit trail, working-day calendar, policy profiles."""

from typing import Annotated

from fastapi import Depends

from govdata.core.auth import Actor, Authenticator, Role, permission

AUDIT_READ = permission("platform.audit.read", {Role.auditor, Role.admin}, "查阅审计日志", writes=False)
CALENDAR_READ = permission("platform.calendar.read", set(Role), "计算工作日期限", writes=False)
CALENDAR_MANAGE = permission("platform.calendar.manage", {Role.admin}, "导入年度工作日安排")
POLICY_READ = permission(
    "platform.policy.read", set(Role) - {Role.public, Role.app}, "查看政策配置", writes=False
)
POLICY_MANAGE = permission("platform.policy.manage", {Role.admin}, "维护政策配置")
# The deadlines and switches of the active profile, changed in place on the policy page (#13 item 20):
# the authority sets the region's rules, the administrator too; uploading and activating whole
# profiles stays the administrator's (POLICY_MANAGE).
POLICY_EDIT = permission(
    "platform.policy.edit", {Role.admin, Role.authority}, "修改生效政策配置中的期限和规则开关"
)

AuditReader = Annotated[Actor, Depends(Authenticator(AUDIT_READ))]
CalendarReader = Annotated[Actor, Depends(Authenticator(CALENDAR_READ))]
CalendarManager = Annotated[Actor, Depends(Authenticator(CALENDAR_MANAGE))]
PolicyReader = Annotated[Actor, Depends(Authenticator(POLICY_READ))]
PolicyManager = Annotated[Actor, Depends(Authenticator(POLICY_MANAGE))]
PolicyEditor = Annotated[Actor, Depends(Authenticator(POLICY_EDIT))]
