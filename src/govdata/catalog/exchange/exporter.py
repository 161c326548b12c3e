"""Export of a catalog view (CAT-10) as XLSX in the template's layout or as JSON, and the empty
template itself; every cell is written through ``core.files`` so that none runs as a formula."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from govdata.catalog import service
from govdata.catalog.auth import CATALOG_READ
from govdata.catalog.exchange.cells import item_cell, resource_cell
from govdata.catalog.exchange.template import (
    EXPORT_INFO_COLUMNS,
    GUIDE_RULES,
    GUIDE_SHEET,
    ITEM_COLUMNS,
    ITEM_SHEET,
    JSON_MEDIA_TYPE,
    RESOURCE_COLUMNS,
    RESOURCE_SHEET,
    TEMPLATE_ROWS,
    Column,
    Progress,
    choices,
    guide_rows,
)
from govdata.catalog.schemas import ResourceOut
from govdata.catalog.search import SearchQuery
from govdata.core import clock
from govdata.core.auth import Actor, require
from govdata.core.errors import InvalidInput
from govdata.core.files import XLSX_MEDIA_TYPE, xlsx_cell

EXPORT_PAGE = 500


def iter_views(
    session: Session, actor: Actor, query: SearchQuery, progress: Progress | None = None
) -> Iterator[dict[str, Any]]:
    """Every resource of a catalog view as the caller may see it, in pages of ``EXPORT_PAGE``."""
    require(actor, CATALOG_READ)
    offset = done = 0
    while True:
        page = service.search_resources(
            session, actor, dataclasses.replace(query, limit=EXPORT_PAGE, offset=offset)
        )
        for resource in page.items:
            view = service.resource_view(session, actor, resource)
            done += 1
            if progress:
                progress("export", done, page.total)
            yield ResourceOut.model_validate(view).model_dump(mode="json", exclude={"warnings"})
        offset += EXPORT_PAGE
        if len(page.items) < EXPORT_PAGE or offset >= page.total:
            return


@dataclass
class ExportFile:
    content: bytes
    filename: str
    fallback_filename: str
    media_type: str
    count: int

    @property
    def content_disposition(self) -> str:
        return content_disposition(self.filename, self.fallback_filename)


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def export_catalog(
    session: Session,
    actor: Actor,
    query: SearchQuery,
    fmt: str = "xlsx",
    progress: Progress | None = None,
) -> ExportFile:
    """The resources of a catalog view (the caller's visibility, no page limit) as XLSX or JSON."""
    views = list(iter_views(session, actor, query, progress))
    stamp = clock.today().strftime("%Y%m%d")
    if fmt == "json":
        body = {
            "exported_at": clock.china_now().isoformat(timespec="seconds"),
            "total": len(views),
            "resources": views,
        }
        content = json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8")
        return ExportFile(
            content, f"目录导出-{stamp}.json", f"catalog-export-{stamp}.json", JSON_MEDIA_TYPE, len(views)
        )
    if fmt != "xlsx":
        raise InvalidInput("导出格式只能是 xlsx 或 json。")
    return ExportFile(
        build_workbook(views),
        f"目录导出-{stamp}.xlsx",
        f"catalog-export-{stamp}.xlsx",
        XLSX_MEDIA_TYPE,
        len(views),
    )


def template_file() -> ExportFile:
    return ExportFile(build_workbook(None), "目录交换模板.xlsx", "catalog-template.xlsx", XLSX_MEDIA_TYPE, 0)


# --- writing workbooks -------------------------------------------------------------------------------


def _write_sheet(sheet, columns: tuple[Column, ...], rows: Iterable[list[Any]], last_row: int) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet.append([c.header for c in columns])
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="FFFFFF" if column.required else "000000")
        cell.fill = PatternFill("solid", fgColor="C0392B" if column.required else "D9E1F2")
        cell.alignment = Alignment(vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for row in rows:
        sheet.append([xlsx_cell(v) for v in row])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        options = choices(column)
        if options and column.kind != "info":
            letter = get_column_letter(index)
            validation = DataValidation(
                type="list", formula1='"' + ",".join(options) + '"', allow_blank=True, showErrorMessage=False
            )
            validation.add(f"{letter}2:{letter}{max(last_row, TEMPLATE_ROWS)}")
            sheet.add_data_validation(validation)


def build_workbook(views: list[dict[str, Any]] | None) -> bytes:
    """The exchange template (``views`` None) or an export in the same layout."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    resources = workbook.active
    resources.title = RESOURCE_SHEET
    resource_columns = RESOURCE_COLUMNS + (EXPORT_INFO_COLUMNS if views is not None else ())
    views = views or []
    _write_sheet(
        resources,
        resource_columns,
        ([resource_cell(c, v) for c in resource_columns] for v in views),
        len(views) + 1,
    )
    items_sheet = workbook.create_sheet(ITEM_SHEET)
    item_rows = [[item_cell(c, v, i) for c in ITEM_COLUMNS] for v in views for i in v.get("items", [])]
    _write_sheet(items_sheet, ITEM_COLUMNS, item_rows, len(item_rows) + 1)

    guide = workbook.create_sheet(GUIDE_SHEET)
    guide.append(["目录交换模板说明（CAT-10）"])
    guide["A1"].font = Font(bold=True, size=14)
    for rule in GUIDE_RULES:
        guide.append([rule])
    guide.append([])
    guide.append(["工作表", "列名", "必填", "说明", "可填写的值"])
    header_row = guide.max_row
    for cell in guide[header_row]:
        cell.font = Font(bold=True)
    for row in guide_rows():
        guide.append([xlsx_cell(v) for v in row])
    for letter, width in zip("ABCDE", (10, 14, 6, 60, 80), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
