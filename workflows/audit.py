"""Append-only, hash-chained audit history of every transition and every refused attempt.

Each row stores the SHA-256 of the previous row's hash and its own canonical content, so removing,
reordering or editing any row breaks the chain from that row on. Appends are serialised through a
one-row head table: the UPDATE on it takes a row lock (PostgreSQL) or the write lock (SQLite)
before the tail is read, so two concurrent transactions can never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import Base, utcnow

GENESIS_HASH = "0" * 64


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    entity_type: Mapped[str] = mapped_column(String(32), index=True)
    entity_id: Mapped[str] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    actor_role: Mapped[str] = mapped_column(String(32), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


def _canonical(entry: AuditEntry) -> bytes:
    body = {
        "seq": entry.seq,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "event": entry.event,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "actor_role": entry.actor_role,
        "comment": entry.comment,
        "data": entry.data,
        "created_at": entry.created_at.isoformat(timespec="microseconds"),
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + _canonical(entry)).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who did something, as the audit history records it."""

    id: str | None
    name: str
    role: str


SYSTEM_ACTOR = Actor(id=None, name="系统", role="system")


def append(
    session: Session,
    *,
    entity_type: str,
    entity_id: uuid.UUID | str,
    event: str,
    actor: Actor,
    from_state: str | None = None,
    to_state: str | None = None,
    comment: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one row to the chain inside the caller's transaction."""
    result = session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(AuditHead(id=1, seq=1, last_hash=GENESIS_HASH))
        session.flush()
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    session.refresh(head)
    entry = AuditEntry(
        seq=head.seq,
        entity_type=entity_type,
        entity_id=str(entity_id),
        event=event,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor.id,
        actor_name=actor.name,
        actor_role=actor.role,
        comment=comment,
        data=data or {},
        # Microsecond precision survives every backend, so the stored row re-hashes identically.
        created_at=utcnow(),
        prev_hash=head.last_hash,
    )
    entry.hash = entry_hash(head.last_hash, entry)
    head.last_hash = entry.hash
    session.add(entry)
    session.flush()
    return entry


def history(session: Session, *, entity_type: str, entity_id: uuid.UUID | str) -> list[AuditEntry]:
    """Every audit row of one record, oldest first."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.seq)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_broken_seq: int | None = None
    reason: str = ""


def verify_chain(session: Session, *, batch: int = 1000) -> ChainReport:
    """Recompute the whole chain in order and name the first row that does not hold."""
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    last_seq = 0
    while True:
        rows = list(
            session.scalars(select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch))
        )
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return ChainReport(False, count, expected_seq, f"第 {expected_seq} 条记录缺失")
            if row.prev_hash != prev:
                return ChainReport(False, count, row.seq, f"第 {row.seq} 条记录的前序哈希不符")
            if entry_hash(prev, row) != row.hash:
                return ChainReport(False, count, row.seq, f"第 {row.seq} 条记录内容已被改动")
            prev = row.hash
            expected_seq += 1
            count += 1
            last_seq = row.seq
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != count or head.last_hash != prev):
        return ChainReport(False, count, count + 1, f"链尾缺失：应有 {head.seq} 条，实有 {count} 条")
    return ChainReport(True, count)
