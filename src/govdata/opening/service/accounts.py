"""Public accounts (ORG-4): natural persons, legal persons, unincorporated organisations and developer
enterprises register themselves, their identity verified against the platform's own base libraries.

* Natural persons give a 公民身份号码 (GB 11643) and their name, checked against the 人口基础库; the
  others give a 统一社会信用代码 (GB 32100) and the organisation's name, checked against the 法人基础库
  (``libraries.service.identity_matches``, which answers only match or not: the stored name is
  never shown, a mismatch says only that the two do not belong together).
* When the base library has no data to check against, registration is refused with a message saying
  so (docs/opening-public.md): an identity number can hold only one account, so accepting an unchecked
  number would let anyone take a citizen's or a firm's number before its holder registers, and the
  conditional open data a public account may apply for is granted on the identity it claims.
* Registration is rate-limited per address together with the logins (``core.ratelimit``).
* The account is an ``orgs`` user with the one role ``public``, no department, its identity kind and
  number; this capability keeps the kind as chosen (developer enterprises are legal persons to
  ``orgs``) and the contact details.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.core.auth import Actor, require
from govdata.core.errors import Conflict, field_error
from govdata.core.ids import ric_problem, uscc_problem
from govdata.libraries import service as libraries
from govdata.opening.public_auth import ACCOUNT
from govdata.opening.public_models import PublicProfile
from govdata.opening.public_schemas import AccountIn, AccountKind
from govdata.orgs import service as orgs
from govdata.orgs.models import IdentityKind
from govdata.orgs.schemas import UserIn
from govdata.store.sql import SqlStore

ORGS_KIND = {
    AccountKind.natural_person: IdentityKind.natural_person,
    AccountKind.legal_person: IdentityKind.legal_person,
    AccountKind.unincorporated_org: IdentityKind.unincorporated_organization,
    AccountKind.developer: IdentityKind.legal_person,
}
LIBRARY_NAME = {AccountKind.natural_person: "人口基础库"}


def masked_number(number: str | None) -> str:
    """An identity number as pages and answers show it: the first 6 and the last 4 (SEC-4's mask)."""
    if not number:
        return ""
    return number[:6] + "*" * max(len(number) - 10, 0) + number[-4:]


def register(
    session: Session, store: SqlStore, data: AccountIn, *, source: str | None = None
) -> dict[str, Any]:
    """Create a public account after verifying its identity (anyone may call: no actor)."""
    kind = AccountKind(data.kind)
    number = data.identity_number.strip().upper()
    name = data.name.strip()
    if not name:
        raise field_error("name", "请填写姓名或单位名称。")
    if kind == AccountKind.natural_person:
        if problem := ric_problem(number):
            raise field_error("identity_number", f"公民身份号码无效：{problem}")
    elif problem := uscc_problem(number):
        raise field_error("identity_number", f"统一社会信用代码无效：{problem}")
    orgs.check_password_strength(data.password)
    library = LIBRARY_NAME.get(kind, "法人基础库")
    matches = libraries.identity_matches(session, store, kind.value, number, name)
    if matches is None:
        raise Conflict(
            f"暂时无法核验身份：平台的{library}尚无可供核验的数据，请稍后再注册或联系平台管理员。",
            slug="identity-unverifiable",
        )
    if not matches:
        label = "姓名与公民身份号码" if kind == AccountKind.natural_person else "单位名称与统一社会信用代码"
        raise field_error("name", f"{label}核验不一致（依据平台{library}），请检查填写是否与证件一致。")
    user = orgs.create_public_user(
        session,
        UserIn(
            username=data.username,
            password=data.password,
            display_name=name,
            roles=["public"],
            identity_kind=ORGS_KIND[kind],
            identity_number=number,
        ),
        source=source,
    )
    profile = PublicProfile(
        user_id=user.id,
        kind=kind.value,
        phone=(data.phone or "").strip() or None,
        email=(data.email or "").strip() or None,
    )
    session.add(profile)
    session.flush()
    return _view(user.id, user.username, user.display_name, number, profile)


def _view(user_id: int, username: str, display_name: str, number: str | None, profile: PublicProfile | None):
    kind = AccountKind(profile.kind) if profile else None
    return {
        "id": user_id,
        "username": username,
        "display_name": display_name,
        "kind": kind.value if kind else "",
        "kind_label": kind.label if kind else "社会公众",
        "identity_number": masked_number(number),
        "phone": profile.phone if profile else None,
        "email": profile.email if profile else None,
        "verified": profile is not None,
        "created_at": profile.created_at if profile else None,
    }


def my_account(session: Session, actor: Actor) -> dict[str, Any]:
    """The caller's own public account."""
    require(actor, ACCOUNT)
    profile = session.scalar(select(PublicProfile).where(PublicProfile.user_id == actor.user_id))
    identity = orgs.public_identity(session, actor.user_id)
    return _view(
        actor.user_id or 0,
        actor.username or "",
        actor.display_name or "",
        identity[1] if identity else None,
        profile,
    )


def account_kinds(session: Session, user_ids: list[int]) -> dict[int, str]:
    """User id → the kind a public account registered as (for the provider's view of applicants)."""
    if not user_ids:
        return {}
    return dict(
        session.execute(
            select(PublicProfile.user_id, PublicProfile.kind).where(PublicProfile.user_id.in_(set(user_ids)))
        ).all()
    )
