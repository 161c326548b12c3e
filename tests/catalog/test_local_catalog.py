"""CAT-6 (#13 item 8): a city node marks the resources of its own 个性化目录 (本地区政务数据资源，未纳入
省级目录); federation relies on the flag (``catalog.service.local_resources``); a province node's catalog
is the provincial one, so it cannot hold such entries — on both stores."""

from __future__ import annotations

from sqlalchemy import update

from govdata.catalog import service as catalog
from govdata.orgs.models import Node
from tests.support.catalog import enterprises, publish
from tests.support.http import assert_problem
from tests.support.pages import browser, text


def bus_lines(**overrides) -> dict:
    body = enterprises(
        name="公交线路及站点信息",
        summary="市区公交线路、站点和首末班时间。",
        classification="201",
        open_type="none",
        items=[
            {
                "code": "xlbh",
                "name": "线路编号",
                "data_type": "C",
                "length": 20,
                "required": True,
                "key": True,
            },
            {"code": "zdmc", "name": "站点名称", "data_type": "C", "length": 100},
        ],
    )
    body.update(overrides)
    return body


def test_a_city_node_marks_its_local_catalog_entries_CAT6(client, as_user, session):
    local = publish(client, as_user, "jt_officer", bus_lines(local_catalog=True))
    shared = publish(client, as_user, "scjg_officer", enterprises())
    view = client.get(f"/api/v1/resources/{local}", headers=as_user("rs_user")).json()
    assert view["local_catalog"] is True
    assert (
        client.get(f"/api/v1/resources/{shared}", headers=as_user("rs_user")).json()["local_catalog"] is False
    )
    assert [r.code for r in catalog.local_resources(session)] == [local]
    assert catalog.resource_ref(session, code=local).local_catalog is True
    # a revision may take an entry out of the local catalog (when the province adopts it)
    revised = client.patch(
        f"/api/v1/resources/{local}",
        json={"local_catalog": False, "reason": "已纳入省级目录"},
        headers=as_user("jt_officer"),
    )
    assert revised.status_code == 200, revised.text
    page = browser(app=client.app, username="rs_user").get(f"/catalog/r/{local}")
    assert page.status_code == 200 and "本地区个性化目录" in text(page.text)


def test_a_province_node_has_no_local_catalog_CAT6(client, as_user, session):
    session.execute(update(Node).values(level="province"))
    session.commit()
    refused = client.post(
        "/api/v1/resources", json=bus_lines(local_catalog=True), headers=as_user("jt_officer")
    )
    problem = assert_problem(refused, 422)
    assert [e["field"] for e in problem["errors"]] == ["local_catalog"]
    assert "省级" in problem["detail"]
    assert (
        client.post("/api/v1/resources", json=bus_lines(), headers=as_user("jt_officer")).status_code == 201
    )


def test_the_form_keeps_the_flag_CAT6(app, client, as_user):
    officer = browser(app, "jt_officer")
    page = officer.get("/catalog/new")
    assert 'name="local_catalog"' in page.text and "本地区个性化目录" in page.text
    code = client.post(
        "/api/v1/resources", json=bus_lines(local_catalog=True), headers=as_user("jt_officer")
    ).json()["code"]
    edit = officer.get(f"/catalog/r/{code}/edit")
    assert 'name="local_catalog" value="1" checked' in edit.text
