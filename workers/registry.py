"""One decorator registers a task twice: as a Celery task and by name for the embedded runner.

Task functions take ids and other JSON values as keyword arguments, reload what they need from the
database, and are idempotent: a redelivered task changes nothing twice.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError

from workers.app import app

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

# Errors worth retrying: the database or a network peer was briefly unreachable or busy.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OperationalError)
MAX_RETRIES = 5

TASKS: dict[str, Callable[..., Any]] = {}
# The relay adds this keyword to the tasks of an outbox row; the task itself never sees it. After the
# task succeeded a receipt is written, by which the reconciler knows the row's work is done.
OUTBOX_ID_KWARG = "_outbox_id"


def task(*, name: str, time_limit: int | None = None, soft_time_limit: int | None = None) -> Callable[[F], F]:
    """Register ``fn`` as the task ``name`` (Celery and embedded); returns ``fn`` unchanged.

    ``time_limit``/``soft_time_limit`` (seconds) bound this task in a Celery worker below the global
    limit; work on untrusted content also bounds itself (``workflows.sandbox``), which holds on the
    embedded runner too."""
    limits = {k: v for k, v in (("time_limit", time_limit), ("soft_time_limit", soft_time_limit)) if v is not None}

    def register(fn: F) -> F:
        existing = TASKS.get(name)
        if existing is not None and _qualified(existing) != _qualified(fn):
            raise ValueError(f"task name {name!r} is already taken by {_qualified(existing)}")
        run = _delivered(name, fn)
        TASKS[name] = run
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
            **limits,
        )(run)
        return fn

    return register


def _delivered(name: str, fn: F) -> Callable[..., Any]:
    """``fn`` as a worker runs it: give up poison messages, write the outbox receipt after success."""

    @functools.wraps(fn)
    def run(**kwargs: Any) -> Any:
        from workers.visibility import redelivery_allowed

        outbox_id = kwargs.pop(OUTBOX_ID_KWARG, None)
        if not redelivery_allowed(name):
            return None
        result = fn(**kwargs)
        if outbox_id is not None:
            _write_receipt(int(outbox_id), name)
        return result

    # Celery checks call arguments against the signature; the outbox id is not one of fn's.
    del run.__wrapped__
    return run


def _write_receipt(outbox_id: int, name: str) -> None:
    from sqlalchemy.exc import IntegrityError

    from workers.runtime import get_runtime
    from workflows.outbox import OutboxReceipt

    try:
        with get_runtime().db.session() as session:
            if session.get(OutboxReceipt, (outbox_id, name)) is None:
                session.add(OutboxReceipt(outbox_id=outbox_id, task=name))
    except IntegrityError:
        pass  # a concurrent duplicate delivery wrote it first
    except Exception as exc:  # noqa: BLE001 - the work is done; a missing receipt only means a re-send
        logger.warning(
            "no receipt for outbox row %s task %s (%s); the reconciler will send it again", outbox_id, name, exc
        )


def _qualified(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"
