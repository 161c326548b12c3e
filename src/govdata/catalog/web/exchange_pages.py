"""Catalog exchange in the pages (CAT-10, #13 item 19): the export of any search view as XLSX or JSON,
the template, and the import form with its report.

An import is all or nothing (``catalog.exchange``): one faulty row and nothing is written, and the page
lists every faulty cell; rows naming resources the department cannot change (another department's,
under review, retired) are reported as not imported, so that a fresh export imports back.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from govdata.catalog import exchange, service
from govdata.catalog.auth import CatalogCompiler, CatalogReader
from govdata.catalog.schemas import SearchParams
from govdata.catalog.web import forms, presenters
from govdata.core.auth import Actor, DbSession
from govdata.core.errors import InvalidInput, Problem
from govdata.web import check_same_origin, render

router = APIRouter(include_in_schema=False)

SHEET_LABELS = {exchange.RESOURCE_SHEET: "资源", exchange.ITEM_SHEET: "信息项", "json": "JSON 文件"}


def _file(export: exchange.ExportFile) -> Response:
    return Response(
        export.content,
        media_type=export.media_type,
        headers={"Content-Disposition": export.content_disposition, "X-Resource-Count": str(export.count)},
    )


@router.get("/catalog/export")
def export_page(
    request: Request,
    session: DbSession,
    actor: CatalogReader,
    format: Literal["xlsx", "json"] = "xlsx",
    q: Annotated[str, Query(max_length=200)] = "",
    provider_id: Annotated[str, Query(max_length=12)] = "",
    classification: Annotated[str, Query(max_length=32)] = "",
    share_type: Annotated[str, Query(max_length=20)] = "",
    open_type: Annotated[str, Query(max_length=20)] = "",
    resource_format: Annotated[str, Query(max_length=20)] = "",
    update_cycle: Annotated[str, Query(max_length=20)] = "",
    grade: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The resources of a catalog view, as the search page shows them (its filters, no page limit)."""
    filters = forms.clean_filters(
        {
            "provider_id": provider_id,
            "classification": classification,
            "share_type": share_type,
            "open_type": open_type,
            "format": resource_format,
            "update_cycle": update_cycle,
            "grade": grade,
            "status": status,
        }
    )
    params = SearchParams.model_validate({**filters, "q": q.strip() or None})
    return _file(exchange.export_catalog(session, actor, params.to_query(), format))


@router.get("/catalog/template.xlsx")
def template_page(actor: CatalogReader) -> Response:
    return _file(exchange.template_file())


def _import_page(request: Request, actor: Actor, status_code: int = 200, **context: Any) -> Response:
    return render(
        request,
        "catalog/import.html",
        actor,
        status_code=status_code,
        href=presenters.resource_href,
        sheet_labels=SHEET_LABELS,
        max_mib=exchange.MAX_FILE_BYTES // (1024 * 1024),
        **context,
    )


@router.get("/catalog/import")
def import_form(request: Request, actor: CatalogCompiler) -> Response:
    return _import_page(request, actor, dry_run=False, as_new=False)


@router.post("/catalog/import")
def import_catalog(
    request: Request,
    session: DbSession,
    actor: CatalogCompiler,
    file: Annotated[UploadFile | None, File()] = None,
    dry_run: Annotated[str, Form(max_length=5)] = "",
    as_new: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    check_same_origin(request)
    options = {"dry_run": bool(dry_run), "as_new": bool(as_new)}
    if file is None or not file.filename:
        return _import_page(
            request, actor, 422, message="请选择要导入的目录文件（.xlsx 或 .json）。", **options
        )
    try:
        data = exchange.read_limited(file.file)
        result = exchange.import_catalog(session, actor, data, **options)
    except Problem as exc:
        session.rollback()
        errors = exc.extra.get("errors") if isinstance(exc, InvalidInput) else None
        rows = [e for e in errors or [] if isinstance(e, dict) and "sheet" in e]
        return _import_page(
            request,
            actor,
            exc.status,
            message=exc.detail if not rows else f"文件有误，未导入任何资源：共 {len(rows)} 处需要修改。",
            errors=rows,
            filename=file.filename,
            **options,
        )
    return _import_page(
        request, actor, result=result, names=_names(session, actor, result), filename=file.filename, **options
    )


def _names(session: Session, actor: Actor, result: exchange.ImportResult) -> dict[str, str]:
    """The names of the resources the report lists, for links that say what they are."""
    names = {}
    for code in [*result.created, *result.updated, *result.unchanged, *(s["code"] for s in result.skipped)][
        :500
    ]:
        try:
            names[code] = service.get_resource(session, actor, code).name
        except Problem:
            continue
    return names
