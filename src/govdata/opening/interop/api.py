"""Routes of the DCAT-AP 3 catalog (``/catalog.ttl|.rdf|.jsonld``, ``/datasets/<code>.ttl|.rdf|.jsonld``)
and of the Frictionless data packages (``/datasets/<code>/datapackage.json``), open to anyone (OPN-8).

The per-dataset paths end in an extension, which the portal's ``/datasets/<code>`` never does, so the
two cannot take each other's requests; this router is mounted before the portal's all the same. The
routes are left out of the OpenAPI document: their contracts are DCAT-AP's and Frictionless's.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

import govdata.catalog.codes  # noqa: F401  (registers the {code:rcode} path convertor)
from govdata.core.auth import Actor, AnyActor, DbSession, Role
from govdata.core.errors import NotFound
from govdata.opening import service as opening
from govdata.opening.enums import OpenType
from govdata.opening.interop import datapackage, dcat
from govdata.opening.service import applications
from govdata.orgs import service as orgs

router = APIRouter(tags=["数据开放（DCAT 与数据包）"], include_in_schema=False)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _rdf(graph, extension: str) -> Response:
    body, media_type = dcat.serialise(graph, extension)
    return Response(body, media_type=media_type)


def _catalog(request: Request, session, extension: str, page: int | None) -> Response:
    node = orgs.node_ref(session)
    node_name = node.name if node else "本节点"
    graph = dcat.catalog_graph(
        _base(request),
        opening.open_datasets(session),
        title=f"{node_name}政务数据开放目录",
        publisher=orgs.authority_department(session),
        node_name=node_name,
        page=page,
    )
    return _rdf(graph, extension)


def _open(session, code: str) -> opening.OpenDataset:
    dataset = opening.open_dataset(session, code)
    if dataset is None:
        raise NotFound(f"开放数据集 {code} 不存在。")
    return dataset


Page = Query(None, ge=1, le=100_000, description="分页：第几页（每页 1000 个数据集）；不给则整个目录")


@router.get("/catalog.ttl")
async def catalog_turtle(
    request: Request, session: DbSession, actor: AnyActor, page: int | None = Page
) -> Response:
    return await run_in_threadpool(_catalog, request, session, "ttl", page)


@router.get("/catalog.rdf")
async def catalog_rdfxml(
    request: Request, session: DbSession, actor: AnyActor, page: int | None = Page
) -> Response:
    return await run_in_threadpool(_catalog, request, session, "rdf", page)


@router.get("/catalog.jsonld")
async def catalog_jsonld(
    request: Request, session: DbSession, actor: AnyActor, page: int | None = Page
) -> Response:
    return await run_in_threadpool(_catalog, request, session, "jsonld", page)


def _dataset_rdf(request: Request, session, code: str, extension: str) -> Response:
    return _rdf(dcat.dataset_graph(_base(request), _open(session, code)), extension)


@router.get("/datasets/{code:rcode}.ttl")
def dataset_turtle(code: str, request: Request, session: DbSession, actor: AnyActor) -> Response:
    return _dataset_rdf(request, session, code, "ttl")


@router.get("/datasets/{code:rcode}.rdf")
def dataset_rdfxml(code: str, request: Request, session: DbSession, actor: AnyActor) -> Response:
    return _dataset_rdf(request, session, code, "rdf")


@router.get("/datasets/{code:rcode}.jsonld")
def dataset_jsonld(code: str, request: Request, session: DbSession, actor: AnyActor) -> Response:
    return _dataset_rdf(request, session, code, "jsonld")


def described_items(session, actor: Actor, dataset: opening.OpenDataset) -> list[opening.OpenItem]:
    """The items a data package describes: what the caller is served; for a conditional dataset the
    caller is not approved for, the items an approved application may be granted."""
    access = opening.OpenAccess()
    if Role.public in actor.roles:
        access = applications.access_for(session, actor, dataset.code)
    served = opening.served_items(dataset, access)
    if served or dataset.open_type != OpenType.conditional.value:
        return served
    grantable = set(applications.applicable_items(dataset))
    return [item for item in dataset.items if item.code in grantable]


@router.get("/datasets/{code:rcode}/datapackage.json")
def dataset_datapackage(code: str, request: Request, session: DbSession, actor: AnyActor) -> JSONResponse:
    dataset = _open(session, code)
    package = datapackage.describe(_base(request), dataset, described_items(session, actor, dataset))
    return JSONResponse(package, media_type="application/json")
