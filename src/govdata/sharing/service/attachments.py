"""Materials attached to a share application (SHR-2): stored under the data directory, size- and
type-checked by their content (not their name), never served to anyone who cannot see the application.

An office file is a zip archive; the platform reads only its directory (the names say Word, Excel or
OFD) and never inflates it. So that a material cannot be a zip bomb for whoever opens it, the archive
may hold at most :data:`MAX_ZIP_MEMBERS` files declaring at most :data:`MAX_ZIP_INFLATED_BYTES` in
all (413 beyond), none inflating more than :data:`MAX_ZIP_RATIO` times its compressed size (422).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.core import audit
from govdata.core.auth import Actor, enforce
from govdata.core.errors import NotFound, PayloadTooLarge, Problem, field_error
from govdata.sharing.auth import attach_refusal
from govdata.sharing.models import Application, Attachment
from govdata.sharing.service.applications import get_application

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_APPLICATION = 20
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_INFLATED_BYTES = 100 * 1024 * 1024
MAX_ZIP_RATIO = 200  # deflate reaches about 1000 on repeated bytes; office XML stays well below 100
_RATIO_FROM_BYTES = 1024 * 1024  # smaller members are not judged by their ratio

# what a material may be, told by its first bytes: PDF, images, and office files (OOXML, OFD: zip)
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
    """The content type and extension of an allowed material, or None; an office file (a zip) that
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


def _clean_name(filename: str | None) -> str:
    name = Path((filename or "").replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    return (name or "附件")[:200]


def add_attachment(
    session: Session, actor: Actor, data_dir: Path, application_id: int, filename: str | None, data: bytes
) -> Attachment:
    application = get_application(session, actor, application_id)
    enforce(attach_refusal(actor, application))
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"附件不能超过 {MAX_BYTES // (1024 * 1024)} MB。")
    if not data:
        raise field_error("file", "附件为空")
    kind = sniff(data)
    if kind is None:
        raise field_error("file", "只接受 PDF、PNG、JPEG、Word（docx）、Excel（xlsx）或 OFD 文件")
    count = len(
        session.scalars(select(Attachment.id).where(Attachment.application_id == application.id)).all()
    )
    if count >= MAX_PER_APPLICATION:
        raise field_error("file", f"每个申请最多 {MAX_PER_APPLICATION} 个附件")
    content_type, ext = kind
    digest = hashlib.sha256(data).hexdigest()
    folder = data_dir / "attachments" / str(application.id)
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{digest}{ext}"
    if not stored.exists():
        partial = stored.with_suffix(ext + ".part")
        partial.write_bytes(data)
        partial.replace(stored)
    attachment = Attachment(
        application_id=application.id,
        filename=_clean_name(filename),
        content_type=content_type,
        size=len(data),
        sha256=digest,
        stored_as=f"{application.id}/{digest}{ext}",
        uploaded_by=actor.name,
    )
    session.add(attachment)
    session.flush()
    audit.record(
        session,
        actor,
        "sharing.attachment.added",
        "application",
        application.id,
        details={
            "attachment": attachment.id,
            "filename": attachment.filename,
            "sha256": digest,
            "size": len(data),
        },
    )
    return attachment


def attachments_of(session: Session, application: Application) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment).where(Attachment.application_id == application.id).order_by(Attachment.id)
        )
    )


def read_attachment(
    session: Session, actor: Actor, data_dir: Path, application_id: int, attachment_id: int
) -> tuple[Attachment, Path]:
    application = get_application(session, actor, application_id)
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        raise NotFound(f"附件 {attachment_id} 不存在。")
    path = data_dir / "attachments" / attachment.stored_as
    if not path.is_file():
        raise NotFound("附件文件已不存在。")
    return attachment, path
