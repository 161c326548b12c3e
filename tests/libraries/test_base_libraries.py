"""AGG-8 (#13 items 6 and 7): the four base libraries of seed 002 (人口, 法人, 电子证照, 自然资源和空间地理),
whose class-1 resources are compiled only by the library's lead department; department resource pools
that include the department's subordinate units — on both stores."""

from __future__ import annotations

from tests.support.catalog import population, publish
from tests.support.http import assert_problem
from tests.support.pages import browser, text

GA = "焦作市公安局"
XW = "修武县公安局"


def libraries(client, headers) -> dict[str, dict]:
    return {lib["code"]: lib for lib in client.get("/api/v1/libraries", headers=headers).json()}


def department_id(client, headers) -> int:
    return client.get("/api/v1/me", headers=headers).json()["department_id"]


def test_e_license_and_spatial_libraries_stand_beside_population_and_legal_person_AGG8(client, as_user):
    found = libraries(client, as_user("rs_user"))
    assert {code: lib["name"] for code, lib in found.items()} == {
        "population": "人口基础库",
        "legal_person": "法人基础库",
        "spatial": "自然资源和空间地理基础库",
        "e_license": "电子证照基础库",
    }
    assert {code: lib["classification"] for code, lib in found.items()} == {
        "population": "101",
        "legal_person": "102",
        "spatial": "103",
        "e_license": "105",
    }
    assert found["e_license"]["key_element"] == "证照编号"
    assert {"证照名称", "持证主体", "发证机关", "有效期至"} <= {
        f["element"] for f in found["e_license"]["fields"]
    }
    assert found["spatial"]["key_element"] == "不动产单元号"
    assert {"坐落", "土地用途", "宗地面积"} <= {f["element"] for f in found["spatial"]["fields"]}
    # one library per class: the class decides who compiles its resources
    authority = as_user("dsj_officer")
    body = {
        "code": "insured",
        "name": "参保人员主题库",
        "key_element": "公民身份号码",
        "classification": "101",
    }
    assert_problem(
        client.post("/api/v1/libraries", json=body, headers=authority), 409, "duplicate-classification"
    )
    created = client.post("/api/v1/libraries", json={**body, "classification": "203"}, headers=authority)
    assert created.status_code == 201 and created.json()["classification"] == "203"


def test_class_1_resources_of_a_library_are_compiled_only_by_its_lead_department_AGG8(app, client, as_user):
    authority, ga, rs = as_user("dsj_officer"), as_user("ga_officer"), as_user("rs_officer")
    population_library = libraries(client, authority)["population"]
    # before a lead is named any department compiles class 101; 人社 has a draft of one
    early = client.post("/api/v1/resources", json=population(name="参保人员人口信息"), headers=rs)
    assert early.status_code == 201, early.text
    patched = client.patch(
        f"/api/v1/libraries/{population_library['id']}",
        json={"lead_department_id": department_id(client, ga)},
        headers=authority,
    )
    assert patched.status_code == 200 and patched.json()["lead_department_name"] == GA

    refused = client.post("/api/v1/resources", json=population(name="人口信息（人社）"), headers=rs)
    problem = assert_problem(refused, 403, "not-lead-department")
    assert "人口基础库" in problem["detail"] and GA in problem["detail"]
    assert problem["errors"][0]["field"] == "classification"
    # the draft made earlier cannot go out any more; a deeper class of 101 is the library's too
    assert_problem(client.post(f"/api/v1/resources/{early.json()['code']}/submit", headers=rs), 403)
    assert_problem(client.post("/api/v1/resources", json=population(classification="10101"), headers=rs), 403)
    # the lead compiles it; others file the same data under another class
    assert client.post("/api/v1/resources", json=population(), headers=ga).status_code == 201
    elsewhere = population(name="参保人员信息", classification="203")
    assert client.post("/api/v1/resources", json=elsewhere, headers=rs).status_code == 201
    # the form says so beside the classification
    form = browser(app, "rs_officer").post(
        "/catalog/new",
        data={
            "name": "人口信息（人社）",
            "classification": "101",
            "format": "database",
            "share_type": "unconditional",
            "open_type": "none",
            "update_cycle": "daily",
            "grade": "general",
        },
    )
    assert form.status_code == 403 and "牵头部门焦作市公安局编制和维护" in text(form.text)
    # a library without a lead leaves its class open
    e_license = libraries(client, authority)["e_license"]
    assert e_license["lead_department_id"] is None


def test_a_pool_includes_the_departments_subordinate_units_AGG8(client, as_user):
    """Seed 002: 政务部门应当归集本部门所属机构和单位的政务数据资源，建立本部门本系统政务数据资源池."""
    ga, xw, authority = as_user("ga_officer"), as_user("xwga_officer"), as_user("dsj_officer")
    ga_id, xw_id = department_id(client, ga), department_id(client, xw)
    own = publish(client, as_user, "ga_officer", population())
    county = publish(
        client,
        as_user,
        "xwga_officer",
        population(name="修武县暂住人口信息", classification="201", summary="修武县暂住人口登记。"),
    )
    pool = client.get(f"/api/v1/departments/{ga_id}/pool", headers=ga)
    assert pool.status_code == 200, pool.text
    body = pool.json()
    assert [(u["department_name"], u["resources"]) for u in body["units"]] == [(GA, 1), (XW, 1)]
    resources = {r["code"]: r for r in body["resources"]}
    assert set(resources) == {own, county}
    assert resources[county]["provider_name"] == XW and resources[county]["subordinate"] is True
    assert resources[own]["subordinate"] is False
    # the unit reads its own pool, not its parent's; the parent reads the unit's
    unit_pool = client.get(f"/api/v1/departments/{xw_id}/pool", headers=xw).json()
    assert [r["code"] for r in unit_pool["resources"]] == [county] and len(unit_pool["units"]) == 1
    assert_problem(client.get(f"/api/v1/departments/{ga_id}/pool", headers=xw), 403)
    assert client.get(f"/api/v1/departments/{xw_id}/pool", headers=ga).status_code == 200
    assert_problem(client.get(f"/api/v1/departments/{ga_id}/pool", headers=as_user("rs_officer")), 403)
    assert {
        r["code"]
        for r in client.get(f"/api/v1/departments/{ga_id}/pool", headers=authority).json()["resources"]
    } == {own, county}


def test_the_pool_page_shows_the_units(app, client, as_user):
    publish(client, as_user, "ga_officer", population())
    publish(
        client,
        as_user,
        "xwga_officer",
        population(name="修武县暂住人口信息", classification="201", summary="修武县暂住人口登记。"),
    )
    page = browser(app, "ga_officer").get("/pool")
    assert page.status_code == 200
    shown = text(page.text)
    assert "修武县暂住人口信息" in shown and "所属单位" in shown and XW in shown
    # the parent chooses among its own units
    assert f">{XW}</option>" in page.text
