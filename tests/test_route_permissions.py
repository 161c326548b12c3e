"""SEC-2: every route passes through a permission check, as CKAN insists every action has an auth
function; only an explicit list of routes is public. An auditor reads and never writes."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from govdata.app import create_app
from govdata.core.auth import REGISTRY, Authenticator, Role
from govdata.core.config import Settings

# Routes anyone may call, each for a reason.
PUBLIC_ROUTES = {
    ("POST", "/api/v1/auth/token"),  # the login itself
    ("GET", "/healthz"),  # load balancers
    ("GET", "/metrics"),  # Prometheus scrapes without a user
}


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


def test_every_route_declares_its_permission(tmp_path):
    unchecked = []
    all_endpoints = _endpoints(tmp_path)
    assert len(all_endpoints) > 20
    for method, path, route in all_endpoints:
        if (method, path) not in PUBLIC_ROUTES and not _authenticators(route.dependant):
            unchecked.append(f"{method} {path}")
    assert not unchecked, f"routes without a permission dependency: {unchecked}"


def test_public_allowlist_names_real_routes(tmp_path):
    present = {(method, path) for method, path, _ in _endpoints(tmp_path)}
    assert present >= PUBLIC_ROUTES


def test_no_write_permission_is_held_by_an_auditor():
    assert REGISTRY, "permissions are registered when the capabilities are imported"
    for perm in REGISTRY.values():
        if perm.writes:
            assert Role.auditor not in perm.roles, perm.name


def test_declaring_an_auditor_write_permission_fails():
    from govdata.core.auth import permission

    with pytest.raises(ValueError):
        permission("test.bad", {Role.auditor}, "坏权限")


def test_auditor_gets_403_on_every_state_changing_api_route(client, as_user):
    auditor = as_user("auditor")
    checked = 0
    for method, template, _ in endpoints(client.app):
        if not template.startswith("/api/") or method == "GET" or (method, template) in PUBLIC_ROUTES:
            continue
        if template == "/api/v1/auth/logout":  # ending one's own session is not a change of records
            continue
        path = re.sub(r"\{[^}]+\}", "1", re.sub(r"\{[^}]+:rcode\}", "101/002000001", template))
        response = client.request(method, path, headers=auditor, json={})
        assert response.status_code == 403, f"{method} {template}: {response.status_code} {response.text}"
        checked += 1
    assert checked >= 8
