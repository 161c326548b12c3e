"""Only open data leaves (OPN-1, SEC-1): every route an anonymous caller can reach — portal pages, the
CKAN API, DCAT, data packages, the open API, downloads — called as anonymous and as a public account,
never shows a resource that is not open, nor its item names, nor its records; and every internal API
route refuses both callers (401 anonymous, 403 the public account unless the route is for it)."""

from __future__ import annotations

import itertools
import re
import uuid

import pytest
from fastapi.testclient import TestClient

from govdata.app import create_app
from govdata.core.auth import Role
from govdata.core.ids import ric_check_digit
from govdata.opening.interop.ckan import ACTIONS
from govdata.orgs import service as orgs
from govdata.orgs.schemas import UserIn
from tests.support.catalog import publish
from tests.support.http import login
from tests.support.opening import OFFICER, checkup_records, checkups, open_conditional, open_resource
from tests.support.sharing import load
from tests.test_route_permissions import _admits_anonymous, _authenticators, endpoints

SECRET_NAME = "绝密内部人口底册"
SECRET_ITEM = "内部机密字段"
SECRET_VALUE = "机密值XYZ9"
SECRETS = (SECRET_NAME, SECRET_ITEM, SECRET_VALUE)
PASSWORD = "Citizen@2026-pass"


@pytest.fixture
def walker(settings, session):
    """A client of an app whose rate limit does not stop a walk of every route."""
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 1_000_000}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.engine.dispose()


def _public_account(session) -> str:
    first17 = "41080219850505123"
    username = f"citizen_{uuid.uuid4().hex[:6]}"
    orgs.create_public_user(
        session,
        UserIn(
            username=username,
            password=PASSWORD,
            display_name="李公众",
            roles=["public"],
            identity_kind="natural_person",
            identity_number=first17 + ric_check_digit(first17),
        ),
    )
    session.commit()
    return username


def _internal_resource(client, as_user) -> str:
    """A published resource of open type none with a distinctive name, item name and record value."""
    body = checkups(name=SECRET_NAME, open_type="none", summary=f"{SECRET_NAME}（内部使用）")
    body["items"][2]["name"] = SECRET_ITEM
    code = publish(client, as_user, OFFICER, body)
    records = checkup_records(3)
    for record in records:
        record["jg"] = SECRET_VALUE
    load(client, as_user(OFFICER), code, records)
    return code


_PARAMETER = re.compile(r"{([A-Za-z_]\w*)(?::(\w+))?}")


def _paths(template: str, codes: list[str]) -> list[str]:
    """Concrete paths for a route template: every open and internal code, every download format."""
    names = _PARAMETER.findall(template)
    choices = []
    for name, convertor in names:
        if convertor == "rcode" or name == "code":
            choices.append(codes)
        elif name == "fmt":
            choices.append(["csv", "json", "xlsx"])
        elif name == "name" and "/action/" in template:
            choices.append(sorted(ACTIONS))
        else:
            choices.append(["1"])
    paths = []
    for values in itertools.product(*choices):
        path = template
        for value in values:
            path = _PARAMETER.sub(value, path, count=1)
        paths.append(path)
    return paths


def _params(path: str, code: str | None) -> dict[str, str]:
    params = {"q": SECRET_NAME[:2]}
    if "/action/" in path:
        params.update(id=code or "", resource_id=code or "", all_fields="true", include_datasets="true")
    return params


def test_no_public_route_shows_a_resource_that_is_not_open(walker, as_user, session):
    client = walker
    free = open_resource(client, as_user)
    conditional = open_conditional(client, as_user)
    hidden = _internal_resource(client, as_user)
    citizen = login(client, _public_account(session), PASSWORD)
    codes = [free, conditional, hidden]
    # the secrets are there, for the provider's own staff
    own = as_user(OFFICER)
    assert SECRET_ITEM in client.get(f"/api/v1/resources/{hidden}", headers=own).text
    assert SECRET_VALUE in client.get(f"/api/v1/share/{hidden}/records", headers=own).text

    routes = [(m, t, r) for m, t, r in endpoints(client.app) if m == "GET"]
    public = [(t, r) for m, t, r in routes if _admits_anonymous(r)]
    assert {"/catalog.ttl", "/api/3/action/{name}", "/datasets/{code:rcode}/datapackage.json"} <= {
        t for t, _ in public
    }
    called = 0
    for template, _ in public:
        for path in _paths(template, codes):
            code = next((c for c in codes if c in path), None) or (free if "/action/" in path else None)
            for headers in ({}, citizen, {"Accept": "text/html"}, {**citizen, "Accept": "text/html"}):
                for args in ({"params": _params(path, code)}, {"params": _params(path, hidden)}):
                    answer = client.get(path, headers=headers, **args)
                    text = answer.content.decode("utf-8", errors="replace")
                    leaked = [s for s in SECRETS if s in text]
                    assert not leaked, f"GET {path} {args} ({answer.status_code}) shows {leaked}"
                    called += 1
    assert called > 100

    internal = [(t, r) for m, t, r in routes if not _admits_anonymous(r) and t.startswith("/api/v1/")]
    for template, route in internal:
        path = _paths(template, [hidden])[0]
        assert client.get(path).status_code == 401, path
        answer = client.get(path, headers=citizen)
        for_public = any(
            a.permission is not None and Role.public in a.permission.roles
            for a in _authenticators(route.dependant)
        )
        if not for_public:
            assert answer.status_code == 403, f"GET {path}: {answer.status_code}"
        text = answer.content.decode("utf-8", errors="replace")
        assert not [s for s in SECRETS if s in text], f"GET {path} as a public account"
