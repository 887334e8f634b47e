"""Append-only, hash-chained audit history of every transition and every refused attempt.

Each row stores the SHA-256 of the previous row's hash and its own canonical content, so removing,
reordering or editing any row breaks the chain from that row on. Appends are serialised through a
one-row head table: the UPDATE on it takes a row lock (PostgreSQL) or the write lock (SQLite)
before the tail is read, so two concurrent transactions can never fork the chain.

The head is taken LAST. ``append`` only queues the entry on the session; the queued entries are
chained just before the transaction commits (``settle``, run by a ``before_commit`` listener), in
three statements: ``UPDATE audit_head ... RETURNING`` (takes the lock, reserves the sequence numbers
and reads the tail hash), one multi-row INSERT, and the UPDATE of the tail hash. Whatever a
transition does after ``append`` (its consequences, rendering, uploads) therefore runs while other
transactions may still append; the head is held only from those statements to the commit. A
savepoint rolled back drops the entries queued inside it, a rolled-back transaction drops them all.
Code that needs an entry's ``seq`` before commit calls ``settle`` (taking the head early).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, String, Table, Text, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

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


_HEAD = cast(Table, AuditHead.__table__)
_ENTRIES = cast(Table, AuditEntry.__table__)


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


_PENDING_KEY = "kinderflow_audit_pending"


def _pending(session: Session) -> list[tuple[SessionTransaction | None, AuditEntry]]:
    pending: list[tuple[SessionTransaction | None, AuditEntry]] = session.info.setdefault(_PENDING_KEY, [])
    return pending


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
    """Queue one row for the chain in the caller's transaction; it is chained just before commit.

    The returned entry has its content; ``seq``, ``prev_hash`` and ``hash`` are set by ``settle``."""
    entry = AuditEntry(
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
    )
    # The innermost transaction, so that a savepoint rolled back takes its entries with it.
    transaction = session.get_nested_transaction() or session.get_transaction()
    _pending(session).append((transaction, entry))
    return entry


def settle(session: Session) -> list[AuditEntry]:
    """Chain every queued entry now: take the head, number and hash them, write them (3 statements).

    Runs before each commit; call it directly only when an entry's ``seq`` is needed earlier."""
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return []
    entries = [entry for _, entry in pending]
    # Flush the transaction's own changes first (their version checks, their locks): the head comes last.
    session.flush()
    # Core statements on the tables: the ORM's bulk machinery has nothing to add here.
    head = _HEAD.c
    bump = update(_HEAD).where(head.id == 1).values(seq=head.seq + len(entries))
    row = session.execute(bump.returning(head.seq, head.last_hash)).one_or_none()
    if row is None:  # the first entry ever: create the head (a concurrent creator fails on the key)
        session.execute(insert(_HEAD).values(id=1, seq=len(entries), last_hash=GENESIS_HASH))
        last_seq, prev = len(entries), GENESIS_HASH
    else:
        last_seq, prev = row.seq, row.last_hash
    # Microsecond precision survives every backend, so the stored row re-hashes identically.
    now = utcnow()
    for n, entry in enumerate(entries, start=last_seq - len(entries) + 1):
        entry.seq = n
        entry.created_at = now
        entry.prev_hash = prev
        entry.hash = prev = entry_hash(prev, entry)
    columns = [c.key for c in _ENTRIES.columns]
    session.execute(insert(_ENTRIES), [{c: getattr(e, c) for c in columns} for e in entries])
    session.execute(update(_HEAD).where(head.id == 1).values(last_hash=prev))
    loaded = session.identity_map.get(session.identity_key(AuditHead, 1))
    if loaded is not None:
        session.expire(loaded)
    return entries


@event.listens_for(Session, "before_commit")
def _settle_before_commit(session: Session) -> None:
    # Only the real commit: releasing a savepoint keeps its entries queued for the outer one.
    if not session.in_nested_transaction():
        settle(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING_KEY)
    if not pending:
        return

    def inside(transaction: SessionTransaction | None) -> bool:
        while transaction is not None:
            if transaction is previous_transaction:
                return True
            transaction = transaction.parent
        return False

    session.info[_PENDING_KEY] = [(t, e) for t, e in pending if not inside(t)]


@event.listens_for(Session, "after_transaction_end")
def _drop_on_end(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended (closed without commit): nothing queued in it may linger.
    if transaction.parent is None and transaction.nested is False:
        session.info.pop(_PENDING_KEY, None)


def history(session: Session, *, entity_type: str, entity_id: uuid.UUID | str) -> list[AuditEntry]:
    """Every audit row of one record, oldest first (this transaction's queued rows included)."""
    settle(session)
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
