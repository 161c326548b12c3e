"""HTTP routes of opening's core for staff (OPN-1, OPN-5, OPN-6), under ``/api/v1/open/``: the
candidates and open datasets, a resource's plan, k report, confidentiality review, publication,
withdrawal, emergency opening, non-open reason and consent; the yearly priority list. Thin: parse,
call the service, shape."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from govdata.core.auth import DbSession
from govdata.core.errors import register_field_labels
from govdata.core.labels import labels
from govdata.core.schemas import ApiRoute
from govdata.opening import service
from govdata.opening.auth import (
    EmergencyPublisher,
    Preparer,
    PriorityKeeper,
    Publisher,
    Reader,
    Reviewer,
)
from govdata.opening.enums import IncidentCategory, NonOpenReason

router = APIRouter(prefix="/api/v1/open", tags=["数据开放（管理）"], route_class=ApiRoute)

register_field_labels(
    {
        "plan": "脱敏方案",
        "quasi_identifiers": "准标识符",
        "quasi": "准标识符",
        "conclusion": "审查结论",
        "category": "突发事件类别",
        "holder": "权利人",
        "document": "同意书",
        "year": "年度",
        "title": "数据集名称",
        "resource_code": "资源代码",
    }
)


class ItemPlanOut(BaseModel):
    code: str
    name: str
    data_type: str
    level: int
    method: str
    generalise: str | None = None
    served: bool


class ReviewOut(BaseModel):
    id: int
    reviewer: str
    reviewer_name: str
    reviewed_at: datetime
    conclusion: str
    comment: str | None = None


class OpeningOut(BaseModel):
    code: str
    name: str
    provider_id: int
    provider_name: str
    catalog_open_type: str
    open_type: str
    status: str
    basis: str | None = None
    emergency: bool = False
    incident_category: str | None = None
    incident_title: str | None = None
    non_open_reason: str | None = None
    consent: dict[str, Any] | None = None
    quasi_identifiers: list[str] = []
    items: list[ItemPlanOut] = []
    reviews: list[ReviewOut] = []
    published_at: datetime | None = None
    withdrawn_at: datetime | None = None
    withdraw_reason: str | None = None
    downloads: int = 0
    api_calls: int = 0


class RowOut(BaseModel):
    code: str
    name: str
    provider_id: int
    provider_name: str
    catalog_open_type: str
    open_type: str
    status: str
    emergency: bool
    incident_category: str | None = None
    non_open_reason: str | None = None
    published_at: datetime | None = None
    downloads: int = 0
    api_calls: int = 0


class PlanIn(BaseModel):
    plan: dict[str, Any] | None = Field(
        default=None,
        description="信息项代码 → 脱敏方式（keep|mask|pseudonymise|generalise|suppress）或 {method, generalise}",
    )
    quasi_identifiers: list[str] | None = None
    open_type: str | None = Field(default=None, description="unconditional | conditional")


class ReviewIn(BaseModel):
    conclusion: str = Field(description="passed | failed")
    comment: str | None = Field(default=None, max_length=2000)


class PublishIn(BaseModel):
    open_type: str | None = None


class WithdrawIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class EmergencyIn(BaseModel):
    category: str = Field(
        description="natural_disaster | accident_disaster | public_health | social_security"
    )
    title: str | None = Field(default=None, max_length=200)


class NonOpenIn(BaseModel):
    reason: str
    note: str | None = Field(default=None, max_length=2000)


class ConsentIn(BaseModel):
    holder: str = Field(min_length=1, max_length=200)
    date: date
    document: str = Field(min_length=1, max_length=500)


class PriorityIn(BaseModel):
    year: int
    title: str | None = Field(default=None, max_length=200)
    resource_code: str | None = None
    comment: str | None = Field(default=None, max_length=2000)


class PriorityPatch(BaseModel):
    year: int | None = None
    title: str | None = Field(default=None, max_length=200)
    resource_code: str | None = None
    comment: str | None = Field(default=None, max_length=2000)


class PriorityOut(BaseModel):
    id: int
    year: int
    resource_code: str | None
    title: str
    comment: str | None
    fulfilled: bool


def opening_out(found: service.Opening) -> OpeningOut:
    entry = found.entry
    items = []
    for item in found.items:
        code = item["code"].lower()
        rule = found.plan.get(code, {})
        level = int(item.get("level") or 1)
        items.append(
            ItemPlanOut(
                code=code,
                name=item.get("name") or code,
                data_type=item.get("data_type") or "C",
                level=level,
                method=rule.get("method", "suppress"),
                generalise=rule.get("generalise"),
                served=service.deid.servable(level, rule.get("method", "suppress")),
            )
        )
    consent = None
    if entry is not None and entry.consent_holder:
        consent = {
            "holder": entry.consent_holder,
            "date": entry.consent_date.isoformat() if entry.consent_date else None,
            "document": entry.consent_document,
            "recorded_by": entry.consent_recorded_by,
        }
    return OpeningOut(
        code=found.ref.code,
        name=found.ref.name,
        provider_id=found.ref.provider_id,
        provider_name=found.ref.provider_name,
        catalog_open_type=found.ref.open_type,
        open_type=found.open_type,
        status=found.status,
        basis=entry.basis if entry else None,
        emergency=bool(entry and entry.emergency),
        incident_category=entry.incident_category if entry else None,
        incident_title=entry.incident_title if entry else None,
        non_open_reason=entry.non_open_reason if entry else None,
        consent=consent,
        quasi_identifiers=found.quasi_identifiers,
        items=items,
        reviews=[
            ReviewOut(
                id=r.id,
                reviewer=r.reviewer,
                reviewer_name=r.reviewer_name,
                reviewed_at=r.reviewed_at,
                conclusion=r.conclusion,
                comment=r.comment,
            )
            for r in found.reviews
        ],
        published_at=entry.published_at if entry else None,
        withdrawn_at=entry.withdrawn_at if entry else None,
        withdraw_reason=entry.withdraw_reason if entry else None,
        downloads=entry.downloads if entry else 0,
        api_calls=entry.api_calls if entry else 0,
    )


@router.get("/resources", response_model=list[RowOut], summary="开放候选资源与已开放数据集（工作人员）")
def list_openings(session: DbSession, actor: Reader, status: str | None = None) -> list[RowOut]:
    return [RowOut(**vars(row)) for row in service.list_openings(session, actor, status=status)]


@router.get("/non-open-reasons", summary="不予开放理由代码")
def non_open_reasons(actor: Reader) -> dict[str, str]:
    return labels(NonOpenReason)


@router.get("/incident-categories", summary="突发事件类别代码")
def incident_categories(actor: Reader) -> dict[str, str]:
    return labels(IncidentCategory)


@router.get("/resources/{code:rcode}", response_model=OpeningOut, summary="资源的开放准备情况")
def get_opening(session: DbSession, actor: Reader, code: str) -> OpeningOut:
    return opening_out(service.get_opening(session, actor, code))


@router.get("/resources/{code:rcode}/plan", response_model=OpeningOut, summary="脱敏方案")
def get_plan(session: DbSession, actor: Reader, code: str) -> OpeningOut:
    return opening_out(service.get_opening(session, actor, code))


@router.put(
    "/resources/{code:rcode}/plan", response_model=OpeningOut, summary="保存脱敏方案、准标识符与拟开放类型"
)
def put_plan(session: DbSession, actor: Preparer, code: str, data: PlanIn) -> OpeningOut:
    return opening_out(
        service.save_plan(
            session,
            actor,
            code,
            plan=data.plan,
            quasi_identifiers=data.quasi_identifiers,
            open_type=data.open_type,
        )
    )


@router.get("/resources/{code:rcode}/k-report", summary="k-匿名检验报告（?quasi=a,b）")
def k_report(
    request: Request,
    session: DbSession,
    actor: Reader,
    code: str,
    quasi: str | None = Query(default=None, description="准标识符，逗号分隔；缺省为方案中选定的"),
) -> dict[str, Any]:
    chosen = [c.strip() for c in quasi.split(",") if c.strip()] if quasi is not None else None
    return service.k_report(session, actor, request.app.state.store, code, chosen).as_dict()


@router.post(
    "/resources/{code:rcode}/review", status_code=201, response_model=ReviewOut, summary="登记保密审查结论"
)
def review(session: DbSession, actor: Reviewer, code: str, data: ReviewIn) -> ReviewOut:
    row = service.review(session, actor, code, conclusion=data.conclusion, comment=data.comment)
    return ReviewOut(
        id=row.id,
        reviewer=row.reviewer,
        reviewer_name=row.reviewer_name,
        reviewed_at=row.reviewed_at,
        conclusion=row.conclusion,
        comment=row.comment,
    )


@router.post(
    "/resources/{code:rcode}/publish",
    response_model=OpeningOut,
    summary="发布到开放目录（k-匿名检验不通过时拒绝）",
)
def publish(
    request: Request, session: DbSession, actor: Publisher, code: str, data: PublishIn | None = None
) -> OpeningOut:
    open_type = data.open_type if data else None
    return opening_out(service.publish(session, actor, request.app.state.store, code, open_type=open_type))


@router.post("/resources/{code:rcode}/withdraw", response_model=OpeningOut, summary="撤回已开放的数据集")
def withdraw(session: DbSession, actor: Publisher, code: str, data: WithdrawIn) -> OpeningOut:
    return opening_out(service.withdraw(session, actor, code, reason=data.reason))


@router.post("/resources/{code:rcode}/emergency", response_model=OpeningOut, summary="突发事件应急开放")
def emergency(
    request: Request, session: DbSession, actor: EmergencyPublisher, code: str, data: EmergencyIn
) -> OpeningOut:
    return opening_out(
        service.emergency_open(
            session, actor, request.app.state.store, code, category=data.category, title=data.title
        )
    )


@router.put("/resources/{code:rcode}/non-open-reason", response_model=OpeningOut, summary="登记不予开放理由")
def non_open_reason(session: DbSession, actor: Preparer, code: str, data: NonOpenIn) -> OpeningOut:
    return opening_out(service.set_non_open_reason(session, actor, code, data.reason, data.note))


@router.post("/resources/{code:rcode}/consent", response_model=OpeningOut, summary="登记权利人同意开放")
def consent(session: DbSession, actor: Preparer, code: str, data: ConsentIn) -> OpeningOut:
    return opening_out(
        service.record_consent(
            session, actor, code, holder=data.holder, consented_on=data.date, document=data.document
        )
    )


@router.get("/priorities", response_model=list[PriorityOut], summary="年度开放重点清单")
def list_priorities(session: DbSession, actor: Reader, year: int | None = None) -> list[PriorityOut]:
    return [PriorityOut(**_priority(p)) for p in service.list_priorities(session, actor, year=year)]


@router.post("/priorities", status_code=201, response_model=PriorityOut, summary="增加开放重点")
def add_priority(session: DbSession, actor: PriorityKeeper, data: PriorityIn) -> PriorityOut:
    found = service.add_priority(
        session,
        actor,
        year=data.year,
        title=data.title,
        resource_code=data.resource_code,
        comment=data.comment,
    )
    return PriorityOut(**_priority(found))


@router.patch("/priorities/{priority_id}", response_model=PriorityOut, summary="修改开放重点")
def update_priority(
    session: DbSession, actor: PriorityKeeper, priority_id: int, data: PriorityPatch
) -> PriorityOut:
    found = service.update_priority(session, actor, priority_id, data.model_dump(exclude_unset=True))
    return PriorityOut(**_priority(found))


def _priority(p: service.Priority) -> dict[str, Any]:
    return {
        "id": p.id,
        "year": p.year,
        "resource_code": p.resource_code,
        "title": p.title,
        "comment": p.comment,
        "fulfilled": p.fulfilled,
    }
