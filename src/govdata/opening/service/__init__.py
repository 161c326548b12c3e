"""Use cases and facts of opening's core (OPN-1, OPN-5, OPN-6), along their seams:

* :mod:`.catalog` — the open catalog: preparation, confidentiality review, publication, withdrawal,
  emergency opening, the yearly priority list; the facts the portal and the interfaces read;
* :mod:`.deid` — the de-identification plan and its transforms (mask, HMAC-SM3 pseudonyms,
  generalisation, suppression);
* :mod:`.kanon` — the k-anonymity report, counted in SQL by the store;
* :mod:`.reads` — a page of records and the downloads (CSV, JSON, XLSX), de-identified.
"""

from govdata.opening.service.catalog import (
    OpenAccess,
    OpenDataset,
    Opening,
    OpeningRow,
    OpenItem,
    Priority,
    add_priority,
    count_use,
    effective_open_type,
    emergency_open,
    get_opening,
    list_openings,
    list_priorities,
    open_catalog_facets,
    open_codes,
    open_dataset,
    open_datasets,
    publish,
    record_consent,
    review,
    save_plan,
    served_items,
    set_non_open_reason,
    update_priority,
    withdraw,
)
from govdata.opening.service.figures import OpenFigures, open_figures
from govdata.opening.service.kanon import KReport, k_min, k_report
from govdata.opening.service.reads import XLSX_MAX_ROWS, export_open, read_open

__all__ = [
    "OpenFigures",
    "open_figures",
    "XLSX_MAX_ROWS",
    "KReport",
    "OpenAccess",
    "OpenDataset",
    "OpenItem",
    "Opening",
    "OpeningRow",
    "Priority",
    "add_priority",
    "count_use",
    "effective_open_type",
    "emergency_open",
    "export_open",
    "get_opening",
    "k_min",
    "k_report",
    "list_openings",
    "list_priorities",
    "open_catalog_facets",
    "open_codes",
    "open_dataset",
    "open_datasets",
    "publish",
    "read_open",
    "record_consent",
    "review",
    "save_plan",
    "served_items",
    "set_non_open_reason",
    "update_priority",
    "withdraw",
]
