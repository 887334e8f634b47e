"""The reconciler sends again what was published but never done, and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from storage.db import utcnow
from storage.runtime import Runtime
from workers.inline import InlineRunner
from workers.reconcile import MAX_PUBLISH_ATTEMPTS, reconcile
from workers.registry import task
from workers.relay import NO_HANDLER, inline_send, uninstall_publisher
from workers.runtime import set_runtime
from workers.wiring import runner_for
from workflows import reconcile as stuck
from workflows.outbox import OutboxMessage, OutboxReceipt

COUNT = "tests.faults.count"
CALLS: list[str] = []


@task(name=COUNT)
def count(token: str) -> None:
    """Test task: remember each run."""
    CALLS.append(token)


@pytest.fixture
def runner(runtime: Runtime) -> Iterator[InlineRunner]:
    CALLS.clear()
    uninstall_publisher()
    runner = InlineRunner(runtime)
    yield runner
    runner.close(timeout=10)
    set_runtime(None)
    CALLS.clear()


def published_row(runtime: Runtime, token: str, *, ago: timedelta, attempts: int = 1, error: str = "") -> int:
    with runtime.db.session() as session:
        row = OutboxMessage(
            topic=COUNT, payload={"token": token}, published_at=utcnow() - ago, attempts=attempts, last_error=error
        )
        session.add(row)
        session.flush()
        return row.id


def test_published_work_without_a_receipt_is_sent_again_once(runtime, runner):
    lost = published_row(runtime, "lost", ago=timedelta(hours=1))
    done = published_row(runtime, "done", ago=timedelta(hours=1))
    recent = published_row(runtime, "recent", ago=timedelta(seconds=5))
    exhausted = published_row(runtime, "exhausted", ago=timedelta(hours=1), attempts=MAX_PUBLISH_ATTEMPTS)
    unhandled = published_row(runtime, "nobody", ago=timedelta(hours=1), error=NO_HANDLER)
    with runtime.db.session() as session:
        session.add(OutboxReceipt(outbox_id=done, task=COUNT))

    report = reconcile(runtime, inline_send(runner), older_than=timedelta(minutes=15))
    assert runner.drain(10)
    assert (report.redriven, report.published) == (1, 1)
    assert CALLS == ["lost"]
    with runtime.db.session() as session:
        row = session.get(OutboxMessage, lost)
        assert (row.attempts, row.published_at is not None) == (2, True)
        assert session.get(OutboxReceipt, (lost, COUNT)) is not None
        assert {r.id for r in session.scalars(select(OutboxMessage))} == {lost, done, recent, exhausted, unhandled}

    # Done now: nothing more to send, however often the reconciler runs.
    again = reconcile(runtime, inline_send(runner), older_than=timedelta(0))
    assert runner.drain(10)
    assert (again.redriven, CALLS) == (1, ["lost", "recent"])


def test_stuck_work_reported_by_an_area_is_requested_through_the_outbox(runtime, runner, monkeypatch):
    monkeypatch.setattr(stuck, "_finders", {})
    stuck.register_stuck_work("tests", lambda session, cutoff: [(COUNT, {"token": "stuck"})])
    report = reconcile(runtime, inline_send(runner), older_than=timedelta(minutes=15))
    assert runner.drain(10)
    assert (report.stuck_requested, CALLS) == (1, ["stuck"])


def test_an_embedded_start_sends_again_what_the_previous_run_held(runtime):
    CALLS.clear()
    published_row(runtime, "held by the last run", ago=timedelta(seconds=1))
    with TestClient(create_app(runtime=runtime)) as client:
        assert runner_for(runtime).drain(10)
        assert client.get("/api/health").json()["checks"]["workers"]["detail"] == "in-process"
    assert CALLS == ["held by the last run"]
    set_runtime(None)
