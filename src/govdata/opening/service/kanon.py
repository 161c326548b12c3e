"""The k-anonymity report (OPN-5): the current table grouped by the chosen quasi-identifiers as the
plan serves them, counted in SQL by the store (``store.kanon``), against the policy's ``opening.k_min``.

A quasi-identifier the plan suppresses is left out (it is not served); one it keeps or pseudonymises
groups by the stored value; one it generalises or masks groups by what is served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.core import policy
from govdata.core.auth import Actor, enforce, lacks
from govdata.core.errors import field_error
from govdata.opening import auth
from govdata.opening.enums import Method
from govdata.opening.models import OpenEntry
from govdata.opening.service import catalog as opening
from govdata.store.kanon import GroupCounts, Quasi


@dataclass(frozen=True)
class KReport:
    code: str
    k: int
    quasi: tuple[str, ...]  # the quasi-identifiers counted (served ones)
    left_out: tuple[str, ...]  # chosen but suppressed by the plan
    rows: int
    groups: int
    smallest: int | None
    below: tuple[tuple[int, int, int], ...]  # (size, groups, rows) of the sizes under k

    @property
    def groups_below_k(self) -> int:
        return sum(g for _, g, _ in self.below)

    @property
    def rows_below_k(self) -> int:
        return sum(r for _, _, r in self.below)

    @property
    def passed(self) -> bool:
        return self.smallest is None or self.smallest >= self.k

    def as_dict(self) -> dict:
        return {
            "resource_code": self.code,
            "k": self.k,
            "quasi_identifiers": list(self.quasi),
            "left_out": list(self.left_out),
            "rows": self.rows,
            "groups": self.groups,
            "smallest": self.smallest,
            "groups_below_k": self.groups_below_k,
            "rows_below_k": self.rows_below_k,
            "passed": self.passed,
            "sizes_below_k": [{"size": s, "groups": g, "rows": r} for s, g, r in self.below],
        }


def k_min(session: Session) -> int:
    return policy.active_policy(session).opening.k_min


def _report(
    session: Session, store, ref: catalog.ResourceRef, plan: dict, quasi: Sequence[str], k: int
) -> KReport:
    rules = opening.rules_of(session, ref, plan)
    served = [c for c in quasi if c in rules and rules[c]["method"] != Method.suppress]
    left_out = tuple(c for c in quasi if c not in served)
    spec, _ = aggregation.table_of(session, ref)
    store.ensure_table(spec)
    items = [Quasi(c, rules[c]["method"], rules[c].get("generalise") or rules[c].get("mask")) for c in served]
    counts: GroupCounts = store.group_counts(spec, items, k)
    return KReport(
        code=ref.code,
        k=k,
        quasi=tuple(served),
        left_out=left_out,
        rows=counts.rows,
        groups=counts.groups,
        smallest=counts.smallest if served else None,
        below=counts.below,
    )


def report_for(session: Session, store, ref: catalog.ResourceRef, entry: OpenEntry) -> KReport:
    """The report over the entry's own quasi-identifiers and plan (the publication gate)."""
    plan = opening.plan_of(session, ref, entry)
    return _report(session, store, ref, plan, list(entry.quasi_identifiers or []), k_min(session))


def k_report(
    session: Session,
    actor: Actor,
    store,
    code: str,
    quasi: Sequence[str] | None = None,
    *,
    k: int | None = None,
) -> KReport:
    """The report for the provider's staff or the authority: over ``quasi`` (default: the entry's),
    under the current plan."""
    found = opening.get_opening(session, actor, code)
    enforce(None if auth.sees(actor, found.ref.provider_id) else lacks(actor, auth.PUBLISH))
    if not found.ref.is_published:
        raise field_error("code", "资源尚未在目录中发布")
    codes = {i["code"].lower() for i in found.items}
    chosen = [c.lower() for c in (quasi if quasi is not None else found.quasi_identifiers)]
    for c in chosen:
        if c not in codes:
            raise field_error("quasi", f"{c} 不是该资源的信息项")
    return _report(session, store, found.ref, found.plan, list(dict.fromkeys(chosen)), k or k_min(session))
