"""A hostile review of opening's public surface (issue #16), as an outside tester calls it over HTTP:
hostile values in the CKAN Action API and the records API answer a clear error, never a 500; formula
cells are made safe in downloads; a plan, quasi-identifiers or open type changed after the
confidentiality review need a new one; a dataset below k opens neither by publication nor in an
emergency; two decisions on one application, or two registrations of one identity number, at once:
one wins; public accounts see nothing of another's applications, keys or uses, nor a demand's
proposer; a key stops reading once revoked or once its dataset is withdrawn — on both stores."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from govdata.core import clock
from govdata.core.db import make_engine, make_sessionmaker
from govdata.core.errors import Conflict
from govdata.opening.public_models import OpenApplication
from govdata.opening.public_schemas import AccountIn, OpenDecisionIn
from govdata.opening.service import accounts, applications
from govdata.orgs import service as orgs
from tests.conftest import BACKENDS
from tests.opening.portal_support import portal
from tests.support.batches import ric
from tests.support.catalog import publish
from tests.support.http import assert_problem, login
from tests.support.opening import AUTHORITY, CONDITIONAL_PLAN, OFFICER, checkup_records, checkups, prepare
from tests.support.opening import review as passed_review
from tests.support.sharing import load

ACTION = "/api/3/action/"
JSON = {"content-type": "application/json"}
FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1,2)", "-1+1", "@SUM(A1)", '=HYPERLINK("x")']


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory, templates):
    yield from portal(request.param, request, tmp_path_factory, templates)


@pytest.fixture(scope="module")
def as_user(site):
    cache: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in cache:
            cache[username] = login(site.client, username)
        return cache[username]

    return headers


def ckan_error(response, status: int, kind: str) -> dict:
    """CKAN's envelope of a refusal, with a Chinese message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["__type"] == kind, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"]), body
    return body["error"]


def sessions(site):
    engine = make_engine(site.settings.resolved_database_url())
    return engine, make_sessionmaker(engine)


# --- hostile values --------------------------------------------------------------------------------------


def test_hostile_values_in_the_ckan_and_records_apis_are_clear_errors_not_500s(site):
    client, free = site.client, site.free
    records = f"/api/v1/open/datasets/{free}/records"
    # a NUL character reached PostgreSQL's store unchecked (500 there); huge offsets overflowed the
    # stores' 64-bit OFFSET (500 on both); JSON's Infinity and a huge start answered a problem+json,
    # not CKAN's envelope
    for params in (
        {"q": "体检\x00"},
        {"filters": '{"xzqh": "410802\\u0000"}'},
        {"offset": str(10**20)},
        {"offset": str(2**63)},
        {"limit": str(10**30)},
    ):
        response = client.get(ACTION + "datastore_search", params={"resource_id": free, **params})
        ckan_error(response, 409, "Validation Error")
    for body in (
        f'{{"resource_id": "{free}", "limit": Infinity}}',
        f'{{"resource_id": "{free}", "offset": -Infinity}}',
        f'{{"resource_id": "{free}", "q": ["a", "b"]}}',
    ):
        response = client.post(ACTION + "datastore_search", content=body.encode(), headers=JSON)
        ckan_error(response, 409, "Validation Error")
    for params in ({"start": str(10**20)}, {"start": str(10**20), "q": "体检"}, {"rows": str(2**64)}):
        ckan_error(client.get(ACTION + "package_search", params=params), 409, "Validation Error")
    ckan_error(
        client.post(ACTION + "package_search", content=b'{"rows": Infinity}', headers=JSON),
        409,
        "Validation Error",
    )
    # the records API: the same refusals as problem+json
    assert_problem(client.get(records, params={"q": "体检\x00"}), 422)
    assert_problem(client.get(records, params={"xzqh": "410802\x00"}), 422)
    # and what still works: a value that only looks hostile is a plain value
    for q in ("' OR 1=1 --", "%_\\", "<script>alert(1)</script>"):
        found = client.get(ACTION + "datastore_search", params={"resource_id": free, "q": q})
        assert found.status_code == 200 and found.json()["result"]["records"] == []


def test_formula_cells_are_safe_in_every_download_path(site, as_user):
    """The fast path (the database's COPY, every item kept) and the de-identifying one (Arrow
    batches) both neutralise cells a spreadsheet would run."""
    hostile = [
        {**record, "bh": f"EVIL{i}", "jg": FORMULAS[i], "xm": FORMULAS[i]}
        for i, record in enumerate(checkup_records(len(FORMULAS), start=500))
    ]
    for code in (site.free, site.conditional):
        load(site.client, as_user(OFFICER), code, hostile)
    for code, headers in ((site.free, {}), (site.conditional, site.citizen)):
        text = site.client.get(f"/datasets/{code}/download.csv", headers=headers)
        assert text.status_code == 200, text.text
        rows = list(csv.DictReader(io.StringIO(text.content.decode("utf-8-sig"))))
        evil = [r for r in rows if r["bh"].startswith("EVIL")]
        assert len(evil) == len(FORMULAS)
        cells = [v for r in evil for k, v in r.items() if k in ("jg", "xm")]
        assert cells and all(not v.startswith(("=", "+", "-", "@")) for v in cells), cells
        book = site.client.get(f"/datasets/{code}/download.xlsx", headers=headers)
        sheet = load_workbook(io.BytesIO(book.content), read_only=True).active
        values = [c for row in sheet.iter_rows(min_row=2, values_only=True) for c in row]
        texts = [v for v in values if isinstance(v, str)]
        assert texts and all(not v.startswith(("=", "+", "-", "@")) for v in texts)


# --- the k gate and the confidentiality review ------------------------------------------------------------


def test_changes_after_the_review_need_a_new_review_and_k_holds_in_an_emergency(site, as_user):
    client = site.client
    code = publish(
        client, as_user, OFFICER, checkups(open_type="conditional", open_conditions="经申请审核同意")
    )
    load(client, as_user(OFFICER), code, checkup_records(30))
    url = f"/api/v1/open/resources/{code}"
    prepare(client, as_user, code, plan=CONDITIONAL_PLAN, quasi=["xzqh"], open_type="conditional")
    passed_review(client, as_user, code)

    # reviewed as conditional, then made unconditional (its level-1 items public to anyone)
    prepare(client, as_user, code, open_type="unconditional")
    refused = client.post(f"{url}/publish", json={}, headers=as_user(AUTHORITY))
    assert_problem(refused, 409, "review-outdated")
    # nor may the authority's publication change the reviewed open type
    prepare(client, as_user, code, open_type="conditional")
    changed = client.post(f"{url}/publish", json={"open_type": "unconditional"}, headers=as_user(AUTHORITY))
    assert_problem(changed, 409, "review-outdated")
    # the quasi-identifiers (the k gate) dropped after the review
    prepare(client, as_user, code, quasi=[])
    assert_problem(client.post(f"{url}/publish", json={}, headers=as_user(AUTHORITY)), 409, "review-outdated")

    # a quasi-identifier that singles every record out: reviewed, still refused below k
    prepare(client, as_user, code, quasi=["bh"])
    passed_review(client, as_user, code)
    below = assert_problem(
        client.post(f"{url}/publish", json={}, headers=as_user(AUTHORITY)), 409, "k-anonymity"
    )
    assert below["smallest"] == 1 and below["groups_below_k"] == 30
    for who in (AUTHORITY, OFFICER):  # the emergency skips the review, never the k gate
        emergency = client.post(f"{url}/emergency", json={"category": "public_health"}, headers=as_user(who))
        assert_problem(emergency, 409, "k-anonymity")
    assert client.get(ACTION + "package_show", params={"id": code}).status_code == 404

    prepare(client, as_user, code, quasi=["xzqh"])
    passed_review(client, as_user, code)
    opened = client.post(f"{url}/publish", json={}, headers=as_user(AUTHORITY))
    assert opened.status_code == 200 and opened.json()["open_type"] == "conditional", opened.text


def test_a_non_open_resource_does_not_open_on_suppressed_quasi_identifiers_alone(site, as_user):
    """Quasi-identifiers the plan suppresses are left out of the k count: chosen alone, the gate
    checked nothing, and the officer's emergency opening (no review) opened a non-open resource."""
    client = site.client
    code = publish(client, as_user, OFFICER, checkups(open_type="none"))
    load(client, as_user(OFFICER), code, checkup_records(30))
    url = f"/api/v1/open/resources/{code}"
    prepare(client, as_user, code, quasi=["zd", "xm"])  # both suppressed by the default plan
    emergency = client.post(f"{url}/emergency", json={"category": "public_health"}, headers=as_user(OFFICER))
    assert_problem(emergency, 409, "not-openable")
    assert client.get(ACTION + "package_show", params={"id": code}).status_code == 404
    prepare(client, as_user, code, quasi=["zd", "xzqh"])  # one served, counted: 6 groups of 5
    opened = client.post(f"{url}/emergency", json={"category": "public_health"}, headers=as_user(OFFICER))
    assert opened.status_code == 200 and opened.json()["basis"] == "deidentified", opened.text


# --- concurrency ---------------------------------------------------------------------------------------------


def test_two_decisions_on_one_application_at_once_one_wins(site):
    client = site.client
    created = client.post(
        "/api/v1/open-applications",
        json={
            "dataset_code": site.conditional,
            "purpose": "统计分析",
            "scenario": "课题研究",
            "commitments": "不向第三方提供",
            "period_end": (clock.today() + timedelta(days=30)).isoformat(),
        },
        headers=site.stranger,
    )
    assert created.status_code == 201, created.text
    application_id = created.json()["id"]
    engine, factory = sessions(site)
    try:
        with factory() as first, factory() as second:
            # the second officer's page was read while the application was pending
            seen = second.get(OpenApplication, application_id)  # kept: the session's copy
            assert seen.status == "pending"
            officer = orgs.actor_named(first, OFFICER)
            applications.decide(first, officer, application_id, OpenDecisionIn(decision="approve"))
            first.commit()
            with pytest.raises(Conflict):
                applications.decide(
                    second,
                    orgs.actor_named(second, OFFICER),
                    application_id,
                    OpenDecisionIn(decision="refuse", reason="不符合条件"),
                )
            second.rollback()
    finally:
        engine.dispose()
    shown = client.get(f"/api/v1/open-applications/{application_id}", headers=site.stranger).json()
    assert shown["status"] == "approved" and shown["reason"] is None


def test_two_registrations_of_one_identity_number_at_once_one_wins(site, as_user):
    client, number = site.client, ric("41080219770707123")
    # the population library's 姓名 comes from 市公安局's resource (the portal's non-open one)
    load(
        client,
        as_user("ga_officer"),
        site.hidden,
        [{"gmsfhm": number, "xm": "赵并发", "xb": "1", "csrq": "1977-07-07", "hjdz": "焦作市解放区"}],
    )
    authority = as_user("dsj_officer")
    library = next(
        lib
        for lib in client.get("/api/v1/libraries", headers=authority).json()
        if lib["code"] == "population"
    )
    named = client.put(
        f"/api/v1/libraries/{library['id']}/fields/姓名",
        json={"source_resource_code": site.hidden},
        headers=authority,
    )
    assert named.status_code == 200, named.text

    def data(username: str) -> AccountIn:
        return AccountIn(
            kind="natural_person",
            identity_number=number,
            name="赵并发",
            username=username,
            password="Citizen@2026!",
        )

    store = client.app.state.store
    engine, factory = sessions(site)
    outcome: dict[str, object] = {}
    try:
        with factory() as first, factory() as second:
            accounts.register(first, store, data("zhao_one"))  # written, not yet committed

            def other() -> None:
                try:
                    accounts.register(second, store, data("zhao_two"))
                    second.commit()
                    outcome["second"] = "registered"
                except Conflict as exc:
                    second.rollback()
                    outcome["second"] = exc

            thread = threading.Thread(target=other)
            thread.start()
            first.commit()
            thread.join(60)
    finally:
        engine.dispose()
    assert isinstance(outcome.get("second"), Conflict), outcome
    # wrong name and unknown number: one answer, that says nothing of what the library holds
    wrong = {"kind": "natural_person", "name": "赵不对", "username": "probe_a", "password": "Citizen@2026!"}
    answers = [
        client.post("/api/v1/public/accounts", json={**wrong, "identity_number": n, "username": u})
        for n, u in ((number, "probe_a"), (ric("41080219770707999"), "probe_b"))
    ]
    bodies = [assert_problem(a, 422) for a in answers]
    assert bodies[0]["detail"] == bodies[1]["detail"] and "赵并发" not in answers[0].text


# --- what one public account sees of another's ----------------------------------------------------------------


def test_public_accounts_see_nothing_of_anothers_applications_keys_uses_or_demands(site):
    client = site.client
    mine = client.get("/api/v1/open-applications", headers=site.citizen).json()["items"]
    theirs = [a["id"] for a in mine]
    assert theirs
    strangers = client.get("/api/v1/open-applications", headers=site.stranger).json()["items"]
    assert not set(theirs) & {a["id"] for a in strangers}
    for application_id in theirs:
        assert_problem(client.get(f"/api/v1/open-applications/{application_id}", headers=site.stranger), 404)
        keys_url = f"/api/v1/open-applications/{application_id}/keys"
        assert_problem(client.get(keys_url, headers=site.stranger), 404)
        assert_problem(client.post(keys_url, headers=site.stranger), 404)
        assert_problem(client.delete(f"{keys_url}/1", headers=site.stranger), 404)
        decided = client.post(
            f"/api/v1/open-applications/{application_id}/decision",
            json={"decision": "refuse", "reason": "x"},
            headers=site.citizen,
        )
        assert_problem(decided, 403)  # an applicant never decides, not even its own
    client.get(f"/api/v1/open/datasets/{site.conditional}/records", headers={"X-Api-Key": site.key})
    uses = client.get("/api/v1/open-uses", headers=site.stranger).json()["items"]
    assert all(u["application_id"] not in theirs for u in uses)

    proposed = client.post(
        "/api/v1/demands",
        json={"title": "公交到站数据", "description": "希望开放公交实时到站数据"},
        headers=site.citizen,
    )
    assert proposed.status_code == 201, proposed.text
    me = client.get("/api/v1/public/accounts/me", headers=site.citizen).json()
    for headers in ({}, site.stranger):
        listed = client.get("/api/v1/demands", headers=headers)
        page = client.get("/demands", headers=headers)
        assert "公交到站数据" in listed.text and "公交到站数据" in page.text
        for text in (listed.text, page.text):
            assert me["username"] not in text and me["identity_number"] not in text
        assert not any(d["mine"] for d in listed.json()["items"])


# --- keys: revoked, other datasets, a withdrawn dataset (last: it withdraws the conditional one) ---------


def test_a_key_stops_reading_when_revoked_and_when_its_dataset_is_withdrawn(site, as_user):
    client, code = site.client, site.conditional
    application_id = client.get("/api/v1/open-applications", headers=site.citizen).json()["items"][-1]["id"]
    made = client.post(f"/api/v1/open-applications/{application_id}/keys", headers=site.citizen)
    assert made.status_code == 201, made.text
    spare = made.json()
    records = f"/api/v1/open/datasets/{code}/records"
    search = {"resource_id": code, "limit": 1}
    assert client.get(records, headers={"X-Api-Key": spare["key"]}).status_code == 200
    revoked = client.delete(
        f"/api/v1/open-applications/{application_id}/keys/{spare['id']}", headers=site.citizen
    )
    assert revoked.status_code == 200
    assert_problem(client.get(records, headers={"X-Api-Key": spare["key"]}), 401)
    ckan_error(
        client.get(ACTION + "datastore_search", params=search, headers={"Authorization": spare["key"]}),
        403,
        "Authorization Error",
    )
    # the key of the conditional dataset reads the unconditional one as anyone: the public items only
    other = client.get(
        ACTION + "datastore_search", params={"resource_id": site.free}, headers={"Authorization": site.key}
    )
    assert {f["id"] for f in other.json()["result"]["fields"]} == {"bh", "xzqh", "jg"}

    withdrawn = client.post(
        f"/api/v1/open/resources/{code}/withdraw", json={"reason": "复核"}, headers=as_user(AUTHORITY)
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert_problem(client.get(records, headers={"X-Api-Key": site.key}), 404)
    ckan_error(
        client.get(ACTION + "datastore_search", params=search, headers={"Authorization": site.key}),
        404,
        "Not Found Error",
    )
    assert client.get(f"/datasets/{code}/download.csv", headers=site.citizen).status_code == 404
