"""ORG-2 (#13 item 11): organisations authorised by law to manage public affairs (法律法规授权的具有管理
公共事务职能的组织, seeds 001, 002 and 003) are a type of organisation of their own, registered, shown
with their Chinese label and able to compile a catalog like any department — on both stores."""

from __future__ import annotations

from govdata.core.ids import uscc_make
from tests.support.http import assert_problem
from tests.support.pages import browser, text


def test_an_organisation_authorised_by_law_is_registered_as_such_ORG2(app, client, as_user):
    admin = as_user("admin")
    created = client.post(
        "/api/v1/departments",
        json={
            "name": "焦作市公共资源交易中心",
            "uscc": uscc_make("1", "2", "410800", "MB099001"),
            "region_code": "410800",
            "org_type": "authorized_organization",
            "principal_head": "魏新民",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["org_type"] == "authorized_organization" and body["org_type_label"] == "法律法规授权组织"
    read = client.get(f"/api/v1/departments/{body['id']}", headers=as_user("rs_user")).json()
    assert read["org_type_label"] == "法律法规授权组织"
    bad = client.post(
        "/api/v1/departments",
        json={
            "name": "某组织",
            "uscc": uscc_make("1", "2", "410800", "MB099002"),
            "region_code": "410800",
            "org_type": "authorised_by_law",
        },
        headers=admin,
    )
    assert_problem(bad, 422)
    assert "机构类型" in bad.json()["detail"]


def test_the_demo_provident_fund_centre_is_authorised_by_law_ORG2(app, client, as_user):
    departments = client.get("/api/v1/departments?limit=100", headers=as_user("rs_user")).json()["items"]
    fund = next(d for d in departments if d["name"] == "焦作市住房公积金管理中心")
    assert fund["org_type"] == "authorized_organization" and fund["org_type_label"] == "法律法规授权组织"
    police = next(d for d in departments if d["name"] == "焦作市公安局")
    assert police["org_type_label"] == "政府部门"
    page = text(browser(app, "rs_user").get("/departments").text)
    assert "机构类型" in page and "法律法规授权组织" in page and "政府部门" in page
    # in scope of the catalog like any department: its officer compiles its resources
    me = client.get("/api/v1/me", headers=as_user("gjj_officer")).json()
    assert me["department_id"] == fund["id"]
