"""HTTP routes of public accounts, conditional open applications and their keys, open demands and
reuses (SPEC §15 "public accounts and opening"). Thin: parse, call the service, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from govdata.core.auth import DbSession, client_address
from govdata.core.schemas import ApiRoute, Page, PagingParams
from govdata.opening.public_auth import (
    AccountHolder,
    Answerer,
    Anyone,
    Applicant,
    ApplicationsReader,
    Decider,
    KeyHolder,
    Proposer,
    Registrant,
    ReuseRegistrar,
)
from govdata.opening.public_models import OpenAccessLog, OpenApiKey
from govdata.opening.public_schemas import (
    AccountIn,
    AccountOut,
    DemandAnswerIn,
    DemandIn,
    DemandOut,
    KeyOut,
    OpenApplicationIn,
    OpenApplicationOut,
    OpenDecisionIn,
    ReuseIn,
    ReuseOut,
    UseOut,
)
from govdata.opening.service import accounts, applications, demands, keys, reuses

router = APIRouter(prefix="/api/v1", tags=["公众账号与数据开放"], route_class=ApiRoute)


def key_out(key: OpenApiKey, token: str | None = None) -> KeyOut:
    return KeyOut(
        id=key.id,
        application_id=key.application_id,
        hint=key.hint,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
        key=token,
    )


def use_out(row: OpenAccessLog) -> UseOut:
    return UseOut(
        at=row.at,
        dataset_code=row.dataset_code,
        kind=row.kind,
        application_id=row.application_id,
        rows=row.rows,
        detail=row.detail,
    )


# --- accounts ------------------------------------------------------------------------------------


@router.post(
    "/public/accounts",
    status_code=201,
    response_model=AccountOut,
    summary="注册公众账号（自然人、法人、非法人组织、开发者企业；身份经基础库核验）",
)
def register(request: Request, session: DbSession, actor: Registrant, data: AccountIn) -> dict:
    return accounts.register(session, request.app.state.store, data, source=client_address(request))


@router.get("/public/accounts/me", response_model=AccountOut, summary="本人的公众账号")
def my_account(session: DbSession, actor: AccountHolder) -> dict:
    return accounts.my_account(session, actor)


# --- conditional open applications ------------------------------------------------------------------


@router.post(
    "/open-applications", status_code=201, response_model=OpenApplicationOut, summary="申请有条件开放数据"
)
def apply(session: DbSession, actor: Applicant, data: OpenApplicationIn) -> dict:
    return applications.application_view(session, applications.apply(session, actor, data))


@router.get(
    "/open-applications",
    response_model=Page[OpenApplicationOut],
    summary="有条件开放申请（申请人：本人的；提供部门：本部门数据的；主管部门：全部）",
)
def list_applications(
    session: DbSession,
    actor: ApplicationsReader,
    paging: PagingParams,
    status: Annotated[str | None, Query(max_length=24)] = None,
    dataset_code: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    rows, total = applications.list_applications(
        session, actor, status=status, dataset_code=dataset_code, limit=paging.limit, offset=paging.offset
    )
    return {"items": [applications.application_view(session, a) for a in rows], "total": total}


@router.get("/open-applications/{application_id}", response_model=OpenApplicationOut, summary="开放申请详情")
def get_application(session: DbSession, actor: ApplicationsReader, application_id: int) -> dict:
    return applications.application_view(
        session, applications.get_application(session, actor, application_id)
    )


@router.post(
    "/open-applications/{application_id}/decision",
    response_model=OpenApplicationOut,
    summary="提供部门决定：同意、部分同意或不予同意",
)
def decide(session: DbSession, actor: Decider, application_id: int, data: OpenDecisionIn) -> dict:
    return applications.application_view(session, applications.decide(session, actor, application_id, data))


@router.post(
    "/open-applications/{application_id}/keys",
    status_code=201,
    response_model=KeyOut,
    summary="为获准的申请创建接口密钥（密钥只显示这一次）",
)
def create_key(session: DbSession, actor: KeyHolder, application_id: int) -> KeyOut:
    key, token = keys.create_key(session, actor, application_id)
    return key_out(key, token)


@router.get("/open-applications/{application_id}/keys", response_model=list[KeyOut], summary="申请的接口密钥")
def list_keys(session: DbSession, actor: KeyHolder, application_id: int) -> list[KeyOut]:
    applications.get_application(session, actor, application_id)
    return [key_out(k) for k in keys.list_keys(session, actor, application_id)]


@router.delete(
    "/open-applications/{application_id}/keys/{key_id}", response_model=KeyOut, summary="吊销接口密钥"
)
def revoke_key(session: DbSession, actor: KeyHolder, application_id: int, key_id: int) -> KeyOut:
    return key_out(keys.revoke_key(session, actor, application_id, key_id))


@router.get(
    "/open-uses",
    response_model=Page[UseOut],
    summary="开放数据的下载与接口调用记录（公众：本人的；提供部门：本部门数据的）",
)
def list_uses(
    session: DbSession,
    actor: ApplicationsReader,
    paging: PagingParams,
    dataset_code: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    rows, total = applications.uses(
        session, actor, dataset_code=dataset_code, limit=paging.limit, offset=paging.offset
    )
    return {"items": [use_out(r) for r in rows], "total": total}


# --- demands ---------------------------------------------------------------------------------------


@router.post("/demands", status_code=201, response_model=DemandOut, summary="提出开放需求")
def propose(session: DbSession, actor: Proposer, data: DemandIn) -> dict:
    demand = demands.propose(session, actor, data)
    return demands.views(session, actor, [demand])[0]


@router.get("/demands", response_model=Page[DemandOut], summary="开放需求及答复（公开，不显示提出人）")
def list_demands(
    session: DbSession,
    actor: Anyone,
    paging: PagingParams,
    status: Annotated[str | None, Query(pattern="^(pending|answered)$")] = None,
    overdue: bool | None = None,
    mine: bool = False,
) -> dict:
    items, total = demands.list_demands(
        session, actor, status=status, overdue=overdue, mine=mine, limit=paging.limit, offset=paging.offset
    )
    return {"items": items, "total": total}


@router.post("/demands/{demand_id}/answer", response_model=DemandOut, summary="主管部门答复开放需求")
def answer(session: DbSession, actor: Answerer, demand_id: int, data: DemandAnswerIn) -> dict:
    demand = demands.answer(session, actor, demand_id, data)
    return demands.views(session, actor, [demand])[0]


# --- reuses ----------------------------------------------------------------------------------------


@router.post("/reuses", status_code=201, response_model=ReuseOut, summary="登记开放数据利用成果")
def register_reuse(session: DbSession, actor: ReuseRegistrar, data: ReuseIn) -> dict:
    return reuses.reuse_view(reuses.register(session, actor, data))


@router.get("/reuses", response_model=Page[ReuseOut], summary="开放数据利用成果（公开）")
def list_reuses(
    session: DbSession,
    actor: Anyone,
    paging: PagingParams,
    dataset_code: Annotated[str | None, Query(max_length=64)] = None,
) -> dict:
    rows, total = reuses.list_reuses(
        session, dataset_code=dataset_code, limit=paging.limit, offset=paging.offset
    )
    return {"items": [reuses.reuse_view(r) for r in rows], "total": total}
