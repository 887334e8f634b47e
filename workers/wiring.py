"""Connecting a running API process to its task runner: in-process (embedded) or Celery (full)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import Celery

from storage.db import utcnow
from storage.runtime import Runtime
from workers.inline import InlineRunner
from workers.relay import inline_send, install_publisher, uninstall_publisher

logger = logging.getLogger(__name__)

_runners: dict[int, InlineRunner] = {}
_clients: dict[int, Celery] = {}


def start_publishing(runtime: Runtime) -> None:
    """Relay outbox rows after each commit: to a background thread here, or to the Celery broker."""
    if runtime.settings.embedded:
        runner = InlineRunner(runtime)
        _runners[id(runtime)] = runner
        install_publisher(runtime, runner)
        # Whatever the runner of a previous run held when it stopped is lost with it: send it again.
        started = utcnow()
        runner.defer("reconcile at start", lambda: _reconcile_quietly(runtime, runner, started))
    else:
        from workers.app import make_celery

        # A client configured from this runtime's settings (the worker's app reads the environment).
        client = make_celery(runtime.settings, name="kinderflow-api")
        _clients[id(runtime)] = client
        install_publisher(runtime, client)


def stop_publishing(runtime: Runtime, timeout: float = 30.0) -> None:
    """Stop relaying and let the in-process runner finish what it started."""
    uninstall_publisher()
    runner = _runners.pop(id(runtime), None)
    if runner is not None:
        runner.close(timeout)
    client = _clients.pop(id(runtime), None)
    if client is not None:
        client.close()


def celery_for(runtime: Runtime) -> Celery | None:
    """The Celery client this runtime publishes with (full mode, while serving)."""
    return _clients.get(id(runtime))


def _reconcile_quietly(runtime: Runtime, runner: InlineRunner, started: datetime) -> None:
    from workers.reconcile import reconcile

    try:
        # Only rows published before this process started: later ones are this runner's own.
        reconcile(runtime, inline_send(runner), older_than=max(utcnow() - started, timedelta(0)))
    except Exception:
        logger.exception("reconciling at start failed; the rows stay for the next start")


def runner_for(runtime: Runtime) -> InlineRunner | None:
    """The embedded runner of this runtime (tests use it to wait for background work)."""
    return _runners.get(id(runtime))
