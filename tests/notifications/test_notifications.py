"""The message centre (站内消息), on both stores: a message reaches exactly the people it is addressed to
(a user, a department's staff or one role of them, a role), read state is kept per person, and the
header of every page shows the unread count."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from govdata.core.audit import AuditEvent
from govdata.core.auth import Role
from govdata.notifications import service
from tests.support.http import assert_problem
from tests.support.pages import HTML, browser, text


def me(client, headers) -> dict:
    return client.get("/api/v1/me", headers=headers).json()


def inbox(client, headers, **params) -> dict:
    response = client.get("/api/v1/notifications", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def titles(client, headers, **params) -> list[str]:
    return [n["title"] for n in inbox(client, headers, **params)["items"]]


def send(session, **kw) -> None:
    kw.setdefault("kind", "test.message")
    kw.setdefault("body", "正文")
    service.notify(session, **kw)
    session.commit()


@pytest.fixture
def people(client, as_user) -> dict:
    return {
        name: me(client, as_user(name)) for name in ("ga_officer", "ga_head", "scjg_officer", "dsj_officer")
    }


def test_a_message_reaches_exactly_whom_it_is_addressed_to(client, as_user, session, people):
    ga = people["ga_officer"]["department_id"]
    send(session, title="致市公安局全体", department_id=ga)
    send(session, title="致市公安局目录管理员", department_id=ga, role=Role.dept_officer)
    send(session, title="致主管部门", role=Role.authority, link="/catalog/review")
    send(session, title="致市场监管局目录管理员本人", user_id=people["scjg_officer"]["id"])

    assert titles(client, as_user("ga_officer")) == ["致市公安局目录管理员", "致市公安局全体"]
    assert titles(client, as_user("ga_head")) == ["致市公安局全体"]  # not an officer
    assert titles(client, as_user("scjg_officer")) == ["致市场监管局目录管理员本人"]  # another department
    assert titles(client, as_user("dsj_officer")) == ["致主管部门"]
    assert titles(client, as_user("citizen")) == []
    authority = inbox(client, as_user("dsj_officer"))
    assert authority["total"] == authority["unread"] == 1
    assert authority["items"][0]["link"] == "/catalog/review" and authority["items"][0]["read"] is False


def test_read_state_is_kept_per_person(client, as_user, session, people):
    ga = people["ga_officer"]["department_id"]
    send(session, title="部门消息", department_id=ga)
    send(session, title="第二条部门消息", department_id=ga)
    officer, head = as_user("ga_officer"), as_user("ga_head")
    first = inbox(client, officer)["items"][1]
    assert first["title"] == "部门消息"

    marked = client.post(f"/api/v1/notifications/{first['id']}/read", headers=officer)
    assert marked.status_code == 200 and marked.json()["read"] is True and marked.json()["read_at"]
    again = client.post(f"/api/v1/notifications/{first['id']}/read", headers=officer)
    assert again.status_code == 200  # reading twice is not an error
    assert inbox(client, officer)["unread"] == 1
    assert inbox(client, head)["unread"] == 2  # the head has not read it
    assert titles(client, officer, unread="true") == ["第二条部门消息"]
    assert titles(client, officer, unread="false") == ["部门消息"]
    listed = inbox(client, officer, limit=1, offset=1)
    assert listed["total"] == 2 and len(listed["items"]) == 1 and listed["unread"] == 1

    everything = client.post("/api/v1/notifications/read-all", headers=officer)
    assert everything.status_code == 200 and everything.json() == {"marked": 1, "unread": 0}
    assert inbox(client, officer)["unread"] == 0 and inbox(client, head)["unread"] == 2
    assert client.post("/api/v1/notifications/read-all", headers=officer).json() == {"marked": 0, "unread": 0}
    reads = session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("notification.read%"))
    )
    assert reads == 2  # one read, one read-all that marked something; the no-op marks nothing


def test_a_message_for_someone_else_cannot_be_marked(client, as_user, session, people):
    send(session, title="他人的消息", user_id=people["dsj_officer"]["id"])
    message = inbox(client, as_user("dsj_officer"))["items"][0]
    assert_problem(
        client.post(f"/api/v1/notifications/{message['id']}/read", headers=as_user("ga_officer")), 404
    )
    assert_problem(client.post("/api/v1/notifications/999999/read", headers=as_user("ga_officer")), 404)
    assert inbox(client, as_user("dsj_officer"))["unread"] == 1


def test_who_has_an_inbox(client, as_user, demo_token):
    assert_problem(client.get("/api/v1/notifications"), 401)
    system = {"Authorization": f"Bearer {demo_token}"}
    assert_problem(client.get("/api/v1/notifications", headers=system), 403)
    assert_problem(client.get("/api/v1/notifications", headers=as_user("auditor")), 403)
    assert_problem(client.post("/api/v1/notifications/read-all", headers=as_user("auditor")), 403)
    assert inbox(client, as_user("admin"))["total"] == 0
    assert inbox(client, as_user("citizen"))["total"] == 0


def test_a_message_needs_a_recipient_and_a_link_of_this_site(session):
    with pytest.raises(ValueError):
        service.notify(session, kind="x", title="无人收", body="")
    with pytest.raises(ValueError):
        service.notify(
            session, kind="x", title="外链", body="", role=Role.authority, link="https://example.com/"
        )


def test_the_header_shows_the_unread_count_and_the_page_marks_messages_read(client, session, people):
    ga = people["ga_officer"]["department_id"]
    send(session, title="请处理共享申请", department_id=ga, role=Role.dept_officer, link="/catalog/mine")
    send(session, title="目录已发布", department_id=ga, role=Role.dept_officer)
    officer = browser(client.app, "ga_officer")
    home = officer.get("/home", headers=HTML)
    assert home.status_code == 200 and "消息 (2)" in text(home.text)
    assert "消息 (0)" in text(browser(client.app, "scjg_officer").get("/home", headers=HTML).text)

    page = officer.get("/notifications", headers=HTML)
    assert page.status_code == 200
    visible = text(page.text)
    assert "消息中心" in visible and "请处理共享申请" in visible and visible.count("未读") >= 2
    assert "全部标为已读" in visible
    linked = next(n for n in officer.get("/api/v1/notifications").json()["items"] if n["link"])

    # "查看" marks the message read and opens the page it links to
    opened = officer.post(f"/notifications/{linked['id']}/read", data={"go": "1"}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/catalog/mine"
    assert "消息 (1)" in text(officer.get("/home", headers=HTML).text)

    done = officer.post("/notifications/read-all", data={}, headers=HTML)
    assert done.status_code == 200 and "已将全部消息标为已读" in text(done.text)
    assert "消息 (0)" in text(done.text) and "全部标为已读" not in text(done.text)
    missing = officer.post("/notifications/999999/read", data={}, headers=HTML)
    assert missing.status_code == 404 and "消息 999999 不存在" in text(missing.text)


def test_the_auditor_sees_no_message_link(client):
    page = browser(client.app, "auditor").get("/home", headers=HTML)
    assert page.status_code == 200 and "消息 (" not in text(page.text)
