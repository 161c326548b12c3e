"""Share applications under working-day deadlines (SHR-2 … SHR-5, CAL-1, CAL-2, POL-1): what a consumer,
a provider and the authority see at each step, on both stores."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import chinese_calendar
import pytest

from govdata.core import clock, policy
from govdata.core.auth import SYSTEM_ACTOR
from tests.support.catalog import population, publish
from tests.support.http import assert_problem, login

TODAY = dt.date(2026, 9, 28)  # a Monday before the National Day holidays


def china_wd_after(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start`` by chinese_calendar itself (the reference)."""
    day, seen = start, 0
    while seen < n:
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day):
            seen += 1
    return day


@pytest.fixture(autouse=True)
def logged_in(as_user) -> None:
    """Log everyone in at the real time: a token issued under a frozen clock would be expired after it."""
    for username in ("rs_user", "rs_officer", "ga_officer", "dsj_officer", "wj_user", "auditor", "admin"):
        as_user(username)


@pytest.fixture
def system_id(client, as_user) -> int:
    """市人社局's application system (the demo's)."""
    me = client.get("/api/v1/me", headers=as_user("rs_officer")).json()
    systems = client.get(f"/api/v1/departments/{me['department_id']}/systems", headers=as_user("rs_officer"))
    assert systems.status_code == 200, systems.text
    return systems.json()[0]["id"] if isinstance(systems.json(), list) else systems.json()["items"][0]["id"]


@pytest.fixture
def resource(client, as_user) -> str:
    """市公安局's population resource: base items unconditional (CAT-13), three more items conditional."""
    body = population()
    body["items"] += [
        {
            "code": "lxdh",
            "name": "联系电话",
            "data_type": "C",
            "length": 20,
            "level": 3,
            "share_type": "conditional",
        },
        {
            "code": "hyzk",
            "name": "婚姻状况",
            "data_type": "C",
            "length": 2,
            "level": 2,
            "share_type": "conditional",
        },
        {
            "code": "jzdz",
            "name": "居住地址",
            "data_type": "C",
            "length": 200,
            "level": 3,
            "share_type": "conditional",
        },
    ]
    return publish(client, as_user, "ga_officer", body)


def application(code: str, system_id: int, items: list[str], **extra) -> dict:
    body = {
        "resource_code": code,
        "system_id": system_id,
        "items": items,
        "purpose": "养老保险待遇资格认证",
        "scenario": "退休人员每年资格认证时核验身份",
        "legal_basis": "《社会保险法》第七十五条",
        "period_start": TODAY.isoformat(),
        "period_end": (TODAY + dt.timedelta(days=365)).isoformat(),
        "modes": ["verify", "query"],
    }
    body.update(extra)
    return body


def apply(client, as_user, body, user="rs_user"):
    response = client.post("/api/v1/applications", json=body, headers=as_user(user))
    assert response.status_code == 201, response.text
    return response.json()


def use_profile(session, name: str) -> None:
    profile = policy.load_profile_file(
        Path(__file__).resolve().parents[2] / "src" / "govdata" / "platform" / "policies" / f"{name}.toml"
    )
    policy.save_profile(session, SYSTEM_ACTOR, profile, activate=True)
    session.commit()


def use_switch(session, name: str, **switches) -> None:
    current = policy.active_policy(session)
    changed = current.model_copy(
        update={
            "name": name,
            "switches": type(current.switches).model_validate(current.switches.model_dump() | switches),
        }
    )
    policy.save_profile(session, SYSTEM_ACTOR, changed, activate=True)
    session.commit()


def test_unconditional_items_are_granted_at_once_SHR3(client, as_user, resource, system_id):
    with clock.frozen(TODAY):
        answer = apply(client, as_user, application(resource, system_id, ["xb"], modes=["query"]))
    assert answer["status"] == "approved" and answer["grant_id"]
    assert answer["deadline"] is None
    grants = client.get("/api/v1/grants?role=consumer", headers=as_user("rs_user")).json()["items"]
    (grant,) = [g for g in grants if g["id"] == answer["grant_id"]]
    assert grant["items"] == [{"code": "xb", "masked": False}] and grant["status"] == "active"
    assert grant["modes"] == ["query"] and grant["usage_requirements"]
    provider_view = client.get("/api/v1/grants?role=provider", headers=as_user("ga_officer")).json()["items"]
    assert answer["grant_id"] in [g["id"] for g in provider_view]
    # a third department sees neither the application nor the grant
    assert client.get(f"/api/v1/applications/{answer['id']}", headers=as_user("wj_user")).status_code == 404
    assert client.get(f"/api/v1/grants/{grant['id']}", headers=as_user("wj_user")).status_code == 404


def test_conditional_deadline_counts_working_days_across_holidays_SHR3_CAL1(
    client, as_user, resource, system_id
):
    with clock.frozen(TODAY):
        answer = apply(client, as_user, application(resource, system_id, ["lxdh", "xb"]))
    assert answer["status"] == "pending" and answer["phase"] == "awaiting_decision"
    assert answer["deadline"] == china_wd_after(TODAY, 10).isoformat()
    assert answer["deadline"] > "2026-10-09"  # the National Day week does not count
    assert answer["deadline_provisional"] is False
    inbox = client.get("/api/v1/notifications", headers=as_user("ga_officer")).json()
    assert any(n["object_id"] == str(answer["id"]) for n in inbox["items"])


def test_partial_approval_binds_the_grant_item_by_item_SHR3_SHR5(client, as_user, resource, system_id):
    with clock.frozen(TODAY):
        answer = apply(
            client,
            as_user,
            application(resource, system_id, ["gmsfhm", "lxdh", "hyzk", "jzdz"], masked_items=["lxdh"]),
        )
        decided = client.post(
            f"/api/v1/applications/{answer['id']}/decision",
            json={
                "decision": "partial",
                "items": ["gmsfhm", "lxdh", "hyzk"],
                "masked": ["lxdh", "hyzk"],
                "period_end": (TODAY + dt.timedelta(days=90)).isoformat(),
                "conditions": "仅限资格认证，不得留存",
            },
            headers=as_user("ga_officer"),
        )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["status"] == "partially_approved" and body["late"] is False
    grant = client.get(f"/api/v1/grants/{body['grant_id']}", headers=as_user("rs_user")).json()
    assert grant["items"] == [
        {"code": "gmsfhm", "masked": False},
        {"code": "lxdh", "masked": True},
        {"code": "hyzk", "masked": True},
    ]
    assert grant["period_end"] == (TODAY + dt.timedelta(days=90)).isoformat()
    assert grant["conditions"] == "仅限资格认证，不得留存"
    # the consumer is told
    inbox = client.get("/api/v1/notifications", headers=as_user("rs_user")).json()
    assert any("部分同意" in n["title"] for n in inbox["items"])


def test_partial_without_any_restriction_or_items_outside_the_request_is_refused(
    client, as_user, resource, system_id
):
    with clock.frozen(TODAY):
        answer = apply(client, as_user, application(resource, system_id, ["lxdh", "hyzk"]))
        url = f"/api/v1/applications/{answer['id']}/decision"
        officer = as_user("ga_officer")
        assert_problem(client.post(url, json={"decision": "partial"}, headers=officer), 422)
        assert_problem(
            client.post(url, json={"decision": "partial", "items": ["lxdh", "jzdz"]}, headers=officer), 422
        )
        # nobody else decides, and the state is checked after the right
        assert_problem(client.post(url, json={"decision": "approve"}, headers=as_user("rs_officer")), 403)
        assert client.post(url, json={"decision": "approve"}, headers=officer).status_code == 200
        assert_problem(client.post(url, json={"decision": "approve"}, headers=officer), 409)


def test_refusal_needs_a_reason_and_a_valid_basis_then_dispute_and_coordination_SHR3_SHR4(
    client, as_user, resource, system_id
):
    with clock.frozen(TODAY):
        answer = apply(client, as_user, application(resource, system_id, ["lxdh", "jzdz"]))
        url = f"/api/v1/applications/{answer['id']}/decision"
        officer = as_user("ga_officer")
        assert_problem(client.post(url, json={"decision": "refuse"}, headers=officer), 422)
        weak = {"decision": "refuse", "reason": "涉及个人隐私", "basis_kind": "rule"}
        assert_problem(client.post(url, json=weak, headers=officer), 422)  # default: refused without basis
        # a refusal naming no basis stands on the one the catalog gives for the conditions (law)
        refused = client.post(url, json={"decision": "refuse", "reason": "涉及个人隐私"}, headers=officer)
        assert refused.status_code == 200 and refused.json()["status"] == "refused", refused.text
        assert refused.json()["grant_id"] is None and refused.json()["refusal_basis_kind"] == "law"
        assert refused.json()["refusal_flagged"] is False
        # the consumer disputes, the authority negotiates, then decides and orders a grant
        disputed = client.post(
            f"/api/v1/applications/{answer['id']}/dispute",
            json={"reason": "属于法定职责所需"},
            headers=as_user("rs_user"),
        )
        assert disputed.status_code == 200 and disputed.json()["status"] == "disputed"
        authority = as_user("dsj_officer")
        inbox = client.get("/api/v1/notifications", headers=authority).json()
        assert any(
            n["object_id"] == str(answer["id"]) and n["kind"] == "application.disputed"
            for n in inbox["items"]
        )
        coordinate = f"/api/v1/applications/{answer['id']}/coordinate"
        negotiated = client.post(
            coordinate, json={"step": "negotiate", "note": "召集双方协商"}, headers=authority
        )
        assert negotiated.status_code == 200 and negotiated.json()["status"] == "disputed"
        assert_problem(client.post(coordinate, json={"step": "decide", "note": "x"}, headers=officer), 403)
        decided = client.post(
            coordinate,
            json={"step": "decide", "note": "依法应予共享", "outcome": "grant", "items": ["lxdh"]},
            headers=authority,
        )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["status"] == "coordinated" and body["outcome"] == "grant" and body["grant_id"]
    assert [step["step"] for step in body["coordination"]] == ["negotiate", "decide"]
    grant = client.get(f"/api/v1/grants/{body['grant_id']}", headers=as_user("ga_officer")).json()
    assert grant["items"] == [{"code": "lxdh", "masked": False}]


def test_refusal_without_basis_is_flagged_as_a_violation_when_the_profile_allows_it(
    client, as_user, resource, system_id, session, settings
):
    use_switch(session, "flagged", refusal_without_basis="flagged")
    # published on a basis too weak for conditional sharing, which this profile lets through flagged
    weak = population(name="人口补充信息", legal_basis="《焦作市户籍管理规定》", legal_basis_kind="rule")
    weak["items"] = [i for i in weak["items"] if i["code"] == "gmsfhm"] + [
        {"code": "lxdh", "name": "联系电话", "data_type": "C", "length": 20, "level": 3}
    ]
    weak_code = publish(client, as_user, "ga_officer", weak)
    with clock.frozen(TODAY):
        answer = apply(client, as_user, application(weak_code, system_id, ["lxdh"]))
        refused = client.post(
            f"/api/v1/applications/{answer['id']}/decision",
            json={"decision": "refuse", "reason": "暂不提供"},
            headers=as_user("ga_officer"),
        )
    assert refused.status_code == 200 and refused.json()["refusal_flagged"] is True
    violations = client.get(
        "/api/v1/violations?kind=refusal_without_basis", headers=as_user("dsj_officer")
    ).json()
    assert [v["object_id"] for v in violations["items"]] == [str(answer["id"])]


def test_overdue_application_is_escalated_once_and_a_late_decision_is_marked_late_SHR3(
    client, as_user, resource, system_id
):
    with clock.frozen(TODAY):
        answer = apply(client, as_user, application(resource, system_id, ["lxdh"]))
    deadline = dt.date.fromisoformat(answer["deadline"])
    authority = as_user("dsj_officer")
    with clock.frozen(deadline):  # the last day is still in time
        assert client.post("/api/v1/sharing/sweep", headers=authority).json()["escalated"] == 0
    with clock.frozen(deadline + dt.timedelta(days=1)):
        assert client.post("/api/v1/sharing/sweep", headers=authority).json()["escalated"] == 1
        assert client.post("/api/v1/sharing/sweep", headers=authority).json()["escalated"] == 0
        escalated = client.get(f"/api/v1/applications/{answer['id']}", headers=authority).json()
        assert escalated["status"] == "escalated"
        violations = client.get("/api/v1/violations?kind=application_overdue", headers=authority).json()
        assert [v["object_id"] for v in violations["items"]] == [str(answer["id"])]
        late = client.post(
            f"/api/v1/applications/{answer['id']}/decision",
            json={"decision": "approve"},
            headers=as_user("ga_officer"),
        )
    assert late.status_code == 200 and late.json()["late"] is True and late.json()["status"] == "approved"
    assert client.post("/api/v1/sharing/sweep", headers=as_user("rs_user")).status_code == 403


def test_deadline_into_an_unpublished_year_is_provisional_and_recomputed_on_import_CAL2(
    client, as_user, resource, system_id
):
    start = dt.date(2026, 12, 28)
    with clock.frozen(start):  # a token issued then stays valid now, which is earlier
        consumer = login(client, "rs_user")
        body = application(resource, system_id, ["lxdh"], period_start=start.isoformat())
        answer = client.post("/api/v1/applications", json=body, headers=consumer).json()
    assert answer["deadline_provisional"] is True
    first = dt.date.fromisoformat(answer["deadline"])
    imported = client.post(
        "/api/v1/calendar/years",
        json={"year": 2027, "holidays": ["2027-01-01", "2027-01-04", "2027-01-05"], "workdays": []},
        headers=as_user("admin"),
    )
    assert imported.status_code in (200, 201), imported.text
    again = client.get(f"/api/v1/applications/{answer['id']}", headers=consumer).json()
    assert again["deadline_provisional"] is False
    # Monday–Friday counted 1, 4 and 5 January as working days; the schedule makes them holidays
    assert dt.date.fromisoformat(again["deadline"]) == first + dt.timedelta(days=3)


def test_clock_starts_at_the_providers_receipt_POL1(client, as_user, resource, system_id, session):
    use_switch(session, "receipt", share_reply_clock_start="provider_receipt")
    with clock.frozen(TODAY):
        answer = apply(client, as_user, application(resource, system_id, ["lxdh"]))
    # until it is signed for, the same allowance runs from submission (an unsigned one escalates)
    assert answer["phase"] == "awaiting_receipt"
    assert (
        answer["deadline"] == china_wd_after(TODAY, 10).isoformat() and answer["deadline_statutory"] is False
    )
    received_on = dt.date(2026, 10, 9)
    with clock.frozen(received_on):
        received = client.post(f"/api/v1/applications/{answer['id']}/receive", headers=as_user("ga_officer"))
    assert received.status_code == 200, received.text
    assert received.json()["deadline"] == china_wd_after(received_on, 10).isoformat()
    assert_problem(
        client.post(f"/api/v1/applications/{answer['id']}/receive", headers=as_user("ga_officer")), 409
    )


def test_authority_compliance_check_comes_first_under_province_fast_POL1(
    client, as_user, resource, system_id, session
):
    use_profile(session, "province-fast")
    with clock.frozen(TODAY):
        answer = apply(client, as_user, application(resource, system_id, ["lxdh"]))
        assert answer["phase"] == "compliance_check"
        assert answer["deadline"] == china_wd_after(TODAY, 2).isoformat()
        url = f"/api/v1/applications/{answer['id']}"
        assert_problem(
            client.post(f"{url}/decision", json={"decision": "approve"}, headers=as_user("ga_officer")), 409
        )
        assert_problem(client.post(f"{url}/check", json={"passed": True}, headers=as_user("ga_officer")), 403)
    checked_on = dt.date(2026, 9, 29)
    with clock.frozen(checked_on):
        checked = client.post(
            f"{url}/check", json={"passed": True, "note": "材料齐全"}, headers=as_user("dsj_officer")
        )
    assert checked.status_code == 200, checked.text
    assert checked.json()["phase"] == "awaiting_decision"
    assert checked.json()["deadline"] == china_wd_after(checked_on, 5).isoformat()


def test_application_input_is_checked(client, as_user, resource, system_id):
    with clock.frozen(TODAY):
        for broken, field in (
            (application(resource, system_id, ["nope"]), "items"),
            (application(resource, system_id, ["xm"], purpose="  "), "purpose"),
            (application(resource, system_id, ["xm"], scenario=""), "scenario"),
            (application(resource, system_id, ["xm"], modes=["exchange"]), "modes"),
            (application(resource, system_id, ["xm"], period_end="2026-01-01"), "period_end"),
        ):
            problem = assert_problem(
                client.post("/api/v1/applications", json=broken, headers=as_user("rs_user")), 422
            )
            assert field in str(problem), problem
        # a system of another department, and the provider applying for its own resource
        assert_problem(
            client.post(
                "/api/v1/applications",
                json=application(resource, system_id, ["xm"]),
                headers=as_user("wj_user"),
            ),
            403,
        )
        assert_problem(
            client.post(
                "/api/v1/applications",
                json=application(resource, system_id, ["xm"]),
                headers=as_user("auditor"),
            ),
            403,
        )
        assert_problem(
            client.post(
                "/api/v1/applications",
                json=application("NOPE-0000", system_id, ["xm"]),
                headers=as_user("rs_user"),
            ),
            404,
        )


def test_a_none_resource_is_not_applied_for_but_coordination_may_be_asked_SHR3(client, as_user, system_id):
    body = population(
        name="在押人员信息",
        share_type="none",
        share_conditions=None,
        legal_basis="《中华人民共和国监狱法》",
        legal_basis_kind="law",
        share_modes=[],
        share_methods=[],
        materials=[],
        usage_requirements=None,
    )
    code = publish(client, as_user, "ga_officer", body)
    with clock.frozen(TODAY):
        direct = client.post(
            "/api/v1/applications",
            json=application(code, system_id, ["gmsfhm"], modes=["query"]),
            headers=as_user("rs_user"),
        )
        assert_problem(direct, 409 if direct.status_code == 409 else 422)
    assert direct.status_code in (409, 422)


def test_grant_suspension_resumption_and_revocation_SHR5(client, as_user, resource, system_id):
    with clock.frozen(TODAY):
        grant_id = apply(client, as_user, application(resource, system_id, ["xb"], modes=["query"]))[
            "grant_id"
        ]
    url = f"/api/v1/grants/{grant_id}"
    officer = as_user("ga_officer")
    assert_problem(client.post(f"{url}/suspend", json={}, headers=officer), 422)
    assert_problem(client.post(f"{url}/suspend", json={"reason": "x"}, headers=as_user("rs_officer")), 403)
    suspended = client.post(f"{url}/suspend", json={"reason": "发现超范围使用"}, headers=officer)
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    assert_problem(client.post(f"{url}/suspend", json={"reason": "again"}, headers=officer), 409)
    inbox = client.get("/api/v1/notifications", headers=as_user("rs_user")).json()
    assert any("暂停" in n["title"] for n in inbox["items"])
    assert client.post(f"{url}/resume", json={}, headers=officer).json()["status"] == "active"
    assert (
        client.post(f"{url}/revoke", json={"reason": "业务终止"}, headers=officer).json()["status"]
        == "revoked"
    )
    assert_problem(client.post(f"{url}/resume", json={}, headers=officer), 409)


def test_attachments_are_checked_by_content_SHR2(client, as_user, resource, system_id):
    with clock.frozen(TODAY):
        answer = apply(client, as_user, application(resource, system_id, ["lxdh"]))
    url = f"/api/v1/applications/{answer['id']}/attachments"
    pdf = b"%PDF-1.7\n" + b"0" * 1000
    ok = client.post(url, files={"file": ("申请函.pdf", pdf, "application/pdf")}, headers=as_user("rs_user"))
    assert ok.status_code == 201, ok.text
    fake = client.post(
        url, files={"file": ("x.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")}, headers=as_user("rs_user")
    )
    assert_problem(fake, 422)
    big = client.post(
        url,
        files={"file": ("big.pdf", b"%PDF-" + b"0" * (11 * 1024 * 1024), "application/pdf")},
        headers=as_user("rs_user"),
    )
    assert_problem(big, 413)
    assert_problem(
        client.post(url, files={"file": ("a.pdf", pdf, "application/pdf")}, headers=as_user("ga_officer")),
        403,
    )
    shown = client.get(f"/api/v1/applications/{answer['id']}", headers=as_user("ga_officer")).json()
    (attachment,) = shown["attachments"]
    download = client.get(f"{url}/{attachment['id']}", headers=as_user("ga_officer"))
    assert download.status_code == 200 and download.content == pdf
    assert client.get(f"{url}/{attachment['id']}", headers=as_user("wj_user")).status_code == 404


def office_file(members: dict[str, bytes | int]) -> bytes:
    """A Word-shaped zip: each member its bytes, or that many zero bytes (written a megabyte at a time)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            with archive.open(name, "w") as member:
                if isinstance(content, bytes):
                    member.write(content)
                    continue
                for start in range(0, content, 1024 * 1024):
                    member.write(bytes(min(1024 * 1024, content - start)))
    return buffer.getvalue()


def test_an_attachment_that_would_inflate_beyond_bounds_is_refused_without_being_inflated(
    client, as_user, resource, system_id
):
    with clock.frozen(TODAY):
        answer = apply(client, as_user, application(resource, system_id, ["lxdh"]))
    url = f"/api/v1/applications/{answer['id']}/attachments"
    rs = as_user("rs_user")

    def upload(name: str, data: bytes):
        return client.post(url, files={"file": (name, data, "application/octet-stream")}, headers=rs)

    letter = office_file({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document>" * 200})
    accepted = upload("申请函.docx", letter)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["content_type"].endswith("wordprocessingml.document")

    bomb = office_file({"[Content_Types].xml": b"<Types/>", "word/document.xml": 101 * 1024 * 1024})
    assert len(bomb) < 200 * 1024  # a small upload that would fill 101 MB
    assert "100 MB" in assert_problem(upload("bomb.docx", bomb), 413)["detail"]
    dense = office_file({"word/document.xml": 5 * 1024 * 1024})  # within the total, far beyond any ratio
    assert "压缩比" in assert_problem(upload("dense.docx", dense), 422)["errors"][0]["message"]
    crowded = office_file({f"word/part{i}.xml": b"" for i in range(10_001)})
    assert_problem(upload("crowded.docx", crowded), 413)
    shown = client.get(f"/api/v1/applications/{answer['id']}", headers=rs).json()
    assert [a["filename"] for a in shown["attachments"]] == ["申请函.docx"]
