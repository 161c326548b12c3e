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
    # the 自然资源和空间地理 library takes its items from 市自然资源和规划局's 不动产登记信息 (AGG-8)
    spatial = libraries["spatial"]
    assert spatial["lead_department_name"] == "焦作市自然资源和规划局"
    assert {f["element"]: f["source"]["resource_name"] for f in spatial["fields"] if f["source"]} == {
        "不动产单元号": "不动产登记信息",
        "坐落": "不动产登记信息",
        "土地用途": "不动产登记信息",
        "宗地面积": "不动产登记信息",
        "行政区划代码": "不动产登记信息",
    }
    # 电子证照 is led by the authority; the departments' licence resources are its candidates
    e_license = libraries["e_license"]
    assert e_license["lead_department_name"] == "焦作市大数据管理局"
    holders = {c["resource_name"] for f in e_license["fields"] for c in f["candidates"]}
    assert {"职业资格证书信息", "排污许可信息"} <= holders
    # one number, one source beyond the libraries: 社会保障卡号 from 市人社局, 医保 shown as duplicating it
    sources = {
        (d["element"], d["subject"]): d for d in client.get("/api/v1/sources", headers=authority).json()
    }
    assert sources[("社会保障卡号", "natural_person")]["source"]["resource_name"] == "社保参保人员信息"
    duplicates = client.get("/api/v1/sources/duplicates", headers=authority).json()
    card = next(g for g in duplicates if g["element"] == "社会保障卡号")
    assert [h["resource_name"] for h in card["holders"] if h["duplicate"]] == ["医保参保信息"]
    # keys join resources; a licence number describes each department's own licences, not the holder
    assert all(g["element"] not in ("公民身份号码", "统一社会信用代码", "证照编号") for g in duplicates)
    sources = {f["element"]: f["source"] for f in population["fields"]}
    assert sources["出生日期"]["resource_name"] == "人口基础信息"
    assert {f["element"]: f["source"] for f in legal["fields"]}["单位名称"]["resource_name"] == "企业登记信息"
    # more than one department holds 姓名: the authority chooses among them
    name = next(f for f in population["fields"] if f["element"] == "姓名")
    assert len({c["department_id"] for c in name["candidates"]}) > 1
    report = client.post(f"/api/v1/libraries/{population['id']}/build", headers=authority).json()
    assert report["rows"] == 0 and report["conflicts_detected"] == 0
    assert len(report["compared_resources"]) > 2
