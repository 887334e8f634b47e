"""Transactional outbox: a task is requested by a row written in the same transaction as the
state change that needs it, and published only after that transaction commits.

A rolled-back transaction therefore requests nothing, and a crash between commit and publish
leaves the row unpublished for the relay (``workers.relay``) to send later. The domain never
imports Celery: it only writes rows and, after commit, calls the hook the session's runtime put in
``session.info`` (``storage.runtime.Runtime.install_publisher``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import Base, utcnow
from storage.runtime import OUTBOX_COMMIT_HOOK


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unpublished", "published_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # A domain event ("application.approved") or a task name ("kinderflow.ping").
    topic: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class OutboxReceipt(Base):
    """One task of an outbox row ran to the end. Rows whose tasks left no receipt are re-sent by the
    reconciler (``workers.reconcile``): whatever the broker lost on the way is done all the same."""

    __tablename__ = "outbox_receipts"

    outbox_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    task: Mapped[str] = mapped_column(String(100), primary_key=True)
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)


_PENDING_KEY = "kinderflow_outbox_pending"


def record(session: Session, topic: str, **payload: Any) -> OutboxMessage:
    """Write an outbox row in the caller's transaction; it is published after commit."""
    message = OutboxMessage(topic=topic, payload=payload)
    session.add(message)
    session.info[_PENDING_KEY] = True
    return message


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if not session.info.pop(_PENDING_KEY, False):
        return
    hook: Callable[[], None] | None = session.info.get(OUTBOX_COMMIT_HOOK)
    if hook is not None:
        hook()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
