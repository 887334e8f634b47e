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
from functools import partial
from typing import Any

from celery import Celery
from sqlalchemy import select

from storage.db import utcnow
from storage.runtime import Runtime
from workers.app import app
from workers.inline import InlineRunner
from workers.registry import OUTBOX_ID_KWARG, TASKS, task
from workers.runtime import get_runtime
from workers.tasks import TOPIC_HANDLERS
from workflows.outbox import OutboxMessage, set_publisher

logger = logging.getLogger(__name__)

Send = Callable[[str, dict[str, Any]], object]

NO_HANDLER = "no handler"
_ERROR_LIMIT = 2000
_send: Send | None = None


def handlers_for(topic: str) -> list[str]:
    """The task names an outbox topic starts ([] when nothing handles it)."""
    names = TOPIC_HANDLERS.get(topic)
    if names is not None:
        return list(names)
    return [topic] if topic in TASKS else []


def publish_pending(runtime: Runtime, send: Send, limit: int = 100) -> int:
    """Send the tasks of up to ``limit`` unpublished outbox rows, oldest first; returns rows published."""
    published = 0
    with runtime.db.session() as session:
        query = (
            select(OutboxMessage).where(OutboxMessage.published_at.is_(None)).order_by(OutboxMessage.id).limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            # Concurrent relays (API processes, beat) each take different rows. SQLite needs no
            # lock: every transaction there starts with BEGIN IMMEDIATE and so runs alone.
            query = query.with_for_update(skip_locked=True)
        for message in session.scalars(query):
            names = handlers_for(message.topic)
            if not names:
                logger.warning("outbox row %s: no task handles topic %r", message.id, message.topic)
                message.published_at = utcnow()
                message.last_error = NO_HANDLER
                continue
            message.attempts += 1
            unregistered = [name for name in names if name not in TASKS]
            if unregistered:
                # A mapping bug, not an outage: keep the row for after the fix, go on with the others.
                message.last_error = f"topic {message.topic!r} maps to unregistered tasks {unregistered}"
                logger.error("outbox row %s not published: %s", message.id, message.last_error)
                continue
            try:
                # With several handlers a later failure resends the earlier ones next run; tasks are
                # idempotent, so that duplicate changes nothing.
                for name in names:
                    send(name, {**message.payload, OUTBOX_ID_KWARG: message.id})
            except Exception as exc:
                message.last_error = f"{type(exc).__name__}: {exc}"[:_ERROR_LIMIT]
                logger.warning(
                    "outbox row %s not published (attempt %d): %s", message.id, message.attempts, message.last_error
                )
                # The broker is most likely down; the remaining rows wait for the next run.
                break
            message.published_at = utcnow()
            message.last_error = ""
            published += 1
    return published


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


def install_publisher(runtime: Runtime, target: InlineRunner | Celery) -> None:
    """After every commit that wrote outbox rows, relay them to ``target`` (runner or Celery)."""
    global _send
    if isinstance(target, InlineRunner):
        runner = target
        send = inline_send(runner)

        # On the runner thread, so the relay starts only after the commit has fully returned and
        # never waits on the committing connection (SQLite allows one writer at a time).
        def publisher() -> None:
            try:
                runner.defer("outbox relay", partial(_relay_quietly, runtime, send))
            except Exception:
                logger.exception("outbox relay not started; the rows stay for the next run")

        _send = send
        set_publisher(publisher)
        # Rows a previous run committed but never published (it stopped in between).
        publisher()
        return
    _send = send = celery_send(target)
    set_publisher(partial(_relay_quietly, runtime, send))


def current_send() -> Send | None:
    """Where this process's relay sends tasks (None when no publisher is installed)."""
    return _send


def uninstall_publisher() -> None:
    """Stop relaying after commits (shutdown, tests); rows written from now on wait for a relay."""
    global _send
    _send = None
    set_publisher(None)


def _relay_quietly(runtime: Runtime, send: Send) -> None:
    # Runs after someone's commit: a failure here must not reach the code that committed.
    try:
        publish_pending(runtime, send)
    except Exception:
        logger.exception("outbox relay failed; the rows stay for the next run")


@task(name="kinderflow.relay_outbox")
def relay_outbox() -> int:
    """Publish outbox rows that no post-commit relay sent (crash, broker outage); returns rows sent."""
    # Where this process sends tasks: the installed publisher's target, else the Celery broker.
    return publish_pending(get_runtime(), _send or celery_send(app))
