"""The reconciler: work that was asked for but never done is asked for again.

Two kinds of work can be lost between a commit and its task's end: an outbox row published to a
broker that then lost the message (Redis restarted without persistence, a message given up after
too many redeliveries), and records an area tracks in a state of its own. The first is found by the
missing receipt (``workflows.outbox.OutboxReceipt``, written when a task of the row succeeded): such
a row is marked unpublished again and the relay sends it once more. The second by the finders areas
register in ``workflows.reconcile``. Tasks are idempotent, so re-sending work that was merely slow
changes nothing; ``MAX_PUBLISH_ATTEMPTS`` bounds how often one row is sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, func, literal, select

from storage.db import utcnow
from storage.runtime import Runtime
from workers.registry import TOPICS, handlers_for
from workers.relay import NO_HANDLER, Send, publish_pending
from workflows import outbox
from workflows.outbox import OutboxMessage, OutboxReceipt
from workflows.reconcile import stuck_work_finders

logger = logging.getLogger(__name__)

MAX_PUBLISH_ATTEMPTS = 5
# Older rows are history, not work in flight: the scan stays small however long the service runs.
HORIZON = timedelta(days=7)
BATCH = 500


@dataclass(frozen=True)
class ReconcileReport:
    redriven: int
    stuck_requested: int
    published: int


def redrive_unfinished(runtime: Runtime, *, older_than: timedelta, limit: int = BATCH) -> int:
    """Mark unpublished again the rows published before ``older_than`` ago whose tasks left no receipt."""
    now = utcnow()
    fan_out = {topic: len(names) for topic, names in TOPICS.items() if len(names) > 1}
    # How many receipts a row's topic calls for: one per handler task.
    expected = case(fan_out, value=OutboxMessage.topic, else_=1) if fan_out else literal(1)
    receipts = (
        select(func.count())
        .select_from(OutboxReceipt)
        .where(OutboxReceipt.outbox_id == OutboxMessage.id)
        .scalar_subquery()
    )
    redriven = 0
    with runtime.db.session() as session:
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.published_at.is_not(None),
                OutboxMessage.published_at <= now - older_than,
                OutboxMessage.published_at >= now - HORIZON,
                OutboxMessage.attempts < MAX_PUBLISH_ATTEMPTS,
                OutboxMessage.last_error != NO_HANDLER,
                receipts < expected,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for message in session.scalars(query):
            if not handlers_for(message.topic):
                continue
            message.published_at = None
            message.last_error = f"re-sent: no receipt {int(older_than.total_seconds())} s after publishing"
            redriven += 1
    if redriven:
        logger.warning("reconciler: %d outbox row(s) had no receipt and are sent again", redriven)
    return redriven


def request_stuck_work(runtime: Runtime, *, older_than: timedelta) -> int:
    """Write an outbox row for every record an area reports stuck since before ``older_than`` ago."""
    cutoff = utcnow() - older_than
    requested = 0
    for name, finder in stuck_work_finders().items():
        try:
            with runtime.db.session() as session:
                for topic, payload in finder(session, cutoff):
                    outbox.record(session, topic, **payload)
                    requested += 1
        except Exception:
            logger.exception("stuck-work finder %s failed", name)
    return requested


def reconcile(runtime: Runtime, send: Send, *, older_than: timedelta | None = None) -> ReconcileReport:
    """Re-drive lost and stuck work, then publish whatever is unpublished."""
    if older_than is None:
        older_than = timedelta(seconds=runtime.settings.task_redrive_after_seconds)
    redriven = redrive_unfinished(runtime, older_than=older_than)
    stuck = request_stuck_work(runtime, older_than=older_than)
    published = 0
    while True:
        batch = publish_pending(runtime, send)
        published += batch
        if batch < 100:
            break
    return ReconcileReport(redriven=redriven, stuck_requested=stuck, published=published)
