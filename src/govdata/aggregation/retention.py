"""How long what a batch leaves under the data directory is kept, and how much space it all takes.

An uploaded file holds the rows in clear (公民身份号码 and all), so it is not kept longer than the
report needs it:

* a **failed or rejected** batch's source is removed as soon as the batch finishes
  (``run.finish``); a rejected batch keeps its errors file, which its report and the errors
  download read;
* an **applied** batch's source (and a rolled-back one's) is kept ``GOVDATA_UPLOAD_RETENTION_DAYS``
  (30 by default) after the batch finished, for a provider who asks what was loaded, and then
  removed by the daily sweep below. Its errors file stays: the batch page and the errors download
  never need the source.

The sweep (declared in ``govdata.capabilities``, a job per China date) also removes what a process
that died left behind: the source of a finished batch whose end was recorded but whose file was not
removed, a batch directory without a batch (its creation was rolled back), a pull's temporary file
whose run is over, and an upload spooled by a request or ``govdata ingest`` that never became a
batch. Whatever has no batch or run to ask is removed only once it is a day old, so that a batch or
run being created at that moment keeps its file.

``storage_usage`` is what ``govdata storage`` shows: the uploads kept, the errors files, the
temporary files, and the size of each store.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from govdata.aggregation import service
from govdata.aggregation.models import Batch, BatchStatus
from govdata.aggregation.pull_models import PullRun, RunOutcome
from govdata.core import audit, clock, jobs
from govdata.core.auth import SYSTEM_ACTOR
from govdata.core.config import Settings
from govdata.core.db import make_engine, unit_of_work
from govdata.core.observability import log

SWEEP = "aggregation.upload_retention"
"""The daily job that removes the sources whose retention ran out (and what crashed processes left)."""

GRACE = timedelta(days=1)
"""How old a file must be before it is removed when no batch or run says whose it is."""

DEFAULT_RETENTION_DAYS = Settings.model_fields["upload_retention_days"].default
DISCARDED_AT_FINISH = (BatchStatus.failed, BatchStatus.rejected)
KEPT_FOR_RETENTION = (BatchStatus.applied, BatchStatus.rolled_back)
PULL_FILE = re.compile(r"run-(\d+)\.parquet")
SPOOL_PREFIXES = ("tmp", "upload-")  # request spools: tempfile.mkdtemp under the data directory
INGEST_SPOOLS = "uploads"  # ``govdata ingest`` run in process
CHUNK = 500  # ids per query


def batches_root(data_dir: Path) -> Path:
    """The directory ``service.batch_dir`` keeps every batch's files in."""
    return service.batch_dir(Path(data_dir), 0).parent


def is_report(path: Path) -> bool:
    """A batch's errors file (``errors.parquet``, and ``errors.csv`` written by ``govdata ingest``):
    what its report and the errors download read. Anything else in a batch's directory is its
    source or what was derived from it."""
    return path.name.startswith("errors.")


# --- the sweep ------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """What one sweep removed."""

    batches: list[int] = field(default_factory=list)  # batches whose source went
    orphans: int = 0  # batch directories without a batch
    temporary: int = 0  # pull files and upload spools
    files: int = 0
    bytes: int = 0

    @property
    def removed_anything(self) -> bool:
        return bool(self.files or self.orphans or self.temporary)


def sweep(
    factory: sessionmaker, data_dir: Path, *, retention_days: int, now: datetime | None = None
) -> SweepResult:
    """Remove the sources of finished batches that are no longer kept, and left-over temporary files.

    Idempotent: a second sweep finds nothing more to remove. Never touches a queued or running batch,
    a running pull, or an errors file."""
    data_dir = Path(data_dir)
    now = now or clock.now()
    cutoff = now - timedelta(days=retention_days)
    result = SweepResult()
    _sweep_batches(factory, data_dir, cutoff, now, result)
    _sweep_pull_files(factory, data_dir, now, result)
    _sweep_spools(data_dir, now, result)
    if result.removed_anything:
        with unit_of_work(factory) as session:
            audit.record(
                session,
                SYSTEM_ACTOR,
                "aggregation.uploads.removed",
                "batch",
                None,
                details={
                    "batches": result.batches[:1000],
                    "batches_count": len(result.batches),
                    "orphans": result.orphans,
                    "temporary": result.temporary,
                    "files": result.files,
                    "bytes": result.bytes,
                    "retention_days": retention_days,
                },
            )
        log.info(
            "uploads removed",
            batches=len(result.batches),
            orphans=result.orphans,
            temporary=result.temporary,
            bytes=result.bytes,
        )
    return result


@jobs.handler(SWEEP)
def run_sweep(context: jobs.JobContext, payload: dict[str, Any]) -> None:
    """The job the daily sweep enqueues (one per China date, ``payload["date"]``)."""
    days = getattr(context.settings, "upload_retention_days", DEFAULT_RETENTION_DAYS)
    sweep(context.factory, context.data_dir, retention_days=int(days))


def _sweep_batches(
    factory: sessionmaker, data_dir: Path, cutoff: datetime, now: datetime, result: SweepResult
) -> None:
    root = batches_root(data_dir)
    if not root.is_dir():
        return
    holding = {}  # batch id → its directory, when it holds more than errors files
    for directory in root.iterdir():
        if directory.is_dir() and directory.name.isdigit() and any(_sources(directory)):
            holding[int(directory.name)] = directory
    for ids in _chunks(sorted(holding)):
        with unit_of_work(factory) as session:
            rows = session.execute(
                select(Batch.id, Batch.status, Batch.finished_at).where(Batch.id.in_(ids))
            ).all()
        known = {row.id: row for row in rows}
        for batch_id in ids:
            directory, row = holding[batch_id], known.get(batch_id)
            if row is None:
                if _older_than(directory, now - GRACE):
                    result.orphans += 1
                    _remove(directory, result)
                continue
            expired = row.status in KEPT_FOR_RETENTION and (
                row.finished_at is not None and row.finished_at <= cutoff
            )
            if row.status in DISCARDED_AT_FINISH or expired:
                for path in list(_sources(directory)):
                    _remove(path, result)
                result.batches.append(batch_id)


def _sweep_pull_files(factory: sessionmaker, data_dir: Path, now: datetime, result: SweepResult) -> None:
    """A pull reads its source into ``pulls/<pull>/run-<run>.parquet``, which its batch takes over or
    the run removes when it ends; one is left only when the process died."""
    root = data_dir / "pulls"
    if not root.is_dir():
        return
    found: dict[int | None, list[Path]] = {}
    for path in root.glob("*/*"):
        if path.is_file():
            match = PULL_FILE.fullmatch(path.name)
            found.setdefault(int(match.group(1)) if match else None, []).append(path)
    run_ids = sorted(i for i in found if i is not None)
    running: set[int] = set()
    known: set[int] = set()
    for ids in _chunks(run_ids):
        with unit_of_work(factory) as session:
            for run_id, outcome in session.execute(
                select(PullRun.id, PullRun.outcome).where(PullRun.id.in_(ids))
            ):
                known.add(run_id)
                if outcome == RunOutcome.running:
                    running.add(run_id)
    for run_id, paths in found.items():
        if run_id in running:
            continue
        for path in paths:
            if run_id in known or _older_than(path, now - GRACE):
                result.temporary += 1
                _remove(path, result)


def _sweep_spools(data_dir: Path, now: datetime, result: SweepResult) -> None:
    """An upload is spooled to a directory of its own and moved into its batch; a request or a
    ``govdata ingest`` that died before that leaves the spool."""
    for spool in _spool_dirs(data_dir):
        if _older_than(spool, now - GRACE):
            result.temporary += 1
            _remove(spool, result)


def _spool_dirs(data_dir: Path) -> Iterator[Path]:
    if not data_dir.is_dir():
        return
    for entry in data_dir.iterdir():
        if entry.is_dir() and entry.name.startswith(SPOOL_PREFIXES) and _is_spool(entry):
            yield entry
    ingest = data_dir / INGEST_SPOOLS
    if ingest.is_dir():
        yield from (entry for entry in ingest.iterdir() if entry.is_dir() and _is_spool(entry))


def _is_spool(directory: Path) -> bool:
    """A directory that holds nothing but an upload being spooled (``<spool>/upload``)."""
    return all(entry.name == "upload" and entry.is_file() for entry in directory.iterdir())


def _sources(directory: Path) -> Iterator[Path]:
    return (entry for entry in directory.iterdir() if not is_report(entry))


def _older_than(path: Path, moment: datetime) -> bool:
    """Whether ``path`` (and, for a directory, everything in it) was last changed before ``moment``."""
    limit = moment.timestamp()
    try:
        if path.stat().st_mtime >= limit:
            return False
        if path.is_dir():
            return all(entry.stat().st_mtime < limit for entry in path.rglob("*"))
    except FileNotFoundError:
        return False
    return True


def _remove(path: Path, result: SweepResult) -> None:
    try:
        if path.is_dir():
            files, size = _measure(path)
            shutil.rmtree(path)
        else:
            files, size = 1, path.stat().st_size
            path.unlink()
    except FileNotFoundError:  # removed meanwhile (the batch or run ended)
        return
    except OSError:
        log.warning("upload not removed", path=path.name, exc_info=True)
        return
    result.files += files
    result.bytes += size


def _measure(path: Path) -> tuple[int, int]:
    """Files and bytes under ``path`` (a file or a directory)."""
    if path.is_file():
        return 1, path.stat().st_size
    files = size = 0
    for entry in path.rglob("*"):
        try:
            if entry.is_file():
                files, size = files + 1, size + entry.stat().st_size
        except FileNotFoundError:
            continue
    return files, size


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


# --- space used (govdata storage) -------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """One line of the storage report."""

    name: str
    location: str
    files: int | None  # None: a database, not files
    bytes: int | None  # None: could not be measured (``note`` says why)
    note: str = ""


def storage_usage(settings: Settings) -> list[Usage]:
    """The space the platform uses: uploads kept, errors files, temporary files, and the stores."""
    data_dir = Path(settings.data_dir)
    root = batches_root(data_dir)
    uploads, reports = [0, 0], [0, 0]
    batches_with_source = 0
    if root.is_dir():
        for directory in root.iterdir():
            if not directory.is_dir():
                continue
            kept = False
            for entry in directory.iterdir():
                files, size = _measure(entry)
                target = reports if is_report(entry) else uploads
                target[0], target[1] = target[0] + files, target[1] + size
                kept = kept or (not is_report(entry) and files > 0)
            batches_with_source += kept
    temporary = [0, 0]
    pulls = data_dir / "pulls"
    for path in [pulls, *_spool_dirs(data_dir)]:
        if path.exists():
            files, size = _measure(path)
            temporary[0], temporary[1] = temporary[0] + files, temporary[1] + size
    days = settings.upload_retention_days
    lines = [
        Usage(
            "保留的上传文件",
            str(root),
            uploads[0],
            uploads[1],
            f"{batches_with_source} 个批次；已入库批次保留 {days} 天，失败和被拒绝的批次不保留",
        ),
        Usage("错误明细文件", str(root), reports[0], reports[1], "批次报告和错误明细下载使用"),
        Usage("临时文件", str(data_dir), temporary[0], temporary[1], "拉取和上传中途留下的文件，每日清理"),
    ]
    metadata_url = settings.resolved_database_url()
    store_url = settings.resolved_store_url()
    if _same_database(metadata_url, store_url):
        lines.append(_database_usage("元数据库与数据存储（同一数据库）", store_url))
    else:
        lines.append(_database_usage("元数据库", metadata_url))
        lines.append(_database_usage("数据存储", store_url))
    return lines


def _same_database(first: str, second: str) -> bool:
    if not first.startswith("postgres") or not second.startswith("postgres"):
        return False
    a, b = make_url(_sqlalchemy_url(first)), make_url(_sqlalchemy_url(second))
    return (a.host, a.port, a.database) == (b.host, b.port, b.database)


def _sqlalchemy_url(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1] if url.startswith("postgres://") else url


def _database_usage(name: str, url: str) -> Usage:
    """A store's size: its files for SQLite and DuckDB, ``pg_database_size`` for PostgreSQL."""
    if url.startswith("duckdb:///"):
        path = Path(url.removeprefix("duckdb:///").partition("?")[0])
        return _files_usage(name, path, [path, Path(f"{path}.wal")], "DuckDB")
    parsed = make_url(_sqlalchemy_url(url))
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        return _files_usage(name, path, files, "SQLite")
    location = parsed.render_as_string(hide_password=True)
    engine = make_engine(_sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    except Exception as exc:  # the server does not answer, or the role may not ask
        return Usage(
            name, location, None, None, f"PostgreSQL，无法读取大小：{str(exc).splitlines()[0][:120]}"
        )
    finally:
        engine.dispose()
    return Usage(name, location, None, int(size), "PostgreSQL 数据库大小")


def _files_usage(name: str, path: Path, files: list[Path], kind: str) -> Usage:
    present = [f for f in files if f.is_file()]
    if not present:
        return Usage(name, str(path), 0, 0, f"{kind}，文件不存在")
    return Usage(name, str(path), len(present), sum(f.stat().st_size for f in present), f"{kind} 文件")
