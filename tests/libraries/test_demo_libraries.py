"""The demo's base libraries (CAT-13): lead departments and sources named from the demo catalog, and a
build over the demo region's (empty) tables reports the duplicate collection it will compare."""

from __future__ import annotations

from govdata.catalog.demo import create_demo_catalog
from govdata.libraries.demo import create_demo_libraries


def test_demo_libraries_have_leads_and_sources(client, as_user, session):
    create_demo_catalog(session)
    sourced = create_demo_libraries(session)
    session.commit()
    assert sourced >= 8
    assert create_demo_libraries(session) == 0  # idempotent
    session.commit()
    authority = as_user("dsj_officer")
    libraries = {lib["code"]: lib for lib in client.get("/api/v1/libraries", headers=authority).json()}
    population, legal = libraries["population"], libraries["legal_person"]
    assert population["lead_department_name"] == "焦作市公安局"
    assert legal["lead_department_name"] == "焦作市市场监督管理局"
    sources = {f["element"]: f["source"] for f in population["fields"]}
    assert sources["出生日期"]["resource_name"] == "人口基础信息"
    assert {f["element"]: f["source"] for f in legal["fields"]}["单位名称"]["resource_name"] == "企业登记信息"
    # more than one department holds 姓名: the authority chooses among them
    name = next(f for f in population["fields"] if f["element"] == "姓名")
    assert len({c["department_id"] for c in name["candidates"]}) > 1
    report = client.post(f"/api/v1/libraries/{population['id']}/build", headers=authority).json()
    assert report["rows"] == 0 and report["conflicts_detected"] == 0
    assert len(report["compared_resources"]) > 2
