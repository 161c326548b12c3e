"""Files people attach (materials of a share application, evidence of an objection): checked by their
content, never their name, and kept under the data directory by their SHA-256.

An office file is a zip archive; the platform reads only its directory (the names say Word, Excel or
OFD) and never inflates it. So that an attachment cannot be a zip bomb for whoever opens it, the archive
may hold at most :data:`MAX_ZIP_MEMBERS` files declaring at most :data:`MAX_ZIP_INFLATED_BYTES` in
all (413 beyond), none inflating more than :data:`MAX_ZIP_RATIO` times its compressed size (422).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from govdata.core.errors import PayloadTooLarge, Problem, field_error

MAX_BYTES = 10 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_INFLATED_BYTES = 100 * 1024 * 1024
MAX_ZIP_RATIO = 200  # deflate reaches about 1000 on repeated bytes; office XML stays well below 100
_RATIO_FROM_BYTES = 1024 * 1024  # smaller members are not judged by their ratio

# what an attachment may be, told by its first bytes: PDF, images, and office files (OOXML, OFD: zip)
_MAGIC = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
_ZIP_KINDS = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "OFD.xml": ("application/ofd", ".ofd"),
}


def _archive_refusal(infos: list[zipfile.ZipInfo]) -> Problem | None:
    """Why an archive with these members is refused (see the module's docstring), from what its
    directory declares: nothing is inflated."""
    if len(infos) > MAX_ZIP_MEMBERS:
        return PayloadTooLarge(f"压缩文件内的文件超过 {MAX_ZIP_MEMBERS} 个，不予接收。")
    if sum(info.file_size for info in infos) > MAX_ZIP_INFLATED_BYTES:
        return PayloadTooLarge(f"压缩文件解压后超过 {MAX_ZIP_INFLATED_BYTES // (1024 * 1024)} MB，不予接收。")
    for info in infos:
        if info.file_size > _RATIO_FROM_BYTES and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            return field_error(
                "file", f"压缩文件中 {info.filename[:100]} 的压缩比异常（疑似压缩炸弹），不予接收"
            )
    return None


def sniff(data: bytes) -> tuple[str, str] | None:
    """The content type and extension of an allowed attachment, or None; an office file (a zip) that
    would inflate beyond the bounds raises its refusal (413 or 422)."""
    for magic, content_type, ext in _MAGIC:
        if data.startswith(magic):
            return content_type, ext
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, ValueError, RuntimeError, NotImplementedError, EOFError):
            return None
        if refusal := _archive_refusal(infos):
            raise refusal
        names = [info.filename for info in infos]
        for prefix, kind in _ZIP_KINDS.items():
            if any(name.startswith(prefix) for name in names):
                return kind
    return None


def clean_name(filename: str | None, default: str) -> str:
    """The name to show for an uploaded file: its last path part, printable, at most 200 characters."""
    name = Path((filename or "").replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    return (name or default)[:200]


@dataclass(frozen=True)
class Stored:
    """An attachment kept on disk: ``stored_as`` is relative to the folder's parent."""

    content_type: str
    size: int
    sha256: str
    stored_as: str


def store(data: bytes, folder: Path, *, what: str) -> Stored:
    """Checks ``data`` (not empty, at most :data:`MAX_BYTES`, an allowed kind by its content) and keeps
    it in ``folder`` as ``<sha256><ext>``, written whole or not at all. ``what`` names the file in
    messages (附件, 证明材料)."""
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"{what}不能超过 {MAX_BYTES // (1024 * 1024)} MB。")
    if not data:
        raise field_error("file", f"{what}为空")
    kind = sniff(data)
    if kind is None:
        raise field_error("file", "只接受 PDF、PNG、JPEG、Word（docx）、Excel（xlsx）或 OFD 文件")
    content_type, ext = kind
    digest = hashlib.sha256(data).hexdigest()
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{digest}{ext}"
    if not stored.exists():
        partial = stored.with_suffix(ext + ".part")
        partial.write_bytes(data)
        partial.replace(stored)
    return Stored(content_type, len(data), digest, f"{folder.name}/{digest}{ext}")
