"""The tasks, and which tasks an outbox topic starts.

Each task takes ids and JSON values as keyword arguments, reloads from the database and is
idempotent (``workers.registry``). The same functions run in a Celery worker (full mode) and on the
embedded runner's thread (``workers.inline``).
"""

from __future__ import annotations

from workers.registry import task

# Outbox topic (a domain event such as "application.approved") -> the tasks it starts. A topic that
# is itself a registered task name needs no entry: it starts that task.
TOPIC_HANDLERS: dict[str, list[str]] = {}


@task(name="kinderflow.ping")
def ping(token: str) -> str:
    """Answer ``pong:<token>``; proves a worker consumes tasks (writes nothing)."""
    return f"pong:{token}"
