"""Interface mode (接口访问): a provider registers its own HTTP service and the platform calls it for the
holders of a grant, so that consumers never hold the provider's address or secret; the answer comes
back cut to the grant's items, every call in the usage log and the audit trail. The provider's
service is a small HTTP server on the loopback, started by the test; both stores."""

# ruff: noqa: F811  (the fixtures of tests.support.sharing, named as parameters)

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import select

from govdata.core.audit import AuditEvent
from tests.support.catalog import publish
from tests.support.http import assert_problem
from tests.support.recorder import Recorder, Reply, recording
from tests.support.server import free_port
from tests.support.sharing import (  # noqa: F401
    grant,
    load,
    people,
    shared_population,
    system,
    usage_of,
)

SECRET = "provider-secret-2026"
REGISTER = "/api/v1/resources/{code}/interface"
CALL = "/api/v1/share/{code}/interface/{path}"


@pytest.fixture
def settings(settings):
    """The provider's service runs on the loopback: the test allows internal addresses."""
    settings.interface_allow_private = True
    return settings


@pytest.fixture
def provider() -> Iterator[Recorder]:
    """市公安局's own population service: a record by id, a page of records, an echo, and failures."""
    with recording() as recorder:
        by_id = {p["gmsfhm"]: {**p, "source": "公安人口库"} for p in people(5)}

        def person(request):
            found = by_id.get(request.path.rsplit("/", 1)[-1])
            return Reply(200, found) if found else Reply(404, {"detail": "查无此人"})

        def page(request):
            records = list(by_id.values())[:2]
            return Reply(
                200, {"items": records, "total": len(by_id), "message": "第一页", "source": "公安人口库"}
            )

        recorder.routes = {
            "/api/people/": person,
            "/api/people": page,
            "/api/echo": lambda request: Reply(200, request.body or b"{}"),
            "/api/text": lambda request: Reply(200, "纯文本答复", content_type="text/plain; charset=utf-8"),
            "/api/boom": lambda request: Reply(500, {"detail": "internal stack trace"}),
            "/api/moved": lambda request: Reply(302, b"", headers={"Location": "http://10.0.0.1/"}),
            "/api/slow": lambda request: Reply(200, {"late": True}, delay=5),
        }
        yield recorder


@pytest.fixture
def code(client, as_user) -> str:
    """人口基础信息 offering the interface mode, published by 市公安局, with data."""
    body = shared_population()
    body["share_modes"] = ["verify", "query", "interface", "exchange"]
    code = publish(client, as_user, "ga_officer", body)
    load(client, as_user("ga_officer"), code, people(5))
    return code


def register(client, headers, code, base_url, **extra):
    return client.post(
        REGISTER.format(code=code), json={"base_url": base_url, "secret": SECRET, **extra}, headers=headers
    )


@pytest.fixture
def registered(client, as_user, code, provider) -> str:
    response = register(client, as_user("ga_officer"), code, provider.url + "/api")
    assert response.status_code == 201, response.text
    return code


def call(client, headers, code, path, **kwargs):
    method = kwargs.pop("method", "GET")
    return client.request(method, CALL.format(code=code, path=path), headers=headers, **kwargs)


def test_the_consumer_gets_the_providers_answer_cut_to_its_granted_items(
    client, as_user, registered, provider, system
):
    given = grant(
        client,
        as_user,
        registered,
        system["id"],
        ["gmsfhm", "xm", "lxdh"],
        masked=["xm"],
        modes=["interface"],
    )
    person = people(5)[2]
    answer = call(client, system["headers"], registered, f"people/{person['gmsfhm']}", params={"full": "1"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    record = answer.json()
    # only the granted items, 姓名 masked as the grant says; 性别, 出生日期, addresses and the provider's
    # own "source" key never reach the consumer
    assert record == {
        "gmsfhm": person["gmsfhm"],
        "xm": person["xm"][0] + "*" * (len(person["xm"]) - 1),
        "lxdh": person["lxdh"],
    }

    # a page of records keeps its envelope's paging and status fields (not the others); each record
    # in it is cut the same way
    listed = call(client, system["headers"], registered, "people").json()
    assert set(listed) == {"items", "total", "message"}
    assert listed["total"] == 5 and listed["message"] == "第一页"
    assert [set(r) for r in listed["items"]] == [{"gmsfhm", "xm", "lxdh"}] * 2

    # what the provider saw: the platform's headers and its secret, never the consumer's credential
    (seen,) = provider.requests(f"/api/people/{person['gmsfhm']}")
    assert seen.query == "full=1"
    assert seen.headers["x-govdata-grant"] == str(given["id"])
    assert seen.headers["x-govdata-consumer"] == str(system["department_id"])
    assert seen.headers["x-govdata-system"] == str(system["id"])
    assert seen.headers["x-end-user"] == quote("王社保")
    assert seen.headers["x-govdata-items"] == "gmsfhm,xm,lxdh"
    assert seen.headers["x-govdata-secret"] == SECRET
    token = system["headers"]["Authorization"].split()[1]
    assert "authorization" not in seen.headers and "cookie" not in seen.headers
    assert not any(token in value for value in seen.headers.values())

    # every call is in the usage log (as provider and as consumer) and the audit trail
    calls = usage_of(client, as_user("ga_officer"), mode="interface")
    assert [c["outcome"] for c in calls] == ["ok", "ok"]
    assert calls[1]["rows"] == 1 and calls[0]["rows"] == 2
    assert calls[1]["grant_id"] == given["id"] and calls[1]["end_user"] == "王社保"
    assert len(usage_of(client, as_user("rs_officer"), mode="interface")) == 2
    with client.app.state.sessionmaker() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "sharing.data.interface").order_by(AuditEvent.seq)
        ).all()
    assert len(events) == 2 and events[0].actor == f"system:{system['id']}"
    assert json.loads(events[0].details)["path"] == f"/people/{person['gmsfhm']}"


def test_a_post_goes_through_with_its_body_and_the_answer_is_cut_too(
    client, as_user, registered, provider, system
):
    grant(client, as_user, registered, system["id"], ["gmsfhm", "xb"], modes=["interface"])
    person = people(1)[0]
    sent = {"gmsfhm": person["gmsfhm"], "xm": person["xm"], "xb": "1", "page": 1}
    answer = call(client, system["headers"], registered, "echo", method="POST", json=sent)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"gmsfhm": person["gmsfhm"], "xb": "1"}
    (seen,) = provider.requests("/api/echo")
    assert seen.method == "POST" and seen.json() == sent
    assert seen.headers["content-type"] == "application/json"


def test_the_providers_own_staff_get_the_answer_whole(client, as_user, registered, provider):
    person = people(5)[1]
    answer = call(client, as_user("ga_officer"), registered, f"people/{person['gmsfhm']}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["source"] == "公安人口库" and answer.json()["hjdz"] == person["hjdz"]
    (seen,) = provider.requests("/api/people/")
    assert "x-govdata-grant" not in seen.headers and seen.headers["x-end-user"] == "ga_officer"


UNFILTERABLE = {
    "text": Reply(200, "纯文本答复：" + people(1)[0]["hjdz"], content_type="text/plain; charset=utf-8"),
    "ndjson": Reply(
        200,
        "\n".join(json.dumps(p, ensure_ascii=False) for p in people(2)),
        content_type="application/x-ndjson",
    ),
    "table": Reply(
        200,
        {"columns": list(people(1)[0]), "rows": [list(p.values()) for p in people(2)]},
        content_type="text/json",
    ),
    "scalar": Reply(200, json.dumps(people(1)[0]["hjdz"], ensure_ascii=False)),
    "object-in-a-masked-item": Reply(
        200,
        {"gmsfhm": people(1)[0]["gmsfhm"], "xm": {"text": people(1)[0]["xm"], "hjdz": people(1)[0]["hjdz"]}},
    ),
    "keyed-by-data": Reply(200, {"people": {people(1)[0]["lxdh"]: {"gmsfhm": people(1)[0]["gmsfhm"]}}}),
    "list-in-an-item": Reply(200, {"gmsfhm": [people(1)[0]["gmsfhm"], people(1)[0]["hjdz"]]}),
    "deep": Reply(200, "[" * 100_000 + "]" * 100_000),
    "deep-envelopes": Reply(200, '{"a":' * 40 + json.dumps(people(1)[0], ensure_ascii=False) + "}" * 40),
    "pdf": Reply(200, b"%PDF-1.7 " + people(1)[0]["hjdz"].encode(), content_type="application/pdf"),
}


@pytest.mark.parametrize("shape", sorted(UNFILTERABLE))
def test_an_answer_that_cannot_be_cut_to_the_grant_is_refused_to_consumers(
    client, as_user, registered, provider, system, shape
):
    provider.routes["/api/odd"] = lambda request: UNFILTERABLE[shape]
    grant(client, as_user, registered, system["id"], ["gmsfhm", "xm"], masked=["xm"], modes=["interface"])
    answer = call(client, system["headers"], registered, "odd")
    problem = assert_problem(answer, 502, "unfilterable-answer")
    assert "授权范围" in problem["detail"]
    person = people(1)[0]
    assert all(person[item] not in answer.text for item in ("hjdz", "xm", "lxdh"))
    assert [c["outcome"] for c in usage_of(client, as_user("ga_officer"), mode="interface")] == ["error"]
    # the provider's own staff get the answer as it is
    own = call(client, as_user("ga_officer"), registered, "odd")
    assert own.status_code == 200 and own.content == call_body(UNFILTERABLE[shape])


def call_body(reply: Reply) -> bytes:
    body = reply.body
    if isinstance(body, dict | list):
        return json.dumps(body, ensure_ascii=False).encode("utf-8")
    return body.encode("utf-8") if isinstance(body, str) else body


@pytest.mark.parametrize("content_type", ["text/plain", "", "text/json", "application/x-ndjson"])
def test_json_however_it_is_labelled_is_cut_to_the_grant(
    client, as_user, registered, provider, system, content_type
):
    records = people(2)
    text = json.dumps({"items": records, "total": 2}, ensure_ascii=False)
    provider.routes["/api/labelled"] = lambda request: Reply(200, text, content_type=content_type)
    grant(client, as_user, registered, system["id"], ["gmsfhm", "xm"], masked=["xm"], modes=["interface"])
    answer = call(client, system["headers"], registered, "labelled")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == {
        "items": [{"gmsfhm": p["gmsfhm"], "xm": p["xm"][0] + "*" * (len(p["xm"]) - 1)} for p in records],
        "total": 2,
    }


def test_masked_items_of_any_type_are_masked_and_an_empty_answer_passes(
    client, as_user, registered, provider, system
):
    person = people(1)[0]
    provider.routes["/api/typed"] = lambda request: Reply(
        200, [{"GMSFHM": person["gmsfhm"], "XB": 1, "lxdh": 13912345678}, {"gmsfhm": None, "xb": None}]
    )
    provider.routes["/api/empty"] = lambda request: Reply(204, b"", content_type="")
    grant(
        client,
        as_user,
        registered,
        system["id"],
        ["gmsfhm", "xb", "lxdh"],
        masked=["xb", "lxdh"],
        modes=["interface"],
    )
    answer = call(client, system["headers"], registered, "typed")
    assert answer.status_code == 200, answer.text
    assert answer.json() == [
        {"GMSFHM": person["gmsfhm"], "XB": "*", "lxdh": "*******5678"},
        {"gmsfhm": None, "xb": None},
    ]
    assert call(client, system["headers"], registered, "empty").status_code == 204


def test_the_providers_own_staff_get_any_answer_as_it_is(client, as_user, registered, provider):
    answer = call(client, as_user("ga_officer"), registered, "text")
    assert answer.status_code == 200 and answer.text == "纯文本答复"
    assert answer.headers["content-type"].startswith("text/plain")


def test_without_a_grant_or_without_the_mode_the_call_is_refused_and_never_reaches_the_provider(
    client, as_user, registered, provider, system
):
    person = people(1)[0]
    assert_problem(call(client, system["headers"], registered, f"people/{person['gmsfhm']}"), 403, "no-grant")
    grant(client, as_user, registered, system["id"], ["gmsfhm", "xm"], modes=["query"])
    assert_problem(
        call(client, system["headers"], registered, f"people/{person['gmsfhm']}"), 403, "mode-not-granted"
    )
    # another department's staff, with no grant at all
    assert_problem(call(client, as_user("wj_user"), registered, "people"), 403)
    assert provider.requests() == []
    refused = usage_of(client, as_user("ga_officer"), mode="interface")
    assert {c["outcome"] for c in refused} == {"denied"} and len(refused) >= 2


def test_a_suspended_grant_is_refused_on_the_next_call(client, as_user, registered, provider, system):
    given = grant(client, as_user, registered, system["id"], ["gmsfhm"], modes=["interface"])
    assert call(client, system["headers"], registered, "people").status_code == 200
    suspended = client.post(
        f"/api/v1/grants/{given['id']}/suspend",
        json={"reason": "核查使用情况"},
        headers=as_user("ga_officer"),
    )
    assert suspended.status_code == 200, suspended.text
    assert_problem(call(client, system["headers"], registered, "people"), 403, "grant-suspended")
    assert len(provider.requests("/api/people")) == 1


def test_the_grants_rate_limit_answers_429(client, as_user, registered, provider, system):
    grant(client, as_user, registered, system["id"], ["gmsfhm"], modes=["interface"], rate_limit=2)
    assert [call(client, system["headers"], registered, "people").status_code for _ in range(2)] == [200, 200]
    limited = call(client, system["headers"], registered, "people")
    assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["Retry-After"]) >= 1
    assert len(provider.requests("/api/people")) == 2


def test_a_provider_that_is_down_slow_or_failing_gives_502_or_504_without_its_address(
    client, as_user, code, provider, system
):
    officer = as_user("ga_officer")
    down = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    assert register(client, officer, code, down).status_code == 201
    grant(client, as_user, code, system["id"], ["gmsfhm"], modes=["interface"])
    problem = assert_problem(call(client, system["headers"], code, "people"), 502, "bad-gateway")
    assert "127.0.0.1" not in json.dumps(problem, ensure_ascii=False)

    changed = register(client, officer, code, provider.url + "/api", timeout_seconds=0.5)
    assert changed.status_code == 200, changed.text
    problem = assert_problem(call(client, system["headers"], code, "slow"), 504, "gateway-timeout")
    assert str(provider.port) not in json.dumps(problem, ensure_ascii=False)
    problem = assert_problem(call(client, system["headers"], code, "boom"), 502, "bad-gateway")
    assert "stack trace" not in json.dumps(problem)
    assert_problem(call(client, system["headers"], code, "moved"), 502, "bad-gateway")
    outcomes = [c["outcome"] for c in usage_of(client, officer, mode="interface")]
    assert outcomes == ["error"] * 4


def test_path_escapes_are_refused(client, as_user, registered, provider, system):
    grant(client, as_user, registered, system["id"], ["gmsfhm"], modes=["interface"])
    assert_problem(call(client, system["headers"], registered, "people/%2e%2e/admin"), 422)
    assert provider.requests() == []


def test_only_the_provider_registers_and_reads_the_registration_and_the_secret_never_comes_back(
    client, as_user, code, provider
):
    url = provider.url + "/api"
    assert_problem(register(client, as_user("rs_officer"), code, url), 403)
    created = register(client, as_user("ga_officer"), code, url, secret_header="X-Api-Key")
    assert created.status_code == 201, created.text
    shown = client.get(REGISTER.format(code=code), headers=as_user("ga_officer"))
    assert shown.status_code == 200
    for answer in (created, shown):
        body = answer.json()
        assert body["base_url"] == url and body["secret_set"] is True and body["secret_header"] == "X-Api-Key"
        assert SECRET not in answer.text
    assert client.get(REGISTER.format(code=code), headers=as_user("dsj_officer")).status_code == 200
    assert_problem(client.get(REGISTER.format(code=code), headers=as_user("rs_user")), 403)

    # a change without a secret keeps the old one; the first registration needs one
    kept = client.post(
        REGISTER.format(code=code),
        json={"base_url": url, "secret_header": "X-Api-Key"},
        headers=as_user("ga_officer"),
    )
    assert kept.status_code == 200, kept.text
    assert call(client, as_user("ga_officer"), code, "people").status_code == 200
    assert provider.requests()[-1].headers["x-api-key"] == SECRET

    with client.app.state.sessionmaker() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("sharing.interface.%"))
        ).all()
        assert [e.action for e in events] == ["sharing.interface.register", "sharing.interface.change"]
        assert all(SECRET not in e.details for e in events)
        from govdata.sharing.interface_models import InterfaceEndpoint

        stored = session.scalar(select(InterfaceEndpoint))
        assert SECRET not in stored.secret_sealed  # sealed, not stored as given

    removed = client.delete(REGISTER.format(code=code), headers=as_user("ga_officer"))
    assert removed.status_code == 204
    assert_problem(call(client, as_user("ga_officer"), code, "people"), 404, "no-interface")


def test_registration_refuses_bad_addresses_and_internal_ones_unless_allowed(client, as_user, code):
    officer = as_user("ga_officer")
    for bad in ("ftp://example.com/x", "http://user:pw@example.com/", "not a url", "http:///nohost"):
        assert_problem(register(client, officer, code, bad), 422)
    no_secret = client.post(
        REGISTER.format(code=code), json={"base_url": "http://127.0.0.1:9/"}, headers=officer
    )
    assert assert_problem(no_secret, 422)["errors"][0]["field"] == "secret"
    client.app.state.settings.interface_allow_private = False
    try:
        for internal in (
            "http://127.0.0.1:8080/",
            "http://169.254.169.254/latest",
            "http://10.1.2.3/",
            "http://localhost/",
            "http://[64:ff9b::a9fe:a9fe]/",  # the metadata address through NAT64
            "http://[2002:a9fe:a9fe::1]/",  # … through 6to4
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
            "http://[::ffff:169.254.169.254]/",  # IPv4-mapped
        ):
            body = assert_problem(register(client, officer, code, internal), 422)
            assert body["errors"][0]["field"] == "base_url"
    finally:
        client.app.state.settings.interface_allow_private = True


def test_a_resource_not_offering_the_interface_mode_cannot_register_one(client, as_user, provider):
    code = publish(client, as_user, "ga_officer", shared_population())  # verify, query, exchange
    assert_problem(register(client, as_user("ga_officer"), code, provider.url), 409, "mode-not-offered")
