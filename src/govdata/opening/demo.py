"""The demo's open catalog (OPN-1, OPN-5, OPN-6): so that ``make run`` shows a populated portal.

* 企业登记信息 (市市场监管局): unconditional, level-1 items only (the default plan);
* 空气质量监测数据 (市生态环境局): unconditional;
* 执业医师注册信息 (市卫健委): of open type none (personal privacy), opened conditionally with the
  rights holders' recorded consent: 姓名 (level 2) pseudonymised, 公民身份号码 (level 3) suppressed;
* 地质灾害隐患点信息 (市自然资源局): an emergency opening (自然灾害) by the authority.

Each goes the way a real one would: the provider's officer prepares, a confidentiality review is
recorded, the authority publishes; as the named demo users.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.opening.service import catalog as opening
from govdata.orgs import service as orgs


def _code(session: Session, name: str) -> str | None:
    for ref in catalog.published_resources(session):
        if ref.name == name:
            return ref.code
    return None


def _open(session: Session, store, name: str, officer: str, **plan) -> str | None:
    code = _code(session, name)
    if code is None:
        return None
    actor = orgs.actor_named(session, officer)
    if plan:
        opening.save_plan(session, actor, code, **plan)
    opening.review(session, actor, code, conclusion="passed", comment="经保密审查，不涉及国家秘密和工作秘密")
    opening.publish(session, orgs.actor_named(session, "dsj_officer"), store, code)
    return code


def create_demo_opening(session: Session, store=None) -> int:
    """Open the demo's datasets (see the module); how many were opened."""
    opened = [
        _open(session, store, "企业登记信息", "scjg_officer"),
        _open(session, store, "空气质量监测数据", "sthj_officer"),
    ]
    doctors = _code(session, "执业医师注册信息")
    if doctors is not None:
        officer = orgs.actor_named(session, "wj_officer")
        opening.set_non_open_reason(session, officer, doctors, "personal_privacy", "含医师个人身份信息")
        opening.record_consent(
            session,
            officer,
            doctors,
            holder="焦作市医师协会（受执业医师书面委托）",
            consented_on=dt.date(2026, 3, 1),
            document="关于同意开放执业医师注册信息的函（焦医协〔2026〕5号）",
        )
        opened.append(
            _open(
                session,
                store,
                "执业医师注册信息",
                "wj_officer",
                plan={"xm": "pseudonymise", "gmsfhm": "suppress"},
                open_type="conditional",
            )
        )
    hazards = _code(session, "地质灾害隐患点信息")
    if hazards is not None:
        opening.emergency_open(
            session,
            orgs.actor_named(session, "dsj_officer"),
            store,
            hazards,
            category="natural_disaster",
            title="汛期地质灾害隐患点",
        )
        opened.append(hazards)
    return sum(1 for c in opened if c)
