"""One number, one source (CAT-9, 一数一源): the authoritative source of each data element about each
subject, duplicate collection shown against it, and the authority's request to stop collecting.

Rules worth knowing (``docs/seed-readings.md`` repeats them):

* A designation names, for one data element about one subject (the catalog's 自然人, 法人, 非法人组织,
  其他: a resource's declared or derived subject, CAT-3), the one published resource that is
  authoritative for it. The fields of the base libraries are designations too: 人口 covers natural
  persons, 法人 legal persons and unincorporated organisations (both carry a 统一社会信用代码). Naming
  the source of such an element names the library field's source (one truth, kept in
  ``library_fields``); any other element and subject is kept in ``library_sources``.
* Duplicate collection: non-key items of published resources about a person or an organisation that
  reference the same data element describing a person or organisation (the dictionary's subject of the
  element: 姓名, 出生日期, 单位名称 …, not 证照编号 or 地址, which describe a record) for the same subject,
  in more than one department. Identifiers (公民身份号码, 统一社会信用代码 …) are how resources join,
  never a duplicate. With a source named,
  the duplicates are the other departments' resources holding the element; without one, the element
  is listed until the authority names its source.
* Asking a department to stop: the authority records, for one duplicating resource, a violation of
  kind ``duplicate_collection`` (seed 002: 无正当理由重复采集、多头采集政务数据; the department may
  contest it with its 正当理由) listing every element it duplicates and their sources, and tells the
  department to stop collecting and obtain the data by sharing instead.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.catalog.enums import Subject
from govdata.catalog.service import HeldElement, ResourceRef
from govdata.core import audit, clock
from govdata.core.auth import Actor, require
from govdata.core.db import utcnow
from govdata.core.errors import Conflict, NotFound, field_error
from govdata.core.labels import label
from govdata.libraries import service
from govdata.libraries.auth import SOURCE_MANAGE, SOURCE_READ
from govdata.libraries.models import AuthoritativeSource, Library
from govdata.notifications import service as notifications
from govdata.orgs import service as orgs
from govdata.supervision import service as supervision
from govdata.supervision.enums import ViolationKind, ViolationStatus

# the subjects data are collected about: duplicate collection concerns these (CAT-9)
PERSONAL_SUBJECTS = (Subject.natural_person, Subject.legal_person, Subject.unincorporated_org)
# the subjects a base library keyed by an identifier covers
LIBRARY_SUBJECTS = {
    "ric": (Subject.natural_person,),
    "uscc": (Subject.legal_person, Subject.unincorporated_org),
}
STOP_OBJECT = "resource"  # a stop request is a violation about the duplicating resource


def subject_label(subject: str) -> str:
    return label(Subject, subject)


def _library_subjects(session: Session) -> list[tuple[Library, tuple[Subject, ...]]]:
    kinds = catalog.element_key_kinds(session)
    return [
        (library, LIBRARY_SUBJECTS.get(kinds.get(library.key_element) or "", ()))
        for library in session.scalars(select(Library).order_by(Library.id))
    ]


def _field_of(session: Session, element: str, subject: str) -> tuple[Library, Any] | None:
    """The base library field that is the designation of ``element`` about ``subject``, if any."""
    for library, subjects in _library_subjects(session):
        if subject in subjects:
            field = next((f for f in library.fields if f.element == element), None)
            if field is not None:
                return library, field
    return None


def designations(session: Session) -> dict[tuple[str, str], dict[str, Any]]:
    """(element, subject) → the designation: its source resource, who named it and when, and the base
    library whose field it is (if any). Actor-free: the caller checked its own caller."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    refs: dict[int, ResourceRef | None] = {}

    def ref(resource_id: int) -> ResourceRef | None:
        if resource_id not in refs:
            refs[resource_id] = catalog.resource_ref(session, id=resource_id)
        return refs[resource_id]

    for library, subjects in _library_subjects(session):
        for field in library.fields:
            resource = ref(field.source_resource_id) if field.source_resource_id else None
            if resource is None:
                continue
            for subject in subjects:
                found.setdefault(
                    (field.element, subject.value),
                    {
                        "source": service.source_view(resource),
                        "library_id": library.id,
                        "library_name": library.name,
                        "designated_by": field.chosen_by,
                        "designated_at": field.chosen_at,
                        "note": None,
                    },
                )
    for row in session.scalars(select(AuthoritativeSource).order_by(AuthoritativeSource.id)):
        resource = ref(row.resource_id)
        if resource is None or (row.element, row.subject) in found:
            continue
        found[(row.element, row.subject)] = {
            "source": service.source_view(resource),
            "library_id": None,
            "library_name": None,
            "designated_by": row.designated_by,
            "designated_at": row.designated_at,
            "note": row.note,
        }
    return found


def _view(session: Session, element: str, subject: str, designation: dict[str, Any]) -> dict[str, Any]:
    return {"element": element, "subject": subject, "subject_label": subject_label(subject), **designation}


def list_sources(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Every designation, by element and subject (internal users: where each datum is to be had)."""
    require(actor, SOURCE_READ)
    found = designations(session)
    names = orgs.display_names(session, [d["designated_by"] for d in found.values()])
    return [
        {**_view(session, e, s, d), "designated_by_name": names.get(d["designated_by"] or "")}
        for (e, s), d in sorted(found.items())
    ]


def sources_by_resource(session: Session) -> dict[int, list[str]]:
    """Resource id → what it is the authoritative source of ("人口基础库·姓名", "联系电话（自然人）")."""
    out: dict[int, list[str]] = defaultdict(list)
    for (element, subject), designation in sorted(designations(session).items()):
        name = (
            f"{designation['library_name']}·{element}"
            if designation["library_name"]
            else f"{element}（{subject_label(subject)}）"
        )
        if name not in out[designation["source"]["resource_id"]]:
            out[designation["source"]["resource_id"]].append(name)
    return dict(out)


def designate(
    session: Session,
    actor: Actor,
    element: str,
    subject: str,
    resource_code: str | None,
    note: str | None = None,
) -> dict[str, Any]:
    """Name (or, with no resource, clear) the authoritative source of ``element`` about ``subject``.

    The resource must be published and hold an item referencing the element, and be about that
    subject. For a base library's field this names the field's source (``service.set_field_source``,
    which also asks that the resource hold the library's key)."""
    require(actor, SOURCE_MANAGE)
    if element not in catalog.data_elements(session):
        raise NotFound(f"数据元“{element}”不存在。")
    try:
        subject = Subject(subject).value
    except ValueError:
        raise field_error("subject", "应为自然人、法人、非法人组织或其他") from None
    resource = None
    if resource_code:
        resource = catalog.resource_ref(session, code=resource_code.strip())
        if resource is None:
            raise field_error("resource_code", f"资源 {resource_code} 不存在")
        if not resource.is_published:
            raise field_error("resource_code", f"资源 {resource.code} 尚未发布或已停用，不能作为权威来源")
        held = [h for h in catalog.held_elements(session, [element]) if h.resource.id == resource.id]
        if not held:
            raise field_error("resource_code", f"资源“{resource.name}”没有引用数据元“{element}”的信息项")
        if held[0].subject != subject:
            raise field_error(
                "resource_code",
                f"资源“{resource.name}”是关于{subject_label(held[0].subject)}的资源，"
                f"不能作为{subject_label(subject)}“{element}”的权威来源",
            )
    in_library = _field_of(session, element, subject)
    if in_library is not None:
        library, _ = in_library
        service.set_field_source(session, actor, library.id, element, resource.code if resource else None)
    else:
        row = session.scalar(
            select(AuthoritativeSource).where(
                AuthoritativeSource.element == element, AuthoritativeSource.subject == subject
            )
        )
        before = catalog.resource_ref(session, id=row.resource_id) if row is not None else None
        if resource is None:
            if row is not None:
                session.delete(row)
        else:
            if row is None:
                row = AuthoritativeSource(element=element, subject=subject)
                session.add(row)
            row.resource_id = resource.id
            row.note = (note or "").strip() or None
            row.designated_by = actor.name
            row.designated_at = utcnow()
        session.flush()
        audit.record(
            session,
            actor,
            "library.source.designated",
            "data_element",
            element,
            details={
                "subject": subject,
                "before": before.code if before else None,
                "after": resource.code if resource else None,
                "note": note or None,
            },
        )
    designation = designations(session).get((element, subject))
    return _view(session, element, subject, designation or {"source": None, "library_name": None})


# --- duplicate collection (CAT-9) -------------------------------------------------------------------


def _stop_requests(session: Session, codes: set[str]) -> dict[str, dict[str, Any]]:
    """Resource code → the stop request (the duplicate-collection violation) recorded about it."""
    found = {}
    for code in sorted(codes):
        for violation in supervision.violations_about(session, STOP_OBJECT, code):
            if violation.kind == ViolationKind.duplicate_collection:
                found[code] = {
                    "violation_id": violation.id,
                    "status": violation.status,
                    "status_label": ViolationStatus(violation.status).label,
                    "detected_at": violation.detected_at,
                }
    return found


def _holder(held: HeldElement, authoritative: bool) -> dict[str, Any]:
    return {
        **service.source_view(held.resource, held.item_code),
        "item_name": held.item_name,
        "authoritative": authoritative,
    }


def _groups(session: Session) -> list[dict[str, Any]]:
    """Elements about a person or organisation held by more than one department, each against its
    authoritative source (when named), keys and identifiers left out."""
    by_key: dict[tuple[str, str], list[HeldElement]] = defaultdict(list)
    for held in catalog.held_elements(session):
        if (
            held.key
            or held.identifier
            or held.element_subject is None  # 证照编号, 地址 …: not collected about the person itself
            or held.subject not in PERSONAL_SUBJECTS
        ):
            continue
        by_key[(held.element, held.subject)].append(held)
    named = designations(session)
    groups = []
    for (element, subject), holders in sorted(by_key.items()):
        designation = named.get((element, subject))
        source_id = designation["source"]["resource_id"] if designation else None
        source_department = designation["source"]["department_id"] if designation else None
        departments = {h.resource.provider_id for h in holders}
        if designation is not None:
            duplicates = [h for h in holders if h.resource.provider_id != source_department]
            if not duplicates:
                continue
        elif len(departments) < 2:
            continue
        groups.append(
            {
                "element": element,
                "subject": subject,
                "subject_label": subject_label(subject),
                "source": designation["source"] if designation else None,
                "library_name": designation["library_name"] if designation else None,
                "departments": len(departments),
                "holders": [
                    {
                        **_holder(h, h.resource.id == source_id),
                        "duplicate": designation is not None and h.resource.provider_id != source_department,
                    }
                    for h in holders
                ],
            }
        )
    return groups


def duplicate_collections(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """What the authority sees of duplicate collection: per element and subject, the source and the
    holders, each duplicating one with the stop request recorded about it (if any)."""
    require(actor, SOURCE_MANAGE)
    groups = _groups(session)
    requests = _stop_requests(
        session, {h["resource_code"] for g in groups for h in g["holders"] if h["duplicate"]}
    )
    for group in groups:
        for holder in group["holders"]:
            holder["stop_request"] = requests.get(holder["resource_code"]) if holder["duplicate"] else None
    return groups


def request_stop(session: Session, actor: Actor, resource_code: str) -> dict[str, Any]:
    """Ask the provider of a duplicating resource to stop collecting what other departments are the
    authoritative source of, and to share it instead: a ``duplicate_collection`` violation (which
    the department may contest) and a message naming each element and its source."""
    require(actor, SOURCE_MANAGE)
    resource = catalog.resource_ref(session, code=resource_code.strip())
    if resource is None:
        raise field_error("resource_code", f"资源 {resource_code} 不存在")
    duplicated = [
        {
            "element": g["element"],
            "subject": g["subject"],
            "subject_label": g["subject_label"],
            "item": h["item_name"],
            "source_code": g["source"]["resource_code"],
            "source_name": g["source"]["resource_name"],
            "source_department": g["source"]["department_name"],
        }
        for g in _groups(session)
        for h in g["holders"]
        if h["duplicate"] and h["resource_id"] == resource.id
    ]
    if not duplicated:
        raise Conflict(
            f"资源“{resource.name}”没有与已指定权威来源重复采集的信息项；请先为重复采集的数据元指定权威来源。",
            slug="not-duplicate",
        )
    if existing := _stop_requests(session, {resource.code}).get(resource.code):
        raise Conflict(
            f"已于 {clock.china_date(existing['detected_at'])} 要求该资源停止重复采集"
            f"（违规记录 #{existing['violation_id']}，{existing['status_label']}）。",
            slug="already-requested",
        )
    violation_id = supervision.record_violation(
        session,
        kind=ViolationKind.duplicate_collection,
        department_id=resource.provider_id,
        object_type=STOP_OBJECT,
        object_id=resource.code,
        evidence={
            "resource": resource.code,
            "resource_name": resource.name,
            "duplicated": duplicated,
            "requested_by": actor.name,
        },
    )
    listing = "；".join(
        f"{d['subject_label']}的“{d['element']}”（信息项“{d['item']}”）的权威来源为"
        f"{d['source_department']}的“{d['source_name']}”（{d['source_code']}）"
        for d in duplicated
    )
    notifications.notify(
        session,
        kind="library.duplicate.stop_requested",
        title=f"请停止重复采集：{resource.name}",
        body=(
            f"按照“一数一源、一源多用”的要求，可以通过共享获得的数据不得重复采集。贵部门资源“{resource.name}”"
            f"（{resource.code}）中，{listing}。请停止重复采集，改为通过共享申请获取；"
            "如有正当理由，请在违规记录中提出异议。"
        ),
        link=f"/supervision/violations?id={violation_id}",
        object_type="resource",
        object_id=resource.code,
        department_id=resource.provider_id,
    )
    audit.record(
        session,
        actor,
        "library.duplicate.stop_requested",
        "resource",
        resource.code,
        details={"violation_id": violation_id, "duplicated": duplicated},
    )
    return {"resource_code": resource.code, "violation_id": violation_id, "duplicated": duplicated}
