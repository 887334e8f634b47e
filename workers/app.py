"""The Celery app of full mode (``celery -A workers.app worker``), configured from the settings.

Configuration is read lazily, when Celery first needs it, so importing this module needs neither
Redis nor valid settings. Delivery is at-least-once: a task is acknowledged only after it ran, and
a task whose worker died is redelivered, which is why every task is idempotent.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init

from storage.settings import Settings, get_settings

# Modules holding tasks; a worker imports them at start-up.
TASK_MODULES = ["workers.tasks", "workers.relay"]
RELAY_INTERVAL_SECONDS = 30.0


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
        # Redis redelivers an unacknowledged message after this long; tasks must finish sooner.
        "broker_transport_options": {"visibility_timeout": 3600},
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "broker_connection_retry_on_startup": True,
        "result_expires": 24 * 3600,
        "timezone": "UTC",
        "enable_utc": True,
        "beat_schedule": {
            "relay-outbox": {"task": "kinderflow.relay_outbox", "schedule": RELAY_INTERVAL_SECONDS},
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
