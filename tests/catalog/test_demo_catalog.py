"""The demo region's catalog (issue: about 40 realistic resources in every lifecycle state)."""

from __future__ import annotations

from govdata.catalog.demo import create_demo_catalog


def test_demo_catalog_covers_every_state_and_department(client, as_user, session):
    created = create_demo_catalog(session)
    session.commit()
    assert 38 <= created <= 45
    authority = as_user("dsj_officer")
    facets = client.get("/api/v1/resources?limit=1", headers=authority).json()["facets"]
    assert set(facets["status"]) == {"draft", "submitted", "returned", "published"}
    retired = client.get("/api/v1/resources?status=retired", headers=authority).json()
    assert [r["name"] for r in retired["items"]] == ["公积金贷款信息（旧版）"]
    assert (
        len(facets["provider_id"]) == 13
    )  # the twelve city departments and 修武县公安局, a unit of 市公安局
    revised = client.get("/api/v1/resources?q=企业年报", headers=authority).json()["items"][0]
    versions = client.get(f"/api/v1/resources/{revised['code']}/versions", headers=authority).json()
    assert [v["version"] for v in versions] == [2, 1] and versions[0]["diff"][0]["field"] == "items.yysr"
    # the journeys' starting points are there
    found = client.get("/api/v1/resources?q=人口", headers=as_user("rs_user")).json()
    assert "人口基础信息" in [r["name"] for r in found["items"]]
    assert client.get("/api/v1/catalog/review-queue", headers=authority).json()
    public = client.get("/api/v1/resources?limit=100", headers=as_user("citizen")).json()
    assert public["total"] >= 15 and set(public["facets"]["open_type"]) == {"unconditional"}
