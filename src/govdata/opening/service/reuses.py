"""Reuses (数据利用成果, OPN-9): a public account registers an application built on open datasets;
anyone sees them, on the portal's list and on each dataset's page (:func:`reuses_of`). Who registered
a reuse is not shown. Downloads and API calls are counted per dataset by the core (``count_use``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.core import audit
from govdata.core.auth import Actor, require
from govdata.core.db import paginate, utcnow
from govdata.core.errors import field_error
from govdata.opening import service as core
from govdata.opening.public_auth import REUSE
from govdata.opening.public_models import OpenReuse, OpenReuseDataset
from govdata.opening.public_schemas import ReuseIn


@dataclass(frozen=True)
class ReuseRef:
    """A registered reuse, as anyone may see it."""

    id: int
    title: str
    description: str
    url: str | None
    dataset_codes: tuple[str, ...]
    created_at: datetime


def register(session: Session, actor: Actor, data: ReuseIn) -> ReuseRef:
    require(actor, REUSE)
    title, description = data.title.strip(), data.description.strip()
    if len(title) < 2:
        raise field_error("title", "名称至少 2 个字")
    if not description:
        raise field_error("description", "请简要说明成果如何利用开放数据")
    codes: list[str] = []
    for raw in data.dataset_codes:
        dataset = core.open_dataset(session, raw.strip())
        if dataset is None:
            raise field_error("dataset_codes", f"“{raw}”不是已开放的数据集")
        if dataset.code not in codes:
            codes.append(dataset.code)
    reuse = OpenReuse(
        title=title,
        description=description,
        url=(data.url or "").strip() or None,
        account_id=actor.user_id,
        created_at=utcnow(),
    )
    session.add(reuse)
    session.flush()
    session.add_all(OpenReuseDataset(reuse_id=reuse.id, dataset_code=c) for c in codes)
    session.flush()
    audit.record(
        session, actor, "opening.reuse.registered", "open_reuse", reuse.id, details={"datasets": codes}
    )
    return _refs(session, [reuse])[0]


def _refs(session: Session, reuses: list[OpenReuse]) -> list[ReuseRef]:
    codes: dict[int, list[str]] = {}
    if reuses:
        for reuse_id, code in session.execute(
            select(OpenReuseDataset.reuse_id, OpenReuseDataset.dataset_code)
            .where(OpenReuseDataset.reuse_id.in_([r.id for r in reuses]))
            .order_by(OpenReuseDataset.id)
        ):
            codes.setdefault(reuse_id, []).append(code)
    return [
        ReuseRef(r.id, r.title, r.description, r.url, tuple(codes.get(r.id, [])), r.created_at)
        for r in reuses
    ]


def list_reuses(
    session: Session,
    *,
    dataset_code: str | None = None,
    mine_of: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ReuseRef], int]:
    """Registered reuses, newest first (public); of one dataset, or of one account (its own page)."""
    stmt = select(OpenReuse)
    if dataset_code:
        stmt = stmt.where(
            OpenReuse.id.in_(
                select(OpenReuseDataset.reuse_id).where(OpenReuseDataset.dataset_code == dataset_code)
            )
        )
    if mine_of is not None:
        stmt = stmt.where(OpenReuse.account_id == mine_of)
    rows, total = paginate(session, stmt, OpenReuse.id.desc(), limit=limit, offset=offset)
    return _refs(session, list(rows)), total


def reuses_of(session: Session, code: str) -> list[ReuseRef]:
    """The reuses built on dataset ``code`` (for the dataset's page): actor-free, public facts."""
    return list_reuses(session, dataset_code=code, limit=100)[0]


def reuse_view(ref: ReuseRef) -> dict[str, Any]:
    return {
        "id": ref.id,
        "title": ref.title,
        "description": ref.description,
        "url": ref.url,
        "dataset_codes": list(ref.dataset_codes),
        "created_at": ref.created_at,
    }
