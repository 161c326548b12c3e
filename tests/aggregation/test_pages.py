"""Aggregation pages (AGG-2…8, NF-5): a provider uploads through the page form, follows the batch and
reads its report, rolls a batch back; other departments and roles see what they may — on both stores."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from govdata.app import create_app
from govdata.demo import DEMO_PASSWORD
from tests.support.batches import csv_bytes, good_rows
from tests.support.jobs import hold_worker

HTML = {"accept": "text/html"}


def browser(app, username: str) -> TestClient:
    """A client logged in through the /login form, holding the session cookie."""
    client = TestClient(app, raise_server_exceptions=False)
    response = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return client


def upload_form(client, code: str, data: bytes, name: str = "导出.csv", **form):
    fields = {"mode": "upsert", "policy": "strict", "encoding": "", "source_rows": ""}
    fields.update(form)
    return client.post(
        f"/data/{code}/batches",
        files={"file": (name, data, "text/csv")},
        data=fields,
        headers=HTML,
        follow_redirects=False,
    )


def wait_done(client, batch_id: int, timeout: float = 60) -> dict:
    """What the page's script does: poll the batch with the session cookie until it is finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = client.get(f"/api/v1/batches/{batch_id}").json()
        if batch["status"] not in ("queued", "running"):
            return batch
        time.sleep(0.05)
    pytest.fail(f"batch {batch_id} did not finish")


def batch_id_of(response) -> int:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/data/batches/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def text_of(html: str) -> str:
    """The page's visible text, roughly: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def defective_rows():
    rows = good_rows(50)
    rows[4][0] = rows[4][0][:-1] + ("0" if rows[4][0][-1] != "0" else "1")  # wrong check digit: row 5
    rows[19][2] = "7"  # not in the 性别 code list: row 20
    rows[39][1] = ""  # 姓名 missing: row 40
    return rows


def test_upload_through_the_form_shows_progress_then_the_report(app, client, population_code):
    officer = browser(app, "ga_officer")
    pool = officer.get("/data", headers=HTML)
    assert pool.status_code == 200
    assert "人口基础信息" in pool.text and f'href="/data/{population_code}"' in pool.text
    assert "尚未归集" in pool.text

    page = officer.get(f"/data/{population_code}", headers=HTML)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text and "上传并归集" in page.text
    for label in ("全量替换", "增量更新", "按关键标识删除", "严格", "接受有效行", "GB18030", "申报行数"):
        assert label in page.text

    response = upload_form(
        officer,
        population_code,
        csv_bytes(defective_rows(), "gbk"),
        policy="accept_valid",
        source_rows="52",
    )
    batch_id = batch_id_of(response)
    batch = wait_done(officer, batch_id)
    assert (batch["status"], batch["rows_applied"], batch["rows_rejected"]) == ("applied", 47, 3)

    report = officer.get(f"/data/batches/{batch_id}", headers=HTML)
    assert report.status_code == 200
    text = text_of(report.text)
    assert "94 % 已入库" in text
    assert "共 50 行，入库 47 行，拒绝 3 行" in text
    assert re.search(r"新增\s*47", text) and re.search(r"已拒绝\s*3", text)
    assert "与申报不一致" in text and "申报 52 行，实收 50 行" in text
    assert "公民身份号码无效（校验码或出生日期错误）" in text
    assert "不在代码表中（可选：0、1、2、9）" in text and "必填项为空" in text
    assert "公民身份号码校验" in text and "代码表" in text
    assert f"/api/v1/batches/{batch_id}/errors?format=csv" in report.text
    assert f"/api/v1/batches/{batch_id}/errors?format=xlsx" in report.text
    assert 'role="progressbar"' not in report.text
    errors_csv = officer.get(f"/api/v1/batches/{batch_id}/errors?format=csv")
    assert errors_csv.status_code == 200 and errors_csv.content.decode("utf-8-sig").count("\n") == 4

    resource = officer.get(f"/data/{population_code}", headers=HTML)
    text = text_of(resource.text)
    assert f"#{batch_id}" in text and "已入库" in text and "导出.csv" in text
    assert "当前数据" in text and "共 47 条" in text and "前 20 条" in text
    assert "公民身份号码 姓名 性别 出生日期 户籍地址" in text  # the preview's columns by item name
    # the policy of the resource's last batch is the form's default
    assert re.search(r'value="accept_valid" checked', resource.text)
    assert "人口基础信息" in officer.get("/data", headers=HTML).text


def test_a_queued_batch_shows_the_progress_bar(app, client, population_code):
    officer = browser(app, "ga_officer")
    with hold_worker(app, 30):  # the one worker is busy
        batch_id = batch_id_of(upload_form(officer, population_code, csv_bytes(good_rows(5))))
        page = officer.get(f"/data/batches/{batch_id}", headers=HTML)
        assert 'role="progressbar"' in page.text and "排队等待处理" in page.text
        assert f'data-batch="{batch_id}"' in page.text and "/static/aggregation.js" in page.text
    assert wait_done(officer, batch_id)["status"] == "applied"
    assert "100 % 已入库" in text_of(officer.get(f"/data/batches/{batch_id}", headers=HTML).text)


def test_rollback_button_undoes_the_batch(app, client, population_code):
    officer = browser(app, "ga_officer")
    first = batch_id_of(upload_form(officer, population_code, csv_bytes(good_rows(10))))
    wait_done(officer, first)
    second = batch_id_of(upload_form(officer, population_code, csv_bytes(good_rows(5, start=10))))
    wait_done(officer, second)
    page = officer.get(f"/data/{population_code}", headers=HTML)
    assert f'action="/data/batches/{second}/rollback"' in page.text and "data-confirm" in page.text
    assert "共 15 条" in text_of(page.text)

    response = officer.post(
        f"/data/batches/{second}/rollback", data={"back": "resource"}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/data/{population_code}?done=rolled_back#batches"
    page = officer.get(response.headers["location"], headers=HTML)
    text = text_of(page.text)
    assert "批次已回滚" in text and "已回滚" in text and "共 10 条" in text
    assert f'action="/data/batches/{second}/rollback"' not in page.text
    assert f'action="/data/batches/{first}/rollback"' in page.text

    report = text_of(officer.get(f"/data/batches/{second}", headers=HTML).text)
    assert "已回滚" in report and "回滚此批次" not in report
    again = officer.post(f"/data/batches/{second}/rollback", headers=HTML, follow_redirects=False)
    assert again.status_code == 409 and "只有已入库的批次可以回滚" in again.text

    # from the batch page's own button
    response = officer.post(f"/data/batches/{first}/rollback", headers=HTML, follow_redirects=False)
    assert response.headers["location"] == f"/data/batches/{first}?done=rolled_back"
    assert "已回滚" in officer.get(response.headers["location"], headers=HTML).text
    assert "数据表中还没有记录" in officer.get(f"/data/{population_code}", headers=HTML).text


def test_other_departments_and_roles_see_what_they_may(app, client, population_code):
    officer = browser(app, "ga_officer")
    batch_id = batch_id_of(upload_form(officer, population_code, csv_bytes(good_rows(3))))
    wait_done(officer, batch_id)

    other = browser(app, "rs_officer")  # another department's catalog officer
    page = other.get(f"/data/{population_code}", headers=HTML)
    assert page.status_code == 403 and "上传并归集" not in page.text and "本部门" in page.text
    assert other.get(f"/data/batches/{batch_id}", headers=HTML).status_code == 404
    rollback = other.post(f"/data/batches/{batch_id}/rollback", headers=HTML, follow_redirects=False)
    assert rollback.status_code == 404
    refused = upload_form(other, population_code, csv_bytes(good_rows(2)))
    assert refused.status_code == 403 and "本部门" in refused.text
    assert "人口基础信息" not in other.get("/data", headers=HTML).text

    user = browser(app, "rs_user")  # a data user of 人社局
    page = user.get(f"/data/{population_code}", headers=HTML)
    assert page.status_code in (403, 404) and "上传并归集" not in page.text
    assert 'type="file"' not in page.text
    assert upload_form(user, population_code, csv_bytes(good_rows(2))).status_code == 403

    head = browser(app, "ga_head")  # 公安局's head: reads and rolls back, does not upload
    page = head.get(f"/data/{population_code}", headers=HTML)
    assert page.status_code == 200 and "上传并归集" not in page.text
    assert f'action="/data/batches/{batch_id}/rollback"' in page.text
    assert "共 3 条" in text_of(page.text)

    authority = browser(app, "dsj_officer")  # reads batch reports, not the data
    page = authority.get(f"/data/{population_code}", headers=HTML)
    assert page.status_code == 200 and "上传并归集" not in page.text and "当前数据" not in page.text
    assert authority.get(f"/data/batches/{batch_id}", headers=HTML).status_code == 200

    assert (
        client.get(f"/api/v1/share/{population_code}/records", headers=_bearer(client)).json()["total"] == 3
    )
    nav = browser(app, "auditor").get("/home", headers=HTML).text
    assert 'href="/data"' not in nav


def _bearer(client) -> dict:
    token = client.post("/api/v1/auth/token", data={"username": "ga_officer", "password": DEMO_PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_failed_and_rejected_batches_and_form_errors_are_shown_in_chinese(app, client, population_code):
    officer = browser(app, "ga_officer")
    failed = batch_id_of(
        upload_form(officer, population_code, csv_bytes(good_rows(3), "gbk"), encoding="utf-8")
    )
    assert wait_done(officer, failed)["status"] == "failed"
    text = text_of(officer.get(f"/data/batches/{failed}", headers=HTML).text)
    assert "处理失败" in text and "不是有效的 UTF-8 编码" in text and "数据未改变" in text

    rows = good_rows(4)
    rows[2][3] = "1985-13-01"
    rejected = batch_id_of(upload_form(officer, population_code, csv_bytes(rows), policy="strict"))
    assert wait_done(officer, rejected)["status"] == "rejected"
    text = text_of(officer.get(f"/data/batches/{rejected}", headers=HTML).text)
    assert "整批未入库" in text and "严格模式：1 行有错误" in text and "不是有效的日期" in text

    no_file = officer.post(
        f"/data/{population_code}/batches",
        data={"mode": "replace", "policy": "accept_valid"},
        files={"file": ("", b"", "application/octet-stream")},
        headers=HTML,
    )
    assert no_file.status_code == 422 and "请选择要上传的数据文件" in no_file.text
    assert re.search(r'value="replace" checked', no_file.text)  # the choices are kept
    assert re.search(r'value="accept_valid" checked', no_file.text)

    bad_count = upload_form(officer, population_code, csv_bytes(good_rows(2)), source_rows="很多")
    assert bad_count.status_code == 422 and "应为不小于 0 的整数" in bad_count.text

    foreign = officer.post(
        f"/data/{population_code}/batches",
        files={"file": ("a.csv", csv_bytes(good_rows(2)), "text/csv")},
        data={"mode": "upsert", "policy": "strict"},
        headers={**HTML, "origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert foreign.status_code == 403
    assert officer.get("/api/v1/resources/" + population_code + "/batches").json()["total"] == 2

    # a very long file name is cut to 255 characters, keeping its suffix
    named = upload_form(officer, population_code, csv_bytes(good_rows(2)), name="户籍人口" * 100 + ".csv")
    batch = wait_done(officer, batch_id_of(named))
    assert batch["status"] == "applied" and len(batch["filename"]) == 255
    assert batch["filename"].endswith(".csv")
    assert officer.get("/data/batches/999999999999", headers=HTML).status_code == 422


def test_an_upload_above_the_limit_is_refused_on_the_page(settings, population_code, client):
    app = create_app(settings.model_copy(update={"max_upload_mb": 1}))
    try:
        with TestClient(app, raise_server_exceptions=False):
            officer = browser(app, "ga_officer")
            big = csv_bytes(good_rows(2)) + b"#" * (1024 * 1024 + 10)
            response = upload_form(officer, population_code, big)
            assert response.status_code == 413
            assert "文件超过上限 1 MiB" in response.text and "上传并归集" in response.text
            huge = upload_form(officer, population_code, b"x" * (3 * 1024 * 1024))
            assert huge.status_code == 413 and "文件超过上限 1 MiB" in huge.text
            assert officer.get(f"/api/v1/resources/{population_code}/batches").json()["total"] == 0
            leftovers = [p.name for p in settings.data_dir.iterdir() if p.name.startswith("upload-")]
            assert leftovers == []
    finally:
        app.state.engine.dispose()


def test_the_pool_shows_overdue_aggregation_until_a_batch_arrives(app, client, session, population_code):
    from datetime import timedelta

    from govdata.catalog.models import Resource
    from govdata.core.db import utcnow

    resource = session.query(Resource).filter_by(code=population_code).one()
    resource.published_at = utcnow() - timedelta(days=3)  # a daily resource, published three days ago
    session.commit()
    officer = browser(app, "ga_officer")
    text = text_of(officer.get("/data", headers=HTML).text)
    assert "已逾期" in text and re.search(r"1 归集逾期", text)
    assert "归集已逾期" in text_of(officer.get(f"/data/{population_code}", headers=HTML).text)

    wait_done(officer, batch_id_of(upload_form(officer, population_code, csv_bytes(good_rows(3)))))
    text = text_of(officer.get("/data", headers=HTML).text)
    assert "已逾期" not in text and "下次应归集" in text and re.search(r"0 归集逾期", text)
    assert re.search(r"3 数据总行数", text) and "已入库" in text
