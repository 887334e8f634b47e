"""The outbox relay: sends the tasks that committed outbox rows ask for, at least once.

After each commit that wrote outbox rows, the publisher installed here runs ``publish_pending``:
in embedded mode on the inline runner's thread, handing tasks to that runner; in full mode in the
committing thread, handing them to Celery. A row is marked published only after its tasks were
sent, so a crash or a broker outage leaves it for the next run (the ``kinderflow.relay_outbox``
task, which Celery beat starts every 30 s, or the next commit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

from celery import Celery
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.runtime import Runtime
from workers.inline import InlineRunner
from workers.registry import OUTBOX_ID_KWARG, TASKS, handlers_for, task
from workers.runtime import get_runtime
from workflows.outbox import OutboxMessage

logger = logging.getLogger(__name__)

Send = Callable[[str, dict[str, Any]], object]

NO_HANDLER = "no handler"
_ERROR_LIMIT = 2000


_OUTBOX = cast(Table, OutboxMessage.__table__)


def publish_pending(runtime: Runtime, send: Send, limit: int = 100) -> int:
    """Send the tasks of up to ``limit`` unpublished outbox rows, oldest first; returns rows published.

    Core statements rather than ORM objects (this runs after every commit that wrote an outbox row):
    one SELECT, then one UPDATE for every row sent, and one per row that failed or has no handler."""
    table = _OUTBOX
    published: list[int] = []
    with runtime.db.session() as session:
        query = select(table.c.id, table.c.topic, table.c.payload).where(table.c.published_at.is_(None))
        query = query.order_by(table.c.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            # Concurrent relays (API processes, beat) each take different rows. SQLite needs no
            # lock: every transaction there starts with BEGIN IMMEDIATE and so runs alone.
            query = query.with_for_update(skip_locked=True)
        for message in session.execute(query).all():
            names = handlers_for(message.topic)
            if not names:
                logger.warning("outbox row %s: no task handles topic %r", message.id, message.topic)
                _set(session, message.id, published_at=utcnow(), last_error=NO_HANDLER)
                continue
            unregistered = [name for name in names if name not in TASKS]
            if unregistered:
                # A mapping bug, not an outage: keep the row for after the fix, go on with the others.
                error = f"topic {message.topic!r} maps to unregistered tasks {unregistered}"
                logger.error("outbox row %s not published: %s", message.id, error)
                _set(session, message.id, attempts=table.c.attempts + 1, last_error=error)
                continue
            try:
                # With several handlers a later failure resends the earlier ones next run; tasks are
                # idempotent, so that duplicate changes nothing.
                for name in names:
                    send(name, {**message.payload, OUTBOX_ID_KWARG: message.id})
            except Exception as exc:  # noqa: BLE001 - recorded on the row; the reconciler retries it
                error = f"{type(exc).__name__}: {exc}"[:_ERROR_LIMIT]
                logger.warning("outbox row %s not published: %s", message.id, error)
                _set(session, message.id, attempts=table.c.attempts + 1, last_error=error)
                # The broker is most likely down; the remaining rows wait for the next run.
                break
            published.append(message.id)
        if published:
            session.execute(
                update(table)
                .where(table.c.id.in_(published))
                .values(published_at=utcnow(), attempts=table.c.attempts + 1, last_error="")
            )
    return len(published)


def _set(session: Session, outbox_id: int, **values: Any) -> None:
    table = _OUTBOX
    session.execute(update(table).where(table.c.id == outbox_id).values(**values))


def celery_send(celery_app: Celery, **options: Any) -> Send:
    """A ``send`` that enqueues the task on ``celery_app`` (``options`` go to ``send_task``)."""
    # Nobody waits for an outbox task's result. Asking for one would make every send subscribe
    # to the result backend, which during a Redis outage blocks the committing request ~20 s.
    options.setdefault("ignore_result", True)

    def send(name: str, payload: dict[str, Any]) -> object:
        return celery_app.send_task(name, kwargs=payload, **options)

    return send


def inline_send(runner: InlineRunner) -> Send:
    """A ``send`` that queues the task on the embedded runner."""

    def send(name: str, payload: dict[str, Any]) -> object:
        return runner.submit(name, **payload)

    return send


class InlinePublisher:
    """Embedded mode: tasks go to ``runner``; the relay after a commit runs on the runner's thread."""

    def __init__(self, runtime: Runtime, runner: InlineRunner) -> None:
        self.runtime = runtime
        self.runner = runner
        self.send: Send = inline_send(runner)

    def after_commit(self) -> None:
        # On the runner thread, so the relay starts only after the commit has fully returned and
        # never waits on the committing connection (SQLite allows one writer at a time).
        try:
            self.runner.defer("outbox relay", lambda: relay_quietly(self.runtime, self.send))
        except Exception:
            logger.exception("outbox relay not started; the rows stay for the next run")


class CeleryPublisher:
    """Full mode: tasks go to the broker of ``client``; the relay runs in the committing thread."""

    def __init__(self, runtime: Runtime, client: Celery) -> None:
        self.runtime = runtime
        self.client = client
        self.send: Send = celery_send(client)

    def after_commit(self) -> None:
        relay_quietly(self.runtime, self.send)


def install_publisher(runtime: Runtime, target: InlineRunner | Celery) -> InlinePublisher | CeleryPublisher:
    """After every commit of ``runtime``'s sessions that wrote outbox rows, relay them to ``target``."""
    if isinstance(target, InlineRunner):
        inline = InlinePublisher(runtime, target)
        runtime.install_publisher(inline)
        # Rows a previous run committed but never published (it stopped in between).
        inline.after_commit()
        return inline
    publisher = CeleryPublisher(runtime, target)
    runtime.install_publisher(publisher)
    return publisher


def current_send(runtime: Runtime) -> Send:
    """Where ``runtime``'s relay sends tasks; refuses when no publisher is installed."""
    publisher = runtime.publisher
    if publisher is None:
        raise RuntimeError(
            "no task publisher installed on this runtime: a Celery worker installs one at start "
            "(workers.app), an API process when it starts serving (workers.wiring)"
        )
    return publisher.send


def relay_quietly(runtime: Runtime, send: Send) -> None:
    """Relay after someone's commit: a failure here must not reach the code that committed."""
    try:
        publish_pending(runtime, send)
    except Exception:
        logger.exception("outbox relay failed; the rows stay for the next run")


@task(name="kinderflow.relay_outbox")
def relay_outbox() -> int:
    """Publish outbox rows that no post-commit relay sent (crash, broker outage); returns rows sent."""
    runtime = get_runtime()
    return publish_pending(runtime, current_send(runtime))
