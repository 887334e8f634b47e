"""The at-least-once settings, each of which the fault tests depend on, stay as reasoned in workers/app.py."""

from __future__ import annotations

from pathlib import Path

import yaml

from storage.settings import Settings
from workers.app import (
    ORPHAN_SWEEP_INTERVAL_SECONDS,
    TASK_MODULES,
    TASK_TIME_LIMIT_SECONDS,
    UNACKED_RESTORE_INTERVAL,
    UNACKED_RESTORE_THROTTLE,
    celery_config,
)

ROOT = Path(__file__).resolve().parents[2]


def test_celery_is_configured_for_at_least_once_delivery(tmp_path):
    config = celery_config(Settings(demo=True, var_dir=tmp_path, broker_url="redis://127.0.0.1:6379/0"))
    assert config["task_acks_late"] is True
    assert config["task_reject_on_worker_lost"] is True
    assert config["worker_prefetch_multiplier"] == 1
    assert config["accept_content"] == ["json"]
    options = config["broker_transport_options"]
    # A killed worker's task is restored within visibility timeout + one sweep: inside a minute.
    assert (
        options["visibility_timeout"] + options["unacked_restore_interval"] * options["unacked_restore_throttle"] < 60
    )
    assert (options["unacked_restore_interval"], options["unacked_restore_throttle"]) == (
        UNACKED_RESTORE_INTERVAL,
        UNACKED_RESTORE_THROTTLE,
    )
    # Long tasks keep their messages with the heartbeat (a third of the timeout), up to the hard limit.
    assert config["task_time_limit"] == TASK_TIME_LIMIT_SECONDS > config["task_soft_time_limit"]
    assert config["broker_connection_max_retries"] is None
    schedule = {entry["task"]: entry["schedule"] for entry in config["beat_schedule"].values()}
    assert schedule["kinderflow.reconcile"] <= 60
    assert schedule["kinderflow.sweep_orphans"] == ORPHAN_SWEEP_INTERVAL_SECONDS
    assert "workers.maintenance" in TASK_MODULES


def test_compose_runs_redis_without_eviction_and_with_an_append_only_file():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert command[command.index("--appendonly") + 1] == "yes"
