"""What publishing a revision would do to the data already stored for the resource (AGG-1).

A revision that narrows an item (a shorter length, a smaller precision), gives it another type or
removes it may change values the platform already holds. The catalog cannot see them: it sits below
aggregation and the data store. So capabilities that hold data register a check here at import
(aggregation does, in ``aggregation/handlers.py``), as pages register resource panels
(``govdata.web.register_resource_panel``); the catalog knows nothing of them.

At publish every check measures the revision: how many stored values of which items would change.
The catalog refuses (409) a revision with such an impact unless the revision names a migration
covering those items (``MigrationIn``: ``{"confirm": true, "items": [...] | null}``); once the
revision is published, each check carries its migration out (``on_publish``, in the publish
transaction: aggregation queues a migration batch, which keeps the old values in the history). The
same measure answers the dry run on the revision (``GET …/revision/impact``) before anything is
applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from govdata.catalog.schemas import MigrationIn
from govdata.core.auth import Actor
from govdata.core.errors import Conflict

CHANGE_LABELS = {
    "narrowed": "缩小长度或精度",
    "retyped": "改变数据类型",
    "shortened": "缩短长度",
    "removed": "删除",
}


@dataclass(frozen=True)
class Revision:
    """A revision as the checks see it: the published version's body and the revision's."""

    resource_id: int
    code: str
    version: int
    before: dict[str, Any]
    after: dict[str, Any]
    migration: MigrationIn | None = None

    def covers(self, item: str) -> bool:
        return self.migration is not None and self.migration.covers(item)


@dataclass(frozen=True)
class DataImpact:
    """How the revision changes the values stored for one item."""

    item: str  # the item code, lower case
    name: str
    change: str  # narrowed | retyped | shortened | removed
    before: str | None  # the published definition, e.g. N(10,2)
    after: str | None  # the revision's (None: removed)
    values: int  # stored values that would change

    def describe(self) -> str:
        if self.change == "removed":
            return f"删除信息项 {self.name}（{self.item}）将使 {self.values} 个已存值不再可读"
        return (
            f"信息项 {self.name}（{self.item}）由 {self.before} 改为 {self.after}"
            f"（{CHANGE_LABELS.get(self.change, self.change)}）将改变 {self.values} 个已存值"
        )


Measure = Callable[[Session, Any, Revision], list[DataImpact]]
OnPublish = Callable[[Session, Actor, Revision, list[DataImpact]], None]


@dataclass(frozen=True)
class PublishCheck:
    name: str
    measure: Measure  # (session, store or None, revision) → the impacts it finds
    on_publish: OnPublish | None = field(default=None)  # carries a covered migration out


PUBLISH_CHECKS: list[PublishCheck] = []


def register_publish_check(name: str, measure: Measure, *, on_publish: OnPublish | None = None) -> None:
    """Have ``measure`` weigh every revision at publish (and in its dry run); ``on_publish`` is called
    once the revision is published, with what ``measure`` found, in the same transaction."""
    if all(check.name != name for check in PUBLISH_CHECKS):
        PUBLISH_CHECKS.append(PublishCheck(name, measure, on_publish))


def item_type(item: dict[str, Any] | None) -> str | None:
    """An item's type as the catalog writes it: ``N(10,2)``, ``C(50)``, ``D``."""
    if item is None:
        return None
    letter, length, precision = item.get("data_type"), item.get("length"), item.get("precision")
    if length and precision is not None and letter == "N":
        return f"{letter}({length},{precision})"
    return f"{letter}({length})" if length else str(letter)


def measure(session: Session, store: Any, revision: Revision) -> list[tuple[PublishCheck, list[DataImpact]]]:
    return [(check, check.measure(session, store, revision)) for check in PUBLISH_CHECKS]


def impacts_of(measured: list[tuple[PublishCheck, list[DataImpact]]]) -> list[DataImpact]:
    return [impact for _, found in measured for impact in found]


def enforce(revision: Revision, measured: list[tuple[PublishCheck, list[DataImpact]]]) -> None:
    """Refuse (409) a revision that would change stored values its migration does not cover."""
    uncovered = [i for i in impacts_of(measured) if not revision.covers(i.item)]
    if not uncovered:
        return
    raise Conflict(
        f"资源 {revision.code} 的第 {revision.version} 版会改变已存储的数据："
        + "；".join(i.describe() for i in uncovered)
        + '。如确需改变，请在修订中声明数据迁移（migration，例如 {"confirm": true}），'
        "迁移后旧值保留在历史中；否则请保留原有定义。",
        slug="migration-required",
        impacts=[asdict(i) for i in uncovered],
    )


def carry_out(
    session: Session,
    publisher: Actor,
    revision: Revision,
    measured: list[tuple[PublishCheck, list[DataImpact]]],
) -> None:
    """Once ``publish_resource`` has checked ``publisher`` and published the revision: each check
    carries out its part of the migration."""
    for check, found in measured:
        if check.on_publish is not None and found:
            check.on_publish(session, publisher, revision, found)
