"""The embedded runner: registered tasks run in-process, one at a time, on a background thread.

Embedded mode has no broker; the outbox relay hands tasks to this runner instead of to Celery. The
arguments still pass through the JSON serializer Celery uses, so a task that works here receives
exactly what it would receive in a worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from kombu.utils.json import dumps, loads

from storage.runtime import Runtime
from workers.registry import TASKS
from workers.runtime import set_runtime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskFailure:
    """A task (or deferred call) that raised, as the runner recorded it."""

    name: str
    kwargs: dict[str, Any]
    error: BaseException = field(compare=False)


class InlineRunner:
    """Runs registered tasks by name on one background thread; tasks see ``runtime``."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.failures: list[TaskFailure] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kinderflow-task")
        self._pending = 0
        self._idle = threading.Condition()
        # Tasks reach the database through get_runtime(); in this process that is our runtime.
        set_runtime(runtime)

    def submit(self, name: str, **kwargs: Any) -> Future[Any]:
        """Queue the registered task ``name``; a failure is logged and recorded, never kills the runner."""
        fn = TASKS.get(name)
        if fn is None:
            raise LookupError(f"no task registered as {name!r}")
        # A round trip through Celery's JSON: non-JSON arguments fail here, in the caller, as in full mode.
        kwargs = loads(dumps(kwargs))
        return self._enqueue(name, partial(fn, **kwargs), kwargs)

    def defer(self, label: str, call: Callable[[], Any]) -> Future[Any]:
        """Run ``call`` on the runner thread after what is already queued (the outbox relay uses this)."""
        return self._enqueue(label, call, {})

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued or running; False if ``timeout`` passed first."""
        if threading.current_thread().name.startswith("kinderflow-task"):
            raise RuntimeError("drain() called from a task would wait for itself")
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        """Let queued work finish (up to ``timeout``), then stop the thread; later submits raise."""
        if not self.drain(timeout):
            logger.warning("inline runner closed with %d task(s) still queued or running", self._pending)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _enqueue(self, name: str, call: Callable[[], Any], kwargs: dict[str, Any]) -> Future[Any]:
        with self._idle:
            self._pending += 1
        try:
            return self._executor.submit(self._run, name, call, kwargs)
        except BaseException:
            self._done()
            raise

    def _run(self, name: str, call: Callable[[], Any], kwargs: dict[str, Any]) -> Any:
        try:
            return call()
        except Exception as exc:
            logger.exception("task %s failed (kwargs=%r)", name, kwargs)
            self.failures.append(TaskFailure(name=name, kwargs=kwargs, error=exc))
            raise  # into the Future, for a caller that holds it; the thread lives on
        finally:
            self._done()

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()
