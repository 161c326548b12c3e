"""The data element dictionary (数据元, CAT-4): browsed by every internal user, kept by the authority.

A data element is a standard item definition; items that reference the same element mean the same
thing across departments, which is what duplicate collection (CAT-9), base items (CAT-13), the
libraries' fusion and masking rely on. Rules of keeping it:

* a code is the element's identity and never changes; a name is unique, and is fixed once a
  resource's item references the element (items reference elements by name, and published versions
  are never rewritten) and for the standard elements the platform ships with (the base libraries
  name them); another name a department uses goes in as a synonym;
* a synonym names one element only: it is neither another element's name nor another's synonym, so
  that an item named by it (an item named 身份证号) is offered exactly one element;
* what batches validate by (the identifier an element is: 公民身份号码 / 统一社会信用代码) cannot change
  once items reference the element: it would change how stored data is checked.

Every change is audited (``catalog.element.created`` / ``catalog.element.updated``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govdata.catalog import auth
from govdata.catalog.auth import CATALOG_MANAGE, CATALOG_READ
from govdata.catalog.models import DataElement, Resource, ResourceItem
from govdata.catalog.schemas_elements import DataElementIn, DataElementPatch
from govdata.catalog.seed import ELEMENTS
from govdata.core import audit
from govdata.core.auth import Actor, require
from govdata.core.errors import Conflict, NotFound, field_error, field_label

STANDARD_CODES = frozenset(code for code, *_ in ELEMENTS)
SUBJECT_LABELS = {"person": "自然人", "legal_person": "法人"}
KEY_KIND_LABELS = {"ric": "公民身份号码", "uscc": "统一社会信用代码"}


def _normalised(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def browse(session: Session, actor: Actor, *, q: str = "", subject: str = "") -> list[DataElement]:
    """The dictionary, in the order the elements were defined; ``q`` matches a name, code or
    synonym (any part of it, case and spaces ignored), ``subject`` the subject an element is about
    (``none`` for elements about no particular subject)."""
    require(actor, CATALOG_READ)
    elements = list(session.scalars(select(DataElement).order_by(DataElement.id)))
    if subject:
        elements = [e for e in elements if (e.subject or "none") == subject]
    wanted = _normalised(q)
    if wanted:
        elements = [
            e
            for e in elements
            if any(wanted in _normalised(text) for text in (e.name, e.code, *(e.synonyms or [])))
        ]
    return elements


def get_element(session: Session, actor: Actor, code: str) -> DataElement:
    require(actor, CATALOG_READ)
    element = session.scalar(select(DataElement).where(func.upper(DataElement.code) == code.upper()))
    if element is None:
        raise NotFound(f"数据元 {code} 不存在。")
    return element


def usage_counts(session: Session, actor: Actor) -> dict[str, int]:
    """Element name → how many resources the caller sees have an item referencing it."""
    require(actor, CATALOG_READ)
    stmt = (
        select(ResourceItem.element, func.count(func.distinct(ResourceItem.resource_id)))
        .join(Resource, Resource.id == ResourceItem.resource_id)
        .where(ResourceItem.element.is_not(None))
        .group_by(ResourceItem.element)
    )
    if (visible := auth.readable(actor)) is not None:
        stmt = stmt.where(visible)
    return dict(session.execute(stmt).all())


@dataclass(frozen=True)
class ElementUse:
    """A resource whose item references the element, as the caller may see it."""

    code: str
    name: str
    provider: str
    status: str
    item_code: str
    item_name: str
    key: bool


def element_uses(session: Session, actor: Actor, element: DataElement) -> list[ElementUse]:
    """The resources (that the caller sees) with an item referencing ``element``, by code."""
    require(actor, CATALOG_READ)
    stmt = (
        select(Resource, ResourceItem)
        .join(ResourceItem, ResourceItem.resource_id == Resource.id)
        .where(ResourceItem.element == element.name)
        .order_by(Resource.code, ResourceItem.id)
    )
    if (visible := auth.readable(actor)) is not None:
        stmt = stmt.where(visible)
    return [
        ElementUse(r.code, r.name, r.provider.name, r.status, i.code, i.name, i.key)
        for r, i in session.execute(stmt).all()
    ]


def _referenced(session: Session, name: str) -> int:
    """How many resources reference the element by this name (whoever may see them)."""
    return session.scalar(
        select(func.count(func.distinct(ResourceItem.resource_id))).where(ResourceItem.element == name)
    )


def _taken(field: str, message: str, slug: str) -> Conflict:
    """A 409 naming the field whose value another element already holds."""
    label = field_label([field])
    return Conflict(
        f"{label}：{message}。", slug=slug, errors=[{"field": field, "label": label, "message": message}]
    )


def _check_names(session: Session, element_id: int | None, name: str, synonyms: list[str]) -> None:
    """A name is unique; a synonym names this element only (not another's name or synonym)."""
    others = [e for e in session.scalars(select(DataElement)) if e.id != element_id]
    if any(_normalised(e.name) == _normalised(name) for e in others):
        raise _taken("name", f"已有名为“{name}”的数据元", "duplicate-element")
    for synonym in synonyms:
        if _normalised(synonym) == _normalised(name):
            raise field_error("synonyms", f"同义词“{synonym}”与数据元名称相同")
        for other in others:
            if _normalised(synonym) == _normalised(other.name):
                raise _taken(
                    "synonyms",
                    f"同义词“{synonym}”是数据元“{other.name}”的名称，同一名称只能指向一个数据元",
                    "synonym-taken",
                )
            if any(_normalised(synonym) == _normalised(s) for s in other.synonyms or []):
                raise _taken(
                    "synonyms",
                    f"同义词“{synonym}”已是数据元“{other.name}”的同义词，同一名称只能指向一个数据元",
                    "synonym-taken",
                )


def create_element(session: Session, actor: Actor, data: DataElementIn) -> DataElement:
    require(actor, CATALOG_MANAGE)
    if session.scalar(select(DataElement).where(func.upper(DataElement.code) == data.code.upper())):
        raise _taken("code", f"数据元代码 {data.code} 已存在", "duplicate-element")
    _check_names(session, None, data.name, data.synonyms)
    element = DataElement(**data.model_dump(mode="json"))
    session.add(element)
    session.flush()
    audit.record(
        session,
        actor,
        "catalog.element.created",
        "data_element",
        element.code,
        details={"name": element.name, "synonyms": element.synonyms},
    )
    return element


def update_element(session: Session, actor: Actor, code: str, patch: DataElementPatch) -> DataElement:
    require(actor, CATALOG_MANAGE)
    element = get_element(session, actor, code)
    changes = patch.model_dump(mode="json", exclude_unset=True)
    if not changes:
        raise field_error("body", "没有要修改的内容")
    used = _referenced(session, element.name)
    if "name" in changes and changes["name"] != element.name:
        if element.code in STANDARD_CODES:
            raise Conflict(
                f"“{element.name}”是平台内置的标准数据元，名称不能修改；其他叫法请作为同义词加入。",
                slug="element-name-fixed",
                errors=[{"field": "name", "label": "名称", "message": "标准数据元的名称不能修改"}],
            )
        if used:
            raise Conflict(
                f"已有 {used} 个资源的信息项引用数据元“{element.name}”，名称不能修改；其他叫法请作为同义词加入。",
                slug="element-name-fixed",
                errors=[
                    {"field": "name", "label": "名称", "message": f"已被 {used} 个资源引用，名称不能修改"}
                ],
            )
    if "key_kind" in changes and changes["key_kind"] != element.key_kind and used:
        raise Conflict(
            f"已有 {used} 个资源的信息项引用数据元“{element.name}”，归集数据按它校验标识，标识类型不能修改。",
            slug="element-key-fixed",
            errors=[
                {"field": "key_kind", "label": "标识类型", "message": f"已被 {used} 个资源引用，不能修改"}
            ],
        )
    _check_names(
        session,
        element.id,
        changes.get("name", element.name),
        changes.get("synonyms", element.synonyms or []),
    )
    before = {field: getattr(element, field) for field in changes}
    for field, value in changes.items():
        setattr(element, field, value)
    session.flush()
    changed = {f: {"before": before[f], "after": v} for f, v in changes.items() if before[f] != v}
    if not changed:
        return element
    audit.record(
        session,
        actor,
        "catalog.element.updated",
        "data_element",
        element.code,
        details={"name": element.name, "changes": changed},
    )
    return element


def fixed_fields(session: Session, element: DataElement) -> dict[str, str]:
    """The fields of ``element`` that cannot change now, each with why (for the edit form)."""
    fixed = {"code": "代码是数据元的标识，不能修改"}
    used = _referenced(session, element.name)
    if element.code in STANDARD_CODES:
        fixed["name"] = "平台内置的标准数据元，名称不能修改；其他叫法请作为同义词加入"
    elif used:
        fixed["name"] = f"已被 {used} 个资源引用，名称不能修改；其他叫法请作为同义词加入"
    if used:
        fixed["key_kind"] = f"已被 {used} 个资源引用，标识类型不能修改"
    return fixed


def element_view(element: DataElement) -> dict[str, Any]:
    return {
        "code": element.code,
        "name": element.name,
        "synonyms": list(element.synonyms or []),
        "data_type": element.data_type,
        "length": element.length,
        "subject": element.subject,
        "key_kind": element.key_kind,
        "level": element.level,
        "code_list": element.code_list,
        "pattern": element.pattern,
        "description": element.description,
        "standard": element.code in STANDARD_CODES,
    }
