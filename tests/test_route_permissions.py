"""SEC-2: every route passes through a permission check, as CKAN insists every action has an auth
function; only an explicit list of routes admits anonymous callers. An auditor reads and never writes."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from govdata.app import create_app
from govdata.core.auth import Authenticator
from govdata.core.config import Settings
from tests.support.http import PROBLEM

# Routes anyone may call, logged in or not, each for a reason. A route without a permission
# dependency, or whose dependency admits anonymous callers (``Authenticator(None)``, ``AnyActor``,
# ``allow_anonymous=True``), must be listed here.
PUBLIC_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/token"): "the login itself",
    ("GET", "/healthz"): "load balancers",
    ("GET", "/metrics"): "Prometheus scrapes without a user",
    ("GET", "/"): "the public portal's home (OPN-2)",
    ("GET", "/datasets"): "the public portal's search of the open catalog (OPN-2)",
    ("GET", "/datasets/{code:rcode}"): "an open dataset's page; anything not open is a 404 (OPN-2)",
    ("GET", "/organizations"): "the providers of open data (OPN-2)",
    ("GET", "/organizations/{provider_id}"): "a provider's open datasets (OPN-2)",
    (
        "GET",
        "/datasets/{code:rcode}/download.{fmt}",
    ): "downloads of open data: anyone for unconditional datasets, approved applicants otherwise (OPN-2, OPN-3)",
    ("GET", "/api/v1/open/datasets"): "the open catalog's search as JSON (OPN-2)",
    ("GET", "/api/v1/open/datasets/{code:rcode}"): "an open dataset's metadata as JSON (OPN-2)",
    (
        "GET",
        "/api/v1/open/datasets/{code:rcode}/records",
    ): "open data by API: anyone for unconditional datasets, an approved application's key otherwise",
    ("GET", "/api/v1/open/{code:rcode}/records"): "the same records call under its shorter path",
    ("GET", "/login"): "the login form",
    ("POST", "/login"): "the login form posts here before there is a session",
    (
        "POST",
        "/logout",
    ): "ends the session of the cookie, if any; an expired one still reaches the login page",
    ("GET", "/api/v1/node/keys"): "the node's public keys, so that anyone can check its receipts (SHR-9)",
    (
        "POST",
        "/api/v1/receipts/verify",
    ): "whoever holds a shared answer may check its receipt, logged in or not (SHR-9)",
    # the CKAN-compatible API reads the open catalog only; a key matters to datastore_search (OPN-8)
    ("GET", "/api/3/action/{name}"): "CKAN Action API over the open catalog (OPN-8)",
    ("POST", "/api/3/action/{name}"): "CKAN Action API: clients POST a JSON body to read (OPN-8)",
    ("GET", "/api/action/{name}"): "the CKAN Action API under its unversioned path (OPN-8)",
    ("POST", "/api/action/{name}"): "the CKAN Action API under its unversioned path (OPN-8)",
    ("GET", "/catalog.ttl"): "the open catalog as DCAT-AP 3 Turtle (OPN-8)",
    ("GET", "/catalog.rdf"): "the open catalog as DCAT-AP 3 RDF/XML (OPN-8)",
    ("GET", "/catalog.jsonld"): "the open catalog as DCAT-AP 3 JSON-LD (OPN-8)",
    ("GET", "/datasets/{code:rcode}.ttl"): "an open dataset as DCAT-AP 3 Turtle (OPN-8)",
    ("GET", "/datasets/{code:rcode}.rdf"): "an open dataset as DCAT-AP 3 RDF/XML (OPN-8)",
    ("GET", "/datasets/{code:rcode}.jsonld"): "an open dataset as DCAT-AP 3 JSON-LD (OPN-8)",
    ("GET", "/datasets/{code:rcode}/datapackage.json"): "an open dataset's Frictionless data package (OPN-8)",
    ("POST", "/api/v1/public/accounts"): "a visitor registers a public account (ORG-4), rate-limited",
    ("GET", "/register"): "the registration form of public accounts (ORG-4)",
    ("POST", "/register"): "the registration form posts here before there is an account",
    ("GET", "/api/v1/demands"): "open demands and their answers are public (OPN-4)",
    ("GET", "/demands"): "the public page of open demands (OPN-4)",
    ("GET", "/api/v1/reuses"): "registered reuses of open data are public (OPN-9)",
    ("GET", "/reuses"): "the public page of reuses (OPN-9)",
}

# State-changing routes an auditor may call, each for a reason.
AUDITOR_MAY_CALL: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/logout"): "ending one's own session is not a change of records",
}

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def endpoints(app) -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) of every FastAPI route, also inside included routers."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            found += [
                (m, context.path, route)
                for m in sorted(context.methods or ())
                if m not in ("HEAD", "OPTIONS")
            ]
    return found


def _endpoints(tmp_path):
    return endpoints(create_app(Settings(data_dir=tmp_path, secret_key="x", log_json=False)))


def _authenticators(dependant) -> list[Authenticator]:
    found = [d.call for d in dependant.dependencies if isinstance(d.call, Authenticator)]
    for sub in dependant.dependencies:
        found += _authenticators(sub)
    return found


def _admits_anonymous(route: APIRoute) -> bool:
    """No permission dependency at all, or one that lets an anonymous caller through."""
    authenticators = _authenticators(route.dependant)
    return not authenticators or any(a.allow_anonymous for a in authenticators)


def _fill(template: str) -> str:
    """A concrete path for a route template: the permission dependency answers before any lookup."""
    path = re.sub(r"\{[^}]+:(rcode|path)\}", "101/002000001", template)
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_declares_its_permission(tmp_path):
    all_endpoints = _endpoints(tmp_path)
    assert len(all_endpoints) > 100
    unchecked = [
        f"{method} {path}"
        for method, path, route in all_endpoints
        if not _authenticators(route.dependant) and (method, path) not in PUBLIC_ROUTES
    ]
    assert not unchecked, f"routes without a permission dependency: {unchecked}"


def test_every_route_admitting_anonymous_callers_is_on_the_public_list(tmp_path):
    anonymous = [
        f"{method} {path}"
        for method, path, route in _endpoints(tmp_path)
        if _admits_anonymous(route) and (method, path) not in PUBLIC_ROUTES
    ]
    assert not anonymous, f"routes admitting anonymous callers, not on the public list: {anonymous}"


def test_the_public_list_names_real_public_routes(tmp_path):
    routes = {(method, path): route for method, path, route in _endpoints(tmp_path)}
    missing = set(PUBLIC_ROUTES) - set(routes)
    assert not missing, f"public routes that do not exist: {missing}"
    guarded = [key for key in PUBLIC_ROUTES if not _admits_anonymous(routes[key])]
    assert not guarded, f"routes on the public list that need a login (remove them): {guarded}"
    assert all(reason.strip() for reason in PUBLIC_ROUTES.values())


def test_declaring_an_auditor_write_permission_fails():
    from govdata.core.auth import Role, permission

    with pytest.raises(ValueError):
        permission("test.bad", {Role.auditor}, "坏权限")


def test_anonymous_callers_get_401_on_every_route_not_on_the_public_list(client):
    guarded = [(m, t) for m, t, _ in endpoints(client.app) if (m, t) not in PUBLIC_ROUTES]
    checked = 0
    for method, template in guarded:
        response = client.request(method, _fill(template), json={})
        assert response.status_code == 401, f"{method} {template}: {response.status_code} {response.text}"
        checked += 1
    assert checked == len(guarded) > 100


def test_auditor_gets_403_on_every_state_changing_route(client, as_user):
    auditor = as_user("auditor")
    state_changing = [
        (method, template)
        for method, template, _ in endpoints(client.app)
        if method in STATE_CHANGING and (method, template) not in PUBLIC_ROUTES
    ]
    assert set(AUDITOR_MAY_CALL) <= set(state_changing), "an exception names a route that does not exist"
    to_check = [key for key in state_changing if key not in AUDITOR_MAY_CALL]
    checked = 0
    for method, template in to_check:
        response = client.request(method, _fill(template), headers=auditor, json={})
        assert response.status_code == 403, f"{method} {template}: {response.status_code} {response.text}"
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json().get("permission"), f"{method} {template}: 403 not for a permission"
        checked += 1
    # every state-changing route the walk found, less the listed exceptions, pages' forms included:
    # 58 when this was written, so a walk that silently finds fewer routes fails too
    assert checked == len(state_changing) - len(AUDITOR_MAY_CALL) >= 58
    assert any(not template.startswith("/api/") for _, template in to_check)
