"""Permissions of the scorecards (SUP-1, SUP-3). Services raise what these rules refuse; the pages ask
the same rules which forms to offer.

* The authority, the third-party evaluator, the administrator and the auditor read every scorecard
  and every department's figures; department staff read the ranking and their own department's
  figures (another department's figures are refused with 403: the ranking is announced to all,
  the detail is the department's own).
* The authority sets the indicators and weights of a period and closes a period.
* The evaluator enters manual scores with evidence, and nothing else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from govdata.core.auth import Actor, Authenticator, Refusal, Role, lacks, permission
from govdata.core.errors import PermissionDenied

SEES_ALL = frozenset({Role.authority, Role.evaluator, Role.admin, Role.auditor})
DEPARTMENT_STAFF = frozenset({Role.dept_officer, Role.dept_head, Role.dept_user})

SCORECARD_READ = permission(
    "evaluation.scorecard.read",
    SEES_ALL | DEPARTMENT_STAFF,
    "查看考核评估排名（部门只看本部门的明细）",
    writes=False,
)
SCORECARD_WEIGHTS = permission("evaluation.scorecard.weights", {Role.authority}, "设置考核指标与权重")
SCORECARD_CLOSE = permission("evaluation.scorecard.close", {Role.authority}, "考核周期结束后锁定成绩")
SCORECARD_MANUAL = permission("evaluation.scorecard.manual", {Role.evaluator}, "录入第三方评估得分及依据")

ScorecardReader = Annotated[Actor, Depends(Authenticator(SCORECARD_READ))]
WeightsSetter = Annotated[Actor, Depends(Authenticator(SCORECARD_WEIGHTS))]
PeriodCloser = Annotated[Actor, Depends(Authenticator(SCORECARD_CLOSE))]
ManualScorer = Annotated[Actor, Depends(Authenticator(SCORECARD_MANUAL))]


def sees_every_department(actor: Actor) -> bool:
    return actor.has(SCORECARD_READ) and bool(actor.roles & SEES_ALL)


def figures_refusal(actor: Actor, department_id: int) -> Refusal:
    """Every department's figures for those who oversee; a department's staff their own."""
    if refusal := lacks(actor, SCORECARD_READ):
        return refusal
    if sees_every_department(actor) or actor.department_id == department_id:
        return None
    return PermissionDenied("部门用户只能查看本部门的考核明细。", slug="not-own-department")


def follows_figure_links(actor: Actor) -> bool:
    """The lists behind the figures (every department's applications, violations, catalog pages) are
    the supervising authority's: other readers (the evaluator, the auditor, the administrator, a
    department's staff) see the figures without links that those lists would refuse them."""
    return Role.authority in actor.roles


def can_set_weights(actor: Actor) -> bool:
    return lacks(actor, SCORECARD_WEIGHTS) is None


def can_close(actor: Actor) -> bool:
    return lacks(actor, SCORECARD_CLOSE) is None


def can_enter_manual(actor: Actor) -> bool:
    return lacks(actor, SCORECARD_MANUAL) is None
