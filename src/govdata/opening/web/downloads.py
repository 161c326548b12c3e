"""Downloads of open datasets (CSV, XLSX, JSON) and the JSON API of the open catalog (OPN-2, OPN-3).

* ``GET /datasets/{code}/download.csv|.xlsx|.json``: anyone, for an unconditional dataset (its
  public items); for a conditional one only a logged-in public account whose application was
  approved (the items granted). Streamed from the export ``opening.export_open`` spools, counted.
* ``GET /api/v1/open/datasets``: the open catalog's search (``q``, facets) as ``{items, total,
  facets}``.
* ``GET /api/v1/open/datasets/{code}`` and ``…/records?limit=&offset=&q=&<item>=value``: the same
  data as the download, a page at a time; anonymous for an unconditional dataset, with an API key of
  an approved application (``Authorization: Bearer <key>`` or ``X-Api-Key``) for a conditional one.
  Each answer is counted as an API call (``/api/v1/open/{code}/records`` answers the same).

De-identification, the level-4 rule and what is open are the open catalog's (``opening.service``);
these routes only decide who the caller reads as (``applications.access_for``)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from govdata.core.auth import Actor, AnyActor, DbSession, Role, header_token
from govdata.core.errors import NotAuthenticated, NotFound, PermissionDenied
from govdata.core.schemas import ApiRoute, problem_responses
from govdata.opening import service as opening
from govdata.opening.enums import OpenType
from govdata.opening.service import applications, keys
from govdata.opening.service.search import DatasetHit, search_datasets

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/open", tags=["开放数据（公开）"], route_class=ApiRoute)

FORMATS = ("csv", "xlsx", "json")
# query parameters of the records call that are not item filters
RECORD_PARAMETERS = {"limit", "offset", "q"}


def _not_open(code: str) -> NotFound:
    return NotFound(f"数据集 {code} 不存在或未向社会开放。")


def _refused(actor: Actor, what: str) -> Exception:
    """No approved application for a conditional dataset: log in (401), or apply (403)."""
    if not actor.is_authenticated:
        return NotAuthenticated(f"有条件开放的数据集须登录并经申请获批后{what}。")
    return PermissionDenied(
        f"有条件开放的数据集须经申请获批后{what}；请先提交开放申请。", slug="not-approved"
    )


# --- downloads -------------------------------------------------------------------------------------


@router.get("/datasets/{code:rcode}/download.{fmt}")
def download(request: Request, session: DbSession, actor: AnyActor, code: str, fmt: str) -> StreamingResponse:
    """The whole dataset as the caller may read it, streamed; each download counted (OPN-9)."""
    if fmt not in FORMATS:
        raise NotFound("请求的地址不存在。")
    dataset = opening.open_dataset(session, code)
    if dataset is None:
        raise _not_open(code)
    access = opening.OpenAccess()
    if actor.is_authenticated and Role.public in actor.roles:
        access = applications.access_for(session, actor, code)
    if dataset.open_type == OpenType.conditional and access.application_id is None:
        raise _refused(actor, "下载")
    settings = request.app.state.settings
    chunks, media_type, filename = opening.export_open(
        session, settings, request.app.state.store, code, access, fmt
    )
    applications.record_use(session, access, code, "download", detail=fmt)
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    return StreamingResponse(chunks, media_type=media_type, headers={"Content-Disposition": disposition})


# --- the JSON API ----------------------------------------------------------------------------------


def _hit(hit: DatasetHit) -> dict[str, Any]:
    return {
        "code": hit.code,
        "name": hit.name,
        "summary": hit.summary,
        "provider_id": hit.provider_id,
        "provider_name": hit.provider_name,
        "classification": hit.classification,
        "format": hit.format,
        "open_type": hit.open_type,
        "update_cycle": hit.update_cycle,
        "emergency": hit.emergency,
        "published_at": hit.published_at,
        "updated_at": hit.updated_at,
    }


@api.get("/datasets", summary="开放数据目录检索（公开）")
def list_datasets(
    session: DbSession,
    actor: AnyActor,
    q: Annotated[str | None, Query(max_length=200)] = None,
    provider_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    classification: Annotated[str | None, Query(max_length=32, pattern=r"^[0-9A-Za-z]*$")] = None,
    open_type: Annotated[OpenType | None, Query()] = None,
    format: Annotated[str | None, Query(max_length=20)] = None,
    update_cycle: Annotated[str | None, Query(max_length=20)] = None,
    sort: Annotated[str | None, Query(pattern="^(relevance|updated|published|name)$")] = None,
    limit: Annotated[int, Query(ge=0, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Open datasets matching ``q`` (two characters suffice) and the filters: ``{items, total,
    facets: {provider_id, classification, open_type, format, update_cycle}}``."""
    found = search_datasets(
        session,
        q=q,
        provider_id=provider_id,
        classification=classification or None,
        open_type=open_type.value if open_type else None,
        format=format or None,
        update_cycle=update_cycle or None,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return {"items": [_hit(h) for h in found.items], "total": found.total, "facets": found.facets}


@api.get("/datasets/{code:rcode}", summary="开放数据集的元数据与数据项（公开）")
def show_dataset(session: DbSession, actor: AnyActor, code: str) -> dict[str, Any]:
    dataset = opening.open_dataset(session, code)
    if dataset is None:
        raise _not_open(code)
    return {
        "code": dataset.code,
        "name": dataset.name,
        "summary": dataset.summary,
        "provider_id": dataset.provider_id,
        "provider_name": dataset.provider_name,
        "open_type": dataset.open_type,
        "classification": dataset.classification,
        "format": dataset.format,
        "update_cycle": dataset.update_cycle,
        "emergency": dataset.emergency,
        "incident_category": dataset.incident_category,
        "published_at": dataset.published_at,
        "last_batch_at": dataset.last_batch_at,
        "downloads": dataset.downloads,
        "api_calls": dataset.api_calls,
        "items": [
            {"code": i.code, "name": i.name, "data_type": i.data_type, "method": i.method, "public": i.public}
            for i in dataset.items
        ],
    }


def presented_key(request: Request) -> str | None:
    """An open-data API key the call presents (``Authorization: Bearer`` or ``X-Api-Key``)."""
    for value in (header_token(request.headers.get("authorization")), request.headers.get("x-api-key")):
        if value and keys.is_key(value.strip()):
            return value.strip()
    return None


def _records(
    request: Request, session: Session, actor: Actor, code: str, limit: int, offset: int, q: str | None
):
    dataset = opening.open_dataset(session, code)
    if dataset is None:
        raise _not_open(code)
    key = presented_key(request)
    key_id = None
    if key is not None:
        if keys.resolve_key(session, key) is None:
            raise NotAuthenticated("接口密钥无效、已过期或已被吊销。", slug="invalid-key")
        access = applications.access_for(session, key, code)
        key_id = keys.key_id_of(session, key)
    elif actor.is_authenticated and Role.public in actor.roles:
        access = applications.access_for(session, actor, code)
    else:
        access = opening.OpenAccess()
    if dataset.open_type == OpenType.conditional and access.application_id is None:
        if key is not None:
            raise PermissionDenied("该接口密钥不能读取此数据集。", slug="key-not-for-dataset")
        raise _refused(actor, "调用接口")
    filters = {k: v for k, v in request.query_params.items() if k not in RECORD_PARAMETERS}
    answer = opening.read_open(
        session,
        request.app.state.store,
        code,
        access,
        filters=filters,
        q=q,
        limit=limit,
        offset=offset,
        settings=request.app.state.settings,
    )
    applications.record_use(session, access, code, "api_call", rows=len(answer["items"]), key_id=key_id)
    return answer


@api.get(
    "/datasets/{code:rcode}/records",
    summary="开放数据集的数据（公开；有条件开放须携带接口密钥）",
    responses=problem_responses(403),
)
def dataset_records(
    request: Request,
    session: DbSession,
    actor: AnyActor,
    code: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """A page of the dataset's records, de-identified as the download: ``{items, total, fields}``;
    other query parameters filter by an item served as it is (``?xzqh=410802``)."""
    return _records(request, session, actor, code, limit, offset, q)


@api.get(
    "/{code:rcode}/records",
    summary="开放数据集的数据（同 /datasets/{code}/records）",
    responses=problem_responses(403),
)
def open_records(
    request: Request,
    session: DbSession,
    actor: AnyActor,
    code: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    return _records(request, session, actor, code, limit, offset, q)
