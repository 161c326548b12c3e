"""Information projects (政务信息化项目, PRJ-1, PRJ-2): filing, initial review, acceptance.

* Filing (PRJ-1): a department's catalog officer files a project of their department with its
  pre-compiled catalog (预编目录): resources of the department not yet published (draft, submitted or
  returned), by code. A project may be filed without one, but it cannot be approved.
* Initial review (初审): the authority sees the findings the platform computes — the catalog check,
  likely duplication of data elements other departments already provide, a project that will not
  share or builds its own data centre — and approves or refuses with a reason. The findings are kept
  with the decision. Approval is refused (409) without a pre-compiled catalog, with a catalog that
  fails the check, or when the project cannot share ("a project that cannot share is not approved").
* Acceptance (PRJ-2): the acceptor the policy switch ``project_acceptor`` names checks that every
  resource is published and its data aggregated; the report lists catalog, sharing, opening and
  security status per resource. A failing project is ``not_accepted`` and flagged as not to be funded
  (不予安排运维经费); it may ask again after fixing what failed.

The other capabilities are read through their services' facts (catalog, aggregation, sharing,
opening), after this capability checked its own caller. Who may do what in which state is decided
once, in ``auth``.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog
from govdata.catalog.enums import Grade, ResourceStatus, ShareType
from govdata.core import audit, policy
from govdata.core.auth import Actor, Role, enforce, require
from govdata.core.db import hold, paginate, utcnow
from govdata.core.errors import Conflict, InvalidInput, NotFound
from govdata.core.labels import label
from govdata.core.policy import ProjectAcceptor
from govdata.notifications import service as notifications
from govdata.opening import service as opening
from govdata.orgs import service as orgs
from govdata.projects.auth import (
    PROJECT_ACCEPT,
    PROJECT_FILE,
    PROJECT_READ,
    PROJECT_REVIEW,
    accept_refusal,
    file_refusal,
    read_refusal,
    readable,
    review_refusal,
)
from govdata.projects.enums import Decision, ProjectStatus
from govdata.projects.models import Acceptance, Project
from govdata.projects.schemas import ProjectIn
from govdata.sharing import service as sharing

PAGE = "/projects"
# a resource that may stand in a pre-compiled catalog: compiled, not yet published
PRE_COMPILED = (ResourceStatus.draft, ResourceStatus.submitted, ResourceStatus.returned)
# share types that must name a legal basis (CAT rules, seeds 002/003)
NEEDS_BASIS = (ShareType.conditional, ShareType.none)


def _link(project_id: int) -> str:
    return f"{PAGE}/{project_id}"


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def project_acceptor(session: Session) -> ProjectAcceptor:
    """Who accepts information projects under the active policy (POL-1)."""
    return ProjectAcceptor(policy.active_policy(session).switches.project_acceptor)


# --- filing (PRJ-1) -----------------------------------------------------------------------------------


def _invalid_codes(problems: list[str]) -> InvalidInput:
    return InvalidInput(
        "预编目录有误：" + "；".join(problems[:5]),
        errors=[{"field": "resource_codes", "label": "预编目录", "message": m} for m in problems],
    )


def file_project(session: Session, actor: Actor, data: ProjectIn) -> Project:
    """A department's catalog officer files a project of their department, with its pre-compiled
    catalog (resource codes of the department's unpublished resources)."""
    require(actor, PROJECT_FILE)
    enforce(file_refusal(actor, data.department_id))
    resources: list[dict[str, Any]] = []
    problems: list[str] = []
    for code in data.resource_codes:
        try:
            ref = catalog.find_resource(session, actor, code)
        except NotFound:
            problems.append(f"资源 {code} 不存在")
            continue
        if ref.provider_id != data.department_id:
            problems.append(f"资源 {code} 不是本部门的资源")
        elif ref.status not in PRE_COMPILED:
            problems.append(
                f"资源 {code} {label(ResourceStatus, ref.status)}，预编目录应为尚未发布的资源（草稿）"
            )
        else:
            resources.append({"id": ref.id, "code": ref.code})
    if problems:
        raise _invalid_codes(problems)
    project = Project(
        name=data.name,
        department_id=data.department_id,
        summary=data.summary,
        budget=data.budget,
        builds_own_platform=data.builds_own_platform,
        period_start=data.period_start,
        period_end=data.period_end,
        resources=resources,
        status=ProjectStatus.filed.value,
        filed_by=actor.name,
        filed_at=utcnow(),
        not_funded=False,
    )
    session.add(project)
    session.flush()
    audit.record(
        session,
        actor,
        "project.filed",
        "project",
        project.id,
        details={
            "name": project.name,
            "department_id": project.department_id,
            "resource_codes": [r["code"] for r in resources],
            "budget": project.budget,
            "builds_own_platform": project.builds_own_platform,
        },
    )
    department = orgs.department_names(session, [project.department_id]).get(project.department_id, "")
    notifications.notify(
        session,
        kind="project.filed",
        title=f"{department}申报政务信息化项目：{project.name}",
        body=f"预编目录 {len(resources)} 个资源，待初审。",
        link=_link(project.id),
        object_type="project",
        object_id=project.id,
        role=Role.authority,
    )
    return project


def pre_compiled_choices(session: Session, actor: Actor) -> list[dict[str, str]]:
    """The caller's department's unpublished resources, for the filing form to choose from."""
    require(actor, PROJECT_FILE)
    if actor.department_id is None:
        return []
    found = catalog.search_resources(
        session, actor, catalog.search.SearchQuery(provider_id=actor.department_id, limit=500)
    )
    return [
        {"code": r.code, "name": r.name, "status": r.status, "status_label": label(ResourceStatus, r.status)}
        for r in found.items
        if r.status in PRE_COMPILED and r.provider_id == actor.department_id
    ]


# --- reading ------------------------------------------------------------------------------------------


def list_projects(
    session: Session,
    actor: Actor,
    *,
    status: ProjectStatus | str | None = None,
    department_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Project], int]:
    """The projects the caller may see (a department its own, the authority all), newest first."""
    require(actor, PROJECT_READ)
    stmt = select(Project).where(readable(actor))
    if status:
        stmt = stmt.where(Project.status == ProjectStatus(status).value)
    if department_id is not None:
        stmt = stmt.where(Project.department_id == department_id)
    return paginate(session, stmt, Project.filed_at.desc(), Project.id.desc(), limit=limit, offset=offset)


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"项目 {project_id} 不存在。")
    return project


def get_project(session: Session, actor: Actor, project_id: int) -> Project:
    require(actor, PROJECT_READ)
    project = _project(session, project_id)
    enforce(read_refusal(actor, project))
    return project


def latest_acceptance(session: Session, project: Project) -> Acceptance | None:
    return session.scalar(
        select(Acceptance).where(Acceptance.project_id == project.id).order_by(Acceptance.id.desc()).limit(1)
    )


# --- the initial review's findings (PRJ-1) -------------------------------------------------------------


def _resource_check(ref, body: dict[str, Any], department_id: int) -> list[str]:
    """What keeps one pre-compiled resource from being a valid catalog entry of the department."""
    if ref is None:
        return ["资源已不存在"]
    problems = []
    if ref.provider_id != department_id:
        problems.append("不是本部门的资源")
    if ref.status == ResourceStatus.retired:
        problems.append("资源已停用")
    if not body.get("items"):
        problems.append("没有信息项")
    share = body.get("share_type")
    if share not in ShareType.__members__:
        problems.append("未设置共享类型")
    elif share in NEEDS_BASIS and not (body.get("legal_basis") or "").strip():
        problems.append(f"{ShareType(share).label}的资源未写明法律、行政法规或党中央、国务院政策依据")
    return problems


def compute_findings(session: Session, project: Project) -> dict[str, Any]:
    """The findings of the initial review, from the catalog's facts: the catalog check, likely
    duplication (data elements other departments' published resources already provide), and the
    flags (will not share, builds its own data centre). ``blocking`` says what forbids approval."""
    catalog_rows: list[dict[str, Any]] = []
    elements_of: dict[str, list[str]] = {}
    share_types: list[str] = []
    for entry in project.resources:
        ref = catalog.resource_ref(session, id=entry["id"])
        body = (catalog.version_body(session, ref.id) or {}) if ref is not None else {}
        problems = _resource_check(ref, body, project.department_id)
        share = body.get("share_type")
        if share:
            share_types.append(share)
        catalog_rows.append(
            {
                "code": entry["code"],
                "name": ref.name if ref else None,
                "status": ref.status if ref else None,
                "status_label": label(ResourceStatus, ref.status) if ref else "已不存在",
                "share_type": share,
                "share_type_label": label(ShareType, share) if share else "未设置",
                "items": len(body.get("items") or []),
                "ok": not problems,
                "problems": problems,
            }
        )
        elements_of[entry["code"]] = [i["element"] for i in body.get("items") or [] if i.get("element")]

    wanted = sorted({e for elements in elements_of.values() for e in elements})
    held = [
        h
        for h in (catalog.held_elements(session, wanted) if wanted else [])
        # an identifier (公民身份号码, 统一社会信用代码) is how records are joined, not duplicated data
        if h.resource.provider_id != project.department_id and not h.identifier
    ]
    holders: dict[str, list[dict[str, Any]]] = {}
    for h in held:
        found = holders.setdefault(h.element, [])
        if all(x["code"] != h.resource.code for x in found):
            found.append(
                {
                    "department_id": h.resource.provider_id,
                    "department_name": h.resource.provider_name,
                    "code": h.resource.code,
                    "name": h.resource.name,
                }
            )
    duplication = []
    for row in catalog_rows:
        elements = [
            {"element": e, "holders": holders[e]}
            for e in dict.fromkeys(elements_of[row["code"]])
            if e in holders
        ]
        if elements:
            duplication.append({"code": row["code"], "name": row["name"], "elements": elements})

    has_catalog = bool(project.resources)
    catalog_ok = has_catalog and all(r["ok"] for r in catalog_rows)
    cannot_share = has_catalog and bool(share_types) and all(s == ShareType.none for s in share_types)
    flags = []
    if cannot_share:
        flags.append("项目的资源全部不予共享，项目不能共享数据")
    if project.builds_own_platform:
        flags.append("项目拟自建数据中心或数据平台，请核实是否与已有平台重复建设")
    if duplication:
        shown = "、".join(sorted({e["element"] for d in duplication for e in d["elements"]})[:8])
        flags.append(f"可能重复采集：数据元 {shown} 已由其他部门提供")
    blocking = []
    if not has_catalog:
        blocking.append("项目没有预编目录，不能通过初审")
    elif not catalog_ok:
        blocking.append(
            "预编目录未通过检查："
            + "；".join(f"{r['code']} {'、'.join(r['problems'])}" for r in catalog_rows if not r["ok"])
        )
    if cannot_share:
        blocking.append("不能共享的项目不予通过")
    return _json(
        {
            "computed_at": utcnow(),
            "has_catalog": has_catalog,
            "catalog_ok": catalog_ok,
            "catalog": catalog_rows,
            "duplication": duplication,
            "cannot_share": cannot_share,
            "builds_own_platform": project.builds_own_platform,
            "flags": flags,
            "blocking": blocking,
        }
    )


def project_findings(session: Session, actor: Actor, project: Project) -> dict[str, Any] | None:
    """The findings as the caller sees them: kept with the decision once reviewed, computed now
    while the project waits for its review."""
    enforce(read_refusal(actor, project))
    if project.status != ProjectStatus.filed:
        return project.findings
    return compute_findings(session, project)


def _required_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("理由：必填", errors=[{"field": "reason", "label": "理由", "message": "必填"}])
    return text


def review(
    session: Session, actor: Actor, project_id: int, decision: Decision | str, reason: str | None = None
) -> Project:
    """The authority's initial review: approve (409 with the reasons when the findings forbid it) or
    refuse with a reason. The findings are kept with the decision; the department is told."""
    require(actor, PROJECT_REVIEW)
    project = _project(session, project_id)
    hold(session, project, lambda: review_refusal(actor, project))
    decision = Decision(decision)
    findings = compute_findings(session, project)
    if decision == Decision.refuse:
        reason = _required_reason(reason)
    elif findings["blocking"]:
        raise Conflict(
            "该项目不能通过初审：" + "；".join(findings["blocking"]),
            slug="project-not-approvable",
            reasons=findings["blocking"],
        )
    else:
        reason = (reason or "").strip() or None
    status = ProjectStatus.approved if decision == Decision.approve else ProjectStatus.refused
    project.status = status.value
    project.findings = findings
    project.reviewed_by = actor.name
    project.reviewed_at = utcnow()
    project.review_reason = reason
    session.flush()
    audit.record(
        session,
        actor,
        f"project.{status.value}",
        "project",
        project.id,
        details={"decision": decision.value, "reason": reason, "flags": findings["flags"]},
    )
    notifications.notify(
        session,
        kind=f"project.{status.value}",
        title=f"政务信息化项目{status.label}：{project.name}",
        body=(f"理由：{reason}" if reason else "")
        + ("" if not findings["flags"] else "（初审提示：" + "；".join(findings["flags"]) + "）"),
        link=_link(project.id),
        object_type="project",
        object_id=project.id,
        department_id=project.department_id,
    )
    return project


# --- acceptance (PRJ-2) ----------------------------------------------------------------------------


def _items_by_level(body: dict[str, Any]) -> dict[str, int]:
    counts = Counter(str(i.get("level") or "未定级") for i in body.get("items") or [])
    return dict(sorted(counts.items()))


def acceptance_report(session: Session, project: Project) -> dict[str, Any]:
    """Whether each resource is published and its data aggregated, with its sharing, opening and
    security status; ``accepted`` and the reasons when not."""
    refs = {e["id"]: catalog.resource_ref(session, id=e["id"]) for e in project.resources}
    ids = [i for i, ref in refs.items() if ref is not None]
    with_data = aggregation.resources_with_data(session, ids)
    latest = aggregation.latest_batches(session, ids)
    grants = sharing.grant_counts(session, ids)
    open_now = opening.open_codes(session)
    rows: list[dict[str, Any]] = []
    reasons: list[str] = []
    if not project.resources:
        reasons.append("项目没有预编目录资源")
    for entry in project.resources:
        ref = refs[entry["id"]]
        if ref is None:
            rows.append({"code": entry["code"], "name": None, "ok": False, "problems": ["资源已不存在"]})
            reasons.append(f"资源 {entry['code']} 已不存在")
            continue
        body = catalog.published_body(session, ref) if ref.is_published else {}
        body = body or catalog.version_body(session, ref.id) or {}
        problems = []
        if not ref.is_published:
            problems.append("尚未在目录中发布")
        if ref.id not in with_data:
            problems.append("尚未归集数据（没有已入库的批次）")
        reasons += [f"资源 {ref.code} {ref.name}{p}" for p in problems]
        batch = latest.get(ref.id)
        counts = grants.get(ref.id, {})
        rows.append(
            {
                "code": ref.code,
                "name": ref.name,
                "ok": not problems,
                "problems": problems,
                "catalog_status": ref.status,
                "catalog_status_label": label(ResourceStatus, ref.status),
                "published": ref.is_published,
                "has_data": ref.id in with_data,
                "latest_batch": None
                if batch is None
                else {
                    "id": batch.id,
                    "status": batch.status,
                    "status_label": batch.status_label,
                    "rows_applied": batch.rows_applied,
                    "finished_at": batch.finished_at,
                },
                "share_type": ref.share_type,
                "share_type_label": label(ShareType, ref.share_type),
                "grants": counts,
                "grants_active": counts.get("active", 0),
                "open": ref.code in open_now,
                "open_type": ref.open_type,
                "grade": ref.grade,
                "grade_label": label(Grade, ref.grade),
                "items_by_level": _items_by_level(body),
            }
        )
    return _json({"accepted": not reasons, "reasons": reasons, "resources": rows})


def accept(session: Session, actor: Actor, project_id: int, comment: str | None = None) -> Acceptance:
    """The acceptor the policy names asks for acceptance: the platform checks the project's resources
    and keeps the report; a failing project becomes ``not_accepted`` and is flagged not to be funded.
    A building department's acceptance is reported to the authority for the record."""
    require(actor, PROJECT_ACCEPT)
    project = _project(session, project_id)
    acceptor = project_acceptor(session)
    hold(session, project, lambda: accept_refusal(actor, project, acceptor))
    report = acceptance_report(session, project)
    accepted = bool(report["accepted"])
    reported = acceptor == ProjectAcceptor.building_department
    report.update(
        {
            "comment": (comment or "").strip() or None,
            "acceptor": acceptor.value,
            "acceptor_label": acceptor.label,
            "reported_to_authority": reported,
        }
    )
    status = ProjectStatus.accepted if accepted else ProjectStatus.not_accepted
    before = project.status
    project.status = status.value
    project.not_funded = not accepted
    row = Acceptance(
        project_id=project.id,
        accepted=accepted,
        report=report,
        acceptor=acceptor.value,
        accepted_by=actor.name,
        at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        f"project.{status.value}",
        "project",
        project.id,
        details={
            "from": before,
            "accepted": accepted,
            "reasons": report["reasons"],
            "acceptor": acceptor.value,
            "not_funded": project.not_funded,
        },
    )
    body = (
        "；".join(report["reasons"]) + "。项目不予安排运维经费，整改后可再次申请验收。"
        if not accepted
        else ""
    )
    notifications.notify(
        session,
        kind=f"project.{status.value}",
        title=f"政务信息化项目{status.label}：{project.name}",
        body=body or "项目资源均已在目录中发布并完成数据归集。",
        link=_link(project.id),
        object_type="project",
        object_id=project.id,
        department_id=project.department_id,
    )
    if reported:
        department = orgs.department_names(session, [project.department_id]).get(project.department_id, "")
        notifications.notify(
            session,
            kind="project.acceptance_reported",
            title=f"{department}报备项目验收结果：{project.name}（{status.label}）",
            body=body or "项目资源均已在目录中发布并完成数据归集。",
            link=_link(project.id),
            object_type="project",
            object_id=project.id,
            role=Role.authority,
        )
    return row


def acceptance_view(project: Project, row: Acceptance) -> dict[str, Any]:
    """An acceptance attempt as the API and the pages show it."""
    report = row.report or {}
    return {
        "project_id": project.id,
        "status": project.status,
        "accepted": row.accepted,
        "reasons": report.get("reasons", []),
        "not_funded": not row.accepted,
        "acceptor": row.acceptor,
        "acceptor_label": report.get("acceptor_label", row.acceptor),
        "reported_to_authority": bool(report.get("reported_to_authority")),
        "accepted_by": row.accepted_by,
        "at": row.at,
        "comment": report.get("comment"),
        "resources": report.get("resources", []),
        "opening_included": True,
    }


def project_views(
    session: Session, actor: Actor, projects: list[Project], *, full: bool = False
) -> list[dict]:
    """Projects as the API and the pages show them (names looked up once); ``full`` adds the findings
    and the latest acceptance report."""
    require(actor, PROJECT_READ)
    names = orgs.department_names(session, {p.department_id for p in projects})
    views = []
    for p in projects:
        enforce(read_refusal(actor, p))
        refs = [catalog.resource_ref(session, id=r["id"]) for r in p.resources] if full else []
        latest = latest_acceptance(session, p) if full else None
        views.append(
            {
                "id": p.id,
                "name": p.name,
                "department_id": p.department_id,
                "department_name": names.get(p.department_id),
                "summary": p.summary,
                "budget": p.budget,
                "resource_codes": [r["code"] for r in p.resources],
                "resources": [
                    {
                        "code": r["code"],
                        "name": ref.name if ref else None,
                        "status": ref.status if ref else None,
                    }
                    for r, ref in zip(p.resources, refs, strict=True)
                ]
                if full
                else [{"code": r["code"], "name": None, "status": None} for r in p.resources],
                "builds_own_platform": p.builds_own_platform,
                "period_start": p.period_start,
                "period_end": p.period_end,
                "status": p.status,
                "status_label": ProjectStatus(p.status).label,
                "filed_by": p.filed_by,
                "filed_at": p.filed_at,
                "findings": project_findings(session, actor, p) if full else p.findings,
                "reviewed_by": p.reviewed_by,
                "reviewed_at": p.reviewed_at,
                "review_reason": p.review_reason,
                "not_funded": p.not_funded,
                "acceptance": acceptance_view(p, latest) if latest is not None else None,
            }
        )
    return views
