"""Materials attached to a share application (SHR-2): checked and kept as ``core.attachments`` keeps
every attachment (by content, under the data directory), never served to anyone who cannot see the
application."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.core import attachments, audit
from govdata.core.auth import Actor, enforce
from govdata.core.errors import NotFound, field_error
from govdata.sharing.auth import attach_refusal
from govdata.sharing.models import Application, Attachment
from govdata.sharing.service.applications import get_application

MAX_BYTES = attachments.MAX_BYTES
MAX_PER_APPLICATION = 20


def add_attachment(
    session: Session, actor: Actor, data_dir: Path, application_id: int, filename: str | None, data: bytes
) -> Attachment:
    application = get_application(session, actor, application_id)
    enforce(attach_refusal(actor, application))
    count = len(
        session.scalars(select(Attachment.id).where(Attachment.application_id == application.id)).all()
    )
    if count >= MAX_PER_APPLICATION:
        raise field_error("file", f"每个申请最多 {MAX_PER_APPLICATION} 个附件")
    kept = attachments.store(data, data_dir / "attachments" / str(application.id), what="附件")
    attachment = Attachment(
        application_id=application.id,
        filename=attachments.clean_name(filename, "附件"),
        content_type=kept.content_type,
        size=kept.size,
        sha256=kept.sha256,
        stored_as=kept.stored_as,
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
            "sha256": kept.sha256,
            "size": kept.size,
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
