"""AGG-6 (#13 item 17): a resource's stored data on its page — paging, search by key, filters on items,
the data as of a batch or a time — and a record's history, every version with its batch."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

from govdata.core.clock import CHINA
from tests.support.batches import csv_bytes, good_rows, upload
from tests.support.pages import HTML, browser, text


def _rows_of(page: str) -> list[str]:
    table = re.search(r'<table class="list preview records">.*?</table>', page, re.S)
    if not table:
        return []
    return [text(r).strip() for r in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S)[1:]]


def _as_of(page: str) -> str:
    """The record as of the point asked for, as the history page shows it above the versions."""
    found = re.search(r'<div class="as-of-result".*?</div>', page, re.S)
    return text(found.group(0)) if found else ""


def _three_batches(client, officer, code) -> tuple[list[list[str]], dict, dict, dict]:
    """60 people; then one renamed; then deleted."""
    rows = good_rows(60)
    first = upload(client, officer, code, csv_bytes(rows)).json()
    time.sleep(2.1)  # the next batch a whole second later: a time between them can be named
    changed = [list(rows[3])]
    changed[0][1] = "改名后"
    second = upload(client, officer, code, csv_bytes(changed)).json()
    third = upload(
        client, officer, code, csv_bytes([[rows[3][0]]], header=["公民身份号码"]), mode="delete"
    ).json()
    assert [b["status"] for b in (first, second, third)] == ["applied"] * 3, (first, second, third)
    return rows, first, second, third


def test_agg6_the_data_page_pages_searches_and_filters(app, client, as_user, population_code):
    """#13 item 17: 50 records a page; a key finds its record (lower-case x too); a filter on an item
    narrows by exact value; each row links to its history."""
    officer = as_user("ga_officer")
    rows = good_rows(60)
    assert upload(client, officer, population_code, csv_bytes(rows)).json()["status"] == "applied"
    page = browser(app, "ga_officer")
    base = f"/data/{population_code}/records"

    first = page.get(base, headers=HTML)
    assert first.status_code == 200
    shown = text(first.text)
    assert "共 60 条，第 1–50 条" in shown and len(_rows_of(first.text)) == 50
    assert "下一页" in shown and "上一页" not in shown
    second = page.get(base, params={"offset": 50}, headers=HTML)
    assert len(_rows_of(second.text)) == 10 and "上一页" in text(second.text)

    one = page.get(base, params={"key": rows[7][0].lower()}, headers=HTML)
    found = _rows_of(one.text)
    assert len(found) == 1 and rows[7][1] in found[0]
    assert f"/records/history?key={rows[7][0]}" in one.text.replace("&amp;", "&")
    two = page.get(base, params={"key": f"{rows[1][0]} {rows[2][0]}"}, headers=HTML)
    assert len(_rows_of(two.text)) == 2

    women = page.get(base, params={"item": "xb", "value": "2"}, headers=HTML)
    assert "共 30 条" in text(women.text) and "性别 = 2" in text(women.text)
    # a code of a national code table is shown with what it means (#13 item 22)
    assert all("2 女" in row for row in _rows_of(women.text))
    both = page.get(base, params={"f_xb": "2", "item": "xm", "value": rows[1][1]}, headers=HTML)
    assert len(_rows_of(both.text)) == 1 and rows[1][0] in _rows_of(both.text)[0]

    bad = page.get(base, params={"item": "nope", "value": "1"}, headers=HTML)
    assert bad.status_code == 200 and "不是该资源的信息项" in text(bad.text)
    # the resource's aggregation page leads here
    assert (
        f'href="/data/{population_code}/records"' in page.get(f"/data/{population_code}", headers=HTML).text
    )


def test_agg6_a_records_history_lists_every_version_with_its_batch(app, client, as_user, population_code):
    """#13 item 17: written, superseded by a later batch, deleted — each version with its batch."""
    officer = as_user("ga_officer")
    rows, first, second, third = _three_batches(client, officer, population_code)
    page = browser(app, "ga_officer").get(
        f"/data/{population_code}/records/history", params={"key": rows[3][0]}, headers=HTML
    )
    assert page.status_code == 200
    shown = text(page.text)
    assert "版本 共 2 个" in shown
    versions = re.findall(r'<article class="record-version (\w+)">(.*?)</article>', page.text, re.S)
    assert [state for state, _ in versions] == ["deleted", "superseded"]
    newest, oldest = (text(body) for _, body in versions)
    assert "第 2 版" in newest and "已删除" in newest and "改名后" in newest
    assert f"由批次 #{second['id']}" in newest and f"被批次 #{third['id']}" in newest and "删除" in newest
    assert "第 1 版" in oldest and rows[3][1] in oldest and f"由批次 #{first['id']}" in oldest
    assert f"被批次 #{second['id']}" in oldest and "更新" in oldest
    assert "张丽" in newest  # who loaded the batch, by name
    assert re.search(r'<div class="changed"[^>]*><dt>姓名</dt><dd>改名后</dd>', page.text)  # marked


def test_agg6_the_record_and_the_data_as_of_a_batch_or_a_time(app, client, as_user, population_code):
    """#13 item 17: as of the first batch the record holds its first name; as of the second, the new
    one; after the deletion it is gone — by batch and by time, on the history and the data page."""
    officer = as_user("ga_officer")
    rows, first, second, third = _three_batches(client, officer, population_code)
    page = browser(app, "ga_officer")
    history = f"/data/{population_code}/records/history"
    key = rows[3][0]

    at_first = _as_of(page.get(history, params={"key": key, "as_of_batch": first["id"]}, headers=HTML).text)
    assert f"截至批次 #{first['id']}" in at_first and rows[3][1] in at_first and "改名后" not in at_first
    at_second = _as_of(page.get(history, params={"key": key, "as_of_batch": second["id"]}, headers=HTML).text)
    assert "改名后" in at_second
    at_third = _as_of(page.get(history, params={"key": key, "as_of_batch": third["id"]}, headers=HTML).text)
    assert "该时点这条记录不存在" in at_third

    # as of a time: one second after the first batch, before the second was written
    first_done = datetime.fromisoformat(
        client.get(f"/api/v1/batches/{first['id']}", headers=officer).json()["finished_at"]
    )
    second_written = datetime.fromisoformat(
        client.get(f"/api/v1/batches/{second['id']}", headers=officer).json()["started_at"]
    )
    moment = first_done.astimezone(CHINA).replace(microsecond=0) + timedelta(seconds=1)
    assert moment < second_written
    by_time = _as_of(
        page.get(
            history, params={"key": key, "as_of": moment.strftime("%Y-%m-%dT%H:%M:%S")}, headers=HTML
        ).text
    )
    assert by_time.strip().startswith("截至 ") and rows[3][1] in by_time and "改名后" not in by_time
    later = (datetime.now(CHINA) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert "该时点这条记录不存在" in _as_of(
        page.get(history, params={"key": key, "as_of": later}, headers=HTML).text
    )
    before = (first_done.astimezone(CHINA) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    assert "该时点这条记录不存在" in _as_of(
        page.get(history, params={"key": key, "as_of": before}, headers=HTML).text
    )
    bad = page.get(history, params={"key": key, "as_of": "2026-02-30T10:00"}, headers=HTML)
    assert "不是真实存在的时间" in text(bad.text)

    records = f"/data/{population_code}/records"
    now = page.get(records, headers=HTML)
    assert "共 59 条" in text(now.text)
    then = page.get(records, params={"as_of_batch": first["id"]}, headers=HTML)
    assert f"截至批次 #{first['id']} 的数据" in text(then.text) and "共 60 条" in text(then.text)


def test_agg6_only_the_provider_reads_its_stored_data(app, client, as_user, population_code):
    """#13 item 17: another department, and the authority without a grant, cannot open the pages."""
    upload(client, as_user("ga_officer"), population_code, csv_bytes(good_rows(3)))
    for username in ("rs_officer", "dsj_officer"):
        other = browser(app, username)
        assert other.get(f"/data/{population_code}/records", headers=HTML).status_code == 403
        assert (
            other.get(
                f"/data/{population_code}/records/history", params={"key": "x"}, headers=HTML
            ).status_code
            == 403
        )


def test_agg6_the_api_answers_a_records_history(client, as_user, population_code):
    """#13 item 17: the same history through the API, for the provider only."""
    officer = as_user("ga_officer")
    rows, first, second, third = _three_batches(client, officer, population_code)
    answer = client.get(
        f"/api/v1/resources/{population_code}/records/history", params={"key": rows[3][0]}, headers=officer
    )
    assert answer.status_code == 200, answer.text
    versions = answer.json()["versions"]
    assert [(v["state"], v["batch_id"], v["ended_by"]) for v in versions] == [
        ("deleted", second["id"], third["id"]),
        ("superseded", first["id"], second["id"]),
    ]
    assert versions[0]["values"]["xm"] == "改名后" and versions[1]["values"]["xm"] == rows[3][1]
    assert versions[0]["values"]["csrq"] == rows[3][3]
    assert versions[0]["written_at"].endswith(("Z", "+00:00"))  # an instant, in UTC
    refused = client.get(
        f"/api/v1/resources/{population_code}/records/history",
        params={"key": rows[3][0]},
        headers=as_user("rs_officer"),
    )
    assert refused.status_code == 403
