"""The Celery configuration of full mode, and registering the recorded tasks on a Celery app.

``workers.app`` builds the worker's app from this; the API process builds its client with
``make_celery``. Why each delivery setting is what it is: see ``workers.app``.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.schedules import crontab

from storage.settings import Settings
from workers.channel_tasks import RETRY_DUE, SWEEP_SECONDS
from workers.registry import MAX_RETRIES, SPECS, TRANSIENT_ERRORS

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
            # Failed channel deliveries are retried once their backoff has passed.
            "channels-retry-due": {"task": RETRY_DUE, "schedule": SWEEP_SECONDS},
        },
    }


def make_celery(settings: Settings, name: str = "kinderflow") -> Celery:
    """A Celery app configured now from ``settings`` (clients and tests; the worker uses ``workers.app``)."""
    client = Celery(name, set_as_current=False)
    client.conf.update(celery_config(settings))
    register_tasks(client)
    return client


def register_tasks(celery_app: Celery) -> None:
    """Register on ``celery_app`` every task recorded in ``workers.registry``: those recorded so far
    now, those recorded before the app is finalized then. A worker registers the tasks of the modules
    it imports later (``-I``) with ``register_recorded`` at ``worker_init`` (``workers.app``)."""
    register_recorded(celery_app)
    celery_app.on_after_finalize.connect(register_recorded, weak=False)


def register_recorded(sender: Celery, **_: Any) -> None:
    """Register on ``sender`` the recorded tasks it does not have yet."""
    for spec in list(SPECS.values()):
        if sender.finalized and spec.name in sender.tasks:
            continue  # registered before the app was finalized
        sender.task(
            name=spec.name,
            bind=False,
            shared=False,
            serializer="json",
            autoretry_for=TRANSIENT_ERRORS,
            retry_backoff=True,
            retry_backoff_max=600,
            retry_jitter=True,
            max_retries=MAX_RETRIES,
            **spec.limits(),
        )(spec.run)
