"""Use cases of sharing (SHR), along their seams:

* :mod:`.applications` — apply, compliance check, receipt, decision, dispute, coordination, escalation;
* :mod:`.grants` — grants and who may use which service under which grant (``access_for``);
* :mod:`.demands` — share demands for data the catalog does not list;
* :mod:`.attachments` — the materials of an application;
* :mod:`.data` — the services themselves: verification, query, changes;
* :mod:`.export` — the export (数据交换：批量导出);
* :mod:`.sweep` — the scheduled sweep (escalations, expiries, reminders), also ``govdata tick``.

Other capabilities call what this module exports.
"""

from govdata.sharing.service.applications import (
    apply,
    check,
    coordinate,
    deadline_of,
    decide,
    dispute,
    get_application,
    list_applications,
    receive,
    working_days_left,
)
from govdata.sharing.service.attachments import add_attachment, attachments_of, read_attachment
from govdata.sharing.service.demands import (
    answer_demand,
    assign_demand,
    create_demand,
    demand_deadline,
    get_demand,
    list_demands,
)
from govdata.sharing.service.facts import (
    ApplicationFact,
    OverdueDemand,
    RefusedUse,
    applications_submitted,
    overdue_applications,
    overdue_demands,
    uses_outside_grant,
)
from govdata.sharing.service.figures import (
    ApplicationFigures,
    UsageFigures,
    application_figures,
    usage_figures,
)
from govdata.sharing.service.grants import (
    Access,
    access_for,
    change_grant,
    get_grant,
    granted_items,
    is_direct_evidence,
    list_grants,
    set_direct_evidence,
)
from govdata.sharing.service.refs import application_names, demand_titles, grant_counts, grant_names
from govdata.sharing.service.sweep import SWEEP, sweep, tick

__all__ = [
    "SWEEP",
    "ApplicationFact",
    "applications_submitted",
    "overdue_applications",
    "OverdueDemand",
    "RefusedUse",
    "overdue_demands",
    "uses_outside_grant",
    "ApplicationFigures",
    "UsageFigures",
    "application_figures",
    "usage_figures",
    "Access",
    "access_for",
    "granted_items",
    "add_attachment",
    "application_names",
    "demand_titles",
    "grant_counts",
    "grant_names",
    "answer_demand",
    "assign_demand",
    "create_demand",
    "demand_deadline",
    "get_demand",
    "list_demands",
    "apply",
    "attachments_of",
    "change_grant",
    "check",
    "coordinate",
    "deadline_of",
    "decide",
    "dispute",
    "get_application",
    "get_grant",
    "is_direct_evidence",
    "list_applications",
    "list_grants",
    "read_attachment",
    "receive",
    "set_direct_evidence",
    "sweep",
    "tick",
    "working_days_left",
]
