"""One set of search parameters (CAT-11) for the search API, the export and the command line."""

from __future__ import annotations

import dataclasses

from govdata.catalog.schemas import ExportSearchParams, SearchParams
from govdata.catalog.search import SearchQuery
from tests.support.catalog import create, enterprises, population
from tests.support.catalog import publish_draft as publish
from tests.support.http import assert_problem


def test_the_parameters_name_every_filter_of_a_search():
    filters = {f.name for f in dataclasses.fields(SearchQuery)} - {"limit", "offset"}
    assert set(SearchParams.model_fields) == filters
    assert ExportSearchParams.model_fields["format"].alias == "resource_format"
    query = SearchParams(q="人口", format="database").to_query(limit=5, offset=10)
    assert (query.q, query.format, query.limit, query.offset) == ("人口", "database", 5, 10)


def test_search_and_export_filter_alike(client, as_user):
    ga, scjg = as_user("ga_officer"), as_user("scjg_officer")
    publish(client, as_user, create(client, ga, population())["code"])
    opened = create(client, scjg, enterprises())
    client.post(f"/api/v1/resources/{opened['code']}/submit", headers=scjg)
    client.post(f"/api/v1/resources/{opened['code']}/publish", headers=as_user("dsj_officer"))
    reader = as_user("rs_user")
    for name, value in (("share_type", "unconditional"), ("open_type", "none"), ("format", "database")):
        found = client.get(f"/api/v1/resources?{name}={value}&limit=100", headers=reader).json()
        export_name = "resource_format" if name == "format" else name
        exported = client.get(f"/api/v1/catalog/export?format=json&{export_name}={value}", headers=reader)
        assert exported.status_code == 200, exported.text
        assert {r["code"] for r in exported.json()["resources"]} == {r["code"] for r in found["items"]}, name
    assert_problem(client.get("/api/v1/resources?share_type=free", headers=reader), 422)
    assert_problem(client.get("/api/v1/catalog/export?resource_format=paper", headers=reader), 422)
    assert_problem(client.get("/api/v1/resources?sort=random", headers=reader), 422)
