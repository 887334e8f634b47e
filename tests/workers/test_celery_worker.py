"""A real Celery worker process on a real Redis: tasks and outbox rows reach it and run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from celery.result import AsyncResult
from sqlalchemy import select

from storage.db import Database
from storage.runtime import Runtime
from storage.settings import Settings
from storage.stores import build_object_store
from workers.app import make_celery
from workers.relay import celery_send, install_publisher, publish_pending
from workflows.outbox import OutboxMessage, record

pytestmark = pytest.mark.slow

# Database 15, and a queue of our own per run: other runs may share this Redis.
REDIS_URL = os.environ.get("KINDERFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0


@dataclass
class Worker:
    queue: str
    client: Celery
    process: subprocess.Popen[bytes]
    log: Path
    results: list[AsyncResult] = field(default_factory=list)

    def wait(self, result: AsyncResult) -> Any:
        """The task's return value, once the worker stored it (bounded; fails with the worker log)."""
        self.results.append(result)
        self._until(result.ready, f"task {result.id}")
        return result.get(timeout=5)

    def wait_for_log(self, text: str) -> None:
        self._until(lambda: text in self.log.read_text(errors="replace"), f"{text!r} in the worker log")

    def _until(self, done: Any, what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not done():
            if self.process.poll() is not None:
                pytest.fail(f"worker exited ({self.process.returncode}):\n{self.log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {what} after {TIMEOUT:.0f} s; worker log:\n{self.log_tail()}")
            time.sleep(0.1)

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


def require_redis() -> redis.Redis:
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        connection.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({exc}); these tests need a real Redis "
            "(set KINDERFLOW_TEST_REDIS_URL to use another one)",
            pytrace=False,
        )
    return connection


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    connection = require_redis()
    queue = f"kf-test-{uuid.uuid4().hex[:12]}"
    var_dir = tmp_path_factory.mktemp("worker")
    env = {key: value for key, value in os.environ.items() if not key.startswith("KINDERFLOW_")}
    env |= {
        "KINDERFLOW_BROKER_URL": REDIS_URL,
        "KINDERFLOW_DEMO": "true",
        "KINDERFLOW_VAR_DIR": str(var_dir),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.app",
        "worker",
        "--pool=solo",
        "-Q",
        queue,
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "-l",
        "info",
    ]
    log = var_dir / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    client = make_celery(Settings(demo=True, var_dir=var_dir, broker_url=REDIS_URL), name="kf-test-client")
    # Everything this client sends goes to this run's queue, which only our worker consumes.
    client.conf.task_default_queue = queue
    started = Worker(queue=queue, client=client, process=process, log=log)
    try:
        yield started
    finally:
        stop(process)
        for result in started.results:
            result.forget()
        client.close()
        for key in connection.scan_iter(match=f"*{queue}*"):
            connection.delete(key)
        connection.close()


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task, then exit
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def runtime(db: Database, tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(demo=True, var_dir=tmp_path, database_url=db.url, broker_url=REDIS_URL)
    runtime = Runtime(settings=settings, db=db, objects=build_object_store(settings))
    yield runtime
    runtime.uninstall_publisher()


def only_row(db: Database) -> OutboxMessage:
    with db.session() as session:
        return session.scalars(select(OutboxMessage)).one()


def test_worker_answers_ping(worker: Worker) -> None:
    token = uuid.uuid4().hex
    result = worker.client.send_task("kinderflow.ping", kwargs={"token": token})
    assert worker.wait(result) == f"pong:{token}"


def test_outbox_row_is_relayed_to_the_worker_and_runs(worker: Worker, db: Database, runtime: Runtime) -> None:
    token = uuid.uuid4().hex
    with db.session() as session:  # no publisher installed: only the relay below sends it
        record(session, "kinderflow.ping", token=token)
    # Keep the result (the relay itself ignores results) so the test can read what the task returned.
    send = celery_send(worker.client, ignore_result=False)
    sent: list[Any] = []

    assert publish_pending(runtime, lambda name, payload: sent.append(send(name, payload))) == 1
    [result] = sent
    assert worker.wait(result) == f"pong:{token}"
    assert only_row(db).published_at is not None
    assert publish_pending(runtime, lambda name, payload: sent.append(send(name, payload))) == 0
    assert len(sent) == 1


def test_commit_publishes_to_the_worker_in_full_mode(worker: Worker, db: Database, runtime: Runtime) -> None:
    install_publisher(runtime, worker.client)
    token = uuid.uuid4().hex
    with db.session() as session:
        record(session, "kinderflow.ping", token=token)
    # Full mode relays in the committing thread: the row is published when the commit returns.
    row = only_row(db)
    assert row.published_at is not None
    assert (row.attempts, row.last_error) == (1, "")
    worker.wait_for_log(f"'pong:{token}'")
