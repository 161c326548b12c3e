"""The record an objection is about, as its filer may see it (COR-1).

A filer objects only to a record it is entitled to see: the provider's own staff to any record of
their resources; anyone else to the items a usable grant of their department (or system) serves, in
any mode — which sharing's ``access_for`` decides, the one rule of who may use which service. The
key must name an existing record. Whatever fails — a resource the caller cannot see, no grant, an
item outside the grant, a key with no record — is one and the same 404, so that filing an objection
cannot tell whether a key exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.catalog.service import ResourceRef
from govdata.core import ids
from govdata.core.auth import Actor
from govdata.core.errors import NotFound, Problem, field_error
from govdata.core.values import json_value
from govdata.sharing import service as sharing
from govdata.store.base import TableSpec
from govdata.store.sql import SqlStore

KEY_SEPARATOR = "\x1f"  # how the store joins the values of a key of several items


@dataclass(frozen=True)
class Record:
    """One stored record of a resource, and what the catalog says of its items."""

    resource: ResourceRef
    spec: TableSpec
    key: str  # as the store keeps it
    values: dict[str, Any]  # item code → stored value, as JSON carries it
    rules: tuple[aggregation.ItemRule, ...]  # each item, as a batch checks it

    @property
    def key_items(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.rules if r.key)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.rules if r.required)

    @property
    def names(self) -> dict[str, str]:
        """Item code → name."""
        return {r.code: r.name for r in self.rules}

    def problems(self, values: dict[str, Any]) -> dict[str, str]:
        """What is wrong with values given for items of the record (empty: nothing), by item code:
        the checks a batch would make of them."""
        return aggregation.check_values(list(self.rules), values)


def _record(
    resource: ResourceRef, spec: TableSpec, rules: list[aggregation.ItemRule], key: str, row: dict
) -> Record:
    values = {c: json_value(row.get(c)) for c in spec.codes}
    return Record(resource=resource, spec=spec, key=key, values=values, rules=tuple(rules))


def unseen(code: str) -> NotFound:
    """The one answer for every record the caller may not object to (see the module's docstring)."""
    return NotFound(
        f"资源 {code} 中没有该关键标识的记录，或您无权查看该记录，不能提出疑义。", slug="not-found"
    )


def entitled_items(session: Session, actor: Actor, code: str) -> tuple[ResourceRef, set[str]]:
    """The resource and the items the caller may read of it, under any of its grants in any mode
    (the same 404 otherwise)."""
    try:
        resource, items = sharing.granted_items(session, actor, code)
    except Problem:
        raise unseen(code) from None
    if not items:
        raise unseen(code)
    return resource, set(items)


def normal_key(key: str, key_rules: list) -> str:
    """The key as the store keeps it: trimmed, identifiers upper-case and checked (GB 11643, GB 32100);
    the values of a key of several items separated by ``|``."""
    text = (key or "").strip()
    parts = [p.strip() for p in text.replace(KEY_SEPARATOR, "|").split("|")] if len(key_rules) > 1 else [text]
    if len(parts) != len(key_rules) or not all(parts):
        names = "、".join(r.name for r in key_rules)
        raise field_error("key", f"请给出关键标识（{names}）" + ("，以 | 分隔" if len(key_rules) > 1 else ""))
    normal = []
    for rule, part in zip(key_rules, parts, strict=True):
        if rule.key_kind in ("ric", "uscc"):
            part = part.upper()
            problem = ids.ric_problem(part) if rule.key_kind == "ric" else ids.uscc_problem(part)
            if problem:
                label = "公民身份号码" if rule.key_kind == "ric" else "统一社会信用代码"
                raise field_error("key", f"不是有效的{label}：{problem}")
        normal.append(part)
    return KEY_SEPARATOR.join(normal)


def shown_key(key: str) -> str:
    return key.replace(KEY_SEPARATOR, " | ")


def read_record(session: Session, store: SqlStore, resource: ResourceRef, key: str) -> Record | None:
    """The record of ``key`` (a key as given, normalised here), or None when there is none."""
    spec, rules = aggregation.table_of(session, resource)
    key_rules = [r for r in rules if r.key]
    if not key_rules:
        raise field_error("key", "该资源没有关键标识信息项，不能对单条记录提出疑义")
    normal = normal_key(key, key_rules)
    store.ensure_table(spec)
    found = store.query(spec, keys=[normal], limit=1, offset=0).rows
    if not found:
        return None
    return _record(resource, spec, rules, normal, found[0])


def objectable_items(session: Session, actor: Actor, code: str) -> tuple[ResourceRef, list[tuple[str, str]]]:
    """The resource and the items (code, name) the caller may object to, in catalog order, key items
    left out (the form of a new objection); the same 404 as for an unknown key otherwise."""
    resource, items = entitled_items(session, actor, code)
    _, rules = aggregation.table_of(session, resource)
    return resource, [(r.code, r.name) for r in rules if r.code in items and not r.key]


def find_record(
    session: Session, actor: Actor, store: SqlStore, code: str, key: str
) -> tuple[Record, set[str]]:
    """The record the caller names, with the items it may object to (the same 404 otherwise)."""
    resource, items = entitled_items(session, actor, code)
    record = read_record(session, store, resource, key)
    if record is None:
        raise unseen(code)
    return record, items


def stored_record(session: Session, store: SqlStore, resource_id: int, key: str) -> Record | None:
    """The current record of a store key of a resource (for the provider's correction)."""
    resource = catalog.resource_ref(session, id=resource_id)
    if resource is None:
        return None
    spec, rules = aggregation.table_of(session, resource)
    store.ensure_table(spec)
    found = store.query(spec, keys=[key], limit=1, offset=0).rows
    if not found:
        return None
    return _record(resource, spec, rules, key, found[0])
