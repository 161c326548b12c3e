"""Downloads (CSV, XLSX, JSON) and the records API of open datasets (OPN-2, OPN-3, SEC-1): the right
columns, de-identified, never a level-4 or an unserved item; conditional data only for an approved
applicant (logged in, or with its API key); each use counted; on both stores."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from govdata.core.db import make_engine, make_sessionmaker
from govdata.opening import service as opening
from tests.conftest import BACKENDS
from tests.opening.portal_support import portal
from tests.support.http import assert_problem

PUBLIC_COLUMNS = ["bh", "xzqh", "jg"]  # the level-1 items; levels 2–4 are not served anonymously
CONDITIONAL_COLUMNS = ["bh", "xzqh", "jg", "nl", "csrq", "xm", "sfzh"]  # never zd (level 4)


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory, templates):
    yield from portal(request.param, request, tmp_path_factory, templates)


def counts(site, code: str) -> tuple[int, int]:
    engine = make_engine(site.settings.resolved_database_url())
    try:
        with make_sessionmaker(engine)() as session:
            dataset = opening.open_dataset(session, code)
            return dataset.downloads, dataset.api_calls
    finally:
        engine.dispose()


def test_anonymous_downloads_in_three_formats_with_the_public_columns_counted(site):
    before = counts(site, site.free)
    response = site.client.get(f"/datasets/{site.free}/download.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == PUBLIC_COLUMNS and len(rows) == 31
    assert sorted(r[0] for r in rows[1:])[0] == "TJ000000"

    response = site.client.get(f"/datasets/{site.free}/download.json")
    assert response.status_code == 200
    records = json.loads(response.content)
    records = records["items"] if isinstance(records, dict) else records
    assert len(records) == 30 and all(set(r) == set(PUBLIC_COLUMNS) for r in records)

    response = site.client.get(f"/datasets/{site.free}/download.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    header = [c for c in next(sheet.iter_rows(values_only=True)) if c is not None]
    assert len(header) == 3 and all(name not in str(header) for name in ("诊断", "zd", "sfzh", "xm"))
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == 31

    downloads, calls = counts(site, site.free)
    assert downloads == before[0] + 3 and calls == before[1]


def test_conditional_download_is_refused_anonymously_and_without_approval(site):
    assert_problem(site.client.get(f"/datasets/{site.conditional}/download.csv"), 401)
    page = site.client.get(
        f"/datasets/{site.conditional}/download.csv", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    assert_problem(site.client.get(f"/datasets/{site.conditional}/download.csv", headers=site.stranger), 403)


def test_the_approved_applicant_downloads_the_granted_items_de_identified(site):
    response = site.client.get(f"/datasets/{site.conditional}/download.csv", headers=site.citizen)
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == CONDITIONAL_COLUMNS and len(rows) == 30
    first = next(r for r in rows if r["bh"] == "TJ000000")
    assert first["csrq"] == "1950"  # birth date generalised to the year
    assert first["xm"] != "张某0" and first["xm"].startswith("张")  # the name masked
    assert not first["sfzh"].startswith("410802")  # pseudonymised
    assert "诊断" not in response.text


def test_records_api_anonymous_for_unconditional_with_filters_and_counted(site):
    before = counts(site, site.free)
    response = site.client.get(
        f"/api/v1/open/datasets/{site.free}/records", params={"limit": 5, "xzqh": "410802"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 5 and len(body["items"]) == 5
    assert all(set(r) == set(PUBLIC_COLUMNS) and r["xzqh"] == "410802" for r in body["items"])
    same = site.client.get(f"/api/v1/open/{site.free}/records", params={"limit": 5, "xzqh": "410802"})
    assert same.json()["items"] == body["items"]
    assert counts(site, site.free)[1] == before[1] + 2


def test_records_api_needs_the_key_of_an_approved_application_for_conditional_data(site):
    url = f"/api/v1/open/datasets/{site.conditional}/records"
    assert_problem(site.client.get(url), 401)
    assert_problem(site.client.get(url, headers={"X-Api-Key": "gdk_not-a-real-key"}), 401)
    response = site.client.get(url, params={"limit": 3}, headers={"Authorization": f"Bearer {site.key}"})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 3 and all("zd" not in r and "sfzh" in r for r in items)
    assert site.client.get(url, params={"limit": 1}, headers={"X-Api-Key": site.key}).status_code == 200


def test_what_is_not_open_cannot_be_downloaded_or_read(site):
    assert_problem(site.client.get(f"/datasets/{site.hidden}/download.csv"), 404)
    assert_problem(site.client.get(f"/api/v1/open/datasets/{site.hidden}/records"), 404)
    assert_problem(site.client.get(f"/datasets/{site.free}/download.parquet"), 404)
