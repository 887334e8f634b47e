"""Redis stops in the middle of a run and comes back empty: every approval's task still runs, once.

The API runs in full mode (PostgreSQL, a private Redis with nothing on disk, a real Celery worker).
Approvals made while Redis is down commit and answer 200; their outbox rows wait. Tasks Redis held
when it stopped are lost with it; the reconciler finds their rows by the missing receipt.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from api.main import create_app
from storage.runtime import Runtime
from tests.faults.applicants import add_applicants, fire, full_form, login, submitted_application
from tests.faults.conftest import full_runtime
from tests.faults.services import CeleryWorker, RedisServer, wait_until, worker_env
from tests.faults.tasks import MARK_APPROVED, MARK_OWNER
from tests.fixtures.app import build_world
from tests.fixtures.server import live_server
from workers.app import make_celery
from workers.reconcile import reconcile
from workers.registry import TOPICS
from workers.relay import celery_send
from workflows.documents.models import Document
from workflows.outbox import OutboxMessage, OutboxReceipt

pytestmark = pytest.mark.slow
APPLICATIONS = 10


@pytest.fixture
def runtime(pg, tmp_path: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setitem(TOPICS, "application.approved", [MARK_APPROVED])
    runtime = full_runtime(pg, tmp_path, redis_server.url)
    yield runtime
    runtime.uninstall_publisher()


def markers(runtime: Runtime) -> dict[str, int]:
    with runtime.db.session() as session:
        rows = session.execute(
            select(Document.owner_id, func.count()).where(Document.owner_type == MARK_OWNER).group_by(Document.owner_id)
        )
        return {str(owner): count for owner, count in rows}


def test_stopping_redis_mid_run_loses_no_approval_task(runtime, redis_server, tmp_path):
    world = build_world(runtime)
    applicants = add_applicants(runtime, APPLICATIONS, prefix="rr")
    run_log = tmp_path / "runs.log"
    env = worker_env(
        broker_url=redis_server.url,
        database_url=runtime.settings.database_url,
        object_store=runtime.settings.object_store,
        var_dir=tmp_path,
    ) | {"FAULT_RUN_LOG": str(run_log), "FAULT_TASK_DELAY": "0.5"}
    worker = CeleryWorker(tmp_path, env, name="rr").launch()
    try:
        run_the_outage(runtime, redis_server, worker, world, applicants, run_log)
    finally:
        worker.discard()


def run_the_outage(runtime, redis_server, worker, world, applicants, run_log):  # type: ignore[no-untyped-def]
    alliance = str(world.alliances["A"].id)
    with live_server(create_app(runtime=runtime)) as base, httpx.Client(base_url=base, timeout=60) as http:
        officer = login(http, "officer")
        apps = []
        for n, username in enumerate(applicants):
            app = submitted_application(http, login(http, username), full_form(n))
            r = fire(http, officer, app, "start_review")
            assert r.status_code == 200, r.text
            apps.append(r.json())
        worker.wait_ready()
        before, during = apps[:5], apps[5:]
        for app in before:
            assert fire(http, officer, app, "approve", alliance_id=alliance).status_code == 200
        # Half a second per task: most of these are still queued in Redis when it stops.
        redis_server.stop()
        assert http.get("/api/health").status_code == 503
        for app in during:
            started = time.monotonic()
            r = fire(http, officer, app, "approve", alliance_id=alliance)
            assert r.status_code == 200, r.text
            assert time.monotonic() - started < 15, "a broker outage must not hold a request long"
        with runtime.db.session() as session:
            unpublished = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.published_at.is_(None), OutboxMessage.topic == "application.approved")
            )
        assert unpublished == len(during)
        lost_with_redis = APPLICATIONS - len(markers(runtime)) - len(during)
        assert lost_with_redis > 0, "the test should stop Redis while it still holds tasks"

        redis_server.start()  # empty: nothing was kept on disk
        time.sleep(1.5)
        client = make_celery(runtime.settings, name="kf-fault-reconciler")
        try:
            report = reconcile(runtime, celery_send(client), older_than=timedelta(seconds=1))
        finally:
            client.close()
        assert report.published >= len(during) + lost_with_redis
        wanted = {app["id"] for app in apps}
        wait_until(lambda: set(markers(runtime)) == wanted, 60, "a marker for every approval", worker.log)
        assert set(markers(runtime).values()) == {1}
        wait_until(lambda: http.get("/api/health").status_code == 200, 30, "healthy again")
        health = http.get("/api/health").json()
        assert health["checks"]["workers"]["ok"] is True
        assert health["checks"]["workers"]["detail"] == "celery"
        assert "latency_ms" in health["checks"]["workers"]
    ran = {line.split()[1] for line in run_log.read_text().splitlines()}
    assert ran == wanted
    with runtime.db.session() as session:
        # (The 申请表 and 批复 renders of each approval have outbox rows and receipts of their own.)
        approved = select(OutboxMessage.id).where(OutboxMessage.topic == "application.approved")
        receipts = select(func.count()).select_from(OutboxReceipt).where(OutboxReceipt.outbox_id.in_(approved))
        assert session.scalar(receipts) == APPLICATIONS
