"""Catalog exchange (CAT-10): the XLSX template, import with row-level errors, export of any view.

``template`` holds the layout (sheets, columns, guide), ``cells`` how a cell is read and written,
``importer`` and ``exporter`` the two directions; a workbook is checked and read by ``core.files``.

* The template (documented in ``docs/catalog-exchange.md``) has a sheet "资源" (one row per
  resource), a sheet "信息项" (one row per item, linked to its resource by 资源代码 or 资源名称) and
  a sheet "说明" generated from the enumerations. Enumerated cells take the Chinese label or the
  English value; the export writes labels, so export → edit → import works.
* An import is all or nothing: every row is parsed into ``ResourceIn`` and checked with the same
  ``service.validate_resource`` as the API, and the checks of ``service.update_resource`` are made
  up front, so that one answer lists every faulty row. Only when no row has an error are the
  resources created or updated through the service, in the caller's transaction: if anything fails
  after all, the raised problem rolls the whole import back.
* An update row replaces the fields of the columns the sheet has (an empty cell clears the field);
  columns missing from the sheet keep their stored value, and a resource without rows on "信息项"
  keeps its items. A row that equals the stored resource is left alone, so re-importing an export
  neither opens revisions nor asks for reasons.
* Cells are data, never formulas: the reader takes each cell's stored value as text, and the
  export prefixes text that starts with = + - @ (or a tab/CR) with ``'`` so that a spreadsheet will
  not evaluate it (``core.files.safe_cell``); the import removes that prefix again.
"""

from govdata.catalog.exchange.cells import CellError, cell_text, enum_value, parse_cell
from govdata.catalog.exchange.exporter import (
    ExportFile,
    build_workbook,
    content_disposition,
    export_catalog,
    iter_views,
    template_file,
)
from govdata.catalog.exchange.importer import (
    MAX_FILE_BYTES,
    MAX_RESOURCES,
    ImportResult,
    UnsupportedFile,
    describe,
    import_catalog,
    read_limited,
    sniff,
)
from govdata.catalog.exchange.template import (
    EXPORT_INFO_COLUMNS,
    GUIDE_SHEET,
    ITEM_COLUMNS,
    ITEM_SHEET,
    JSON_MEDIA_TYPE,
    RESOURCE_COLUMNS,
    RESOURCE_FIELDS,
    RESOURCE_SHEET,
    Column,
    Progress,
)
from govdata.core.files import XLSX_MEDIA_TYPE

__all__ = [
    "EXPORT_INFO_COLUMNS",
    "GUIDE_SHEET",
    "ITEM_COLUMNS",
    "ITEM_SHEET",
    "JSON_MEDIA_TYPE",
    "MAX_FILE_BYTES",
    "MAX_RESOURCES",
    "RESOURCE_COLUMNS",
    "RESOURCE_FIELDS",
    "RESOURCE_SHEET",
    "XLSX_MEDIA_TYPE",
    "CellError",
    "Column",
    "ExportFile",
    "ImportResult",
    "Progress",
    "UnsupportedFile",
    "build_workbook",
    "cell_text",
    "content_disposition",
    "describe",
    "enum_value",
    "export_catalog",
    "import_catalog",
    "iter_views",
    "parse_cell",
    "read_limited",
    "sniff",
    "template_file",
]
