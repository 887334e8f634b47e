"""Connecting a running API process to its task runner: in-process (embedded) or Celery (full).

The publisher lives on the runtime (``Runtime.publisher``): the runner or the Celery client it
sends to is found there, not in this module.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import Celery

from storage.db import utcnow
from storage.runtime import Runtime
from workers import catalog  # noqa: F401 - records every task, for the in-process runner
from workers.celery_config import make_celery
from workers.inline import InlineRunner
from workers.reconcile import reconcile
from workers.relay import CeleryPublisher, InlinePublisher, inline_send, install_publisher

logger = logging.getLogger(__name__)


def start_publishing(runtime: Runtime) -> None:
    """Relay outbox rows after each commit: to a background thread here, or to the Celery broker."""
    if runtime.settings.embedded:
        runner = InlineRunner(runtime)
        install_publisher(runtime, runner)
        # Whatever the runner of a previous run held when it stopped is lost with it: send it again.
        started = utcnow()
        runner.defer("reconcile at start", lambda: _reconcile_quietly(runtime, runner, started))
    else:
        # A client configured from this runtime's settings (the worker's app reads the environment).
        install_publisher(runtime, make_celery(runtime.settings, name="kinderflow-api"))


def stop_publishing(runtime: Runtime, timeout: float = 30.0) -> None:
    """Stop relaying and let the in-process runner finish what it started."""
    publisher = runtime.publisher
    runtime.uninstall_publisher()
    if isinstance(publisher, InlinePublisher):
        publisher.runner.close(timeout)
    elif isinstance(publisher, CeleryPublisher):
        publisher.client.close()


def celery_for(runtime: Runtime) -> Celery | None:
    """The Celery client this runtime publishes with (full mode, while serving)."""
    publisher = runtime.publisher
    return publisher.client if isinstance(publisher, CeleryPublisher) else None


def runner_for(runtime: Runtime) -> InlineRunner | None:
    """The embedded runner of this runtime (tests use it to wait for background work)."""
    publisher = runtime.publisher
    return publisher.runner if isinstance(publisher, InlinePublisher) else None


def _reconcile_quietly(runtime: Runtime, runner: InlineRunner, started: datetime) -> None:
    try:
        # Only rows published before this process started: later ones are this runner's own.
        reconcile(runtime, inline_send(runner), older_than=max(utcnow() - started, timedelta(0)))
    except Exception:
        logger.exception("reconciling at start failed; the rows stay for the next start")
