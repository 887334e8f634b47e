"""Workers run tasks longer than the visibility timeout, die on poison messages, and never see rolled-back
work. (Killing a worker mid-build, with the real archive task: tests/faults/test_archive_crash.py.)"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.runtime import Runtime
from tests.faults.conftest import full_runtime
from tests.faults.services import CeleryWorker, RedisServer, wait_until, worker_env
from tests.faults.tasks import BUNDLE_OWNER, NOTE, SLOW_BUILD, SUICIDE
from workers.app import make_celery
from workers.relay import celery_send, install_publisher, publish_pending
from workers.visibility import MAX_REDELIVERIES
from workflows import outbox
from workflows.documents.models import Document
from workflows.outbox import OutboxMessage

pytestmark = pytest.mark.slow


@pytest.fixture
def runtime(pg: Database, tmp_path: Path, redis_server: RedisServer) -> Iterator[Runtime]:
    runtime = full_runtime(pg, tmp_path, redis_server.url)
    yield runtime
    runtime.uninstall_publisher()


@pytest.fixture
def workers(runtime: Runtime, tmp_path: Path) -> Iterator[list[CeleryWorker]]:
    started: list[CeleryWorker] = []
    yield started
    for worker in started:
        worker.discard()


def start_worker(runtime: Runtime, folder: Path, started: list[CeleryWorker], name: str, **extra: str) -> CeleryWorker:
    return launch_worker(runtime, folder, started, name, **extra).wait_ready()


def launch_worker(runtime: Runtime, folder: Path, started: list[CeleryWorker], name: str, **extra: str) -> CeleryWorker:
    env = worker_env(
        broker_url=runtime.settings.broker_url,
        database_url=runtime.settings.database_url,
        object_store=runtime.settings.object_store,
        var_dir=folder,
        **extra,
    )
    worker = CeleryWorker(folder, env, name=name)
    started.append(worker)
    return worker.launch()


def send_build(runtime: Runtime, owner: str, *, chunks: int, delay: float, log: Path) -> None:
    with runtime.db.session() as session:
        outbox.record(session, SLOW_BUILD, owner_id=owner, chunks=chunks, delay=delay, log=str(log))
    client = make_celery(runtime.settings, name="kf-fault-client")
    try:
        assert publish_pending(runtime, celery_send(client)) == 1
    finally:
        client.close()


def bundles(db: Database) -> list[Document]:
    with db.session() as session:
        return list(session.scalars(select(Document).where(Document.owner_type == BUNDLE_OWNER)))


def runs(log: Path) -> list[str]:
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


def test_a_task_longer_than_the_visibility_timeout_runs_once_while_its_worker_lives(runtime, workers, tmp_path):
    # A 3 s visibility timeout and a 9 s task, two workers polling: only the heartbeat keeps the
    # second worker from restoring the message and building the bundle a second time.
    extra = {"task_visibility_timeout_seconds": "3"}
    first = launch_worker(runtime, tmp_path, workers, "first", **extra)
    second = launch_worker(runtime, tmp_path, workers, "second", **extra)
    first.wait_ready(), second.wait_ready()
    owner, log = str(uuid.uuid4()), tmp_path / "runs.log"
    send_build(runtime, owner, chunks=30, delay=0.3, log=log)
    wait_until(lambda: bundles(runtime.db), 40, "bundle row", first.log)
    time.sleep(4)  # one more visibility timeout and a restore sweep
    assert runs(log) == ["start", "done"]
    assert len(bundles(runtime.db)) == 1


def test_rolled_back_transaction_enqueues_nothing_in_full_mode(runtime, workers, tmp_path, redis_server):
    worker = start_worker(runtime, tmp_path, workers, "only")
    client = make_celery(runtime.settings, name="kf-fault-client")
    install_publisher(runtime, client)
    log = tmp_path / "notes.log"
    try:
        with pytest.raises(RuntimeError), runtime.db.session() as session:
            outbox.record(session, NOTE, token="rolled-back", log=str(log))
            session.flush()
            raise RuntimeError("abandon")
        with runtime.db.session() as session:
            outbox.record(session, NOTE, token="committed", log=str(log))
        wait_until(lambda: log.exists() and "committed" in log.read_text(), 30, "the committed task", worker.log)
        time.sleep(1.0)
        assert log.read_text().split() == ["committed"]
        assert redis_server.client().llen("celery") == 0
        with runtime.db.session() as session:
            assert [m.payload["token"] for m in session.scalars(select(OutboxMessage))] == ["committed"]
    finally:
        runtime.uninstall_publisher()
        client.close()


def test_a_message_that_kills_its_worker_every_time_is_given_up(runtime, workers, tmp_path):
    worker = start_worker(runtime, tmp_path, workers, "victim")
    log = tmp_path / "poison.log"
    client = make_celery(runtime.settings, name="kf-fault-client")
    try:
        client.send_task(SUICIDE, kwargs={"log": str(log)}, ignore_result=True)
        # The first delivery, then one per requeue after each lost child, up to the cap.
        wait_until(lambda: len(runs(log)) == 1 + MAX_REDELIVERIES, 60, "every permitted delivery", worker.log)
        wait_until(lambda: "given up" in worker.log.read_text(errors="replace"), 30, "giving up", worker.log)
        assert len(runs(log)) == 1 + MAX_REDELIVERIES
        assert worker.process is not None and worker.process.poll() is None
    finally:
        client.close()
