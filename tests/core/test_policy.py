"""Policy profiles (POL-1): defaults, files, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from govdata.core.audit import AuditEvent
from govdata.core.auth import SYSTEM_ACTOR
from govdata.core.errors import InvalidInput, NotFound
from govdata.core.policy import (
    DEFAULT_PROFILE,
    SWITCH_LABELS,
    AuthorizedDevelopmentApplicants,
    BaseItemsNotUnconditional,
    CatalogPublisher,
    DeadlineRule,
    ObjectionsOffPlatform,
    Objector,
    PolicyProfile,
    PolicyProfileRecord,
    ProjectAcceptor,
    RefusalWithoutBasis,
    ReviewExtensionBy,
    ShareReplyClockStart,
    activate_profile,
    active_policy,
    get_profile,
    list_profiles,
    load_profile_file,
    parse_profile_text,
    profile_from_dict,
    save_profile,
)

PROVINCE_FAST = (
    Path(__file__).resolve().parents[2] / "src" / "govdata" / "platform" / "policies" / "province-fast.toml"
)


def test_default_values_match_the_seeds():
    d = DEFAULT_PROFILE.deadlines
    assert DEFAULT_PROFILE.name == "default" and DEFAULT_PROFILE.label == "默认（依据各地办法）"
    assert d.share_reply == DeadlineRule(working_days=10, statutory=True, source=d.share_reply.source)
    assert "政务信息资源共享管理暂行办法" in d.share_reply.source
    assert d.compliance_check is None
    assert (d.correction_review.working_days, d.correction_review.statutory) == (10, True)
    assert (d.correction_extension_max.working_days, d.correction_extension_max.statutory) == (10, True)
    assert (d.catalog_update.working_days, d.catalog_update.statutory) == (15, True)
    for rule, days in [
        (d.conditional_open_decision, 15),
        (d.quality_problem_reply, 10),
        (d.conflict_coordination, 15),
        (d.rectification, 20),
    ]:
        assert rule.working_days == days and not rule.statutory and rule.source


def test_default_switches_are_first_values():
    s = DEFAULT_PROFILE.switches
    for enum, value in [
        (ShareReplyClockStart, s.share_reply_clock_start),
        (ReviewExtensionBy, s.review_extension_by),
        (RefusalWithoutBasis, s.refusal_without_basis),
        (BaseItemsNotUnconditional, s.base_items_not_unconditional),
        (ObjectionsOffPlatform, s.objections_off_platform),
        (CatalogPublisher, s.catalog_publisher),
        (ProjectAcceptor, s.project_acceptor),
        (AuthorizedDevelopmentApplicants, s.authorized_development_applicants),
    ]:
        assert value == next(iter(enum))
        assert all(member in SWITCH_LABELS for member in enum)
    assert s.share_reply_clock_start == "submission"
    assert set(s.objectors) == set(Objector)
    assert ShareReplyClockStart.authority_check.label == "自主管部门合规审查通过起算"


def test_every_field_is_described():
    for model in (
        PolicyProfile,
        type(DEFAULT_PROFILE.deadlines),
        type(DEFAULT_PROFILE.switches),
        DeadlineRule,
    ):
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name}"


def test_province_fast_file():
    profile = load_profile_file(PROVINCE_FAST)
    assert profile.name == "province-fast" and profile.label == "省级快速答复"
    assert profile.deadlines.share_reply.working_days == 5
    assert profile.deadlines.compliance_check.working_days == 2
    assert profile.switches.share_reply_clock_start == ShareReplyClockStart.authority_check
    # everything else is the default's
    assert profile.deadlines.catalog_update == DEFAULT_PROFILE.deadlines.catalog_update
    assert profile.switches.catalog_publisher == DEFAULT_PROFILE.switches.catalog_publisher


def test_json_file_and_nested_merge(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps({"name": "city", "deadlines": {"correction_review": {"working_days": 7}}}),
        encoding="utf-8",
    )
    profile = load_profile_file(path)
    assert profile.label == "city"
    rule = profile.deadlines.correction_review
    assert rule.working_days == 7
    assert rule.statutory and rule.source == DEFAULT_PROFILE.deadlines.correction_review.source


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('name = "x"\n[switches]\ncatalog_publsher = "provider"\n', "switches.catalog_publsher"),
        ('name = "x"\ncolour = "red"\n', "colour"),
        ('name = "x"\n[switches]\nproject_acceptor = "mayor"\n', "switches.project_acceptor"),
        ('name = "x"\n[switches]\nobjectors = ["natural_person", "alien"]\n', "switches.objectors.1"),
        ('name = "x"\n[deadlines.share_reply]\nworking_days = -1\n', "deadlines.share_reply.working_days"),
        ('name = "x"\n[deadlines.share_reply]\nworking_days = "ten"\n', "deadlines.share_reply.working_days"),
        (
            'name = "x"\n[switches]\nshare_reply_clock_start = "authority_check"\n',
            "deadlines.compliance_check",
        ),
        ('name = "Bad Name"\n', "name"),
        ('label = "无名"\n', "name"),
    ],
)
def test_bad_profiles_name_the_field(text, field):
    with pytest.raises(InvalidInput) as caught:
        parse_profile_text(text)
    assert field in caught.value.detail
    assert caught.value.extra["errors"][0]["field"] == field
    assert "策略配置有误" in caught.value.detail


def test_bad_enum_lists_choices():
    with pytest.raises(InvalidInput) as caught:
        profile_from_dict({"name": "x", "switches": {"project_acceptor": "mayor"}})
    assert "building_department" in caught.value.detail and "mayor" in caught.value.detail


def test_unreadable_files(tmp_path):
    with pytest.raises(InvalidInput, match="格式错误"):
        parse_profile_text("name = ")
    with pytest.raises(InvalidInput, match="格式错误"):
        parse_profile_text("{", "json")
    with pytest.raises(InvalidInput, match="无法读取"):
        load_profile_file(tmp_path / "missing.toml")
    with pytest.raises(InvalidInput, match="不支持"):
        load_profile_file(tmp_path / "p.yaml")


def _no_active_profile(session) -> None:
    """The shared fixtures may hand over a populated store: start without an active profile."""
    session.execute(update(PolicyProfileRecord).values(active=False))
    session.flush()


def test_active_policy_falls_back_to_default(session):
    _no_active_profile(session)
    assert active_policy(session) == DEFAULT_PROFILE
    assert not [r for r in list_profiles(session) if r.active]
    assert get_profile(session, "default") == DEFAULT_PROFILE
    with pytest.raises(NotFound):
        get_profile(session, "nope")


def test_save_activate_list_round_trip(session):
    _no_active_profile(session)
    first_seq = session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))
    had_default = session.get(PolicyProfileRecord, "default") is not None
    fast = load_profile_file(PROVINCE_FAST)
    record = save_profile(session, SYSTEM_ACTOR, fast)
    assert not record.active
    assert active_policy(session) == DEFAULT_PROFILE
    session.commit()

    activate_profile(session, SYSTEM_ACTOR, "province-fast")
    session.commit()
    assert active_policy(session) == fast
    assert get_profile(session, "province-fast") == fast

    slower = fast.model_copy(update={"name": "slow", "label": "慢"})
    save_profile(session, SYSTEM_ACTOR, slower, activate=True)
    session.commit()
    assert active_policy(session).name == "slow"
    listed = {r.name: r.active for r in list_profiles(session)}
    assert (listed["province-fast"], listed["slow"]) == (False, True)
    assert [r.name for r in list_profiles(session)] == sorted(listed)

    activate_profile(session, SYSTEM_ACTOR, "default")
    session.commit()
    assert active_policy(session).name == "default"
    assert [r.name for r in list_profiles(session) if r.active] == ["default"]

    with pytest.raises(NotFound):
        activate_profile(session, SYSTEM_ACTOR, "nope")

    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.seq > first_seq).order_by(AuditEvent.seq)
    ).all()
    saved, activated = "policy.profile_saved", "policy.profile_activated"
    default_saved = [] if had_default else [saved]  # the built-in default is stored on first activation
    assert actions == [saved, activated, saved, activated, *default_saved, activated]


def test_resave_records_changed_fields(session):
    fast = load_profile_file(PROVINCE_FAST)
    save_profile(session, SYSTEM_ACTOR, fast)
    changed = profile_from_dict(
        {"name": "province-fast", "label": "省级快速答复", "deadlines": {"share_reply": {"working_days": 4}}},
        base=fast,
    )
    save_profile(session, SYSTEM_ACTOR, changed)
    session.commit()
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    details = json.loads(event.details)
    assert details["created"] is False
    assert "deadlines.share_reply.working_days" in details["changed"]
    assert get_profile(session, "province-fast").deadlines.share_reply.working_days == 4
