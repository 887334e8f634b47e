"""One decorator registers a task twice: as a Celery task and by name for the embedded runner.

Task functions take ids and other JSON values as keyword arguments, reload what they need from the
database, and are idempotent: a redelivered task changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError

from workers.app import app

F = TypeVar("F", bound=Callable[..., Any])

# Errors worth retrying: the database or a network peer was briefly unreachable or busy.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OperationalError)
MAX_RETRIES = 5

TASKS: dict[str, Callable[..., Any]] = {}


def task(*, name: str) -> Callable[[F], F]:
    """Register ``fn`` as the task ``name`` (Celery and embedded); returns ``fn`` unchanged."""

    def register(fn: F) -> F:
        existing = TASKS.get(name)
        if existing is not None and _qualified(existing) != _qualified(fn):
            raise ValueError(f"task name {name!r} is already taken by {_qualified(existing)}")
        TASKS[name] = fn
        app.task(
            name=name,
            bind=False,
            shared=False,
            serializer="json",
            autoretry_for=TRANSIENT_ERRORS,
            retry_backoff=True,
            retry_backoff_max=600,
            retry_jitter=True,
            max_retries=MAX_RETRIES,
        )(fn)
        return fn

    return register


def _qualified(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"
