"""The Celery app of full mode (``celery -A workers.app worker``), configured from the settings.

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
  keeps killing its worker is given up after ``MAX_REDELIVERIES`` redeliveries (``workers.registry``).
- Redis itself must not drop messages: ``noeviction`` and an append-only file in docker-compose.yml.
  Whatever Redis loses anyway (a restart without persistence), the outbox reconciler sends again:
  an outbox row whose tasks left no receipt within ``KINDERFLOW_TASK_REDRIVE_AFTER_SECONDS`` is
  published anew (``workers.reconcile``, every minute from beat).
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_init, worker_process_init, worker_ready, worker_shutdown

from storage.settings import Settings, get_settings

# Modules holding tasks; a worker imports them at start-up.
TASK_MODULES = ["workers.tasks", "workers.relay", "workers.maintenance"]
RELAY_INTERVAL_SECONDS = 30.0
RECONCILE_INTERVAL_SECONDS = 60.0
ORPHAN_SWEEP_INTERVAL_SECONDS = 6 * 3600.0
# kombu's sweep for expired unacknowledged messages: every 5 s, scanning Redis on every call.
UNACKED_RESTORE_INTERVAL = 5
UNACKED_RESTORE_THROTTLE = 1
# The longest any task may run (a bundle of many media files included); the soft limit comes first.
TASK_TIME_LIMIT_SECONDS = 3600
TASK_SOFT_TIME_LIMIT_SECONDS = 3540


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for ``settings``; refuses embedded mode (no broker)."""
    if settings.embedded:
        raise RuntimeError(
            "KINDERFLOW_BROKER_URL is empty: embedded mode runs tasks in-process; "
            "set it (e.g. redis://redis:6379/0) to run a Celery worker"
        )
    return {
        "broker_url": settings.broker_url,
        "result_backend": settings.broker_url,
        # JSON only: a pickled message from a compromised broker would be code execution.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # Acks-late plus prefetch would park messages on a busy worker; take one at a time.
        "worker_prefetch_multiplier": 1,
        # Redis redelivers a message not acknowledged (nor re-scored by its worker's heartbeat) after
        # the visibility timeout; see the module docstring for why it is short.
        "broker_transport_options": {
            "visibility_timeout": settings.task_visibility_timeout_seconds,
            "unacked_restore_interval": UNACKED_RESTORE_INTERVAL,
            "unacked_restore_throttle": UNACKED_RESTORE_THROTTLE,
            # A publish to a Redis that vanished fails in seconds instead of hanging the request.
            "socket_timeout": 10,
            "socket_connect_timeout": 5,
        },
        "task_time_limit": TASK_TIME_LIMIT_SECONDS,
        "task_soft_time_limit": TASK_SOFT_TIME_LIMIT_SECONDS,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "broker_connection_retry_on_startup": True,
        # A worker rides out a Redis outage of any length and resumes without a restart.
        "broker_connection_max_retries": None,
        "result_expires": 24 * 3600,
        "timezone": "UTC",
        "enable_utc": True,
        "beat_schedule": {
            "relay-outbox": {"task": "kinderflow.relay_outbox", "schedule": RELAY_INTERVAL_SECONDS},
            "reconcile": {"task": "kinderflow.reconcile", "schedule": RECONCILE_INTERVAL_SECONDS},
            "sweep-orphans": {"task": "kinderflow.sweep_orphans", "schedule": ORPHAN_SWEEP_INTERVAL_SECONDS},
            # Deadline reminders once a day, 08:30 China time; idempotent per deadline and day.
            "remind-deadlines": {"task": "kinderflow.remind_deadlines", "schedule": crontab(hour=0, minute=30)},
        },
    }


def make_celery(settings: Settings, name: str = "kinderflow") -> Celery:
    """A Celery app configured now from ``settings`` (clients and tests; the worker uses ``app``)."""
    client = Celery(name, set_as_current=False)
    client.conf.update(celery_config(settings))
    return client


app = Celery("kinderflow", include=TASK_MODULES)
app.add_defaults(lambda: celery_config(get_settings()))


@worker_init.connect
def _install_outbox_publisher(**_: Any) -> None:
    # Tasks that record outbox rows publish them after their commit, like the API does.
    # Imported here: workers.relay imports the task modules, which import this one.
    from workers.relay import install_publisher
    from workers.runtime import get_runtime

    install_publisher(get_runtime(), app)


@worker_process_init.connect
def _after_fork(**_: Any) -> None:
    from workers.runtime import forget_inherited_connections

    forget_inherited_connections()


_heartbeats: list[Any] = []


@worker_ready.connect
def _start_visibility_heartbeat(sender: Any = None, **_: Any) -> None:
    # sender is the worker's consumer; it holds the channel whose unacknowledged messages we extend.
    broker_url = str(app.conf.broker_url or "")
    if sender is None or not broker_url.startswith(("redis://", "rediss://", "unix://")):
        return
    from workers.visibility import VisibilityHeartbeat

    interval = max(1.0, float(app.conf.broker_transport_options.get("visibility_timeout", 30)) / 3)
    heartbeat = VisibilityHeartbeat(sender, broker_url, interval)
    heartbeat.start()
    _heartbeats.append(heartbeat)


@worker_shutdown.connect
def _stop_visibility_heartbeat(**_: Any) -> None:
    while _heartbeats:
        _heartbeats.pop().stop()
