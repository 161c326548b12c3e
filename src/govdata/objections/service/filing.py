"""Filing an objection (COR-1) and its evidence.

On the platform, a department's user files about a record it is entitled to see (``records``); the
review deadline counts from the day after filing. An objection raised off the platform is entered by
the provider's officer with the date it was really received, when POL-1's switch
``objections_off_platform`` allows it (422 otherwise), and its deadline counts from that date. Who may
object is POL-1's ``objectors`` switch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.core import attachments, audit, clock, policy
from govdata.core.auth import Actor, enforce, require
from govdata.core.calendar import WorkingCalendar, track_deadline
from govdata.core.errors import Conflict, NotFound, field_error, fields_error
from govdata.core.policy import Objector
from govdata.notifications import service as notifications
from govdata.objections import flags
from govdata.objections.auth import REVIEW, attach_refusal, file_refusal, off_platform_refusal, sees_record
from govdata.objections.enums import Channel, FilerKind, ObjectionStatus
from govdata.objections.models import Objection, ObjectionAttachment
from govdata.objections.schemas import ObjectionIn
from govdata.objections.service.reading import SUBJECT, get_objection
from govdata.objections.service.records import Record, find_record, read_record, shown_key, unseen
from govdata.orgs import service as orgs
from govdata.store.sql import SqlStore

MAX_ATTACHMENT_BYTES = attachments.MAX_BYTES  # 10 MB, checked by content (core.attachments)
MAX_ATTACHMENTS = 20
PUBLIC_OBJECTORS = {Objector.natural_person, Objector.legal_person, Objector.unincorporated_organization}


def objection_href(objection_id: int) -> str:
    return f"/objections/{objection_id}"


def _claimed(items: dict[str, Any], record: Record, entitled: set[str], code: str) -> dict[str, Any]:
    """The claimed values by item code: items of the resource, not its key, within what the caller may
    see (the same 404 as an unknown key otherwise)."""
    claimed: dict[str, Any] = {}
    for raw, value in items.items():
        item = str(raw).strip().lower()
        if item not in record.names:
            raise field_error(f"items.{raw}", "不是该资源的信息项")
        if item in record.key_items:
            raise field_error(f"items.{raw}", "关键标识不能作为疑义项；关键标识有误时请对正确的记录提出疑义")
        if item not in entitled:
            raise unseen(code)
        if item in claimed:
            raise field_error(f"items.{raw}", "信息项重复")
        claimed[item] = value.strip() if isinstance(value, str) else value
    return claimed


def _off_platform_filer(session: Session, data: ObjectionIn, objectors: tuple[str, ...]) -> dict[str, Any]:
    name = (data.filer_name or "").strip()
    department_id = data.filer_department_id
    if department_id is not None:
        names = orgs.department_names(session, [department_id])
        if department_id not in names:
            raise field_error("filer_department_id", "部门不存在")
        name = name or names[department_id]
        allowed = Objector.consumer_department in objectors
    else:
        allowed = bool(PUBLIC_OBJECTORS & set(objectors))
    if not name:
        raise field_error("filer_name", "请写明线下提出疑义的单位或个人")
    if not allowed:
        raise field_error(
            "filer_name",
            f"当前策略不允许该类主体提出疑义（可提出疑义的主体：{'、'.join(Objector(o).label for o in objectors)}）",
        )
    return {
        "filer_kind": FilerKind.department_user if department_id is not None else FilerKind.public_account,
        "filer_name": name[:200],
        "filer_department_id": department_id,
        "filer_contact": (data.filer_contact or "").strip() or None,
    }


def file_objection(session: Session, actor: Actor, store: SqlStore, data: ObjectionIn) -> Objection:
    """File an objection on a record (on the platform, or entered off it with ``received_on``)."""
    profile = policy.active_policy(session)
    code = data.resource_code.strip()
    if data.received_on is not None:
        require(actor, REVIEW)
        resource = catalog.find_resource(session, actor, code)
        enforce(off_platform_refusal(actor, resource.provider_id, profile.switches.objections_off_platform))
        if data.received_on > clock.today():
            raise field_error("received_on", "收到日期不能晚于今天")
        filer = _off_platform_filer(session, data, profile.switches.objectors)
        record = read_record(session, store, resource, data.key)
        if record is None:
            raise NotFound(f"资源 {resource.code} 中没有该关键标识的记录。", slug="not-found")
        entitled = set(record.names)
        channel, received_on = Channel.off_platform, data.received_on
    else:
        enforce(file_refusal(actor, profile.switches.objectors))
        record, entitled = find_record(session, actor, store, code, data.key)
        filer = {
            "filer_kind": FilerKind.department_user,
            "filer_username": actor.name,
            "filer_user_id": actor.user_id,
            "filer_name": actor.display_name or actor.name,
            "filer_department_id": actor.department_id,
        }
        channel, received_on = Channel.platform, clock.today()
    resource = record.resource
    claimed = _claimed(data.items, record, entitled, code)
    if problems := record.problems(claimed):  # every value that would fail its batch, at once
        messages = {f"items.{item}": f"{record.names[item]}：{problem}" for item, problem in problems.items()}
        raise fields_error("；".join(messages.values()), messages)
    reason = data.reason.strip()
    if not reason:
        raise field_error("reason", "请写明疑义理由")
    if filer["filer_department_id"] is not None:
        open_already = session.scalar(
            select(Objection.id).where(
                Objection.resource_id == resource.id,
                Objection.record_key == record.key,
                Objection.filer_department_id == filer["filer_department_id"],
                Objection.status == ObjectionStatus.under_review,
            )
        )
        if open_already is not None:
            raise Conflict(
                f"该部门对这条记录的疑义（#{open_already}）仍在复核中，可补充材料，无需重复提出。",
                slug="already-open",
                objection_id=open_already,
            )
    objection = Objection(
        resource_id=resource.id,
        resource_code=resource.code,
        resource_name=resource.name,
        provider_id=resource.provider_id,
        record_key=record.key,
        items=claimed,
        original={c: record.values.get(c) for c in claimed},
        reason=reason,
        channel=channel,
        entered_by=actor.name if channel == Channel.off_platform else None,
        received_on=received_on,
        status=ObjectionStatus.under_review,
        **filer,
    )
    session.add(objection)
    session.flush()
    rule = profile.deadlines.correction_review
    deadline = track_deadline(
        session,
        WorkingCalendar.load(session),
        SUBJECT,
        objection.id,
        "correction_review",
        received_on,
        rule.working_days,
    )
    objection.deadline_id = objection.original_deadline_id = deadline.id
    notifications.notify(
        session,
        kind="objection.filed",
        title=f"收到数据疑义：{resource.name}",
        body=(
            f"疑义 {objection.id}（{objection.filer_name}）涉及 {len(claimed)} 个信息项，"
            f"请于 {deadline.due_date.isoformat()} 前复核并反馈。"
        ),
        link=objection_href(objection.id),
        object_type="objection",
        object_id=objection.id,
        department_id=resource.provider_id,
    )
    audit.record(
        session,
        actor,
        "objections.objection.filed",
        "objection",
        objection.id,
        details={
            "resource": resource.code,
            "items": sorted(claimed),
            "channel": channel.value,
            "received_on": received_on.isoformat(),
            "deadline": deadline.due_date.isoformat(),
            "deadline_provisional": deadline.provisional,
        },
    )
    flags.invalidate_after_commit(session)
    return objection


def describe_key(objection: Objection) -> str:
    return shown_key(objection.record_key)


# --- evidence (attachments) ------------------------------------------------------------------------


def add_attachment(
    session: Session, actor: Actor, data_dir: Path, objection_id: int, filename: str | None, data: bytes
) -> ObjectionAttachment:
    """Evidence of an objection: PDF, images or office files, told by their content, at most 10 MB."""
    objection = get_objection(session, actor, objection_id)
    enforce(attach_refusal(actor, objection))
    count = session.scalar(
        select(func.count())
        .select_from(ObjectionAttachment)
        .where(ObjectionAttachment.objection_id == objection.id)
    )
    if count >= MAX_ATTACHMENTS:
        raise field_error("file", f"每个疑义最多 {MAX_ATTACHMENTS} 份证明材料")
    kept = attachments.store(data, data_dir / "objections" / str(objection.id), what="证明材料")
    attachment = ObjectionAttachment(
        objection_id=objection.id,
        filename=attachments.clean_name(filename, "证明材料"),
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
        "objections.attachment.added",
        "objection",
        objection.id,
        details={
            "attachment": attachment.id,
            "filename": attachment.filename,
            "sha256": kept.sha256,
            "size": kept.size,
        },
    )
    return attachment


def read_attachment(
    session: Session, actor: Actor, data_dir: Path, objection_id: int, attachment_id: int
) -> tuple[ObjectionAttachment, Path]:
    """An attachment's file, for whoever sees the objection's record (not the authority)."""
    objection = get_objection(session, actor, objection_id)
    attachment = session.get(ObjectionAttachment, attachment_id)
    if attachment is None or attachment.objection_id != objection.id or not sees_record(actor, objection):
        raise NotFound(f"证明材料 {attachment_id} 不存在。")
    path = data_dir / "objections" / attachment.stored_as
    if not path.is_file():
        raise NotFound("证明材料文件已不存在。")
    return attachment, path
