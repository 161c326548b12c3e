"""Routes of the data element dictionary (数据元, CAT-4): read one, add one, change one. The list is
``GET /api/v1/catalog/elements`` (``catalog.api``)."""

from __future__ import annotations

from fastapi import APIRouter

from govdata.catalog import elements
from govdata.catalog.auth import CatalogManager, CatalogReader
from govdata.catalog.schemas_elements import DataElementIn, DataElementPatch, DataElementView
from govdata.core.auth import Actor, DbSession
from govdata.core.schemas import ApiRoute

router = APIRouter(prefix="/api/v1", tags=["目录"], route_class=ApiRoute)


def _view(session, actor: Actor, element) -> DataElementView:
    counts = elements.usage_counts(session, actor)
    return DataElementView(**elements.element_view(element), resources=counts.get(element.name, 0))


# the path's parameter is ``element``: ``code`` names a resource code everywhere in the API
@router.get("/catalog/elements/{element}", response_model=DataElementView, summary="数据元详情")
def read_element(session: DbSession, actor: CatalogReader, element: str) -> DataElementView:
    return _view(session, actor, elements.get_element(session, actor, element))


@router.post("/catalog/elements", response_model=DataElementView, status_code=201, summary="新增数据元")
def create_element(session: DbSession, actor: CatalogManager, body: DataElementIn) -> DataElementView:
    return _view(session, actor, elements.create_element(session, actor, body))


@router.patch(
    "/catalog/elements/{element}", response_model=DataElementView, summary="修改数据元（同义词、定义、说明）"
)
def update_element(
    session: DbSession, actor: CatalogManager, element: str, body: DataElementPatch
) -> DataElementView:
    return _view(session, actor, elements.update_element(session, actor, element, body))
