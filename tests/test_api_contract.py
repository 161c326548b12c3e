"""The OpenAPI document is the API's contract (NF-4): schemathesis generates requests for every
operation from it, over the ASGI app holding the demo region and its catalog, and fails on any 5xx,
any status or content type the document does not list for the operation, and any body that does
not match the documented schema.

The run is bounded and repeatable: a fixed seed, derandomised generation, at most ``MAX_EXAMPLES``
generated cases per operation in the fuzzing phase besides the examples and coverage phases (the
stateful phase, which chains operations, is off). It takes two minutes on a 2-core machine, and runs
on the embedded store only: the document and its shapes are the same on both stores, and every
capability's own tests drive its routes on PostgreSQL as well (running the fuzzing twice cost the
suite as much as all of a capability's tests). Path parameters are drawn mostly
from objects that exist (the demo's resource codes, small ids), so that the run reaches the
services rather than only their 404s; the rest comes from the documented schema (a resource code
from its pattern, slash included). No operation is left out (``EXCLUDED``).

The module also checks the document itself (problems per operation, the batch body, the resource
code) and that Swagger UI works in a browser without internet, under the documentation's CSP.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from govdata.app import create_app
from govdata.catalog.demo import create_demo_catalog
from govdata.core.config import Settings
from govdata.core.files import XLSX_MEDIA_TYPE
from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, serve, shot
from tests.support.batches import good_rows
from tests.support.http import PROBLEM, login
from tests.test_route_permissions import PUBLIC_ROUTES

MAX_EXAMPLES = 6
SEED = 20260925

# Operations the run leaves out, each with its reason ("METHOD /path": reason). None today:
# POST /api/v1/auth/logout is called with a token of its own, so it never ends the run's session.
EXCLUDED: dict[str, str] = {}

# Aggregation acts on the provider's own resources: its operations are called as 市公安局's officer,
# the others as the authority (市大数据局), who sees every resource.
OFFICER_TAGS = {"数据归集"}
LOGOUT = ("POST", "/api/v1/auth/logout")

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

ID_PARAMETERS = (
    "batch_id",
    "conflict_id",
    "credential_id",
    "department_id",
    "library_id",
    "number",
    "problem_id",
    "pull_id",
    "system_id",
    "task_id",
    "user_id",
)


@pytest.fixture
def backend() -> str:
    """The contract run is on the embedded store (the module docstring says why)."""
    return "sqlite"


@pytest.fixture
def contract_app(settings, session):
    create_demo_catalog(session)
    session.commit()
    app = create_app(
        settings.model_copy(
            update={"rate_limit_per_minute": 1_000_000, "login_rate_limit_per_minute": 1_000_000}
        )
    )
    yield app
    shutdown_lifespans()  # schemathesis's plugin ends the lifespan it started as well (worker, store)
    app.state.engine.dispose()
    # schemathesis keeps the app until the interpreter exits: let go of the closed store's connections
    for name in ("store", "jobs", "scheduler", "pull_scheduler"):
        if hasattr(app.state, name):
            delattr(app.state, name)


@pytest.fixture
def demo(contract_app) -> dict:
    """Tokens of the two callers, the demo's resource codes, and a batch to find (queued here, applied
    once the run has started the app's job worker)."""
    client = TestClient(contract_app)  # not entered: the run starts the app's lifespan itself
    authority, officer = login(client, "dsj_officer"), login(client, "ga_officer")
    codes = [r["code"] for r in client.get("/api/v1/resources?limit=500", headers=authority).json()["items"]]
    own = client.get("/api/v1/resources?q=人口基础信息", headers=officer).json()["items"][0]["code"]
    records = [dict(zip(("gmsfhm", "xm", "xb", "csrq", "hjdz"), row, strict=True)) for row in good_rows(20)]
    queued = client.post(
        f"/api/v1/resources/{own}/batches",
        json={"mode": "upsert", "policy": "accept_valid", "records": records, "wait": False},
        headers=officer,
    )
    assert queued.status_code == 202, queued.text
    return {"client": client, "authority": authority, "officer": officer, "codes": codes}


@pytest.fixture
def api_schema(contract_app, demo):
    parameters = {"path.code": {"dictionary": "codes", "probability": 0.8}}
    parameters |= {f"path.{name}": {"dictionary": "ids", "probability": 0.8} for name in ID_PARAMETERS}
    parameters["query.department_id"] = {"dictionary": "ids", "probability": 0.5}
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "dictionaries": {"codes": {"values": demo["codes"]}, "ids": {"values": [1, 2, 3]}},
            "parameters": parameters,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "with-security-parameters": False,
                "database": "none",
            },
            "phases": {"coverage": {"enabled": True}, "stateful": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", contract_app, config=config)
    for key in EXCLUDED:
        method, path = key.split(" ", 1)
        schema = schema.exclude(method=method, path=path)
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    """schemathesis 4.32 renames the test node per operation through pytest 8's private ``_nodeid``,
    which pytest 9.2 no longer has: give it one to rename (pytest reports subtests by their own name)."""
    request.node._nodeid = request.node.nodeid


@schema.parametrize()
def test_the_api_keeps_its_openapi_contract(case, demo):
    operation = (case.operation.method.upper(), case.operation.path)
    if operation == LOGOUT:
        headers = login(demo["client"], "dsj_officer")  # a session of its own to end
    elif OFFICER_TAGS & set(case.operation.definition.raw.get("tags", [])):
        headers = demo["officer"]
    else:
        headers = demo["authority"]
    case.call_and_validate(headers=headers, checks=CHECKS)


# --- the document itself ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory):
    """The app over an empty store: enough for its document and for what answers before a lookup."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("openapi"), secret_key="x", log_json=False))
    yield app
    app.state.store.close()
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def document(bare_app) -> dict:
    return TestClient(bare_app).get("/openapi.json").json()


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def test_every_operation_documents_its_problems(document):
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail"]
    assert "HTTPValidationError" not in str(document)  # the framework's 422 is not what we answer
    checked = 0
    for method, path, operation in operations(document):
        responses = operation["responses"]
        expected = {"401", "429"}
        if "{" in path:
            expected.add("404")
        if operation.get("parameters") or operation.get("requestBody"):
            expected.add("422")
        if method != "GET":
            expected |= {"403", "409"}
        assert expected <= set(responses), f"{method} {path}: {sorted(responses)}"
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == [PROBLEM], f"{method} {path} {status}"
                assert response["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
        checked += 1
    assert checked > 80
    named = {f"{method} {path}" for method, path, _ in operations(document)}
    assert set(EXCLUDED) <= named, "an exclusion names an operation that does not exist"


def test_operations_say_which_credential_they_take(document):
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # the document names a path parameter without its convertor: /datasets/{code}, not {code:rcode}
    public = {(method, re.sub(r":\w+}", "}", path)) for method, path in PUBLIC_ROUTES}
    for method, path, operation in operations(document):
        if (method, path) in public:
            # none (the login), or optional: the open-data routes read an API key when one is sent
            assert operation["security"] in ([], [{}, {"bearer": []}]), f"{method} {path}"
        else:
            assert operation["security"] == [{"bearer": []}], f"{method} {path}"
    # uploads may be refused as malformed or too large
    for path in ("/api/v1/catalog/import", "/api/v1/calendar/years/{year}/file", "/api/v1/auth/token"):
        assert {"400", "413"} <= set(document["paths"][path]["post"]["responses"])


def test_the_batch_request_body_is_documented(document):
    operation = document["paths"]["/api/v1/resources/{code}/batches"]["post"]
    content = operation["requestBody"]["content"]
    upload = content["multipart/form-data"]["schema"]
    assert upload["required"] == ["file"] and upload["properties"]["file"]["format"] == "binary"
    assert {"file", "mode", "policy", "encoding", "source_rows", "wait"} <= set(upload["properties"])
    records = content["application/json"]["schema"]
    assert records["required"] == ["records"] and {"mode", "policy", "records"} <= set(records["properties"])
    assert upload["properties"]["mode"]["enum"] == ["replace", "upsert", "delete"]
    assert {"201", "202", "400", "413"} <= set(operation["responses"])
    errors = document["paths"]["/api/v1/batches/{batch_id}/errors"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv", XLSX_MEDIA_TYPE} == set(errors)


def test_a_resource_code_is_documented_as_a_string_holding_its_slash(document, bare_app):
    code_operations = 0
    for method, path, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "code" and parameter["in"] == "path":
                schema = parameter["schema"]
                assert schema["type"] == "string" and "/" in schema["pattern"], f"{method} {path}"
                assert all(re.fullmatch(schema["pattern"], code) for code in schema["examples"])
                code_operations += 1
    assert code_operations >= 15
    # what schemathesis generates from the pattern is a code the routes take (not an unmatched path)
    pattern = document["paths"]["/api/v1/resources/{code}"]["get"]["parameters"][0]["schema"]["pattern"]
    client = TestClient(bare_app, raise_server_exceptions=False)

    @hypothesis_settings(max_examples=25, derandomize=True, deadline=None)
    @given(code=st.from_regex(pattern, fullmatch=True))
    def generated_codes_reach_the_route(code):
        assert code.count("/") == 1
        answer = client.get(f"/api/v1/resources/{code}")
        assert answer.status_code == 401, answer.text  # the route's permission check, not "no such path"

    generated_codes_reach_the_route()


# --- the documentation pages ------------------------------------------------------------------


def test_the_documentation_pages_load_nothing_from_elsewhere(bare_app):
    client = TestClient(bare_app)
    for path, assets in (
        ("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")),
        ("/redoc", ("redoc.standalone.js",)),
    ):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert sources and all(s.startswith("/") for s in sources), sources
        for asset in assets:
            served = client.get(f"/docs/assets/{asset}")
            assert served.status_code == 200 and len(served.content) > 100_000, asset


@pytest.mark.e2e
def test_swagger_ui_works_offline_under_the_documentation_policy(tmp_path):
    """In Debian's chromium with every request to another host refused (no internet): /docs renders
    the operations, without one Content Security Policy violation; ReDoc renders too."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium and a CJK font"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    with serve(tmp_path) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(15_000)
            problems, elsewhere = [], []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

            def offline(route):
                if route.request.url.startswith(server.url):
                    route.continue_()
                else:
                    elsewhere.append(route.request.url)
                    route.abort()

            page.route("**/*", offline)
            page.goto(server.url + "/docs")
            # the document is large (every capability's operations): give a busy machine time to draw it
            expect(page.locator(".opblock-tag", has_text="数据归集")).to_be_visible(timeout=60_000)
            page.locator(".opblock-summary", has_text="/api/v1/resources/{code}/batches").first.click()
            expect(page.get_by_text("multipart/form-data").first).to_be_attached(timeout=60_000)
            shot(page, "api-docs", full_page=False)
            assert problems == [] and elsewhere == []
            page.goto(server.url + "/redoc")
            expect(page.get_by_role("heading", name="数据归集").first).to_be_visible(timeout=60_000)
            assert elsewhere == []
        finally:
            browser.close()
