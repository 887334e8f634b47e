"""The embedded runner and the outbox relay, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.runtime import Runtime
from storage.settings import Settings
from storage.stores import build_object_store
from workers.app import make_celery
from workers.inline import InlineRunner
from workers.registry import TOPICS, receipt_in, task
from workers.relay import NO_HANDLER, inline_send, install_publisher, publish_pending, relay_outbox
from workers.runtime import get_runtime, set_runtime
from workers.wiring import runner_for
from workflows.outbox import OutboxMessage, OutboxReceipt, record

RECORD = "tests.workers.record_call"
RECORD_OTHER = "tests.workers.record_other"
BOOM = "tests.workers.boom"
CALLS: list[tuple[str, str]] = []


@task(name=RECORD)
def record_call(token: str) -> None:
    """Test task: remember that it ran with ``token``."""
    CALLS.append((RECORD, token))


@task(name=RECORD_OTHER)
def record_other(token: str) -> None:
    """Test task: a second handler, to tell fan-out targets apart."""
    CALLS.append((RECORD_OTHER, token))


@task(name=BOOM)
def boom(token: str) -> None:
    """Test task: always fails."""
    raise ValueError(f"boom {token}")


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    CALLS.clear()
    yield
    set_runtime(None)
    CALLS.clear()


@pytest.fixture
def runtime(db: Database, tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(demo=True, var_dir=tmp_path, database_url=db.url, broker_url="")
    runtime = Runtime(settings=settings, db=db, objects=build_object_store(settings))
    yield runtime
    runtime.uninstall_publisher()


@pytest.fixture
def runner(runtime: Runtime) -> Iterator[InlineRunner]:
    runner = InlineRunner(runtime)
    yield runner
    runtime.uninstall_publisher()
    runner.close(timeout=10)


def outbox_rows(db: Database) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def commit_record(db: Database, topic: str, **payload: Any) -> None:
    with db.session() as session:
        record(session, topic, **payload)


# The runner


def test_runner_runs_ping_and_tasks_see_its_runtime(runner: InlineRunner, runtime: Runtime) -> None:
    future = runner.submit("kinderflow.ping", token="a")
    assert future.result(timeout=10) == "pong:a"
    assert runner.drain(10)
    assert runner.failures == []
    assert get_runtime() is runtime


def test_failing_task_is_recorded_and_the_runner_keeps_going(runner: InlineRunner) -> None:
    failed = runner.submit(BOOM, token="1")
    after = runner.submit("kinderflow.ping", token="after")
    assert after.result(timeout=10) == "pong:after"
    assert isinstance(failed.exception(timeout=10), ValueError)
    assert [(f.name, f.kwargs, str(f.error)) for f in runner.failures] == [(BOOM, {"token": "1"}, "boom 1")]
    assert runner.submit(RECORD, token="still alive").result(timeout=10) is None
    assert CALLS == [(RECORD, "still alive")]


def test_submit_refuses_unknown_tasks_and_non_json_arguments(runner: InlineRunner) -> None:
    with pytest.raises(LookupError, match="no.such.task"):
        runner.submit("no.such.task")
    with pytest.raises(TypeError):
        runner.submit(RECORD, token=object())
    assert runner.drain(10)
    assert CALLS == []


def test_drain_waits_for_tasks_queued_by_tasks(runner: InlineRunner) -> None:
    def chain() -> None:
        time.sleep(0.2)
        runner.submit(RECORD, token="queued by a task")

    runner.defer("chain", chain)
    assert runner.drain(10)
    assert CALLS == [(RECORD, "queued by a task")]


# The outbox relay, embedded mode


def test_committed_outbox_row_runs_exactly_once(db: Database, runtime: Runtime, runner: InlineRunner) -> None:
    install_publisher(runtime, runner)
    commit_record(db, RECORD, token="x")
    assert runner.drain(10)
    assert CALLS == [(RECORD, "x")]
    [row] = outbox_rows(db)
    assert row.published_at is not None
    assert (row.attempts, row.last_error) == (1, "")
    # Another relay run, and another commit with no outbox row, send nothing again.
    assert publish_pending(runtime, inline_send(runner)) == 0
    with db.session() as session:
        session.add(OutboxMessage(topic="other.bookkeeping", payload={}, published_at=row.published_at))
    assert runner.drain(10)
    assert CALLS == [(RECORD, "x")]


def test_topic_handlers_fan_out(
    db: Database, runtime: Runtime, runner: InlineRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(TOPICS, "tests.something_happened", [RECORD, RECORD_OTHER])
    install_publisher(runtime, runner)
    commit_record(db, "tests.something_happened", token="t")
    assert runner.drain(10)
    assert CALLS == [(RECORD, "t"), (RECORD_OTHER, "t")]
    assert outbox_rows(db)[0].published_at is not None


def test_rolled_back_transaction_publishes_nothing(db: Database, runtime: Runtime, runner: InlineRunner) -> None:
    install_publisher(runtime, runner)
    with pytest.raises(RuntimeError, match="abandon"), db.session() as session:
        record(session, RECORD, token="never")
        session.flush()
        raise RuntimeError("abandon the request")
    assert runner.drain(10)
    assert CALLS == []
    assert outbox_rows(db) == []


def test_row_left_unpublished_is_published_by_a_later_run(db: Database, runtime: Runtime, runner: InlineRunner) -> None:
    # No publisher at commit time: the process stopped between commit and publish.
    commit_record(db, RECORD, token="late")
    assert runner.drain(10)
    assert CALLS == []
    assert outbox_rows(db)[0].published_at is None

    assert publish_pending(runtime, inline_send(runner)) == 1
    assert runner.drain(10)
    assert CALLS == [(RECORD, "late")]
    assert outbox_rows(db)[0].published_at is not None


def test_the_publisher_lives_on_the_runtime_and_uninstalling_stops_the_relay(
    db: Database, runtime: Runtime, runner: InlineRunner
) -> None:
    publisher = install_publisher(runtime, runner)
    assert runtime.publisher is publisher
    assert runner_for(runtime) is runner
    commit_record(db, RECORD, token="relayed")
    assert runner.drain(10)
    assert CALLS == [(RECORD, "relayed")]

    runtime.uninstall_publisher()
    assert runtime.publisher is None and runner_for(runtime) is None
    commit_record(db, RECORD, token="waits")
    assert runner.drain(10)
    assert CALLS == [(RECORD, "relayed")]
    assert [row.published_at is None for row in outbox_rows(db)] == [False, True]
    # The beat task refuses to guess where to send when nothing is installed.
    set_runtime(runtime)
    with pytest.raises(RuntimeError, match="no task publisher"):
        relay_outbox()


def test_installing_the_publisher_relays_rows_left_by_a_previous_run(
    db: Database, runtime: Runtime, runner: InlineRunner
) -> None:
    commit_record(db, RECORD, token="from before the restart")
    install_publisher(runtime, runner)
    assert runner.drain(10)
    assert CALLS == [(RECORD, "from before the restart")]


def test_relay_outbox_task_sends_rows_the_post_commit_relay_missed(
    db: Database, runtime: Runtime, runner: InlineRunner
) -> None:
    install_publisher(runtime, runner)
    assert runner.drain(10)
    # Added without record(): no commit hook fires, as if the post-commit relay had been lost.
    with db.session() as session:
        session.add(OutboxMessage(topic=RECORD, payload={"token": "missed"}))
    assert runner.drain(10)
    assert CALLS == []
    assert runner.submit("kinderflow.relay_outbox").result(timeout=10) == 1
    assert runner.drain(10)
    assert CALLS == [(RECORD, "missed")]


def test_failed_send_leaves_the_row_for_the_next_run(db: Database, runtime: Runtime, runner: InlineRunner) -> None:
    commit_record(db, RECORD, token="first")
    commit_record(db, RECORD, token="second")

    def broker_down(name: str, payload: dict[str, Any]) -> None:
        raise ConnectionError("broker down")

    assert publish_pending(runtime, broker_down) == 0
    first, second = outbox_rows(db)
    assert first.published_at is None
    assert first.attempts == 1
    assert "broker down" in first.last_error
    # The batch stops at the first failure: the broker is most likely down for the others too.
    assert (second.published_at, second.attempts) == (None, 0)

    assert publish_pending(runtime, inline_send(runner)) == 2
    assert runner.drain(10)
    assert CALLS == [(RECORD, "first"), (RECORD, "second")]
    first, second = outbox_rows(db)
    assert (first.attempts, first.last_error, second.attempts) == (2, "", 1)
    assert first.published_at is not None


def test_unknown_topic_is_marked_published_with_no_handler(db: Database, runtime: Runtime) -> None:
    commit_record(db, "nobody.listens", value=1)
    sent: list[str] = []
    assert publish_pending(runtime, lambda name, payload: sent.append(name)) == 0
    assert sent == []
    [row] = outbox_rows(db)
    assert row.published_at is not None
    assert row.last_error == NO_HANDLER


def test_topic_mapped_to_an_unregistered_task_stays_unpublished(
    db: Database, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(TOPICS, "tests.misconfigured", ["kinderflow.no_such_task"])
    commit_record(db, "tests.misconfigured", value=1)
    commit_record(db, "kinderflow.ping", token="behind it")
    sent: list[str] = []
    assert publish_pending(runtime, lambda name, payload: sent.append(name)) == 1
    misconfigured, ping = outbox_rows(db)
    assert misconfigured.published_at is None
    assert "kinderflow.no_such_task" in misconfigured.last_error
    # A mapping bug holds back only its own rows.
    assert sent == ["kinderflow.ping"]
    assert ping.published_at is not None


# The outbox relay, full mode, with the broker unreachable


def test_relay_failure_never_reaches_the_committing_code(db: Database, runtime: Runtime, tmp_path: Path) -> None:
    # Nothing listens on port 1: every publish to this broker fails.
    unreachable = make_celery(Settings(demo=True, var_dir=tmp_path, broker_url="redis://127.0.0.1:1/0"))
    try:
        install_publisher(runtime, unreachable)
        started = time.monotonic()
        commit_record(db, "kinderflow.ping", token="y")  # must not raise
        elapsed = time.monotonic() - started
    finally:
        runtime.uninstall_publisher()
        unreachable.close()
    # A broker outage costs the request a short publish retry, not a long reconnect loop.
    assert elapsed < 10
    [row] = outbox_rows(db)
    assert row.published_at is None
    assert row.attempts == 1
    assert row.last_error


RECEIPTED = "tests.workers.receipted"
RECEIPTED_THEN_ROLLED_BACK = "tests.workers.receipted_then_rolled_back"


@task(name=RECEIPTED)
def receipted(token: str) -> None:
    """Test task: writes its work and its receipt in one transaction."""
    with get_runtime().db.session() as session:
        record(session, "tests.workers.no_such_topic", token=token)
        receipt_in(session)
    CALLS.append((RECEIPTED, token))


@task(name=RECEIPTED_THEN_ROLLED_BACK)
def receipted_then_rolled_back(token: str) -> None:
    """Test task: asks for its receipt in a transaction that then fails."""
    with get_runtime().db.session() as session:
        receipt_in(session)
        raise ValueError(f"rolled back {token}")


def receipts(db: Database) -> list[tuple[int, str]]:
    with db.session() as session:
        return [(r.outbox_id, r.task) for r in session.scalars(select(OutboxReceipt))]


def test_a_receipt_written_in_the_tasks_own_transaction_counts_once(
    db: Database, runtime: Runtime, runner: InlineRunner
) -> None:
    install_publisher(runtime, runner)
    commit_record(db, RECEIPTED, token="r1")
    assert runner.drain(timeout=10)
    [row] = [r for r in outbox_rows(db) if r.topic == RECEIPTED]
    # One receipt, written with the task's own work (no second one by the wrapper afterwards).
    assert receipts(db) == [(row.id, RECEIPTED)]
    assert CALLS == [(RECEIPTED, "r1")]
    # Outside a delivery (a direct call) there is no receipt to write.
    receipted(token="direct")
    assert receipts(db) == [(row.id, RECEIPTED)]


def test_a_receipt_in_a_rolled_back_transaction_is_not_written(
    db: Database, runtime: Runtime, runner: InlineRunner
) -> None:
    install_publisher(runtime, runner)
    commit_record(db, RECEIPTED_THEN_ROLLED_BACK, token="r2")
    assert runner.drain(timeout=10)
    assert receipts(db) == []  # the reconciler sends the row again
    assert [f.name for f in runner.failures] == [RECEIPTED_THEN_ROLLED_BACK]
