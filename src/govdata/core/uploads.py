"""A multipart/form-data upload read as a stream: its file goes straight to where the caller keeps
it (under the data directory), hashed as it is written, and never through the system's temporary
directory.

The framework's own form parsing spools a file into a temporary file (in the system's temporary
directory once past 1 MiB), which the route then copied to the data directory: every upload was
written twice, and a small temporary directory refused large files whatever ``max_upload_mb``
allowed. Here python-multipart's push parser is fed the body as it arrives; the file's bytes are
collected and, every :data:`FLUSH_BYTES`, hashed and written off the event loop. The limits are
those the forms had: one file of at most ``limit`` bytes (413 beyond, as it arrives), at most
``max_fields`` other fields of at most :data:`MAX_FIELD_BYTES` each (413), a part header of at most
4 KiB (400, as a file name too long), and a body that ends with its closing boundary (400).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from govdata.core.errors import MalformedBody, PayloadTooLarge

FLUSH_BYTES = 1024 * 1024
MAX_FIELD_BYTES = 64 * 1024
MAX_HEADER_BYTES = 4096 + 128
MIB = 1024 * 1024


@dataclass
class Received:
    """What a form carried: its text fields, and its file if it had one (``path`` then exists)."""

    fields: dict[str, str]
    path: Path | None = None
    filename: str | None = None
    size: int = 0
    checksum: str | None = None
    head: bytes = b""  # the file's first bytes, to tell its kind by


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: str | None = None
    is_file: bool = False
    value: bytearray = field(default_factory=bytearray)


class _Form:
    """The parser's callbacks: where each part's bytes go, and the limits."""

    def __init__(self, target: Path, limit: int, max_fields: int, file_field: str) -> None:
        self.target, self.limit, self.max_fields, self.file_field = target, limit, max_fields, file_field
        self.received = Received(fields={})
        self.part = _Part()
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.fields = self.files = 0
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.digest = hashlib.sha256()
        self.out = None
        self.ended = False

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda data, start, end: self.header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self.header_value.extend(data[start:end]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self.part = _Part()

    def header_end(self) -> None:
        self.part.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def headers_finished(self) -> None:
        _, options = parse_options_header(
            self.part.headers.get(b"content-disposition", b"").decode("latin-1")
        )
        if b"name" not in options:
            raise MalformedBody("表单数据的每一部分都须在 Content-Disposition 中给出 name。")
        self.part.name = _text(options[b"name"])
        if b"filename" in options:
            self.part.is_file = True
            self.files += 1
            if self.files > 1:
                raise PayloadTooLarge("一次上传的文件太多。")
            if self.part.name == self.file_field:
                self.received.filename = _text(options[b"filename"])
                self.received.path = self.target
                self.out = self.target.open("xb")
        else:
            self.fields += 1
            if self.fields > self.max_fields:
                raise PayloadTooLarge("表单字段太多。")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if not self.part.is_file:
            self.part.value.extend(data[start:end])
            if len(self.part.value) > MAX_FIELD_BYTES:
                raise PayloadTooLarge("表单字段超过允许的大小。")
            return
        if self.out is None:  # a file under another name: not kept
            return
        chunk = data[start:end]
        self.received.size += len(chunk)
        if self.received.size > self.limit:
            raise PayloadTooLarge(f"文件超过上限 {self.limit // MIB} MiB。")
        if len(self.received.head) < 8:
            self.received.head += chunk[: 8 - len(self.received.head)]
        self.pending.append(chunk)
        self.pending_bytes += len(chunk)

    def part_end(self) -> None:
        if not self.part.is_file and self.part.name is not None:
            self.received.fields[self.part.name] = _text(bytes(self.part.value))

    def end(self) -> None:
        self.ended = True

    def flush(self) -> None:
        """Hash and write what has arrived (blocking: call it off the event loop)."""
        for chunk in self.pending:
            self.digest.update(chunk)
            self.out.write(chunk)
        self.pending.clear()
        self.pending_bytes = 0

    def close(self) -> None:
        if self.out is not None:
            self.out.close()


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


async def receive_form(request: Request, target: Path, *, limit: int, max_fields: int = 20) -> Received:
    """Read the request's multipart body: its file part named ``file`` is written to ``target`` (a
    new file; the caller removes it on failure), its other parts are returned as text. Raises
    ``MalformedBody`` (400) or ``PayloadTooLarge`` (413) as described in the module's docstring."""
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedBody("multipart/form-data 请求缺少 boundary 参数。")
    form = _Form(target, limit, max_fields, "file")
    try:
        parser = MultipartParser(boundary, form.callbacks(), max_header_size=MAX_HEADER_BYTES)
    except FormParserError as exc:  # a boundary longer than the standard allows
        raise MalformedBody("multipart/form-data 的 boundary 参数无效。") from exc
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if form.pending_bytes >= FLUSH_BYTES:
                await run_in_threadpool(form.flush)
        if form.pending:
            await run_in_threadpool(form.flush)
    except MultipartParseError as exc:
        if "header size" in str(exc):
            raise MalformedBody("表单数据中某一部分的头部超过 4 KiB（例如文件名太长），无法解析。") from exc
        raise MalformedBody("请求体无法解析：表单数据（multipart/form-data）格式不正确。") from exc
    finally:
        await run_in_threadpool(form.close)
    if not form.ended:
        raise MalformedBody("请求体无法解析：表单数据（multipart/form-data）没有结束边界。")
    received = form.received
    if received.path is not None:
        received.checksum = form.digest.hexdigest()
    return received
