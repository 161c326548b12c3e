"""Export (数据交换：批量导出, SHR-6): every current record's granted items as one file, under a grant
or as the provider's own staff, with the checks of :mod:`.data` (rate limit, items, masking, usage log).

**Export** writes the granted items of every current record, CSV or Parquet, masked as granted, with
no Python loop per row. CSV is written by the database itself (``SqlStore.export_csv``, see
``store.csv_export``), through Arrow and a DuckDB of its own when items are masked (:func:`_masker`),
every text cell made safe as ``core.files.safe_cell`` does (control characters dropped, a leading
``'`` before = + - @ tab or CR). CSV is UTF-8 with a BOM (Excel reads Chinese right), a header of item
codes, RFC 4180 quoting and CRLF line ends, as every CSV of the platform. Parquet is written from the
store's Arrow record batches. The file is written to a spool file under the data directory while its
SM3 digest is computed on the way (:class:`_Digesting`), so that the answer can carry its digest and
receipt in headers before the body: ``X-GovData-Digest: sm3=<hex>``, ``X-GovData-Manifest`` (Base64 of
the manifest JSON: resource, format, items, masked, rows, digest, cursor, freshness, under_review) and
``X-GovData-Receipt`` (Base64 of the receipt JSON, signed over the manifest). A consumer checks the
receipt against the manifest (``POST /api/v1/receipts/verify`` or offline) and the body's SM3 against
the manifest's ``digest``. ``X-GovData-Cursor`` is a changes cursor taken before the export: following
it from there misses nothing the file lacks.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from govdata.core import clock, files
from govdata.core.auth import Actor, require
from govdata.core.config import Settings
from govdata.core.errors import field_error
from govdata.core.signing import node_key
from govdata.sharing import masking, receipts
from govdata.sharing.auth import USE
from govdata.sharing.service.data import (
    EXCHANGE,
    _Call,
    _cursor,
    _freshness,
    _granted,
    _instant,
    _key_shown,
    _open,
    _Table,
    _table,
    keys_under_review,
)
from govdata.sharing.service.grants import Access
from govdata.store.sql import SqlStore

EXPORT_BATCH_ROWS = 65_536
EXPORT_DIR = "exports"
EXPORT_KEEP_SECONDS = 3600  # spool files a broken download left behind are removed after this
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"


@dataclass(frozen=True)
class ExportFile:
    """A written export, to send as it is; ``headers`` carry its digest, manifest and receipt."""

    path: Path
    media_type: str
    filename: str
    rows: int
    manifest: dict[str, Any]
    headers: dict[str, str]


def export(
    session: Session,
    actor: Actor,
    store: SqlStore,
    settings: Settings,
    code: str,
    format: str = "csv",
) -> ExportFile:
    """Every current record's granted items, masked as granted, as CSV or Parquet (see the module)."""
    require(actor, USE)
    with _Call(session, actor, code, EXCHANGE) as call:
        access = _open(call, EXCHANGE)
        if format not in ("csv", "parquet"):
            raise field_error("format", "应为 csv 或 parquet")
        table = _table(session, store, access)
        codes = _granted(access, table)
        call.items = tuple(codes)
        horizon = store.latest_batch(table.spec)  # before the snapshot: a cursor that misses nothing
        spool = _spool_dir(settings)
        descriptor, name = tempfile.mkstemp(dir=spool, suffix=f".{format}")
        path = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                out = _Digesting(handle)
                if format == "csv":
                    rows = _write_csv(out, store, table, access, codes)
                else:
                    schema = _export_schema(store, table, access, codes)
                    rows = _write_parquet(out, schema, _masked_batches(store, table, access, codes))
            digest = out.hexdigest()
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        review = keys_under_review(session, access.resource.id, None)
        manifest = {
            "resource_code": access.resource.code,
            "format": format,
            "items": codes,
            "masked": [c for c in codes if c in access.masked],
            "rows": rows,
            "digest": digest,
            "digest_alg": "SM3",
            "cursor": _cursor(settings, access, horizon, None, horizon),
            "under_review": sorted(_key_shown(access, table, sorted(review))),
            "freshness": _freshness(session, access),
            "generated_at": _instant(clock.now()),
        }
        receipt = receipts.issue(
            node_key(settings),
            manifest,
            grant_id=access.grant_id,
            resource_code=access.resource.code,
            at=clock.now(),
            direct_evidence=access.direct_evidence,
        )
        call.rows = rows
        call.details = {"format": format, "digest": digest}
        filename = f"{access.resource.code.replace('/', '-')}.{format}"
        headers = {
            "X-GovData-Rows": str(rows),
            "X-GovData-Digest": f"sm3={digest}",
            "X-GovData-Cursor": manifest["cursor"],
            "X-GovData-Manifest": _b64json(manifest),
            "X-GovData-Receipt": _b64json(receipt),
        }
        media_type = CSV_MEDIA_TYPE if format == "csv" else PARQUET_MEDIA_TYPE
        return ExportFile(path, media_type, filename, rows, manifest, headers)


def _spool_dir(settings: Settings) -> Path:
    spool = Path(settings.data_dir) / EXPORT_DIR
    spool.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - EXPORT_KEEP_SECONDS
    for old in spool.iterdir():  # left by a download that broke off before its clean-up ran
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    return spool


def _b64json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


class _Digesting(io.RawIOBase):
    """The spool file, written through: the SM3 digest of what is written, computed on the way (no
    second reading of the file)."""

    def __init__(self, file: BinaryIO) -> None:
        super().__init__()
        self._file = file
        self._digest = hashlib.new("sm3")
        self._size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._digest.update(data)
        self._file.write(data)
        size = memoryview(data).nbytes
        self._size += size
        return size

    def tell(self) -> int:
        return self._size

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def _masker(
    table: _Table, access: Access, codes: list[str]
) -> Callable[[pa.RecordBatch], pa.RecordBatch] | None:
    """The masking of a record batch of ``codes``, as the grant serves them; None when none is masked."""
    kinds = {c: table.kinds.get(c, masking.GENERIC) for c in codes if c in access.masked}
    if not kinds:
        return None

    def mask(batch: pa.RecordBatch) -> pa.RecordBatch:
        columns = [
            masking.mask_array(kinds[c], batch.column(i)) if c in kinds else batch.column(i)
            for i, c in enumerate(codes)
        ]
        return pa.record_batch(columns, names=codes)

    return mask


def _masked_batches(
    store: SqlStore, table: _Table, access: Access, codes: list[str]
) -> Iterator[pa.RecordBatch]:
    if not codes:
        return
    mask = _masker(table, access, codes)
    for batch in store.export_batches(table.spec, codes, EXPORT_BATCH_ROWS):
        yield batch if mask is None else mask(batch)


def _write_csv(out: _Digesting, store: SqlStore, table: _Table, access: Access, codes: list[str]) -> int:
    """The BOM and the header of item codes (``core.files.write_csv``, as every CSV of the platform),
    then the rows as the store writes them (``store.csv_export``: the database writes the CSV, the
    text cells made safe the same way), masked on the way where the grant says so."""
    out.write(files.write_csv(codes, []))
    if not codes:
        return 0
    transform = _masker(table, access, codes)
    return store.export_csv(table.spec, codes, out, transform=transform, batch_size=EXPORT_BATCH_ROWS)


def _export_schema(store: SqlStore, table: _Table, access: Access, codes: list[str]) -> pa.Schema:
    """The Parquet file's columns: the items' stored types, text where served masked."""
    stored = store.arrow_schema(table.spec, codes)
    return pa.schema([pa.field(f.name, pa.string()) if f.name in access.masked else f for f in stored])


def _write_parquet(out, schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> int:
    rows = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in batches:
            if batch.schema != schema:
                batch = batch.cast(schema)
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows
