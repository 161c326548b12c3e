"""Sharing in tests: 市公安局's population resource with data in it, the demo application system of 市人社局
(养老保险待遇资格认证系统) and its credential, and grants to that system through the API (an application
by 市人社局, decided by 市公安局 when it needs a decision)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest

from govdata.core import clock
from govdata.sharing import usage
from tests.support.batches import good_rows
from tests.support.catalog import population, publish

ITEMS = ["gmsfhm", "xm", "xb", "csrq", "hjdz", "lxdh", "jzdz"]
CONDITIONAL = {"lxdh", "jzdz"}


def shared_population() -> dict:
    """人口基础信息 offering every service mode, with two conditional items beside the base items."""
    body = population(share_modes=["verify", "query", "exchange"])
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
            "code": "jzdz",
            "name": "居住地址",
            "data_type": "C",
            "length": 200,
            "level": 3,
            "share_type": "conditional",
        },
    ]
    return body


def people(n: int, start: int = 0) -> list[dict]:
    """``n`` valid records of the shared population resource."""
    records = []
    for i, row in enumerate(good_rows(n, start=start), start=start):
        record = dict(zip(ITEMS[:5], row, strict=True))
        record["lxdh"] = f"139{i:08d}"
        record["jzdz"] = f"河南省焦作市山阳区太行路{i}号院"
        records.append(record)
    return records


def load(client, headers, code: str, records: list[dict], mode: str = "upsert") -> dict:
    """Apply ``records`` (JSON) to ``code`` as one batch and wait for it; the batch."""
    response = client.post(
        f"/api/v1/resources/{code}/batches",
        json={"mode": mode, "policy": "strict", "records": records},
        headers=headers,
    )
    assert response.status_code == 201 and response.json()["status"] == "applied", response.text
    return response.json()


@pytest.fixture
def shared_code(client, as_user) -> str:
    """The shared population resource, published, holding ``people(20)``."""
    code = publish(client, as_user, "ga_officer", shared_population())
    load(client, as_user("ga_officer"), code, people(20))
    return code


def system_headers(token: str, end_user: str | None = None) -> dict[str, str]:
    """Bearer headers of an application system's credential, naming the end user it acts for."""
    headers = {"Authorization": f"Bearer {token}"}
    if end_user:
        headers["X-End-User"] = quote(end_user)
    return headers


@pytest.fixture
def system(client, demo_token) -> dict:
    """The demo system of 市人社局: ``{id, department_id, headers}``."""
    headers = system_headers(demo_token, "王社保")
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    return {"id": me.json()["system_id"], "department_id": me.json()["department_id"], "headers": headers}


def grant(
    client,
    as_user,
    code: str,
    system_id: int,
    items: list[str],
    *,
    masked: list[str] = (),
    modes: list[str] = ("query",),
    rate_limit: int | None = None,
    applicant: str = "rs_user",
    provider: str = "ga_officer",
) -> dict:
    """A grant of ``items`` (``masked`` served masked) of resource ``code`` to the system, through an
    application (decided by the provider when any item is conditional); the grant as the API shows it."""
    today = clock.today()
    body = {
        "resource_code": code,
        "system_id": system_id,
        "items": list(items),
        "masked_items": list(masked),
        "purpose": "养老保险待遇资格认证",
        "scenario": "退休人员每年资格认证时核验身份",
        "legal_basis": "《社会保险法》第七十五条",
        "period_start": today.isoformat(),
        "period_end": (today + dt.timedelta(days=365)).isoformat(),
        "modes": list(modes),
    }
    if rate_limit is not None:
        body["rate_limit"] = rate_limit
    applied = client.post("/api/v1/applications", json=body, headers=as_user(applicant))
    assert applied.status_code == 201, applied.text
    application = applied.json()
    if not application.get("grant_id"):
        decision = {"decision": "approve", "masked": list(masked)}
        if rate_limit is not None:
            decision["rate_limit"] = rate_limit
        decided = client.post(
            f"/api/v1/applications/{application['id']}/decision", json=decision, headers=as_user(provider)
        )
        assert decided.status_code == 200, decided.text
        application = decided.json()
    found = client.get(f"/api/v1/grants/{application['grant_id']}", headers=as_user(applicant))
    assert found.status_code == 200, found.text
    return found.json()


def usage_of(client, headers, **filters) -> list[dict]:
    """The usage log as ``headers``' caller sees it (everything queued written first)."""
    usage.flush()
    response = client.get("/api/v1/usage", params={"limit": 500, **filters}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]
