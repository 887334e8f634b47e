"""The task registry: ``task`` records a function by name, with the outbox topics that start it.

Nothing here knows Celery: the Celery app (``workers.celery_config.register_tasks``) and the
embedded runner (``workers.inline``) both take the tasks recorded here. Task functions take ids and
other JSON values as keyword arguments, reload what they need from the database, and are
idempotent: a redelivered task changes nothing twice.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from storage.db import upsert, utcnow
from workers.runtime import get_runtime
from workers.visibility import redelivery_allowed
from workflows.outbox import OutboxReceipt

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

# Errors worth retrying: the database or a network peer was briefly unreachable or busy.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, OperationalError)
MAX_RETRIES = 5

# The relay adds this keyword to the tasks of an outbox row; the task itself never sees it. After the
# task succeeded a receipt is written, by which the reconciler knows the row's work is done.
OUTBOX_ID_KWARG = "_outbox_id"


@dataclass(frozen=True)
class TaskSpec:
    """A recorded task: ``run`` is the function as a worker runs it (receipt and redelivery cap)."""

    name: str
    fn: Callable[..., Any]
    run: Callable[..., Any]
    topics: tuple[str, ...] = ()
    time_limit: int | None = None
    soft_time_limit: int | None = None

    def limits(self) -> dict[str, int]:
        """The per-task Celery time limits this task asked for."""
        pairs = (("time_limit", self.time_limit), ("soft_time_limit", self.soft_time_limit))
        return {key: value for key, value in pairs if value is not None}


SPECS: dict[str, TaskSpec] = {}
# Task name -> the function to run (the embedded runner and the relay look names up here).
TASKS: dict[str, Callable[..., Any]] = {}
# Outbox topic (a domain event such as "application.approved") -> the tasks it starts, assembled
# from the ``topics`` the tasks declare. A topic that is itself a task name needs no entry.
TOPICS: dict[str, list[str]] = {}


def task(
    *,
    name: str,
    topics: Iterable[str] = (),
    time_limit: int | None = None,
    soft_time_limit: int | None = None,
) -> Callable[[F], F]:
    """Record ``fn`` as the task ``name``, started by the outbox ``topics``; returns ``fn`` unchanged.

    ``time_limit``/``soft_time_limit`` (seconds) bound this task in a Celery worker below the global
    limit; work on untrusted content also bounds itself (``workflows.sandbox``), which holds on the
    embedded runner too."""
    declared = tuple(topics)

    def register(fn: F) -> F:
        existing = SPECS.get(name)
        if existing is not None and _qualified(existing.fn) != _qualified(fn):
            raise ValueError(f"task name {name!r} is already taken by {_qualified(existing.fn)}")
        spec = TaskSpec(
            name=name,
            fn=fn,
            run=_delivered(name, fn),
            topics=declared,
            time_limit=time_limit,
            soft_time_limit=soft_time_limit,
        )
        SPECS[name] = spec
        TASKS[name] = spec.run
        for topic in declared:
            handlers = TOPICS.setdefault(topic, [])
            if name not in handlers:
                handlers.append(name)
        return fn

    return register


def handlers_for(topic: str) -> list[str]:
    """The task names an outbox topic starts ([] when nothing handles it)."""
    names = TOPICS.get(topic)
    if names is not None:
        return list(names)
    return [topic] if topic in TASKS else []


def _delivered(name: str, fn: F) -> Callable[..., Any]:
    """``fn`` as a worker runs it: give up poison messages, write the outbox receipt after success."""

    @functools.wraps(fn)
    def run(**kwargs: Any) -> Any:
        outbox_id = kwargs.pop(OUTBOX_ID_KWARG, None)
        if not redelivery_allowed(name):
            return None
        delivery = _Delivery(int(outbox_id), name) if outbox_id is not None else None
        marker = _DELIVERY.set(delivery)
        try:
            result = fn(**kwargs)
        finally:
            _DELIVERY.reset(marker)
        if delivery is not None and not delivery.receipted:
            _write_receipt(delivery.outbox_id, name)
        return result

    # Celery checks call arguments against the signature; the outbox id is not one of fn's.
    del run.__wrapped__
    return run


@dataclass
class _Delivery:
    """The outbox row and task a worker is running now, and whether its receipt is written yet."""

    outbox_id: int
    task: str
    receipted: bool = False


_DELIVERY: ContextVar[_Delivery | None] = ContextVar("kinderflow_delivery", default=None)


def receipt_in(session: Session) -> None:
    """Write the running task's outbox receipt in ``session``'s transaction, the task's last: the
    receipt then commits with the task's work, with no transaction of its own afterwards. A task
    passes this to the code that writes its result; without a delivery (a direct call) it does nothing."""
    delivery = _DELIVERY.get()
    if delivery is not None and not delivery.receipted:
        _insert_receipt(session, delivery.outbox_id, delivery.task)
        # Counted as written once that transaction commits; should it roll back, the task raises
        # and no receipt is expected.
        delivery.receipted = True


def _insert_receipt(session: Session, outbox_id: int, name: str) -> None:
    # One statement: a redelivery's receipt (or a concurrent duplicate's) is there already.
    session.execute(
        upsert(session, OutboxReceipt)
        .values(outbox_id=outbox_id, task=name, completed_at=utcnow())
        .on_conflict_do_nothing()
    )


def _write_receipt(outbox_id: int, name: str) -> None:
    try:
        with get_runtime().db.session() as session:
            _insert_receipt(session, outbox_id, name)
    except IntegrityError:
        pass  # a dialect without ON CONFLICT raced a concurrent duplicate delivery
    except Exception as exc:  # noqa: BLE001 - the work is done; a missing receipt only means a re-send
        logger.warning(
            "no receipt for outbox row %s task %s (%s); the reconciler will send it again", outbox_id, name, exc
        )


def _qualified(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"
