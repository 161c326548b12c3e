"""The demo's public account (ORG-4): a resident whose identity is in the demo population library
(市公安局's 人口基础信息, the source of the 人口基础库's 姓名), registered as registration makes it, so
that the account page, applications for conditional open data and demands can be tried at once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from govdata.aggregation.demo import (
    _person as demo_person,
)  # the demo's residents, as their batches load them
from govdata.core.auth import ROLE_LABELS, Role
from govdata.opening.public_models import PublicProfile
from govdata.opening.public_schemas import AccountKind
from govdata.orgs import service as orgs
from govdata.orgs.models import IdentityKind
from govdata.orgs.schemas import UserIn

USERNAME = "resident"
RESIDENT = 1  # 李国栋: in the first batch of 人口基础信息, neither corrected nor deleted later


def create_demo_public(session: Session, password: str) -> tuple[str, str, str, str, str]:
    """Create the demo's public account; (username, password, name, role, department) for the logins."""
    person = demo_person(RESIDENT)
    user = orgs.create_public_user(
        session,
        UserIn(
            username=USERNAME,
            password=password,
            display_name=person["姓名"],
            roles=[Role.public],
            identity_kind=IdentityKind.natural_person,
            identity_number=person["公民身份号码"],
        ),
    )
    session.add(
        PublicProfile(user_id=user.id, kind=AccountKind.natural_person.value, phone=person["联系电话"])
    )
    session.flush()
    return (
        USERNAME,
        password,
        person["姓名"],
        ROLE_LABELS[Role.public],
        "（社会公众，身份已经人口基础库核验）",
    )
