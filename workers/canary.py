"""The workers' canary for ``/api/health``: a ``kinderflow.ping`` that must come back, and how fast."""

from __future__ import annotations

import time
import uuid

from storage.runtime import Runtime
from workers.wiring import celery_for, runner_for
from workflows.health import Check

CANARY_TIMEOUT_SECONDS = 3.0


def check_workers(runtime: Runtime, timeout: float = CANARY_TIMEOUT_SECONDS) -> Check:
    """Send ``kinderflow.ping`` to whatever runs tasks (Celery workers, or the in-process runner)."""
    token = uuid.uuid4().hex
    started = time.monotonic()
    try:
        if runtime.settings.embedded:
            runner = runner_for(runtime)
            if runner is None:
                return Check("workers", False, "in-process runner not started")
            answer = runner.submit("kinderflow.ping", token=token).result(timeout=timeout)
            where = "in-process"
        else:
            client = celery_for(runtime)
            if client is None:
                return Check("workers", False, "no broker client (not serving)")
            result = client.send_task("kinderflow.ping", kwargs={"token": token})
            try:
                answer = result.get(timeout=timeout)
            finally:
                result.forget()
            where = "celery"
    except Exception as exc:  # noqa: BLE001 - no answer in time, or no way to ask: unhealthy either way
        return Check("workers", False, f"no answer within {timeout:g} s ({type(exc).__name__})")
    latency_ms = (time.monotonic() - started) * 1000
    if answer != f"pong:{token}":
        return Check("workers", False, f"unexpected answer {answer!r}")
    return Check("workers", True, where, latency_ms=round(latency_ms, 1))
