"""Use cases of data quality (QUA-1, QUA-2), along their seams:

* :mod:`.scoring` — the score of each GB/T 36344 dimension, pure functions of facts (the criteria are
  documented there and shown to users from the same constants);
* :mod:`.facts` — the facts, gathered through the other capabilities' services and the store;
* :mod:`.snapshots` — computing, storing and reading back snapshots; writers are the event handlers,
  the daily clock job and explicit recomputation, never a read;
* :mod:`.scores` — reading the scores of a resource or a department, recomputing on demand;
* :mod:`.problems` — quality problems: report, answer, list, who sees what.
"""

from govdata.quality.service.problems import (
    ACTION_EVENTS,
    ACTION_LABELS,
    DEADLINE_SUBJECT,
    answer_problem,
    department_problems,
    get_problem,
    invalid_field,
    list_problems,
    mask_key,
    problem_counts,
    problem_view,
    problem_views,
    report_problem,
)
from govdata.quality.service.scores import (
    department_quality,
    departments_overview,
    quality_resource,
    recompute,
    resource_quality,
)
from govdata.quality.service.scoring import (
    ACCURACY_RULES,
    CONFORMANCE_RULES,
    CRITERIA,
    DIMENSIONS,
    LABELS,
    WEIGHTS,
    WINDOW_BATCHES,
    Computed,
    Measure,
    overall_of,
)
from govdata.quality.service.snapshots import (
    QualityFigures,
    ScoreView,
    compute,
    current_view,
    history,
    last_check,
    latest_snapshot,
    quality_figures,
    record_after_batch,
    record_after_publish,
    record_clock,
    record_scheduled,
    without_data,
)

__all__ = [
    "ACCURACY_RULES",
    "ACTION_EVENTS",
    "ACTION_LABELS",
    "CONFORMANCE_RULES",
    "CRITERIA",
    "DEADLINE_SUBJECT",
    "DIMENSIONS",
    "LABELS",
    "WEIGHTS",
    "WINDOW_BATCHES",
    "Computed",
    "Measure",
    "QualityFigures",
    "ScoreView",
    "answer_problem",
    "compute",
    "current_view",
    "department_problems",
    "department_quality",
    "departments_overview",
    "get_problem",
    "history",
    "invalid_field",
    "latest_snapshot",
    "list_problems",
    "mask_key",
    "overall_of",
    "problem_counts",
    "problem_view",
    "problem_views",
    "quality_figures",
    "quality_resource",
    "recompute",
    "record_after_batch",
    "record_after_publish",
    "last_check",
    "record_clock",
    "record_scheduled",
    "without_data",
    "report_problem",
    "resource_quality",
]
