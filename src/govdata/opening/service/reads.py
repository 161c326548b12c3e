"""Reading open data (OPN-2, OPN-3, OPN-5): a page of records and whole-table downloads, always from
the store's current table (an emergency dataset stays current with each batch), the served items
only (:func:`catalog.served_items`), de-identified per the plan on every answer (:mod:`.deid`).

CSV is written by the database itself (DuckDB's ``COPY``, PostgreSQL's ``COPY … TO STDOUT``: the
``store.csv_export`` path sharing uses) when every served item is kept or masked and generalised in
SQL (``store.deid_export``: the same text as the Arrow transforms), else through Arrow record
batches de-identified column by column (``SqlStore.export_csv`` with a transform: pseudonymisation,
an address mask …); it is streamed as it is written, through a bounded queue from a thread of its
own, so memory holds a few blocks whatever the table's size. UTF-8 with a BOM, a header of item
codes, CRLF, text cells made safe. JSON and XLSX are written to a spool file under the data
directory and streamed from it in chunks. JSON is one array of records; XLSX one sheet, capped at
:data:`XLSX_MAX_ROWS` rows (Excel's limit less the header; the sheet says when it was cut).

Callers count what they serve with :func:`catalog.count_use` (a download, an API call).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from govdata.aggregation import service as aggregation
from govdata.catalog import service as catalog_facts
from govdata.core import files
from govdata.core.config import Settings
from govdata.core.errors import NotFound, field_error
from govdata.core.values import json_value
from govdata.opening.enums import Method
from govdata.opening.service import deid
from govdata.opening.service.catalog import (
    OpenAccess,
    OpenDataset,
    open_dataset,
    plan_of,
    rules_of,
    served_items,
)
from govdata.sharing import masking
from govdata.store import deid_export

EXPORT_DIR = "exports"
EXPORT_KEEP_SECONDS = 3600
BATCH_ROWS = 65_536
CHUNK_BYTES = 1 << 20
PIPE_CHUNKS = 8  # blocks of about a MiB between the database's writer and the answer
XLSX_MAX_ROWS = 1_048_575
MAX_PAGE = 1000
MAX_OFFSET = 100_000_000  # as the records route allows; the stores' offsets are 64-bit
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _open(session: Session, code: str) -> OpenDataset:
    dataset = open_dataset(session, code)
    if dataset is None:
        raise NotFound(f"开放数据集 {code} 不存在。")
    return dataset


def _table(session: Session, store, dataset: OpenDataset):
    ref = catalog_facts.resource_ref(session, id=dataset.resource_id)
    spec, _ = aggregation.table_of(session, ref)
    store.ensure_table(spec)
    return ref, spec


def _rules(session: Session, ref, codes: list[str]) -> dict[str, dict[str, Any]]:
    rules = rules_of(session, ref, plan_of(session, ref, _entry_of(session, ref)))
    return {c: rules[c] for c in codes}


def _entry_of(session: Session, ref):
    from govdata.opening.service.catalog import _entry

    return _entry(session, ref.id)


def _key(rules: dict[str, dict[str, Any]], settings: Settings | None) -> bytes | None:
    if any(r["method"] == Method.pseudonymise for r in rules.values()):
        return deid.pseudonym_key(settings)
    return None


def read_open(
    session: Session,
    store,
    code: str,
    access: OpenAccess,
    *,
    filters: dict[str, str] | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """A page of the open dataset's current records as ``access`` may read them: ``{items: [record by
    item code], total, fields: [item codes]}``. Filters and ``q`` (a substring) apply to the served
    items the plan keeps as they are (422 for another item). Pass ``settings`` (the node's data
    directory holds the pseudonymisation key)."""
    dataset = _open(session, code)
    items = served_items(dataset, access)
    codes = [i.code for i in items]
    if not codes:
        return {"items": [], "total": 0, "fields": []}
    kept = [i.code for i in items if i.method == Method.keep]
    for name, value in (filters or {}).items():
        if name.lower() not in kept:
            raise field_error(f"filters.{name}", "只能按原样开放的信息项筛选")
        if "\x00" in str(value):
            raise field_error(f"filters.{name}", "不能包含空字符（\\0）")
    if q and "\x00" in q:
        raise field_error("q", "不能包含空字符（\\0）")
    limit = max(1, min(int(limit), MAX_PAGE))
    offset = max(0, int(offset))
    if offset > MAX_OFFSET:
        raise field_error("offset", f"不能大于 {MAX_OFFSET}")
    ref, spec = _table(session, store, dataset)
    text_kept = [i.code for i in items if i.method == Method.keep and i.data_type in ("C", "M", "G")]
    found = store.search_rows(
        spec,
        codes,
        filters={k.lower(): str(v) for k, v in (filters or {}).items()},
        contains=(q or "").strip() or None,
        contains_codes=text_kept,
        limit=limit,
        offset=offset,
    )
    rules = _rules(session, ref, codes)
    rows = deid.transform_rows(found.rows, codes, rules, _key(rules, settings))
    return {"items": rows, "total": found.total, "fields": codes}


# --- downloads ---------------------------------------------------------------------------------------


def _spool(settings: Settings) -> Path:
    spool = Path(settings.data_dir) / EXPORT_DIR
    spool.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - EXPORT_KEEP_SECONDS
    for old in spool.glob("open-*"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    return spool


def _stream(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk
    finally:
        path.unlink(missing_ok=True)


def export_open(
    session: Session, settings: Settings, store, code: str, access: OpenAccess, fmt: str
) -> tuple[Iterator[bytes], str, str]:
    """The whole open dataset as ``access`` may read it, as CSV, JSON or XLSX: (body chunks, media
    type, filename). 404 when not open; 422 for another format or when nothing is served."""
    if fmt not in MEDIA_TYPES:
        raise field_error("format", "应为 csv、json 或 xlsx")
    dataset = _open(session, code)
    items = served_items(dataset, access)
    codes = [i.code for i in items]
    if not codes:
        raise field_error("format", "该数据集没有可向您提供的信息项（有条件开放的数据须经申请获批后下载）")
    ref, spec = _table(session, store, dataset)
    rules = _rules(session, ref, codes)
    key = _key(rules, settings)
    transform = None
    if any(r["method"] != Method.keep for r in rules.values()):

        def transform(batch: pa.RecordBatch) -> pa.RecordBatch:
            return deid.transform_batch(batch, rules, key)

    filename = f"{dataset.code.replace('/', '-')}.{fmt}"
    if fmt == "csv":
        return _csv(store, spec, codes, rules, transform), MEDIA_TYPES[fmt], filename
    descriptor, name = tempfile.mkstemp(dir=_spool(settings), prefix="open-", suffix=f".{fmt}")
    path = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as out:
            if fmt == "json":
                _write_json(out, store, spec, codes, transform)
            else:
                _write_xlsx(out, store, spec, items, codes, transform)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _stream(path), MEDIA_TYPES[fmt], filename


def sql_columns(store, spec, codes: list[str], rules: dict[str, dict[str, Any]]):
    """The served columns as the store's SQL (``store.deid_export``), or None when some rule needs the
    Arrow transforms (pseudonymisation, an address mask …)."""
    served = []
    for code in codes:
        rule = rules[code]
        option = (
            rule.get("mask") or masking.GENERIC if rule["method"] == Method.mask else rule.get("generalise")
        )
        served.append(deid_export.Served(code, rule["method"], option))
    return deid_export.plan_sql(store, spec, served)


def _csv(store, spec, codes, rules, transform) -> Iterator[bytes]:
    """The CSV, written by the database where it can (every served item kept, or masked and
    generalised in SQL: ``store.deid_export``), else from Arrow batches de-identified column by
    column; streamed as it is written (:func:`_piped`). The first block is read here, so that a
    failing statement fails the call rather than the answer."""
    header = files.write_csv(codes, [])
    columns = None if transform is None else sql_columns(store, spec, codes, rules)

    def write(out) -> None:
        if transform is None:
            store.export_csv(spec, codes, out, batch_size=BATCH_ROWS)
        elif columns is not None:
            deid_export.export_csv(store, spec, columns, out)
        else:
            store.export_csv(spec, codes, out, transform=transform, batch_size=BATCH_ROWS)

    body = _piped(write)
    first = next(body, b"")
    return _after(header + first, body)


def _after(first: bytes, body: Iterator[bytes]) -> Iterator[bytes]:
    """``first``, then the rest of ``body``; closing this closes ``body`` (stopping its writer)."""
    try:
        yield first
        yield from body
    finally:
        body.close()


class _Cancelled(Exception):
    """The reader went away: the writer stops (the database's COPY fails on its next write)."""


class _Queued:
    """A writer handing blocks to the reader through a bounded queue (memory: a few blocks)."""

    def __init__(self, chunks: queue.Queue, stop: threading.Event) -> None:
        self.chunks, self.stop = chunks, stop

    def write(self, data) -> None:
        if data:
            self.put(bytes(data))

    def put(self, item: Any) -> None:
        while True:
            if self.stop.is_set():
                raise _Cancelled
            try:
                self.chunks.put(item, timeout=0.2)
                return
            except queue.Full:
                continue


def _piped(write: Callable[[Any], None]) -> Iterator[bytes]:
    """Runs ``write(out)`` in a thread of its own and yields what it writes as it comes (no file in
    between); the writer's failure is raised here; closing the iterator stops the writer."""
    chunks: queue.Queue = queue.Queue(maxsize=PIPE_CHUNKS)
    stop = threading.Event()
    done = object()
    failure: list[BaseException] = []
    out = _Queued(chunks, stop)

    def run() -> None:
        try:
            write(out)
        except _Cancelled:
            pass
        except BaseException as error:  # handed to the reader
            failure.append(error)
        finally:
            with contextlib.suppress(_Cancelled):
                out.put(done)

    thread = threading.Thread(target=run, name="govdata-open-export", daemon=True)
    thread.start()
    try:
        while (chunk := chunks.get()) is not done:
            yield chunk
        if failure:
            raise failure[0]
    finally:
        stop.set()
        thread.join()


def _batches(store, spec, codes, transform) -> Iterator[pa.RecordBatch]:
    for batch in store.export_batches(spec, codes, BATCH_ROWS):
        yield batch if transform is None else transform(batch)


def _write_json(out, store, spec, codes, transform) -> None:
    out.write(b"[")
    first = True
    for batch in _batches(store, spec, codes, transform):
        rows = batch.to_pylist()
        if not rows:
            continue
        text = ",\n".join(json.dumps(r, ensure_ascii=False, default=json_value) for r in rows)
        out.write((text if first else ",\n" + text).encode("utf-8"))
        first = False
    out.write(b"]\n")


def _write_xlsx(out, store, spec, items, codes, transform) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("数据")
    sheet.append(list(codes))  # the same header as the CSV and the data package
    written = 0
    cut = False
    for batch in _batches(store, spec, codes, transform):
        for row in zip(*(batch.column(i).to_pylist() for i in range(batch.num_columns)), strict=True):
            if written >= XLSX_MAX_ROWS - 1:
                cut = True
                break
            sheet.append([files.xlsx_cell(v) for v in row])
            written += 1
        if cut:
            break
    if cut:
        sheet.append(["（表格行数已达上限，其余记录请下载 CSV 或 JSON 格式）"])
    book.save(out)
