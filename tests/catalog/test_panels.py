"""Panels other capabilities add to the catalog's resource page (data quality): the catalog renders
whatever is registered, without importing those capabilities."""

from __future__ import annotations

import ast
import inspect

from govdata.catalog import web
from govdata.catalog.web import forms, pages, presenters
from tests.support.catalog import population
from tests.support.catalog import publish as api_publish
from tests.support.pages import HTML, browser


def test_a_published_resource_shows_the_registered_quality_panel(app, client, as_user):
    code = api_publish(client, as_user, "ga_officer", population())
    draft = client.post(
        "/api/v1/resources", json=population(name="暂住人口信息"), headers=as_user("ga_officer")
    ).json()["code"]
    shown = browser(app, "rs_user").get(f"/catalog/r/{code}", headers=HTML)
    assert shown.status_code == 200 and 'class="card quality-panel"' in shown.text
    assert f'href="/quality/{code}"' in shown.text
    own_draft = browser(app, "ga_officer").get(f"/catalog/r/{draft}", headers=HTML)
    assert own_draft.status_code == 200 and "quality-panel" not in own_draft.text


def test_the_catalog_pages_import_no_other_capability():
    for module in (web, forms, pages, presenters):
        tree = ast.parse(inspect.getsource(module))
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("govdata.")
        }
        others = {name for name in imported if name.split(".")[1] not in ("catalog", "core", "web", "orgs")}
        assert others == set(), module.__name__
