"""OPN-9: the public registers reuses built on open datasets; anyone sees them, on the list and per
dataset; downloads and API calls are counted per dataset — on both stores."""

from __future__ import annotations

from govdata.opening import service as core
from govdata.opening.service import applications, reuses
from tests.support.http import assert_problem
from tests.support.opening import open_resource

REUSE = {
    "title": "体检结果地图",
    "description": "按行政区展示体检结论分布的网页应用。",
    "url": "https://example.cn/map",
}


def test_reuses_of_open_datasets_are_public_and_uses_are_counted(client, as_user, session):
    code = open_resource(client, as_user)
    citizen = as_user("citizen")
    body = {**REUSE, "dataset_codes": [code]}
    assert_problem(client.post("/api/v1/reuses", json=body), 401)
    assert_problem(client.post("/api/v1/reuses", json=body, headers=as_user("wj_officer")), 403)
    assert_problem(
        client.post("/api/v1/reuses", json={**body, "dataset_codes": ["101/002000001"]}, headers=citizen), 422
    )
    assert_problem(
        client.post("/api/v1/reuses", json={**body, "url": "javascript:alert(1)"}, headers=citizen), 422
    )
    created = client.post("/api/v1/reuses", json=body, headers=citizen)
    assert created.status_code == 201, created.text
    assert created.json()["dataset_codes"] == [code]

    listed = client.get("/api/v1/reuses")
    assert listed.json()["total"] == 1 and "郑华" not in listed.text
    assert client.get("/api/v1/reuses", params={"dataset_code": code}).json()["total"] == 1
    assert [r.title for r in reuses.reuses_of(session, code)] == [REUSE["title"]]
    page = client.get("/reuses")
    assert page.status_code == 200 and REUSE["title"] in page.text and "居民健康体检结果" in page.text

    anyone = core.OpenAccess()
    applications.record_use(session, anyone, code, "download", rows=30, detail="csv")
    applications.record_use(session, core.OpenAccess(account_id=1), code, "api_call", rows=10)
    session.commit()
    dataset = core.open_dataset(session, code)
    assert (dataset.downloads, dataset.api_calls) == (1, 1)
