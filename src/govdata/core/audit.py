"""The audit trail (SEC-3): every state change appends an event, chained with SM3.

Each event's ``hash`` is SM3 over the previous event's hash and the event's canonical JSON, so
changing, inserting or deleting any stored event breaks the chain from that point on. A one-row
head (``audit_head``) records the last sequence number and hash: appending first *updates* the head
(taking the write lock on SQLite, the row lock on PostgreSQL), so concurrent writers queue instead
of forking the chain, and deleting events at the end is detected because the head no longer
matches. Events are written in the caller's transaction: a change and its event commit together.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Integer, String, Text, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from govdata.core.auth import Actor
from govdata.core.db import Base, UTCDateTime, unit_of_work, utcnow

GENESIS = "0" * 64


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(128), index=True)
    user_id: Mapped[int | None] = mapped_column(Integer)
    roles: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int | None] = mapped_column(Integer, index=True)
    system_id: Mapped[int | None] = mapped_column(Integer)
    end_user: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(128))
    purpose: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def canonical(self) -> str:
        """The exact text the hash covers (stable key order, no whitespace, UTF-8 kept)."""
        return _canonical({name: getattr(self, name) for name in _HASHED})

    def compute_hash(self, prev_hash: str) -> str:
        return sm3(prev_hash + self.canonical())


# the columns an event's hash covers (all but its hashes)
_HASHED = (
    "seq",
    "occurred_at",
    "actor_kind",
    "actor",
    "user_id",
    "roles",
    "department_id",
    "system_id",
    "end_user",
    "action",
    "object_type",
    "object_id",
    "purpose",
    "source",
    "details",
)


def _canonical(fields: dict[str, Any]) -> str:
    """:meth:`AuditEvent.canonical` of an event given as its column values."""
    body = dict(fields)
    body["occurred_at"] = fields["occurred_at"].isoformat(timespec="microseconds")
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS)


def sm3(text: str) -> str:
    return hashlib.new("sm3", text.encode("utf-8")).hexdigest()


def _details_text(details: dict[str, Any] | None) -> str:
    return json.dumps(details or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class Pending:
    """An event to append with :func:`record_many`."""

    actor: Actor
    action: str
    object_type: str
    object_id: object | None = None
    purpose: str | None = None
    details: dict[str, Any] | None = None


def _claim(session: Session, count: int) -> tuple[int, str]:
    """Reserve ``count`` sequence numbers on the head: the first one and the hash before it."""
    row = session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(seq=AuditHead.seq + count)
        .returning(AuditHead.seq, AuditHead.hash)
    ).one_or_none()
    if row is None:  # first event of a fresh store
        session.add(AuditHead(id=1, seq=count, hash=GENESIS))
        session.flush()
        return 1, GENESIS
    last, prev = row
    return last - count + 1, prev


def _row(seq: int, at: datetime, pending: Pending, prev: str) -> dict[str, Any]:
    """The column values of an event, its hashes computed (as :meth:`AuditEvent.compute_hash`)."""
    actor = pending.actor
    row: dict[str, Any] = {
        "seq": seq,
        "occurred_at": at,
        "actor_kind": actor.kind,
        "actor": actor.name,
        "user_id": actor.user_id,
        "roles": ",".join(sorted(actor.roles)),
        "department_id": actor.department_id,
        "system_id": actor.system_id,
        "end_user": actor.end_user,
        "action": pending.action,
        "object_type": pending.object_type,
        "object_id": None if pending.object_id is None else str(pending.object_id),
        "purpose": pending.purpose,
        "source": actor.source,
        "details": _details_text(pending.details),
    }
    digest = sm3(prev + _canonical(row))
    row["prev_hash"], row["hash"] = prev, digest
    return row


def _event(seq: int, at: datetime, pending: Pending, prev: str) -> AuditEvent:
    return AuditEvent(**_row(seq, at, pending, prev))


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: object | None = None,
    *,
    purpose: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    seq, prev = _claim(session, 1)
    event = _event(seq, utcnow(), Pending(actor, action, object_type, object_id, purpose, details), prev)
    session.add(event)
    session.flush()
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=event.hash))
    return event


def record_many(session: Session, events: list[Pending]) -> None:
    """Append ``events`` in order inside the caller's transaction, chained exactly as one
    :func:`record` after another would chain them, with one update of the head and one multi-row
    insert (the usage log appends a batch of service calls this way)."""
    if not events:
        return
    seq, prev = _claim(session, len(events))
    at = utcnow()
    rows = []
    for offset, pending in enumerate(events):
        row = _row(seq + offset, at, pending, prev)
        prev = row["hash"]
        rows.append(row)
    session.execute(insert(AuditEvent.__table__), rows)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))


ACCESS_DENIED = "access.denied"


def record_refusal(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    method: str,
    path: str,
    raw_path: str,
    status: int,
    problem_type: str,
) -> None:
    """Append an ``access.denied`` event in a transaction of its own (SEC-3: refused reads are data
    accesses too). The refused request's own transaction was rolled back, so the event cannot go
    there. ``raw_path`` (percent-encoded, as sent) names the object; a failure to record is logged
    and never changes the answer the caller gets."""
    try:
        with unit_of_work(factory) as session:
            record(
                session,
                actor,
                ACCESS_DENIED,
                "request",
                raw_path[:128],
                details={"method": method, "path": path, "status": status, "type": problem_type},
            )
    except Exception:
        structlog.get_logger("govdata").exception("audit.refusal_not_recorded", path=raw_path)


@dataclass
class Verification:
    ok: bool
    checked: int
    first_broken: dict[str, Any] | None


def verify_chain(session: Session, *, batch_size: int = 5000) -> Verification:
    """Recompute the chain from the first event; name the first event that does not fit.

    Other transactions may append meanwhile, and a statement reads what was committed when it
    began (PostgreSQL's read committed): the events are read first and the head after them, so the
    head is never behind the events read; while it is ahead, the events appended since are read
    and checked too, until the two agree (a head ahead of every event left is a deleted tail)."""
    prev, checked = GENESIS, 0
    while True:
        stmt = (
            select(AuditEvent)
            .where(AuditEvent.seq > checked)
            .order_by(AuditEvent.seq)
            .execution_options(yield_per=batch_size)
        )
        appended = 0
        for event in session.scalars(stmt):
            broken = None
            if event.seq != checked + 1:
                broken = f"序号不连续：应为 {checked + 1}，实为 {event.seq}（有事件被删除或插入）"
            elif event.prev_hash != prev:
                broken = "前序哈希与上一事件不符（上一事件被删除或替换）"
            elif event.compute_hash(prev) != event.hash:
                broken = "内容与哈希不符（事件被篡改）"
            if broken:
                session.expunge_all()
                return Verification(
                    False, checked, {"id": event.seq, "at": event.occurred_at.isoformat(), "reason": broken}
                )
            prev = event.hash
            checked += 1
            appended += 1
        session.expunge_all()
        head = session.get(AuditHead, 1, populate_existing=True)
        head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
        if head_seq > checked and appended:
            continue  # appended since the events were read: check those as well
        if head_seq != checked or head_hash != prev:
            return Verification(
                False,
                checked,
                {
                    "id": checked + 1,
                    "at": None,
                    "reason": f"链尾不符：记录的最后事件为第 {head_seq} 号，实际只有 {checked} 个有效事件（链尾事件被删除）",
                },
            )
        return Verification(True, checked, None)
