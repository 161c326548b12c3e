"""POL-1 over the API and the CLI: default deadlines, another province's profile, field-level errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from govdata.core.audit import AuditEvent
from govdata.core.policy import DEFAULT_PROFILE
from tests.support.http import assert_problem

PROVINCE_FAST = (
    Path(__file__).resolve().parents[2] / "src" / "govdata" / "platform" / "policies" / "province-fast.toml"
)
POLICY = "/api/v1/policy"
PROFILES = "/api/v1/policy/profiles"


def province_fast() -> dict:
    return tomllib.loads(PROVINCE_FAST.read_text(encoding="utf-8"))


def test_default_profile_uses_the_seeds_deadlines(client, as_user):
    policy = client.get(POLICY, headers=as_user("ga_officer")).json()
    deadlines = policy["deadlines"]
    assert policy["name"] == "default"
    assert deadlines["share_reply"]["working_days"] == 10 and deadlines["share_reply"]["statutory"]
    assert deadlines["correction_review"]["working_days"] == 10
    assert deadlines["correction_extension_max"]["working_days"] == 10
    assert deadlines["catalog_update"]["working_days"] == 15
    assert deadlines["compliance_check"] is None
    assert deadlines["rectification"]["statutory"] is False  # no seed sets it
    assert policy["switches"]["share_reply_clock_start"] == "submission"


def test_admin_activates_the_fast_province_profile(client, as_user, session):
    admin = as_user("admin")
    saved = client.post(PROFILES, params={"activate": "true"}, json=province_fast(), headers=admin)
    assert saved.status_code == 201, saved.text
    assert saved.json()["label"] == "省级快速答复"

    policy = client.get(POLICY, headers=as_user("rs_officer")).json()
    assert policy["name"] == "province-fast"
    assert policy["deadlines"]["share_reply"]["working_days"] == 5
    assert policy["deadlines"]["compliance_check"]["working_days"] == 2
    assert policy["switches"]["share_reply_clock_start"] == "authority_check"
    # what the file does not mention stays the default
    assert policy["deadlines"]["catalog_update"]["working_days"] == 15
    assert policy["switches"]["catalog_publisher"] == "authority"

    listed = {p["name"]: p["active"] for p in client.get(PROFILES, headers=as_user("auditor")).json()}
    assert listed["province-fast"] is True and not [
        n for n, a in listed.items() if a and n != "province-fast"
    ]
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == "province-fast").order_by(AuditEvent.seq)
    ).all()
    assert actions == ["policy.profile_saved", "policy.profile_activated"]

    # and back to the default
    back = client.post(f"{PROFILES}/default/activate", headers=admin)
    assert back.status_code == 200 and back.json()["name"] == "default"
    assert client.get(POLICY, headers=admin).json()["deadlines"]["share_reply"]["working_days"] == 10


def test_a_partial_profile_is_merged_over_the_default_and_not_activated_unasked(client, as_user):
    admin = as_user("admin")
    saved = client.post(
        PROFILES,
        json={"name": "city", "deadlines": {"correction_review": {"working_days": 7}}},
        headers=admin,
    )
    assert saved.status_code == 201, saved.text
    body = saved.json()
    assert body["label"] == "city"
    rule = body["deadlines"]["correction_review"]
    assert rule["working_days"] == 7
    assert rule["source"] == DEFAULT_PROFILE.deadlines.correction_review.source
    assert body["deadlines"]["share_reply"]["working_days"] == 10
    assert client.get(POLICY, headers=admin).json()["name"] == "default"  # saved, not active


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "switches": {"catalog_publsher": "provider"}}, "switches.catalog_publsher"),
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": "x", "switches": {"project_acceptor": "mayor"}}, "switches.project_acceptor"),
        (
            {"name": "x", "deadlines": {"share_reply": {"working_days": -1}}},
            "deadlines.share_reply.working_days",
        ),
        (
            {"name": "x", "switches": {"share_reply_clock_start": "authority_check"}},
            "deadlines.compliance_check",
        ),
        ({"name": "Bad Name"}, "name"),
        ({"label": "无名"}, "name"),
    ],
)
def test_bad_profiles_get_422_naming_the_field(client, as_user, body, field):
    problem = assert_problem(client.post(PROFILES, json=body, headers=as_user("admin")), 422, "invalid-input")
    assert problem["errors"][0]["field"] == field
    assert field in problem["detail"]
    assert client.get(POLICY, headers=as_user("admin")).json()["name"] == "default"


def test_a_profile_must_be_a_json_object(client, as_user):
    admin = as_user("admin")
    assert_problem(client.post(PROFILES, json=["province-fast"], headers=admin), 422)
    assert_problem(
        client.post(PROFILES, content=b"{not json", headers={**admin, "content-type": "application/json"}),
        422,
    )


def test_only_the_administrator_changes_the_policy(client, as_user):
    for username in ("dsj_officer", "ga_head", "auditor"):
        assert_problem(
            client.post(PROFILES, json=province_fast(), headers=as_user(username)), 403, "forbidden"
        )
        assert_problem(client.post(f"{PROFILES}/default/activate", headers=as_user(username)), 403)
    assert_problem(client.post(PROFILES, json=province_fast()), 401)
    # the public and application systems do not read the internal policy either
    assert_problem(client.get(POLICY, headers=as_user("citizen")), 403)
    assert client.get(POLICY, headers=as_user("admin")).json()["name"] == "default"


def test_activating_an_unknown_profile_is_404(client, as_user):
    assert_problem(client.post(f"{PROFILES}/nope/activate", headers=as_user("admin")), 404, "not-found")


def test_cli_loads_and_activates_a_profile_file(settings, client, as_user, monkeypatch):
    from govdata.cli import app
    from govdata.core.config import get_settings

    for key, value in {
        "GOVDATA_DATA_DIR": str(settings.data_dir),
        "GOVDATA_DATABASE_URL": settings.resolved_database_url(),
        "GOVDATA_STORE_URL": settings.resolved_store_url(),
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        loaded = runner.invoke(app, ["policy", "load", str(PROVINCE_FAST), "--activate"])
        assert loaded.exit_code == 0, loaded.output
        assert "province-fast" in loaded.output and "启用" in loaded.output
        shown = runner.invoke(app, ["policy", "show"])
        assert shown.exit_code == 0 and '"share_reply_clock_start": "authority_check"' in shown.output

        bad = PROVINCE_FAST.parent / "does-not-exist.toml"
        assert runner.invoke(app, ["policy", "load", str(bad)]).exit_code != 0
    finally:
        get_settings.cache_clear()
    policy = client.get(POLICY, headers=as_user("ga_officer")).json()
    assert (policy["name"], policy["deadlines"]["share_reply"]["working_days"]) == ("province-fast", 5)
