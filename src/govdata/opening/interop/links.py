"""The absolute addresses of an open dataset's pages, downloads and interfaces, in one place: the CKAN
packages, the DCAT graph and the data packages all name them, and must name the same ones.

``base`` is the node's public address as the request reached it (scheme, host, any root path), with
no trailing slash.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

DOWNLOAD_FORMATS = ("csv", "xlsx", "json")
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
FORMAT_LABELS = {"csv": "CSV", "xlsx": "XLSX", "json": "JSON"}


def _code(code: str) -> str:
    return quote(code, safe="/")


def dataset_page(base: str, code: str) -> str:
    return f"{base}/datasets/{_code(code)}"


def download(base: str, code: str, fmt: str) -> str:
    """The public download of a dataset in ``fmt`` (de-identified, what the caller may read)."""
    return f"{base}/datasets/{_code(code)}/download.{fmt}"


def records_api(base: str, code: str) -> str:
    """The open API's records of a dataset (JSON, paged)."""
    return f"{base}/api/v1/open/datasets/{_code(code)}/records"


def datastore_search(base: str, code: str) -> str:
    return f"{base}/api/3/action/datastore_search?{urlencode({'resource_id': code})}"


def organization_page(base: str, provider_id: int) -> str:
    return f"{base}/organizations/{provider_id}"


def datapackage(base: str, code: str) -> str:
    return f"{base}/datasets/{_code(code)}/datapackage.json"


def dataset_rdf(base: str, code: str, extension: str) -> str:
    return f"{base}/datasets/{_code(code)}.{extension}"


def catalog(base: str) -> str:
    return f"{base}/catalog"
