"""Periodic upkeep that Celery beat starts: re-driving lost work, sweeping orphaned objects."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from workers.reconcile import reconcile as reconcile_work
from workers.registry import task
from workers.relay import current_send
from workers.runtime import get_runtime
from workflows.orphans import sweep_orphans as sweep


@task(name="kinderflow.reconcile")
def reconcile(older_than_seconds: float | None = None) -> dict[str, Any]:
    """Send again outbox work that left no receipt, request stuck work, publish what is pending."""
    runtime = get_runtime()
    older_than = None if older_than_seconds is None else timedelta(seconds=older_than_seconds)
    return dataclasses.asdict(reconcile_work(runtime, current_send(runtime), older_than=older_than))


@task(name="kinderflow.sweep_orphans")
def sweep_orphans(grace_hours: float | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Delete stored objects no row references, older than the grace period (default: the setting)."""
    runtime = get_runtime()
    hours = runtime.settings.orphan_grace_hours if grace_hours is None else grace_hours
    report = sweep(db=runtime.db, objects=runtime.objects, grace=timedelta(hours=hours), dry_run=dry_run)
    return dataclasses.asdict(report)
