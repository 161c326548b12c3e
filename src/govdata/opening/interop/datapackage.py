"""A Frictionless data package per open dataset (OPN-8): ``/datasets/<code>/datapackage.json``.

One tabular resource, the dataset's CSV download (its absolute URL as ``path``), with a table schema
that follows the items the caller is served, in the CSV's order: each field is named by the item's
code (the CSV header), titled by its name, and typed from the catalog's data type letter, except that
an item served de-identified (masked, pseudonymised, generalised) is a string, as it is served. The
CSV is written as ``core.files.write_csv`` writes (UTF-8 with a BOM, CRLF, dates ``YYYY-MM-DD``,
timestamps ``YYYY-MM-DD HH:MM:SS``, logical values ``true``/``false``), and the schema says so, so
that ``frictionless validate`` passes on the package and its CSV.

A conditional dataset's package describes the items an approved application may be granted (the
caller's own, for an approved applicant); its CSV needs the approval.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from govdata.opening import service as opening
from govdata.opening.enums import OpenType
from govdata.opening.interop import links

FIELD_TYPES: dict[str, dict[str, Any]] = {
    "C": {"type": "string"},
    "M": {"type": "string"},
    "G": {"type": "string"},
    "N": {"type": "number"},
    "Y": {"type": "number"},
    "B": {"type": "number"},
    "F": {"type": "number"},
    "I": {"type": "integer"},
    "D": {"type": "date"},
    "T": {"type": "datetime", "format": "%Y-%m-%d %H:%M:%S"},
    "L": {"type": "boolean", "trueValues": ["true"], "falseValues": ["false"]},
}


def field_of(item: opening.OpenItem) -> dict[str, Any]:
    typed = (
        {"type": "string"} if item.method != "keep" else FIELD_TYPES.get(item.data_type, {"type": "string"})
    )
    return {"name": item.code, "title": item.name, **typed}


def package_name(code: str) -> str:
    """A data package name is lower-case letters, digits and ``-._/``: the code, slash kept."""
    return re.sub(r"[^a-z0-9._/-]", "-", code.lower())


def _instant(value: datetime) -> str:
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def describe(base: str, dataset: opening.OpenDataset, items: list[opening.OpenItem]) -> dict[str, Any]:
    name = package_name(dataset.code)
    open_type = OpenType(dataset.open_type)
    keywords = [k for k in (dataset.theme, dataset.classification) if k]
    return {
        "profile": "tabular-data-package",
        "name": name,
        "id": links.dataset_page(base, dataset.code),
        "title": dataset.name,
        "description": dataset.summary or dataset.name,
        "homepage": links.dataset_page(base, dataset.code),
        "version": _instant(dataset.last_batch_at or dataset.published_at),
        "created": _instant(dataset.published_at),
        "keywords": keywords,
        "licenses": [
            {
                "name": f"open-{open_type.value}",
                "title": open_type.label,
                "path": links.dataset_page(base, dataset.code),
            }
        ],
        "contributors": [
            {
                "title": dataset.provider_name,
                "role": "publisher",
                "path": links.organization_page(base, dataset.provider_id),
            }
        ],
        "resources": [
            {
                "profile": "tabular-data-resource",
                "name": name.replace("/", "-"),
                "title": dataset.name,
                "path": links.download(base, dataset.code, "csv"),
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "quoteChar": '"', "header": True},
                "schema": {"fields": [field_of(item) for item in items], "missingValues": [""]},
            }
        ],
    }
