import json
import pytest
from tests.opening.portal_support import portal

@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory, templates):
    yield from portal(request.param, request, tmp_path_factory, templates)


def show(label, r):
    body = r.text[:300].replace("\n", " ")
    print(f"## {label}: {r.status_code} {r.headers.get('content-type','')} {body}")


def test_probe(site):
    c = site.client
    free, cond, hidden = site.free, site.conditional, site.hidden
    A = "/api/3/action/"
    probes = [
        ("pkg_show nul", lambda: c.get(A + "package_show", params={"id": "a\x00b"})),
        ("pkg_show hidden", lambda: c.get(A + "package_show", params={"id": hidden})),
        ("pkg_search q nul", lambda: c.get(A + "package_search", params={"q": "人口\x00"})),
        ("pkg_search fq nul", lambda: c.get(A + "package_search", params={"fq": 'tags:"a\x00"'})),
        ("pkg_search rows inf", lambda: c.post(A + "package_search", content=b'{"rows": Infinity}', headers={"content-type": "application/json"})),
        ("pkg_search rows nan", lambda: c.post(A + "package_search", content=b'{"rows": NaN}', headers={"content-type": "application/json"})),
        ("pkg_search start huge", lambda: c.get(A + "package_search", params={"start": str(10**20)})),
        ("pkg_search start huge q", lambda: c.get(A + "package_search", params={"start": str(10**20), "q": "体检"})),
        ("pkg_search start huge neg", lambda: c.get(A + "package_search", params={"start": "-5"})),
        ("pkg_search rows neg", lambda: c.get(A + "package_search", params={"rows": "-5"})),
        ("pkg_search facet bad json", lambda: c.get(A + "package_search", params={"facet.field": "[organization"})),
        ("pkg_search facet obj", lambda: c.get(A + "package_search", params={"facet.field": '{"a":1}'})),
        ("pkg_search facet.limit huge", lambda: c.get(A + "package_search", params={"facet.field": '["organization"]', "facet.limit": str(10**30)})),
        ("pkg_search sort weird", lambda: c.get(A + "package_search", params={"sort": "name asc, , x"})),
        ("pkg_search fq hidden", lambda: c.get(A + "package_search", params={"fq": f"name:{hidden}"})),
        ("pkg_search q long", lambda: c.get(A + "package_search", params={"q": "人口" * 5000})),
        ("pkg_search q sql", lambda: c.get(A + "package_search", params={"q": "' OR 1=1 --"})),
        ("pkg_search q %", lambda: c.get(A + "package_search", params={"q": "%_\\"})),
        ("pkg_list offset huge", lambda: c.get(A + "package_list", params={"offset": str(10**20), "limit": "5"})),
        ("org_list sort empty", lambda: c.get(A + "organization_list", params={"sort": " "})),
        ("org_show weird", lambda: c.get(A + "organization_show", params={"id": "dept-" + "9" * 40})),
        ("org_show weird2", lambda: c.get(A + "organization_show", params={"id": "dept-٣"})),
        ("res_show", lambda: c.get(A + "resource_show", params={"id": hidden + ".csv"})),
        ("ds nul q", lambda: c.get(A + "datastore_search", params={"resource_id": free, "q": "a\x00"})),
        ("ds nul filter", lambda: c.get(A + "datastore_search", params={"resource_id": free, "filters": json.dumps({"xzqh": "a\x00"})})),
        ("ds offset huge", lambda: c.get(A + "datastore_search", params={"resource_id": free, "offset": str(10**20)})),
        ("ds offset 2^63", lambda: c.get(A + "datastore_search", params={"resource_id": free, "offset": str(2**63)})),
        ("ds limit inf", lambda: c.post(A + "datastore_search", content=('{"resource_id": "%s", "limit": Infinity}' % free).encode(), headers={"content-type": "application/json"})),
        ("ds filters bad", lambda: c.get(A + "datastore_search", params={"resource_id": free, "filters": "{bad"})),
        ("ds filters list", lambda: c.get(A + "datastore_search", params={"resource_id": free, "filters": "[1]"})),
        ("ds filters level2", lambda: c.get(A + "datastore_search", params={"resource_id": free, "filters": '{"nl": 30}'})),
        ("ds filters float", lambda: c.post(A + "datastore_search", json={"resource_id": free, "filters": {"xzqh": 1.5}})),
        ("ds filters NaN", lambda: c.post(A + "datastore_search", content=('{"resource_id": "%s", "filters": {"xzqh": NaN}}' % free).encode(), headers={"content-type": "application/json"})),
        ("ds cond anon", lambda: c.get(A + "datastore_search", params={"resource_id": cond})),
        ("ds cond stranger", lambda: c.get(A + "datastore_search", params={"resource_id": cond}, headers=site.stranger)),
        ("ds cond key", lambda: c.get(A + "datastore_search", params={"resource_id": cond, "limit": 1}, headers={"Authorization": site.key})),
        ("ds free key", lambda: c.get(A + "datastore_search", params={"resource_id": free, "limit": 1}, headers={"Authorization": site.key})),
        ("ds cond admin token", lambda: c.get(A + "datastore_search", params={"resource_id": cond}, headers={"Authorization": "garbage"})),
        ("ds resource id list", lambda: c.post(A + "datastore_search", json={"resource_id": [free]})),
        ("ds resource id int", lambda: c.post(A + "datastore_search", json={"resource_id": 5})),
        ("ds q dict", lambda: c.post(A + "datastore_search", json={"resource_id": free, "q": {"a": 1}})),
        ("ds q list", lambda: c.post(A + "datastore_search", json={"resource_id": free, "q": ["a"]})),
        ("ckan body array", lambda: c.post(A + "package_show", json=[1])),
        ("ckan body bad utf8", lambda: c.post(A + "package_show", content=b'{"id": "\xff\xfe"}', headers={"content-type": "application/json"})),
        ("ckan bad form", lambda: c.post(A + "package_show", content=b'id=%ff%fe', headers={"content-type": "application/x-www-form-urlencoded"})),
        ("ckan unknown", lambda: c.get(A + "package_create")),
        ("ckan action weird", lambda: c.get(A + "..%2f..%2fetc")),
        ("records offset huge", lambda: c.get(f"/api/v1/open/datasets/{free}/records", params={"offset": 100_000_000})),
        ("records nul q", lambda: c.get(f"/api/v1/open/datasets/{free}/records", params={"q": "a\x00"})),
        ("records nul filter", lambda: c.get(f"/api/v1/open/datasets/{free}/records", params={"xzqh": "a\x00"})),
        ("records filter XZQH", lambda: c.get(f"/api/v1/open/datasets/{free}/records", params={"XZQH": "410802"})),
        ("records hidden", lambda: c.get(f"/api/v1/open/datasets/{hidden}/records")),
        ("records trav", lambda: c.get(f"/api/v1/open/datasets/..%2F..%2Fetc/records")),
        ("datasets q nul", lambda: c.get("/api/v1/open/datasets", params={"q": "a\x00"})),
        ("datasets fmt nul", lambda: c.get("/api/v1/open/datasets", params={"format": "a\x00"})),
        ("show nul", lambda: c.get(f"/api/v1/open/datasets/{free}%00")),
        ("download nul", lambda: c.get(f"/datasets/{free}%00/download.csv")),
        ("dcat nul", lambda: c.get(f"/datasets/{free}%00.ttl")),
        ("dp hidden", lambda: c.get(f"/datasets/{hidden}/datapackage.json")),
        ("catalog page huge", lambda: c.get("/catalog.ttl", params={"page": str(10**20)})),
        ("catalog page neg", lambda: c.get("/catalog.ttl", params={"page": "-1"})),
        ("demands nul", lambda: c.post("/api/v1/demands", json={"title": "ab\x00", "description": "x\x00"}, headers=site.stranger)),
        ("demands long", lambda: c.get("/api/v1/demands", params={"limit": 10**9})),
        ("demands offset", lambda: c.get("/api/v1/demands", params={"offset": 10**19})),
        ("reuses offset", lambda: c.get("/api/v1/reuses", params={"offset": 10**19})),
        ("reuses ds nul", lambda: c.get("/api/v1/reuses", params={"dataset_code": "a\x00"})),
        ("reuse nul", lambda: c.post("/api/v1/reuses", json={"title": "ab", "description": "x", "dataset_codes": ["a\x00"]}, headers=site.stranger)),
        ("reuse hidden", lambda: c.post("/api/v1/reuses", json={"title": "ab", "description": "x", "dataset_codes": [hidden]}, headers=site.stranger)),
        ("apply nul", lambda: c.post("/api/v1/open-applications", json={"dataset_code": cond, "purpose": "a\x00", "scenario": "b", "commitments": "c", "period_end": "2030-01-01"}, headers=site.stranger)),
        ("apply hidden", lambda: c.post("/api/v1/open-applications", json={"dataset_code": hidden, "purpose": "a", "scenario": "b", "commitments": "c", "period_end": "2026-12-01"}, headers=site.stranger)),
        ("apply items nul", lambda: c.post("/api/v1/open-applications", json={"dataset_code": cond, "items": ["zd"], "purpose": "a", "scenario": "b", "commitments": "c", "period_end": "2026-12-01"}, headers=site.stranger)),
        ("app list status nul", lambda: c.get("/api/v1/open-applications", params={"status": "a\x00"}, headers=site.stranger)),
        ("uses nul", lambda: c.get("/api/v1/open-uses", params={"dataset_code": "a\x00"}, headers=site.stranger)),
        ("app id huge", lambda: c.get(f"/api/v1/open-applications/{10**20}", headers=site.stranger)),
        ("app id 2^31", lambda: c.get(f"/api/v1/open-applications/{2**31}", headers=site.stranger)),
        ("app id 2^63", lambda: c.get(f"/api/v1/open-applications/{2**63}", headers=site.stranger)),
        ("key revoke huge", lambda: c.delete(f"/api/v1/open-applications/1/keys/{2**40}", headers=site.stranger)),
        ("demand answer huge", lambda: c.post(f"/api/v1/demands/{2**40}/answer", json={"answer": "x", "outcome": "accepted"}, headers=site.stranger)),
        ("register nul", lambda: c.post("/api/v1/public/accounts", json={"kind": "natural_person", "identity_number": "4108021990010112\x00", "name": "x\x00", "username": "abcd", "password": "Xx@123456789a"})),
        ("register name nul", lambda: c.post("/api/v1/public/accounts", json={"kind": "natural_person", "identity_number": "410802199001011230", "name": "张\x00三", "username": "abcd", "password": "Xx@123456789a"})),
        ("register kind bad", lambda: c.post("/api/v1/public/accounts", json={"kind": "admin", "identity_number": "1", "name": "x", "username": "abcd", "password": "x"})),
        ("register extra roles", lambda: c.post("/api/v1/public/accounts", json={"kind": "natural_person", "identity_number": "410802199001011230", "name": "x", "username": "abcd", "password": "x", "roles": ["admin"]})),
        ("me as key", lambda: c.get("/api/v1/public/accounts/me", headers={"Authorization": "Bearer " + site.key})),
        ("me as bad key", lambda: c.get("/api/v1/public/accounts/me", headers={"Authorization": "Bearer gdk_xxxx"})),
        ("internal as key", lambda: c.get("/api/v1/catalog/resources", headers={"Authorization": "Bearer " + site.key})),
        ("internal as public", lambda: c.get("/api/v1/catalog/resources", headers=site.stranger)),
        ("open staff as public", lambda: c.get("/api/v1/open/resources", headers=site.stranger)),
        ("open staff k report as public", lambda: c.get(f"/api/v1/open/resources/{hidden}/k-report", headers=site.stranger)),
        ("notif as public", lambda: c.get("/api/v1/notifications", headers=site.stranger)),
    ]
    for label, run in probes:
        try:
            show(label, run())
        except Exception as exc:
            print(f"## {label}: EXC {type(exc).__name__} {exc}")
