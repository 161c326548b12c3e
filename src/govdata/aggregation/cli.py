"""``govdata ingest FILE --resource CODE --as USER``: load a batch (AGG-2…5) from the command line,
with a progress bar.

One process writes the DuckDB file: the server. So when a server answers (``--server``, or the
configured ``GOVDATA_HOST``/``GOVDATA_PORT``), the command is an HTTP client of it: it logs in as the
user (password from the environment variable ``--password-env`` names, or asked for), uploads with
``wait=false`` and follows ``GET /api/v1/batches/{id}``. When none answers, it runs the batch in this
process against the stores, through the same service and job runner as the server, acting as the
named user (as ``govdata catalog`` does: whoever can run it can read the data directory anyway). In
both cases the rules, the audit trail and the result are those of an upload through the API.

Exit codes: 0 applied; 1 rejected or failed (the batch report says why); 2 the command could not
run (unknown user or resource, no permission, a server that does not answer, a store held by
another process).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from govdata.aggregation.models import BatchMode, BatchPolicy, BatchStatus
from govdata.core.cli import console, err_console, reports_problems
from govdata.core.config import get_settings
from govdata.core.errors import Problem
from govdata.core.labels import label
from govdata.core.observability import configure_logging

FINISHED = {"applied", "rejected", "failed", "rolled_back"}
POLL_SECONDS = 0.5
DEFAULT_PASSWORD_ENV = "GOVDATA_PASSWORD"


class CommandFailed(Problem):
    """The command could not do its work (exit code 2)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, slug="cli", title="Command failed")


def _bar(transfer: bool = False) -> Progress:
    columns = [TextColumn("{task.description}"), BarColumn()]
    columns += [DownloadColumn(), TransferSpeedColumn()] if transfer else [TaskProgressColumn()]
    return Progress(*columns, TimeElapsedColumn(), console=err_console, transient=True)


class _Reading:
    """A binary file whose reads advance a progress bar (httpx streams the upload through ``read``)."""

    def __init__(self, path: Path, advance: Callable[[int], None]) -> None:
        self._file, self._advance = path.open("rb"), advance

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._advance(len(chunk))
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()


def _follow(read_state: Callable[[], dict[str, Any]], batch_id: int) -> dict[str, Any]:
    """Poll the batch until it is finished, showing its stage and progress."""
    with _bar() as bar:
        task = bar.add_task(f"批次 {batch_id}：排队中", total=1.0)
        while True:
            state = read_state()
            stage = state.get("stage") or label(BatchStatus, state["status"])
            bar.update(
                task, completed=float(state.get("progress") or 0.0), description=f"批次 {batch_id}：{stage}"
            )
            if state["status"] in FINISHED:
                bar.update(task, completed=1.0)
                return state
            time.sleep(POLL_SECONDS)


def _report(state: dict[str, Any], errors_hint: str | None) -> int:
    table = Table(show_header=False, title=f"批次 {state['id']}（{label(BatchMode, state['mode'])}）")
    table.add_row("状态", label(BatchStatus, state["status"]))
    table.add_row("总行数", f"{state['rows_total']:,}")
    table.add_row("入库", f"{state['rows_applied']:,}")
    table.add_row("拒绝", f"{state['rows_rejected']:,}")
    table.add_row(
        "新增 / 更新 / 删除",
        f"{state['rows_inserted']:,} / {state['rows_updated']:,} / {state['rows_deleted']:,}",
    )
    table.add_row("错误条数", f"{state['errors_count']:,}")
    console.print(table)
    if state.get("message"):
        console.print(f"说明：{state['message']}")
    if state.get("warnings"):
        console.print(f"[yellow]提示：[/yellow]{state['warnings']}")
    if state["errors_count"] and errors_hint:
        console.print(f"错误明细（CSV）：{errors_hint}")
    return 0 if state["status"] == "applied" else 1


# --- through a running server -----------------------------------------------------------------------


def _server_answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _problem(response: httpx.Response) -> CommandFailed:
    try:
        detail = response.json().get("detail") or response.text
    except ValueError:
        detail = response.text[:300]
    return CommandFailed(f"服务返回 {response.status_code}：{detail}")


def _password(password_env: str | None) -> str:
    name = password_env or DEFAULT_PASSWORD_ENV
    if os.environ.get(name):
        return os.environ[name]
    if password_env:
        raise CommandFailed(f"环境变量 {password_env} 未设置（应为该用户的密码）。")
    return typer.prompt("密码", hide_input=True, err=True)


def _ingest_over_http(
    url: str,
    path: Path,
    code: str,
    username: str,
    password: str,
    form: dict[str, str],
    errors_out: Path | None,
) -> int:
    timeout = httpx.Timeout(60.0, write=None, read=600.0)
    with httpx.Client(base_url=url, timeout=timeout) as client:
        login = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        if login.status_code != 200:
            raise _problem(login)
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        with _bar(transfer=True) as bar:
            task = bar.add_task("上传文件", total=path.stat().st_size)
            reading = _Reading(path, lambda n: bar.advance(task, n))
            try:
                response = client.post(
                    f"/api/v1/resources/{code}/batches",
                    files={"file": (path.name, reading, "application/octet-stream")},
                    data={**form, "wait": "false"},
                    headers=headers,
                )
            finally:
                reading.close()
        if response.status_code not in (201, 202):
            raise _problem(response)
        batch_id = response.json()["id"]

        def read_state() -> dict[str, Any]:
            answer = client.get(f"/api/v1/batches/{batch_id}", headers=headers)
            if answer.status_code != 200:
                raise _problem(answer)
            return answer.json()

        state = _follow(read_state, batch_id)
        errors_url = f"{url}/api/v1/batches/{batch_id}/errors?format=csv"
        if errors_out is not None and state["errors_count"]:
            errors_out.write_bytes(client.get(errors_url, headers=headers).content)
            hint = str(errors_out)
        else:
            hint = f"{errors_url}（带上该用户的令牌），或加 --errors 文件名"
        return _report(state, hint)


# --- in this process ---------------------------------------------------------------------------------


def _spool(path: Path, directory: Path) -> tuple[Path, str]:
    """Copy the file where the batch keeps its source (the upload is moved there), with its SHA-256."""
    directory.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(dir=directory)) / "upload"
    digest = hashlib.sha256()
    with _bar(transfer=True) as bar, path.open("rb") as src, target.open("wb") as out:
        task = bar.add_task("读取文件", total=path.stat().st_size)
        while chunk := src.read(4 * 1024 * 1024):
            digest.update(chunk)
            out.write(chunk)
            bar.advance(task, len(chunk))
    return target, digest.hexdigest()


def open_data_store(url: str):
    import duckdb

    from govdata.store import open_store

    try:
        return open_store(url)
    except duckdb.IOException as exc:
        raise CommandFailed(
            "数据存储正被另一个进程使用（多半是正在运行的平台服务）：请用 --server 指定该服务的地址，"
            f"通过 HTTP 接口提交。（{str(exc).splitlines()[0][:200]}）"
        ) from exc


def _ingest_in_process(
    path: Path, code: str, username: str, form: dict[str, str], errors_out: Path | None
) -> int:
    from govdata.aggregation import jobs as batch_jobs
    from govdata.aggregation import service
    from govdata.aggregation.models import Batch
    from govdata.aggregation.schemas import BatchOut
    from govdata.catalog.cli import acting_user
    from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
    from govdata.core.jobs import JobContext, Worker

    settings = get_settings()
    engine = make_engine(settings.resolved_database_url())
    factory = make_sessionmaker(engine)
    store = open_data_store(settings.resolved_store_url())
    spooled: Path | None = None
    try:
        with unit_of_work(factory) as session:  # refuse an unknown user or resource before copying
            actor = acting_user(session, username)
            service.table_of(session, service.own_resource(session, actor, code))
        spooled, checksum = _spool(path, settings.data_dir / "uploads")
        with unit_of_work(factory) as session:
            actor = acting_user(session, username)
            batch_id = service.create_batch(
                session,
                actor,
                settings.data_dir,
                code,
                mode=form["mode"],
                policy=form["policy"],
                upload=service.Upload(spooled, path.name, checksum),
                encoding=form.get("encoding"),
            ).id
        # this process runs the batch job alone; the events it emits are handled by the server later
        context = JobContext(factory=factory, store=store, data_dir=settings.data_dir, settings=settings)
        worker = Worker(context, kinds={batch_jobs.service.RUN_BATCH}, poll_seconds=0.2)
        try:
            worker.start()

            def read_state() -> dict[str, Any]:
                with unit_of_work(factory) as session:
                    return BatchOut.model_validate(session.get(Batch, batch_id)).model_dump(mode="json")

            state = _follow(read_state, batch_id)
        finally:
            worker.stop()
        hint = None
        if state["errors_count"]:
            with unit_of_work(factory) as session:
                rows = service.batch_errors(
                    session, acting_user(session, username), settings.data_dir, batch_id
                )
            # beside the batch's other files unless the caller named a file
            target = errors_out or service.batch_dir(settings.data_dir, batch_id) / "errors.csv"
            target.write_bytes(service.errors_csv(rows))
            hint = str(target)
        return _report(state, hint)
    finally:
        if spooled is not None:
            shutil.rmtree(spooled.parent, ignore_errors=True)
        store.close()
        engine.dispose()


# --- the command ----------------------------------------------------------------------------------------


@reports_problems
def ingest(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="CSV（UTF-8/GBK/GB18030）、XLSX、JSON/NDJSON 或 Parquet 文件"
        ),
    ],
    resource: Annotated[str, typer.Option("--resource", help="资源代码")],
    username: Annotated[str, typer.Option("--as", help="以哪个用户的身份提交（用户名），权限同该用户")],
    mode: Annotated[
        BatchMode, typer.Option(help="replace 全量替换、upsert 增量更新、delete 按关键标识删除")
    ] = BatchMode.upsert,
    policy: Annotated[
        BatchPolicy, typer.Option(help="strict 有错即整批拒绝；accept_valid 有效行入库、错误行隔离")
    ] = BatchPolicy.strict,
    encoding: Annotated[
        str | None, typer.Option(help="CSV 编码：utf-8、gbk 或 gb18030；默认自动识别")
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(help="平台服务地址，如 http://127.0.0.1:8000；默认按 GOVDATA_HOST/GOVDATA_PORT 查找"),
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env", help=f"存放该用户密码的环境变量名（默认 {DEFAULT_PASSWORD_ENV}，未设置则询问）"
        ),
    ] = None,
    errors: Annotated[
        Path | None, typer.Option("--errors", dir_okay=False, help="把错误明细写入该 CSV 文件")
    ] = None,
) -> None:
    """提交一个归集批次并显示进度：有平台服务在运行时通过其 HTTP 接口提交，否则在本进程内直接处理。"""
    form = {"mode": mode.value, "policy": policy.value}
    if encoding:
        form["encoding"] = encoding
    settings = get_settings()
    configure_logging("WARNING", json_logs=False)  # the progress bar and the report are the output
    url = (
        server
        or f"http://{'127.0.0.1' if settings.host in ('0.0.0.0', '::') else settings.host}:{settings.port}"
    ).rstrip("/")
    if _server_answers(url):
        err_console.print(f"通过平台服务 {url} 提交（以 {username} 的身份）。")
        code = _ingest_over_http(url, path, resource, username, _password(password_env), form, errors)
    elif server:
        raise CommandFailed(f"平台服务 {url} 没有响应（/healthz）。")
    else:
        err_console.print(f"未发现运行中的平台服务，在本进程内直接处理（以 {username} 的身份）。")
        code = _ingest_in_process(path, resource, username, form, errors)
    raise typer.Exit(code)


# --- space used ----------------------------------------------------------------------------------------


def _size(value: int | None) -> str:
    if value is None:
        return "—"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:,.0f} {unit}" if unit == "B" else f"{amount:,.1f} {unit}"
        amount /= 1024
    return f"{amount:,.1f} TiB"  # pragma: no cover


@reports_problems
def storage() -> None:
    """显示平台占用的空间：保留的上传文件、错误明细文件、临时文件，以及元数据库和数据存储的大小。"""
    from govdata.aggregation.retention import storage_usage

    settings = get_settings()
    table = Table(title=f"存储空间（数据目录 {settings.data_dir}）")
    table.add_column("内容")
    table.add_column("文件数", justify="right")
    table.add_column("大小", justify="right")
    table.add_column("说明")
    table.add_column("位置", overflow="fold")
    for line in storage_usage(settings):
        files = "—" if line.files is None else f"{line.files:,}"
        table.add_row(line.name, files, _size(line.bytes), line.note, line.location)
    console.print(table)
