"""Figures of opening for the scorecards (SUP-1): actor-free, grouped by provider in SQL
(``opening.service`` re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql import func

from govdata.opening.enums import OpenStatus
from govdata.opening.models import OpenEntry, OpenUse


@dataclass(frozen=True)
class OpenFigures:
    """A provider's open datasets at the end of a period and their use in it (downloads and API calls
    of the open-data portal, OPN-3, OPN-9)."""

    datasets: int
    uses: int


def open_figures(session: Session, start: datetime, end: datetime) -> dict[int, OpenFigures]:
    """Provider department id → its datasets open at ``end`` and their uses in [start, end)."""
    datasets = dict(
        session.execute(
            select(OpenEntry.provider_id, func.count())
            .where(OpenEntry.status == OpenStatus.published, OpenEntry.published_at < end)
            .group_by(OpenEntry.provider_id)
        ).all()
    )
    uses = dict(
        session.execute(
            select(OpenEntry.provider_id, func.count())
            .join(OpenUse, OpenUse.entry_id == OpenEntry.id)
            .where(OpenUse.at >= start, OpenUse.at < end)
            .group_by(OpenEntry.provider_id)
        ).all()
    )
    return {
        d: OpenFigures(int(datasets.get(d, 0)), int(uses.get(d, 0))) for d in datasets.keys() | uses.keys()
    }
