"""Dependency checks for ``/api/health``: each dependency answers for itself."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from sqlalchemy import text

from storage.objects import ObjectStoreError
from storage.runtime import Runtime


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    latency_ms: float | None = None


def check_database(runtime: Runtime) -> Check:
    try:
        with runtime.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return Check("database", True, runtime.db.engine.dialect.name)
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return Check("database", False, type(exc).__name__)


def check_objects(runtime: Runtime) -> Check:
    try:
        runtime.objects.check()
        return Check("object_store", True, runtime.objects.mode)
    except ObjectStoreError as exc:
        return Check("object_store", False, f"{runtime.objects.mode}: {type(exc).__name__}")


def check_broker(runtime: Runtime) -> Check:
    if runtime.settings.embedded:
        return Check("broker", True, "in-process")
    try:
        client = redis.Redis.from_url(runtime.settings.broker_url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
        return Check("broker", True, "redis")
    except Exception as exc:  # noqa: BLE001
        return Check("broker", False, type(exc).__name__)


def run_checks(runtime: Runtime) -> list[Check]:
    """Check the database, the object store and the broker."""
    return [check_database(runtime), check_objects(runtime), check_broker(runtime)]
