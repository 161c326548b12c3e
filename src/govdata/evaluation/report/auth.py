"""Who may read the annual report (SUP-4): the data authority, which writes it, and the third-party
evaluator; department staff read their own scorecard, not the region's report (403)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from govdata.core.auth import Actor, Authenticator, Role, permission

REPORT_READ = permission(
    "evaluation.report.read", {Role.authority, Role.evaluator}, "查看和下载年度报告", writes=False
)

ReportReader = Annotated[Actor, Depends(Authenticator(REPORT_READ))]
