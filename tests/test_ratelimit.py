"""SEC-6: every endpoint has a rate limit; logins have a lower one per address."""

from __future__ import annotations

from fastapi.testclient import TestClient

from govdata.app import create_app
from govdata.core.ids import uscc_make
from govdata.demo import DEMO_PASSWORD
from tests.support.http import login


def test_a_caller_over_the_limit_gets_429_and_others_are_unaffected(settings):
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 5}))
    with TestClient(app) as client:
        headers = login(client, "rs_user")
        codes = [client.get("/api/v1/me", headers=headers).status_code for _ in range(6)]
        assert codes[:5] == [200] * 5
        refused = client.get("/api/v1/me", headers=headers)
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.headers["retry-after"] == "60" and "频繁" in refused.json()["detail"]
        # another credential has its own budget; health checks are never limited
        other = login(client, "ga_officer")
        assert client.get("/api/v1/me", headers=other).status_code == 200
        assert all(client.get("/healthz").status_code == 200 for _ in range(10))
    app.state.engine.dispose()


def test_logins_from_one_address_are_limited(settings):
    app = create_app(settings.model_copy(update={"login_rate_limit_per_minute": 3}))
    with TestClient(app) as client:
        statuses = [
            client.post(
                "/api/v1/auth/token", data={"username": "rs_user", "password": DEMO_PASSWORD}
            ).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
    app.state.engine.dispose()


def test_text_with_a_nul_character_is_refused_on_every_store(client, as_user):
    body = {"name": "坏\x00部门", "uscc": uscc_make("1", "1", "410800", "MB999999"), "region_code": "410800"}
    response = client.post("/api/v1/departments", json=body, headers=as_user("dsj_officer"))
    assert response.status_code == 422
    assert response.json()["type"].endswith("nul-character")
