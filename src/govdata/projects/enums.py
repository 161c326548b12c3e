"""Enumerations of information projects (SPEC §15 project), with their Chinese labels."""

from __future__ import annotations

from govdata.core.labels import LabelledEnum


class ProjectStatus(LabelledEnum):
    filed = "filed", "待初审"
    approved = "approved", "初审通过"
    refused = "refused", "初审未通过"
    accepted = "accepted", "验收通过"
    not_accepted = "not_accepted", "验收未通过"


class Decision(LabelledEnum):
    approve = "approve", "通过"
    refuse = "refuse", "不予通过"


# a project whose acceptance may be requested (again, after fixing what failed)
AWAITING_ACCEPTANCE = (ProjectStatus.approved, ProjectStatus.not_accepted)
