"""Use cases of objections (COR-1 … COR-4), along their seams:

* :mod:`.records` — the record an objection is about, as its filer may see it (one 404 otherwise);
* :mod:`.filing` — filing on the platform, entering one raised off it, evidence;
* :mod:`.reading` — who sees which objection, deadlines and countdowns;
* :mod:`.review` — the extension and the outcome (a correction is a batch of aggregation's);
* :mod:`.sweep` — the scheduled sweep (escalations, settling corrections), also ``govdata tick``.

The "under review" flag every sharing answer carries is :mod:`govdata.objections.flags`.
"""

from govdata.objections.service.figures import ReviewFigures, review_figures
from govdata.objections.service.filing import (
    MAX_ATTACHMENT_BYTES,
    add_attachment,
    file_objection,
    objection_href,
    read_attachment,
)
from govdata.objections.service.reading import (
    attachments_of,
    deadline_of,
    get_objection,
    list_objections,
    original_deadline_of,
    working_days_left,
)
from govdata.objections.service.records import objectable_items, shown_key
from govdata.objections.service.review import (
    extend,
    principal_head_of,
    request_extension,
    resolve,
    settle,
    settle_batch,
)
from govdata.objections.service.sweep import SWEEP, sweep, tick

__all__ = [
    "ReviewFigures",
    "review_figures",
    "MAX_ATTACHMENT_BYTES",
    "SWEEP",
    "add_attachment",
    "attachments_of",
    "deadline_of",
    "extend",
    "file_objection",
    "get_objection",
    "list_objections",
    "objectable_items",
    "objection_href",
    "original_deadline_of",
    "principal_head_of",
    "read_attachment",
    "request_extension",
    "resolve",
    "settle",
    "settle_batch",
    "shown_key",
    "sweep",
    "tick",
    "working_days_left",
]
