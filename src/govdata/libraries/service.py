"""Use cases of base libraries (AGG-8, CAT-9, CAT-13) and department resource pools.

Rules worth knowing (the docs repeat them):

* The authority defines a library: its key element (人口: 公民身份号码, 法人: 统一社会信用代码), its base
  items (one field per data element; the key element is a field too) and its lead department (牵头部门).
  The 人口 and 法人 definitions are seeded on first use, without sources and lead department.
* One number, one source (CAT-9): the authority names, per field, the one published resource that is
  authoritative for it, among the resources having an item that references the element and an item
  that references the key element (the join key).
* Building fuses the sources' current tables into ``lib_<id>`` in the data store (``store.fusion``)
  and compares every other published resource holding the same elements (values agree as
  ``core.values`` says: numbers as numbers, else trimmed text); disagreements become conflicts
  (``conflicts``), recorded once per library, key, element and set of values.
* The fused rows are read by the authority and the library's lead department, each value with the
  resource and batch it came from.
* A department's resource pool (``pools``) is the view of its and its subordinate units' published
  resources' tables; one number, one source beyond the base libraries is ``sources``.

What the libraries know of resources, data elements, departments and batches comes from the catalog's,
the organisations' and aggregation's services (facts and the caller's own use cases); who may do what
is in ``auth``.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.catalog.service import ElementRef, ResourceRef
from govdata.core import audit, values
from govdata.core.auth import SYSTEM_ACTOR, Actor, enforce, require
from govdata.core.db import utcnow
from govdata.core.errors import Conflict, NotFound, field_error
from govdata.core.values import json_value
from govdata.libraries import conflicts
from govdata.libraries.auth import (
    LIBRARY_DATA_READ,
    LIBRARY_MANAGE,
    LIBRARY_READ,
    records_refusal,
)
from govdata.libraries.models import UNSETTLED, Library, LibraryConflict, LibraryField
from govdata.libraries.schemas import LibraryIn, LibraryPatch
from govdata.orgs import service as orgs
from govdata.store import fusion
from govdata.store.sql import SqlStore

MAX_CONFLICTS_PER_BUILD = 5000

# (code, name, classification, key element, base items, description) — the four base libraries of
# seed 002 (人口、法人、电子证照和空间地理等基础数据资源库) and CAT-13's base items
BASE_LIBRARIES: list[tuple[str, str, str, str, list[str], str]] = [
    (
        "population",
        "人口基础库",
        "101",
        "公民身份号码",
        ["公民身份号码", "姓名", "性别", "民族", "出生日期", "出生地", "户籍地址"],
        "以公民身份号码为关键标识，融合各部门的人口基础信息项。",
    ),
    (
        "legal_person",
        "法人基础库",
        "102",
        "统一社会信用代码",
        ["统一社会信用代码", "单位名称", "法定代表人", "机构类型", "成立日期", "登记地址"],
        "以统一社会信用代码为关键标识，融合各部门的法人单位基础信息项。",
    ),
    (
        "spatial",
        "自然资源和空间地理基础库",
        "103",
        "不动产单元号",
        ["不动产单元号", "坐落", "土地用途", "宗地面积", "行政区划代码"],
        "以不动产单元号为关键标识，融合自然资源、不动产和空间地理的基础信息项。",
    ),
    (
        "e_license",
        "电子证照基础库",
        "105",
        "证照编号",
        ["证照编号", "证照名称", "持证主体", "持证主体代码", "发证机关", "发证日期", "有效期至"],
        "以证照编号为关键标识，汇集各部门签发的电子证照信息（GB/T 36901 电子证照元数据）。",
    ),
]


# --- definitions (CAT-13) ------------------------------------------------------------------------


def _elements(session: Session) -> dict[str, ElementRef]:
    return catalog.data_elements(session)


def column_name(element: ElementRef | None, position: int) -> str:
    """The fused table's column of an element: its code in lower case (a safe SQL identifier)."""
    code = re.sub(r"[^a-z0-9_]", "_", (element.code if element else "").lower()).strip("_")
    return code if code and code[0].isalpha() else f"f{position}"


def seed_libraries(session: Session, lead_departments: dict[str, int] | None = None) -> list[Library]:
    """Create the missing base library definitions — 人口, 法人, 自然资源和空间地理, 电子证照 —
    (idempotent); the demo passes lead departments. The platform does this in its own name, when a
    store is initialised (and for the demo)."""
    elements = _elements(session)
    have = {library.code: library for library in session.scalars(select(Library))}
    created = []
    for code, name, classification, key, items, description in BASE_LIBRARIES:
        lead = (lead_departments or {}).get(code)
        if code in have and have[code].lead_department_id is None and lead is not None:
            have[code].lead_department_id = lead  # seeded when the store was made; the demo names its lead
        if code in have and have[code].classification is None:
            have[code].classification = classification  # seeded before libraries had a class
        if code in have or key not in elements:
            continue
        library = Library(
            code=code,
            name=name,
            classification=classification,
            key_element=key,
            lead_department_id=lead,
            description=description,
            created_by=SYSTEM_ACTOR.name,
        )
        library.fields = [
            LibraryField(element=element, position=position)
            for position, element in enumerate([e for e in items if e in elements])
        ]
        session.add(library)
        session.flush()
        audit.record(
            session,
            SYSTEM_ACTOR,
            "library.seeded",
            "library",
            library.id,
            details={"code": code, "name": name, "fields": [f.element for f in library.fields]},
        )
        created.append(library)
    return created


def list_libraries(session: Session, actor: Actor) -> list[Library]:
    require(actor, LIBRARY_READ)
    return list(session.scalars(select(Library).order_by(Library.id)))


def _library(session: Session, library_id: int) -> Library:
    library = session.get(Library, library_id)
    if library is None:
        raise NotFound(f"基础库 {library_id} 不存在。")
    return library


def get_library(session: Session, actor: Actor, library_id: int) -> Library:
    require(actor, LIBRARY_READ)
    return _library(session, library_id)


def _check_classification(
    session: Session, classification: str | None, library_id: int | None = None
) -> None:
    """One library per class: the class decides who compiles its resources (AGG-8)."""
    if not classification:
        return
    other = session.scalar(
        select(Library.name).where(Library.classification == classification, Library.id != (library_id or -1))
    )
    if other is not None:
        raise Conflict(f"分类 {classification} 已对应{other}。", slug="duplicate-classification")


def _check_department(session: Session, department_id: int | None) -> None:
    if department_id is not None and not orgs.department_names(session, [department_id]):
        raise field_error("lead_department_id", f"部门 {department_id} 不存在")


def create_library(session: Session, actor: Actor, data: LibraryIn) -> Library:
    require(actor, LIBRARY_MANAGE)
    if session.scalar(select(Library.id).where(Library.code == data.code)):
        raise Conflict(f"基础库代码 {data.code} 已存在。", slug="duplicate-library")
    elements = _elements(session)
    key = elements.get(data.key_element)
    if key is None:
        raise field_error("key_element", f"数据元“{data.key_element}”不存在")
    if not key.key_kind:
        raise field_error(
            "key_element", f"数据元“{data.key_element}”不是关键标识（应为公民身份号码、统一社会信用代码等）"
        )
    names = [data.key_element, *[e.strip() for e in data.elements if e.strip() != data.key_element]]
    for index, name in enumerate(data.elements):
        if name.strip() not in elements:
            raise field_error(f"elements.{index}", f"数据元“{name}”不存在")
    if len(set(names)) != len(names):
        raise field_error("elements", "基础信息项重复")
    _check_department(session, data.lead_department_id)
    _check_classification(session, data.classification)
    library = Library(
        code=data.code,
        name=data.name,
        key_element=data.key_element,
        classification=data.classification,
        lead_department_id=data.lead_department_id,
        description=data.description,
        created_by=actor.name,
    )
    library.fields = [LibraryField(element=name, position=i) for i, name in enumerate(names)]
    session.add(library)
    session.flush()
    audit.record(
        session,
        actor,
        "library.created",
        "library",
        library.id,
        details={"code": data.code, "name": data.name, "key": data.key_element, "fields": names},
    )
    return library


def update_library(session: Session, actor: Actor, library_id: int, patch: LibraryPatch) -> Library:
    require(actor, LIBRARY_MANAGE)
    library = _library(session, library_id)
    changes = patch.model_dump(exclude_unset=True)
    if "lead_department_id" in changes:
        _check_department(session, changes["lead_department_id"])
    if "classification" in changes:
        _check_classification(session, changes["classification"], library.id)
    if changes.get("name") is None:
        changes.pop("name", None)
    if changes.get("description") is None:
        changes.pop("description", None)
    before = {k: getattr(library, k) for k in changes}
    for name, value in changes.items():
        setattr(library, name, value)
    library.updated_at = utcnow()
    session.flush()
    session.refresh(library)
    audit.record(
        session,
        actor,
        "library.updated",
        "library",
        library.id,
        details={"before": before, "after": changes},
    )
    return library


def _holders(session: Session, elements: list[str]) -> dict[int, tuple[ResourceRef, dict[str, str]]]:
    """Published resources with an item referencing any of ``elements``: resource → element → item code."""
    return {
        resource.id: (resource, columns) for resource, columns in catalog.element_holders(session, elements)
    }


def _resource(session: Session, resource_id: int | None) -> ResourceRef | None:
    return None if resource_id is None else catalog.resource_ref(session, id=resource_id)


def source_view(resource: ResourceRef, item_code: str | None = None) -> dict[str, Any]:
    return {
        "resource_id": resource.id,
        "resource_code": resource.code,
        "resource_name": resource.name,
        "department_id": resource.provider_id,
        "department_name": resource.provider_name,
        "item_code": item_code,
    }


def library_view(session: Session, library: Library) -> dict[str, Any]:
    elements = _elements(session)
    holders = _holders(session, [f.element for f in library.fields])
    fields = []
    for f in library.fields:
        candidates = [
            source_view(resource, columns[f.element])
            for resource, columns in holders.values()
            if f.element in columns and library.key_element in columns
        ]
        source = None
        if f.source_resource_id is not None:
            held = holders.get(f.source_resource_id)
            resource = held[0] if held else _resource(session, f.source_resource_id)
            if resource is not None:
                source = source_view(resource, held[1].get(f.element) if held else None)
        fields.append(
            {
                "element": f.element,
                "position": f.position,
                "column": column_name(elements.get(f.element), f.position),
                "key": f.element == library.key_element,
                "source": source,
                "chosen_by": f.chosen_by,
                "chosen_at": f.chosen_at,
                "candidates": candidates,
            }
        )
    names = orgs.display_names(session, [library.built_by, *(f["chosen_by"] for f in fields)])
    for f in fields:
        f["chosen_by_name"] = names.get(f["chosen_by"] or "")
    unsettled = session.scalar(
        select(func.count())
        .select_from(LibraryConflict)
        .where(LibraryConflict.library_id == library.id, LibraryConflict.status.in_(UNSETTLED))
    )
    return {
        "id": library.id,
        "code": library.code,
        "name": library.name,
        "key_element": library.key_element,
        "classification": library.classification,
        "lead_department_id": library.lead_department_id,
        "lead_department_name": library.lead_department.name if library.lead_department else None,
        "description": library.description,
        "fields": fields,
        "built_at": library.built_at,
        "built_by": library.built_by,
        "built_by_name": names.get(library.built_by or ""),
        "built_rows": library.built_rows,
        "conflicts_unsettled": unsettled or 0,
    }


def set_field_source(
    session: Session, actor: Actor, library_id: int, element: str, resource_code: str | None
) -> Library:
    """Name (or clear) the authoritative source of one field; an element not yet a field is added as
    a base item (CAT-13)."""
    require(actor, LIBRARY_MANAGE)
    library = _library(session, library_id)
    elements = _elements(session)
    if element not in elements:
        raise NotFound(f"数据元“{element}”不存在。")
    resource = None
    if resource_code:
        resource = catalog.resource_ref(session, code=resource_code.strip())
        if resource is None:
            raise field_error("source_resource_code", f"资源 {resource_code} 不存在")
        if not resource.is_published or resource.published_version is None:
            raise field_error(
                "source_resource_code", f"资源 {resource.code} 尚未发布或已停用，不能作为权威来源"
            )
        columns = _holders(session, [element, library.key_element]).get(resource.id, (None, {}))[1]
        if element not in columns:
            raise field_error(
                "source_resource_code", f"资源“{resource.name}”没有引用数据元“{element}”的信息项"
            )
        if library.key_element not in columns:
            raise field_error(
                "source_resource_code",
                f"资源“{resource.name}”没有引用关键标识“{library.key_element}”的信息项，无法与基础库关联",
            )
    field = next((f for f in library.fields if f.element == element), None)
    before = _resource(session, field.source_resource_id) if field is not None else None
    previous = before.code if before is not None else None
    if field is None:
        position = max((f.position for f in library.fields), default=-1) + 1
        field = LibraryField(library_id=library.id, element=element, position=position)
        session.add(field)
    field.source_resource_id = resource.id if resource else None
    field.chosen_by = actor.name
    field.chosen_at = utcnow()
    library.updated_at = utcnow()
    session.flush()
    session.refresh(library)
    audit.record(
        session,
        actor,
        "library.field.source_set",
        "library",
        library.id,
        details={"element": element, "before": previous, "after": resource.code if resource else None},
    )
    return library


def base_items(session: Session) -> list[catalog.BaseItems]:
    """Each library's key element and base items, for the catalog's rule that the base items of a
    base information resource are shared unconditionally (CAT-13), and its class and lead department,
    for the rule that only the lead department compiles that class (AGG-8)."""
    return [
        catalog.BaseItems(
            library.name,
            library.key_element,
            frozenset(f.element for f in library.fields),
            library.classification,
            library.lead_department_id,
            library.lead_department.name if library.lead_department else None,
        )
        for library in session.scalars(select(Library).order_by(Library.id))
    ]


catalog.register_base_items("libraries", base_items)


# --- fusion (AGG-8, QUA-3) -----------------------------------------------------------------------


def build_library(session: Session, actor: Actor, store: SqlStore, library_id: int) -> dict[str, Any]:
    require(actor, LIBRARY_MANAGE)
    library = _library(session, library_id)
    elements = _elements(session)
    names = [f.element for f in library.fields]
    key_kind = elements[library.key_element].key_kind if library.key_element in elements else None
    skipped: list[str] = []
    sources: dict[int, fusion.FusionSource] = {}
    resources: dict[int, ResourceRef] = {}
    for resource, columns in _holders(session, names).values():
        if library.key_element not in columns:
            skipped.append(
                f"{resource.name}（{resource.code}）：没有引用“{library.key_element}”的信息项，无法关联"
            )
            continue
        try:
            spec, _ = aggregation.table_of(session, resource)
            store.ensure_table(spec)
        except (Conflict, ValueError) as exc:
            skipped.append(f"{resource.name}（{resource.code}）：{getattr(exc, 'detail', exc)}")
            continue
        usable = {e: c for e, c in columns.items() if c in spec.codes}
        sources[resource.id] = fusion.FusionSource(
            spec, usable[library.key_element], usable, identifier_key=key_kind in ("ric", "uscc")
        )
        resources[resource.id] = resource
    fields = []
    snapshot = []
    for f in library.fields:
        source = sources.get(f.source_resource_id) if f.source_resource_id else None
        if f.source_resource_id and (source is None or f.element not in source.columns):
            named = _resource(session, f.source_resource_id)
            skipped.append(
                f"字段“{f.element}”的权威来源 {named.code if named else f.source_resource_id} 当前不可用，本次为空"
            )
            source = None
        column = column_name(elements.get(f.element), f.position)
        key = f.element == library.key_element
        fields.append(fusion.FusedField(f.element, column, key, source))
        snapshot.append(
            {
                "element": f.element,
                "column": column,
                "key": key,
                "source": source_view(resources[source.resource_id], source.columns[f.element])
                if source
                else None,
            }
        )
    if not any(f.source for f in fields):
        raise Conflict(
            "尚未为任何基础信息项指定可用的权威来源，无法构建。请先指定来源资源。", slug="no-sources"
        )
    result = fusion.fuse(
        store, library.table, fields, list(sources.values()), max_disagreements=MAX_CONFLICTS_PER_BUILD
    )
    built_at = utcnow()
    counts = conflicts.record_detected(
        session,
        actor,
        library,
        fields,
        {rid: source_view(r) for rid, r in resources.items()},
        result,
        complete=result.disagreements <= MAX_CONFLICTS_PER_BUILD,
    )
    library.built_at = built_at
    library.built_by = actor.name
    library.built_rows = result.rows
    library.build_snapshot = {"fields": snapshot, "compared": [r.code for r in resources.values()]}
    report = {
        "library_id": library.id,
        "rows": result.rows,
        "built_at": built_at,
        "fields": snapshot,
        "compared_resources": [r.code for r in resources.values()],
        "skipped": skipped,
        "conflicts_detected": result.disagreements,
        "truncated": result.disagreements > MAX_CONFLICTS_PER_BUILD,
        **asdict(counts),
    }
    audit.record(
        session,
        actor,
        "library.built",
        "library",
        library.id,
        details={k: v for k, v in report.items() if k not in ("fields", "built_at")},
    )
    return report


# --- reading the fused rows ------------------------------------------------------------------------


def library_records(
    session: Session,
    actor: Actor,
    store: SqlStore,
    library_id: int,
    *,
    keys: list[str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """The fused rows, each field with its lineage; for the authority and the lead department."""
    require(actor, LIBRARY_DATA_READ)
    library = _library(session, library_id)
    enforce(records_refusal(actor, library))
    snapshot = (library.build_snapshot or {}).get("fields", [])
    if library.built_at is None or not fusion.fused_table_exists(store, library.table):
        raise Conflict("该基础库尚未构建，请先由主管部门构建。", slug="not-built")
    wanted = [k.strip().upper() for k in keys or [] if k.strip()]
    rows, total = fusion.fused_rows(
        store, library.table, [f["column"] for f in snapshot], keys=wanted or None, limit=limit, offset=offset
    )
    found = [row.key for row in rows]
    open_conflicts: dict[str, list[dict]] = {}
    if found:
        for conflict in session.scalars(
            select(LibraryConflict).where(
                LibraryConflict.library_id == library.id,
                LibraryConflict.key.in_(found),
                LibraryConflict.status.in_(UNSETTLED),
            )
        ):
            open_conflicts.setdefault(conflict.key, []).append(
                {"id": conflict.id, "element": conflict.element, "status": conflict.status}
            )
    items = [
        {
            "key": row.key,
            "fields": [
                {
                    "element": f["element"],
                    "column": f["column"],
                    "value": json_value(row.values[f["column"]]),
                    "source": f["source"] if row.batches[f["column"]] is not None else None,
                    "batch_id": row.batches[f["column"]],
                }
                for f in snapshot
            ],
            "conflicts": open_conflicts.get(row.key, []),
        }
        for row in rows
    ]
    audit.record(
        session,
        actor,
        "library.records.read",
        "library",
        library.id,
        details={"records": len(items), "keys": len(wanted)},
    )
    return {"items": items, "total": total, "built_at": library.built_at}


# --- identity verification for public accounts (ORG-4) ---------------------------------------------

# the library and the element that names a subject: natural persons in 人口, every organisation in 法人
IDENTITY_NAME = {
    "natural_person": ("population", "姓名"),
    "legal_person": ("legal_person", "单位名称"),
    "unincorporated_org": ("legal_person", "单位名称"),
    "developer": ("legal_person", "单位名称"),
}


def identity_matches(session: Session, store: SqlStore, kind: str, number: str, name: str) -> bool | None:
    """Whether the base library knows ``number`` under ``name``: True or False, never the stored name.

    Read from the current table of the name's authoritative source (one number, one source: CAT-9), the
    resource the library's 姓名 / 单位名称 field names, through aggregation's ``table_of``; names agree
    as ``core.values`` says (trimmed text). None when the library cannot answer: no such library, no
    source named for the name field, or a source without data. Actor-free: the caller (registration of
    a public account) decides what a None means, and tells the person no more than match or not.
    """
    library_code, element = IDENTITY_NAME.get(kind, (None, None))
    library = session.scalar(select(Library).where(Library.code == library_code)) if library_code else None
    if library is None:
        return None
    field = next((f for f in library.fields if f.element == element), None)
    resource = _resource(session, field.source_resource_id) if field else None
    if resource is None or resource.published_version is None:
        return None
    holder = _holders(session, [element, library.key_element]).get(resource.id)
    try:
        spec, _ = aggregation.table_of(session, resource)
    except Conflict:
        return None
    column = holder[1].get(element) if holder else None
    id_column = holder[1].get(library.key_element) if holder else None
    if (
        column not in spec.codes
        or id_column not in spec.codes
        or not store.existing_columns(spec.name)
        or store.is_empty(spec)
    ):
        return None
    number = number.strip().upper()
    if tuple(spec.key_columns) == (id_column,):  # the usual case: found through the key's index
        found = store.query(spec, keys=[number], limit=1, offset=0).rows
    else:
        found = store.query(spec, filters={id_column: number}, limit=1, offset=0).rows
    if not found:
        return False
    return values.agree(found[0].get(column), name) is True
