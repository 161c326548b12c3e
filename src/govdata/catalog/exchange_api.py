"""Routes of the catalog exchange (CAT-10, SPEC §15): template, import, export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from govdata.catalog import exchange
from govdata.catalog.auth import CatalogCompiler, CatalogReader
from govdata.catalog.schemas import ExportFilters
from govdata.core.auth import DbSession
from govdata.core.schemas import ApiRoute

router = APIRouter(prefix="/api/v1", tags=["目录交换"], route_class=ApiRoute)


class ImportOut(BaseModel):
    format: str = Field(description="xlsx 或 json（按文件内容识别）")
    dry_run: bool = Field(description="仅校验时为 true，此时没有写入任何内容")
    total: int = Field(description="文件中的资源数")
    created: list[str] = Field(description="新建的资源代码（草稿）")
    updated: list[str] = Field(description="更新的资源代码（已发布的资源开启了修订版本）")
    unchanged: list[str] = Field(description="与现有内容相同、未做改动的资源代码")
    to_create: int = Field(description="新建的资源数（仅校验时为将要新建的数目）")
    to_update: int = Field(description="更新的资源数（仅校验时为将要更新的数目）")
    warnings: list[dict[str, Any]] = Field(description="不影响导入的提示")
    skipped: list[dict[str, Any]] = Field(
        default_factory=list,
        description="未导入的行：本部门不能修改的资源（其他部门的、审核中的、已停用的），各有 code、sheet、row、reason",
    )


def _file(export: exchange.ExportFile) -> Response:
    return Response(
        export.content,
        media_type=export.media_type,
        headers={"Content-Disposition": export.content_disposition, "X-Resource-Count": str(export.count)},
    )


@router.get(
    "/catalog/template.xlsx",
    response_class=Response,
    summary="下载目录交换模板（XLSX：资源、信息项、说明三个工作表）",
    responses={200: {"content": {exchange.XLSX_MEDIA_TYPE: {}}}},
)
def download_template(actor: CatalogReader) -> Response:
    return _file(exchange.template_file())


@router.post("/catalog/import", response_model=ImportOut, summary="导入目录（XLSX 或 JSON，全部通过才写入）")
def import_catalog(
    session: DbSession,
    actor: CatalogCompiler,
    file: Annotated[UploadFile, File(description="按模板填写的 .xlsx，或导出格式的 .json；不超过 10 MiB")],
    dry_run: Annotated[bool, Query(description="只校验，不写入")] = False,
    as_new: Annotated[bool, Query(description="忽略资源代码，全部新建为本部门的草稿")] = False,
) -> ImportOut:
    data = exchange.read_limited(file.file)
    result = exchange.import_catalog(session, actor, data, dry_run=dry_run, as_new=as_new)
    return ImportOut.model_validate(result, from_attributes=True)


@router.get(
    "/catalog/export",
    response_class=Response,
    summary="导出目录（任意检索条件下的全部结果，XLSX 模板格式或 JSON）",
    responses={200: {"content": {exchange.XLSX_MEDIA_TYPE: {}, exchange.JSON_MEDIA_TYPE: {}}}},
)
def export_catalog(
    session: DbSession,
    actor: CatalogReader,
    filters: ExportFilters,
    format: Annotated[Literal["xlsx", "json"], Query(description="xlsx 或 json")] = "xlsx",
) -> Response:
    return _file(exchange.export_catalog(session, actor, filters.to_query(), format))
