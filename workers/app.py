"""The Celery app of full mode (``celery -A workers.app worker``), configured from the settings.

The only module that builds the worker's Celery app: task modules record their tasks in
``workers.registry`` and this app registers them (``workers.celery_config.register_tasks``).
Configuration is read lazily, when Celery first needs it, so importing this module needs neither
Redis nor valid settings. Delivery is at-least-once: a task is acknowledged only after it ran, and
a task whose worker died is redelivered, which is why every task is idempotent.

How a killed worker's task comes back within a minute without a long task ever running twice:

- Redis has no acknowledgements of its own. kombu keeps each delivered message in an ``unacked``
  hash, scored by delivery time, until the task is acknowledged (``task_acks_late``: after it ran).
  Any worker's consumer restores a message whose score is older than ``visibility_timeout``, with a
  sweep every ``unacked_restore_interval`` x ``unacked_restore_throttle`` seconds (here 5 x 1).
- A long visibility timeout (kombu's default is an hour) would make a dead worker's task wait that
  long; a short one would hand a still-running long task to a second worker. So the timeout is short
  (``KINDERFLOW_TASK_VISIBILITY_TIMEOUT_SECONDS``, 30 s) and a live worker extends it: a heartbeat
  thread (``workers.visibility``) re-scores every message the worker holds every 10 s, running,
  reserved or waiting out a retry countdown alike. Only a worker that stopped beating loses its
  messages: a ``kill -9`` is redelivered 30-35 s after the last beat, well inside a minute. The
  timeout is thus longer than the longest task by construction, for every task that beats; the hard
  ``task_time_limit`` bounds how long that can be.
- A prefork child that dies is requeued at once (``task_reject_on_worker_lost``); a message that
  keeps killing its worker is given up after ``MAX_REDELIVERIES`` redeliveries (``workers.visibility``).
- Redis itself must not drop messages: ``noeviction`` and an append-only file in docker-compose.yml.
  Whatever Redis loses anyway (a restart without persistence), the outbox reconciler sends again:
  an outbox row whose tasks left no receipt within ``KINDERFLOW_TASK_REDRIVE_AFTER_SECONDS`` is
  published anew (``workers.reconcile``, every minute from beat).
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_ready, worker_shutdown

from storage.settings import get_settings
from workers.catalog import TASK_MODULES
from workers.celery_config import (
    ORPHAN_SWEEP_INTERVAL_SECONDS,
    RECONCILE_INTERVAL_SECONDS,
    RELAY_INTERVAL_SECONDS,
    TASK_SOFT_TIME_LIMIT_SECONDS,
    TASK_TIME_LIMIT_SECONDS,
    UNACKED_RESTORE_INTERVAL,
    UNACKED_RESTORE_THROTTLE,
    celery_config,
    make_celery,
    register_recorded,
    register_tasks,
)
from workers.relay import install_publisher
from workers.runtime import forget_inherited_connections, get_runtime
from workers.visibility import VisibilityHeartbeat

__all__ = [
    "ORPHAN_SWEEP_INTERVAL_SECONDS",
    "RECONCILE_INTERVAL_SECONDS",
    "RELAY_INTERVAL_SECONDS",
    "TASK_MODULES",
    "TASK_SOFT_TIME_LIMIT_SECONDS",
    "TASK_TIME_LIMIT_SECONDS",
    "UNACKED_RESTORE_INTERVAL",
    "UNACKED_RESTORE_THROTTLE",
    "app",
    "celery_config",
    "make_celery",
]

app = Celery("kinderflow", include=TASK_MODULES)
app.add_defaults(lambda: celery_config(get_settings()))
register_tasks(app)


def _install_outbox_publisher(**_: Any) -> None:
    # The modules given with -I were imported after the app was finalized: register their tasks.
    register_recorded(app)
    # Tasks that record outbox rows publish them after their commit, like the API does.
    install_publisher(get_runtime(), app)


def _after_fork(**_: Any) -> None:
    forget_inherited_connections()


_heartbeats: list[VisibilityHeartbeat] = []


def _start_visibility_heartbeat(sender: Any = None, **_: Any) -> None:
    # sender is the worker's consumer; it holds the channel whose unacknowledged messages we extend.
    broker_url = str(app.conf.broker_url or "")
    if sender is None or not broker_url.startswith(("redis://", "rediss://", "unix://")):
        return
    interval = max(1.0, float(app.conf.broker_transport_options.get("visibility_timeout", 30)) / 3)
    heartbeat = VisibilityHeartbeat(sender, broker_url, interval)
    heartbeat.start()
    _heartbeats.append(heartbeat)


def _stop_visibility_heartbeat(**_: Any) -> None:
    while _heartbeats:
        _heartbeats.pop().stop()


# Connected by call, not as decorators: celery's signals are untyped.
worker_init.connect(_install_outbox_publisher)
worker_process_init.connect(_after_fork)
worker_ready.connect(_start_visibility_heartbeat)
worker_shutdown.connect(_stop_visibility_heartbeat)
