"""The open catalog (OPN-1, OPN-6, SEC-1): which resources are open, with which items, and the steps
before publication — the provider's preparation (plan, quasi-identifiers, non-open reason, the
rights holder's consent), the confidentiality review (保密审查), the authority's publication behind
the k-anonymity gate, withdrawal, emergency opening — and the yearly priority list (开放重点).

Facts for the portal and the interfaces (actor-free, frozen values): :func:`open_datasets`,
:func:`open_dataset`, :func:`served_items`, :func:`count_use`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.core import audit, clock
from govdata.core.auth import Actor, Role, enforce, require
from govdata.core.errors import Conflict, NotFound, field_error
from govdata.opening import auth
from govdata.opening.enums import (
    Basis,
    Conclusion,
    IncidentCategory,
    Method,
    NonOpenReason,
    OpenStatus,
    OpenType,
    UseKind,
)
from govdata.opening.models import OpenEntry, OpenPriority, OpenReview, OpenUse
from govdata.opening.service import deid
from govdata.sharing import masking

OPENABLE = (OpenType.unconditional, OpenType.conditional)


@dataclass(frozen=True)
class OpenItem:
    """One served column of an open dataset."""

    code: str
    name: str
    data_type: str
    level: int
    method: str  # keep | mask | pseudonymise | generalise | suppress
    public: bool  # served to anyone (level 1 of an unconditional dataset)


@dataclass(frozen=True)
class OpenDataset:
    """A resource published in the open catalog."""

    code: str
    resource_id: int
    name: str
    summary: str | None
    provider_id: int
    provider_name: str
    open_type: str
    classification: str | None
    format: str
    update_cycle: str
    grade: str
    theme: str | None
    emergency: bool
    incident_category: str | None
    published_at: datetime
    last_batch_at: datetime | None
    items: tuple[OpenItem, ...]  # level-4 items are never here
    downloads: int
    api_calls: int


@dataclass(frozen=True)
class OpenAccess:
    """Who reads: anonymous or a public account, or an approved conditional applicant."""

    account_id: int | None = None
    application_id: int | None = None
    items: frozenset[str] | None = None  # for an approved application: the items it was granted


# --- reading the catalog's side ---------------------------------------------------------------------


def _resource(session: Session, code: str) -> catalog.ResourceRef:
    ref = catalog.resource_ref(session, code=code)
    if ref is None:
        raise NotFound(f"资源 {code} 不存在。")
    return ref


def _visible_resource(session: Session, actor: Actor, code: str) -> catalog.ResourceRef:
    """The resource for a staff caller of opening: 404 when unknown or hidden by the catalog's
    visibility rule (another department's draft); the object rules then answer 403."""
    require(actor, auth.READ)
    if Role.auditor in actor.roles:  # the auditor reads everything and changes nothing
        ref = catalog.resource_ref(session, code=code)
        if ref is None:
            raise NotFound(f"资源 {code} 不存在。")
        return ref
    found = catalog.find_resource(session, actor, code)  # the catalog's visibility rule (404)
    ref = catalog.resource_ref(session, id=found.id)
    if ref is None:
        raise NotFound(f"资源 {code} 不存在。")
    return ref


def _items(session: Session, ref: catalog.ResourceRef) -> list[dict[str, Any]]:
    return list(catalog.published_body(session, ref).get("items", []))


def _entry(session: Session, resource_id: int) -> OpenEntry | None:
    return session.scalar(select(OpenEntry).where(OpenEntry.resource_id == resource_id))


def _entry_for(session: Session, ref: catalog.ResourceRef) -> OpenEntry:
    """The resource's entry, made on first use (for a published resource)."""
    entry = _entry(session, ref.id)
    if entry is None:
        if not ref.is_published:
            raise Conflict("资源尚未在目录中发布，不能准备开放。", slug="not-published")
        entry = OpenEntry(
            resource_id=ref.id,
            resource_code=ref.code,
            provider_id=ref.provider_id,
            status=OpenStatus.preparing,
            plan=deid.default_plan(_items(session, ref)),
            quasi_identifiers=[],
            downloads=0,
            api_calls=0,
            emergency=False,
        )
        session.add(entry)
        session.flush()
    return entry


def plan_of(session: Session, ref: catalog.ResourceRef, entry: OpenEntry | None) -> dict[str, dict[str, Any]]:
    """The full plan of the resource's published items (defaults where the entry says nothing)."""
    items = _items(session, ref)
    return deid.normalise_plan(items, {}, base=(entry.plan if entry else None))


def rules_of(
    session: Session, ref: catalog.ResourceRef, plan: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The plan with each masked item's mask kind (SEC-4's choice by element, type and name)."""
    elements = catalog.data_elements(session)
    rules: dict[str, dict[str, Any]] = {}
    for item in _items(session, ref):
        code = item["code"].lower()
        rule = dict(plan.get(code) or {"method": deid.default_method(item)})
        if rule["method"] == Method.mask:
            rule["mask"] = masking.mask_kind(item, elements)
        rules[code] = rule
    return rules


def effective_open_type(ref: catalog.ResourceRef, entry: OpenEntry | None) -> str:
    if entry is not None and entry.open_type:
        return entry.open_type
    return ref.open_type if ref.open_type in OPENABLE else OpenType.conditional


def _open_items(
    session: Session, ref: catalog.ResourceRef, entry: OpenEntry, open_type: str
) -> tuple[OpenItem, ...]:
    plan = plan_of(session, ref, entry)
    found = []
    for item in _items(session, ref):
        code = item["code"].lower()
        level = int(item.get("level") or 1)
        method = plan[code]["method"]
        if not deid.servable(level, method):
            continue
        found.append(
            OpenItem(
                code=code,
                name=item.get("name") or code,
                data_type=item.get("data_type") or "C",
                level=level,
                method=method,
                public=level == 1 and open_type == OpenType.unconditional,
            )
        )
    return tuple(found)


def _dataset(
    session: Session,
    ref: catalog.ResourceRef,
    entry: OpenEntry,
    last_batch_at: datetime | None,
    themes: dict[str, str],
) -> OpenDataset:
    body = catalog.published_body(session, ref)
    open_type = effective_open_type(ref, entry)
    classification = body.get("classification")
    theme = themes.get(classification[:3]) if classification else None
    return OpenDataset(
        code=ref.code,
        resource_id=ref.id,
        name=ref.name,
        summary=body.get("summary"),
        provider_id=ref.provider_id,
        provider_name=ref.provider_name,
        open_type=open_type,
        classification=classification,
        format=ref.format,
        update_cycle=ref.update_cycle,
        grade=ref.grade,
        theme=theme,
        emergency=bool(entry.emergency),
        incident_category=entry.incident_category,
        published_at=entry.published_at,
        last_batch_at=last_batch_at,
        items=_open_items(session, ref, entry, open_type),
        downloads=entry.downloads or 0,
        api_calls=entry.api_calls or 0,
    )


def _last_batches(session: Session, resource_ids: list[int]) -> dict[int, datetime | None]:
    return {
        rid: (b.finished_at or b.created_at)
        for rid, b in aggregation.latest_batches(session, resource_ids).items()
        if b.status == "applied"
    }


# --- facts (actor-free) -------------------------------------------------------------------------------


def open_codes(session: Session, *, emergency: bool | None = None) -> set[str]:
    """The codes of the resources open now (cheap: for a search that filters its hits)."""
    stmt = select(OpenEntry.resource_code).where(OpenEntry.status == OpenStatus.published)
    if emergency is not None:
        stmt = stmt.where(OpenEntry.emergency.is_(emergency))
    return set(session.scalars(stmt))


def open_datasets(session: Session, *, emergency: bool | None = None) -> list[OpenDataset]:
    """Every dataset open now (emergency ones first, then newest first)."""
    stmt = select(OpenEntry).where(OpenEntry.status == OpenStatus.published)
    if emergency is not None:
        stmt = stmt.where(OpenEntry.emergency.is_(emergency))
    entries = list(session.scalars(stmt))
    if not entries:
        return []
    refs = {r.id: r for r in catalog.published_resources(session, ids=[e.resource_id for e in entries])}
    batches = _last_batches(session, list(refs))
    themes = catalog.classification_labels(session)
    found = [
        _dataset(session, refs[e.resource_id], e, batches.get(e.resource_id), themes)
        for e in entries
        if e.resource_id in refs
    ]
    found.sort(
        key=lambda d: (not d.emergency, -(d.published_at.timestamp() if d.published_at else 0), d.code)
    )
    return found


def open_dataset(session: Session, code: str) -> OpenDataset | None:
    """The open dataset ``code``; None when it is not open (callers answer 404)."""
    entry = session.scalar(
        select(OpenEntry).where(OpenEntry.resource_code == code, OpenEntry.status == OpenStatus.published)
    )
    if entry is None:
        return None
    ref = catalog.resource_ref(session, id=entry.resource_id)
    if ref is None or not ref.is_published:
        return None
    batches = _last_batches(session, [ref.id])
    return _dataset(session, ref, entry, batches.get(ref.id), catalog.classification_labels(session))


def served_items(dataset: OpenDataset, access: OpenAccess) -> list[OpenItem]:
    """The items ``access`` reads: the public ones, and those an approved application granted."""
    granted = access.items or frozenset()
    return [i for i in dataset.items if i.public or (access.items is not None and i.code in granted)]


def count_use(
    session: Session,
    code: str,
    kind: str,
    *,
    account_id: int | None = None,
    application_id: int | None = None,
) -> None:
    """One download or API call of an open dataset (OPN-3, OPN-9 counters)."""
    if kind not in UseKind.__members__:
        raise ValueError(kind)
    entry_id = session.scalar(select(OpenEntry.id).where(OpenEntry.resource_code == code))
    if entry_id is None:
        return
    column = OpenEntry.downloads if kind == UseKind.download else OpenEntry.api_calls
    session.execute(update(OpenEntry).where(OpenEntry.id == entry_id).values({column: column + 1}))
    session.add(OpenUse(entry_id=entry_id, kind=kind, account_id=account_id, application_id=application_id))
    session.flush()


def open_catalog_facets(session: Session) -> dict[str, dict[str, int]]:
    """Counts of the open datasets by provider, theme, format, update cycle and open type."""
    facets: dict[str, dict[str, int]] = {
        "provider": {},
        "theme": {},
        "format": {},
        "update_cycle": {},
        "open_type": {},
    }
    for d in open_datasets(session):
        for name, value in (
            ("provider", d.provider_name),
            ("theme", d.theme),
            ("format", d.format),
            ("update_cycle", d.update_cycle),
            ("open_type", d.open_type),
        ):
            if value:
                facets[name][value] = facets[name].get(value, 0) + 1
    return facets


# --- staff views ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpeningRow:
    """A resource on the staff list: a candidate, or one with opening work."""

    code: str
    name: str
    provider_id: int
    provider_name: str
    catalog_open_type: str
    open_type: str
    status: str  # candidate | preparing | published | withdrawn
    emergency: bool
    incident_category: str | None
    non_open_reason: str | None
    published_at: datetime | None
    downloads: int
    api_calls: int


def list_openings(session: Session, actor: Actor, *, status: str | None = None) -> list[OpeningRow]:
    """The candidates (published resources of open type unconditional or conditional) and every
    resource with opening work, as the caller may see them (the authority and auditors all, a
    department its own)."""
    require(actor, auth.READ)
    entries = {e.resource_id: e for e in session.scalars(select(OpenEntry))}
    refs = catalog.published_resources(session)
    rows = []
    for ref in refs:
        entry = entries.get(ref.id)
        if entry is None and ref.open_type not in OPENABLE:
            continue
        if not auth.sees(actor, ref.provider_id):
            continue
        row_status = entry.status if entry else "candidate"
        if status and row_status != status:
            continue
        rows.append(
            OpeningRow(
                code=ref.code,
                name=ref.name,
                provider_id=ref.provider_id,
                provider_name=ref.provider_name,
                catalog_open_type=ref.open_type,
                open_type=effective_open_type(ref, entry),
                status=row_status,
                emergency=bool(entry and entry.emergency),
                incident_category=entry.incident_category if entry else None,
                non_open_reason=entry.non_open_reason if entry else None,
                published_at=entry.published_at if entry else None,
                downloads=entry.downloads if entry else 0,
                api_calls=entry.api_calls if entry else 0,
            )
        )
    return rows


@dataclass(frozen=True)
class Opening:
    """A resource's opening, as staff see it."""

    ref: catalog.ResourceRef
    entry: OpenEntry | None
    items: list[dict[str, Any]]
    plan: dict[str, dict[str, Any]]
    reviews: list[OpenReview]
    open_type: str

    @property
    def status(self) -> str:
        return self.entry.status if self.entry else "candidate"

    @property
    def quasi_identifiers(self) -> list[str]:
        return list(self.entry.quasi_identifiers or []) if self.entry else []

    @property
    def latest_review(self) -> OpenReview | None:
        return self.reviews[0] if self.reviews else None


def get_opening(session: Session, actor: Actor, code: str) -> Opening:
    ref = _visible_resource(session, actor, code)
    entry = _entry(session, ref.id)
    reviews = (
        list(
            session.scalars(
                select(OpenReview).where(OpenReview.entry_id == entry.id).order_by(OpenReview.id.desc())
            )
        )
        if entry
        else []
    )
    return Opening(
        ref,
        entry,
        _items(session, ref),
        plan_of(session, ref, entry),
        reviews,
        effective_open_type(ref, entry),
    )


# --- preparation (the provider's officer) ---------------------------------------------------------------


def save_plan(
    session: Session,
    actor: Actor,
    code: str,
    *,
    plan: dict[str, Any] | None = None,
    quasi_identifiers: list[str] | None = None,
    open_type: str | None = None,
) -> Opening:
    """The provider's officer sets the de-identification plan, the quasi-identifiers and the open type
    it proposes (422 for an unknown item or method, level 4 not suppressed)."""
    ref = _visible_resource(session, actor, code)
    enforce(auth.prepare_refusal(actor, ref.provider_id))
    entry = _entry_for(session, ref)
    if entry.status == OpenStatus.published:
        raise Conflict("数据集已开放，修改脱敏方案须先撤回，再经保密审查后重新发布。", slug="already-open")
    items = _items(session, ref)
    changed: dict[str, Any] = {}
    if plan is not None:
        entry.plan = deid.normalise_plan(items, plan, base=entry.plan)
        changed["plan"] = entry.plan
    if quasi_identifiers is not None:
        codes = {i["code"].lower() for i in items}
        quasi = list(dict.fromkeys(c.lower() for c in quasi_identifiers))
        for c in quasi:
            if c not in codes:
                raise field_error("quasi_identifiers", f"{c} 不是该资源的信息项")
        entry.quasi_identifiers = quasi
        changed["quasi_identifiers"] = quasi
    if open_type is not None:
        if open_type not in OPENABLE:
            raise field_error("open_type", "应为 unconditional 或 conditional")
        entry.open_type = open_type
        changed["open_type"] = open_type
    entry.prepared_by = actor.username
    entry.prepared_at = clock.now()
    audit.record(session, actor, "opening.plan_saved", "open_entry", ref.code, details=changed)
    session.flush()
    return get_opening(session, actor, code)


def set_non_open_reason(
    session: Session, actor: Actor, code: str, reason: str, note: str | None = None
) -> Opening:
    """A resource of open type none records why it is not open (OPN-1)."""
    ref = _visible_resource(session, actor, code)
    enforce(auth.prepare_refusal(actor, ref.provider_id))
    if reason not in NonOpenReason.__members__:
        raise field_error("reason", "应为 " + "、".join(NonOpenReason.__members__))
    if ref.open_type in OPENABLE:
        raise Conflict("该资源在目录中登记为可开放，无需登记不予开放理由。", slug="openable")
    entry = _entry_for(session, ref)
    entry.non_open_reason = reason
    entry.non_open_note = note
    audit.record(
        session, actor, "opening.non_open_reason", "open_entry", ref.code, details={"reason": reason}
    )
    session.flush()
    return get_opening(session, actor, code)


def record_consent(
    session: Session, actor: Actor, code: str, *, holder: str, consented_on: date, document: str
) -> Opening:
    """The rights holder's consent to opening a non-open resource: who, when, the document."""
    ref = _visible_resource(session, actor, code)
    enforce(auth.prepare_refusal(actor, ref.provider_id))
    if not holder.strip():
        raise field_error("holder", "不能为空")
    if not document.strip():
        raise field_error("document", "不能为空")
    entry = _entry_for(session, ref)
    entry.consent_holder = holder.strip()
    entry.consent_date = consented_on
    entry.consent_document = document.strip()
    entry.consent_recorded_by = actor.username
    audit.record(
        session,
        actor,
        "opening.consent_recorded",
        "open_entry",
        ref.code,
        details={
            "holder": entry.consent_holder,
            "date": consented_on.isoformat(),
            "document": entry.consent_document,
        },
    )
    session.flush()
    return get_opening(session, actor, code)


def reviewed_state(session: Session, ref: catalog.ResourceRef, entry: OpenEntry) -> dict[str, Any]:
    """What a confidentiality review covers and publication compares: the plan (item code → rule),
    and under keys no item code has, the quasi-identifiers (they set the k gate) and the open type
    (who may read the served items). A change to any of them after the review needs a new one."""
    return {
        **plan_of(session, ref, entry),
        "@quasi_identifiers": list(entry.quasi_identifiers or []),
        "@open_type": effective_open_type(ref, entry),
    }


def review(
    session: Session, actor: Actor, code: str, *, conclusion: str, comment: str | None = None
) -> OpenReview:
    """The confidentiality review (保密审查) of the current plan: who, when, the conclusion."""
    ref = _visible_resource(session, actor, code)
    enforce(auth.review_refusal(actor, ref.provider_id))
    if conclusion not in Conclusion.__members__:
        raise field_error("conclusion", "应为 passed 或 failed")
    if conclusion == Conclusion.failed and not (comment or "").strip():
        raise field_error("comment", "审查未通过时须说明理由")
    entry = _entry_for(session, ref)
    row = OpenReview(
        entry_id=entry.id,
        reviewer=actor.username or actor.name,
        reviewer_name=actor.display_name or actor.name,
        reviewed_at=clock.now(),
        conclusion=conclusion,
        comment=(comment or "").strip() or None,
        plan=reviewed_state(session, ref, entry),
    )
    session.add(row)
    audit.record(
        session, actor, "opening.reviewed", "open_entry", ref.code, details={"conclusion": conclusion}
    )
    session.flush()
    return row


# --- publication (the authority), the k gate -----------------------------------------------------------


def _gate(session: Session, store, ref: catalog.ResourceRef, entry: OpenEntry) -> tuple[str, int | None]:
    """What lets the resource open and the smallest group found; 409 when nothing does or the k
    gate refuses (the offending groups counted in the problem)."""
    from govdata.opening.service import kanon  # below: kanon reads this module's plan helpers

    consent = entry.consent_holder is not None and entry.consent_document is not None
    report = kanon.report_for(session, store, ref, entry) if entry.quasi_identifiers else None
    # quasi-identifiers the plan suppresses are left out of the count: chosen alone they check nothing
    checked = report is not None and bool(report.quasi)
    if ref.open_type not in OPENABLE and not consent and not checked:
        raise Conflict(
            "该资源在目录中登记为不予开放：须经脱敏处理（选定开放的准标识符并通过 k-匿名检验）或登记权利人同意后方可开放。",
            slug="not-openable",
        )
    smallest = None
    if report is not None:
        smallest = report.smallest
        if not report.passed:
            raise Conflict(
                f"k-匿名检验未通过：按准标识符分组，有 {report.groups_below_k} 组（共 {report.rows_below_k} 条记录）"
                f"少于 k = {report.k} 条，最小组 {report.smallest} 条。请调整脱敏方案后再发布。",
                slug="k-anonymity",
                k=report.k,
                smallest=report.smallest,
                groups_below_k=report.groups_below_k,
                rows_below_k=report.rows_below_k,
                groups=report.groups,
                rows=report.rows,
                quasi_identifiers=list(report.quasi),
            )
    if ref.open_type in OPENABLE:
        basis = Basis.open_type
    elif checked:
        basis = Basis.deidentified
    else:
        basis = Basis.consent
    return basis, smallest


def publish(session: Session, actor: Actor, store, code: str, *, open_type: str | None = None) -> Opening:
    """The authority publishes the resource into the open catalog: 403 for anyone else, 409 without a
    passed confidentiality review of the current plan, or below the configured k."""
    ref = _visible_resource(session, actor, code)
    enforce(auth.publish_refusal(actor))
    if not ref.is_published:
        raise Conflict("资源尚未在目录中发布，不能开放。", slug="not-published")
    entry = _entry_for(session, ref)
    if entry.status == OpenStatus.published:
        raise Conflict("该数据集已开放。", slug="already-open")
    if open_type is not None:
        if open_type not in OPENABLE:
            raise field_error("open_type", "应为 unconditional 或 conditional")
        entry.open_type = open_type
    latest = session.scalar(
        select(OpenReview).where(OpenReview.entry_id == entry.id).order_by(OpenReview.id.desc()).limit(1)
    )
    if latest is None or latest.conclusion != Conclusion.passed:
        raise Conflict("开放前须经保密审查并通过。", slug="review-required")
    if (latest.plan or {}) != reviewed_state(session, ref, entry):
        raise Conflict("保密审查后脱敏方案、准标识符或开放类型已修改，须重新审查。", slug="review-outdated")
    _open(session, actor, store, ref, entry, "opening.published")
    return get_opening(session, actor, code)


def _open(session: Session, actor: Actor, store, ref, entry: OpenEntry, action: str, **details: Any) -> None:
    basis, smallest = _gate(session, store, ref, entry)
    entry.basis = basis
    entry.open_type = effective_open_type(ref, entry)
    entry.k_checked = smallest
    entry.status = OpenStatus.published
    entry.published_at = clock.now()
    entry.published_by = actor.username
    entry.withdrawn_at = entry.withdrawn_by = entry.withdraw_reason = None
    audit.record(
        session,
        actor,
        action,
        "open_entry",
        ref.code,
        details={"open_type": entry.open_type, "basis": basis, "smallest_group": smallest, **details},
    )
    session.flush()


def emergency_open(
    session: Session, actor: Actor, store, code: str, *, category: str, title: str | None = None
) -> Opening:
    """An emergency opening (OPN-6): the authority, or the officer of the department handling the
    incident on its own resource, opens it at once with the incident's category; the level rules and
    the k gate still apply."""
    ref = _visible_resource(session, actor, code)
    enforce(auth.emergency_refusal(actor, ref.provider_id))
    if category not in IncidentCategory.__members__:
        raise field_error("category", "应为 " + "、".join(IncidentCategory.__members__))
    if not ref.is_published:
        raise Conflict("资源尚未在目录中发布，不能开放。", slug="not-published")
    entry = _entry_for(session, ref)
    entry.emergency = True
    entry.incident_category = category
    entry.incident_title = (title or "").strip() or None
    if entry.status == OpenStatus.published:
        audit.record(
            session,
            actor,
            "opening.emergency_flagged",
            "open_entry",
            ref.code,
            details={"category": category},
        )
        session.flush()
    else:
        _open(session, actor, store, ref, entry, "opening.emergency_published", category=category)
    return get_opening(session, actor, code)


def withdraw(session: Session, actor: Actor, code: str, *, reason: str) -> Opening:
    """The authority withdraws an open dataset from the open catalog."""
    ref = _visible_resource(session, actor, code)
    entry = _entry(session, ref.id)
    enforce(auth.publish_refusal(actor))
    if entry is None:
        raise Conflict("该数据集未处于开放状态。", slug="invalid-state", status_now="candidate")
    enforce(auth.withdraw_refusal(actor, entry))
    if not (reason or "").strip():
        raise field_error("reason", "撤回须说明理由")
    entry.status = OpenStatus.withdrawn
    entry.withdrawn_at = clock.now()
    entry.withdrawn_by = actor.username
    entry.withdraw_reason = reason.strip()
    entry.emergency = False
    audit.record(
        session, actor, "opening.withdrawn", "open_entry", ref.code, details={"reason": entry.withdraw_reason}
    )
    session.flush()
    return get_opening(session, actor, code)


# --- the yearly priority list (开放重点) -----------------------------------------------------------------


@dataclass(frozen=True)
class Priority:
    id: int
    year: int
    resource_code: str | None
    title: str
    comment: str | None
    fulfilled: bool  # the resource is open now
    created_by: str


def _priority(session: Session, row: OpenPriority, open_ids: set[int]) -> Priority:
    code = None
    if row.resource_id is not None:
        ref = catalog.resource_ref(session, id=row.resource_id)
        code = ref.code if ref else None
    return Priority(
        id=row.id,
        year=row.year,
        resource_code=code,
        title=row.title,
        comment=row.comment,
        fulfilled=row.resource_id is not None and row.resource_id in open_ids,
        created_by=row.created_by,
    )


def _open_ids(session: Session) -> set[int]:
    return set(session.scalars(select(OpenEntry.resource_id).where(OpenEntry.status == OpenStatus.published)))


def list_priorities(session: Session, actor: Actor, *, year: int | None = None) -> list[Priority]:
    require(actor, auth.READ)
    stmt = select(OpenPriority).order_by(OpenPriority.year.desc(), OpenPriority.id)
    if year is not None:
        stmt = stmt.where(OpenPriority.year == year)
    open_ids = _open_ids(session)
    return [_priority(session, row, open_ids) for row in session.scalars(stmt)]


def _priority_resource(session: Session, code: str | None) -> catalog.ResourceRef | None:
    if not code:
        return None
    ref = catalog.resource_ref(session, code=code)
    if ref is None:
        raise field_error("resource_code", f"资源 {code} 不存在")
    return ref


def add_priority(
    session: Session,
    actor: Actor,
    *,
    year: int,
    title: str | None = None,
    resource_code: str | None = None,
    comment: str | None = None,
) -> Priority:
    enforce(auth.priorities_refusal(actor))
    if not 2000 <= year <= 2100:
        raise field_error("year", "年度有误")
    ref = _priority_resource(session, resource_code)
    name = (title or "").strip() or (ref.name if ref else "")
    if not name:
        raise field_error("title", "须填写数据集名称或选择资源")
    row = OpenPriority(
        year=year,
        resource_id=ref.id if ref else None,
        title=name[:200],
        comment=(comment or "").strip() or None,
        created_by=actor.username or actor.name,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "opening.priority_added",
        "open_priority",
        row.id,
        details={"year": year, "title": row.title},
    )
    return _priority(session, row, _open_ids(session))


def update_priority(session: Session, actor: Actor, priority_id: int, changes: dict[str, Any]) -> Priority:
    enforce(auth.priorities_refusal(actor))
    row = session.get(OpenPriority, priority_id)
    if row is None:
        raise NotFound(f"开放重点 #{priority_id} 不存在。")
    if "year" in changes and changes["year"] is not None:
        if not 2000 <= int(changes["year"]) <= 2100:
            raise field_error("year", "年度有误")
        row.year = int(changes["year"])
    if "resource_code" in changes:
        ref = _priority_resource(session, changes["resource_code"])
        row.resource_id = ref.id if ref else None
    if changes.get("title"):
        row.title = str(changes["title"]).strip()[:200]
    if "comment" in changes:
        row.comment = (changes["comment"] or "").strip() or None
    audit.record(
        session,
        actor,
        "opening.priority_changed",
        "open_priority",
        row.id,
        details={k: str(v) for k, v in changes.items()},
    )
    session.flush()
    return _priority(session, row, _open_ids(session))
