"""``kill -9`` the worker while it packs a real activity archive bundle: a new worker builds it once,
within a minute, and the bundle is the one the materials call for."""

from __future__ import annotations

import hashlib
import io
import json
import time
import uuid
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.main import create_app
from storage.runtime import Runtime
from tests.faults.conftest import full_runtime
from tests.faults.services import CeleryWorker, RedisServer, wait_until, worker_env
from tests.fixtures.activities import SEMESTER, fire, held_with_materials, mp4_bytes, today, upload
from tests.fixtures.app import PASSWORD, build_world
from workers.app import make_celery
from workflows.activities.models import ActivityBundle
from workflows.activities.semesters import ensure_semester
from workflows.outbox import OutboxMessage, OutboxReceipt

pytestmark = pytest.mark.slow
BUILD = "kinderflow.activities.build_bundle"
# Big enough that packing takes a while on this machine, so the kill lands mid-build.
VIDEO_BYTES = 300 * 1024 * 1024
BUILT_LINE = ": bundle "  # the archive logs "activity <number>: bundle <key> (<size> bytes)"


@pytest.fixture
def runtime(pg, tmp_path: Path, redis_server: RedisServer) -> Iterator[Runtime]:
    runtime = full_runtime(pg, tmp_path, redis_server.url)
    yield runtime
    runtime.uninstall_publisher()


def bundle(runtime: Runtime, activity_id: str) -> ActivityBundle | None:
    with runtime.db.session() as session:
        return session.get(ActivityBundle, uuid.UUID(activity_id))


def built_lines(*workers: CeleryWorker) -> int:
    return sum(w.log.read_text(errors="replace").count(BUILT_LINE) for w in workers)


def test_killed_worker_bundle_is_built_again_exactly_once_and_correct(runtime, redis_server, tmp_path):
    env = worker_env(
        broker_url=redis_server.url,
        database_url=runtime.settings.database_url,
        object_store=runtime.settings.object_store,
        var_dir=tmp_path,
    )
    first = CeleryWorker(tmp_path, env, name="first").launch(include="workers.tasks")
    second = CeleryWorker(tmp_path, env, name="second")
    world = build_world(runtime)
    with runtime.db.session() as s:
        ensure_semester(
            session=s, code=SEMESTER, starts_on=today() - timedelta(days=60), ends_on=today() + timedelta(days=60)
        )
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            tokens: dict[str, dict[str, str]] = {}

            def login(username: str) -> dict[str, str]:
                if username not in tokens:
                    r = client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
                    tokens[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
                return tokens[username]

            activity = held_with_materials(client, login, runtime, world)
            video = mp4_bytes(payload=VIDEO_BYTES)
            r = upload(client, login("pillar-a"), activity["id"], "media", video, "全程录像.mp4")
            assert r.status_code == 201, r.text
            activity = client.get(f"/api/activities/{activity['id']}", headers=login("lead-a")).json()
            first.wait_ready()
            r = fire(client, login("lead-a"), activity, "archive")  # the outbox row goes to Redis on commit
            assert r.status_code == 200, r.text

            def packing() -> bool:
                b = bundle(runtime, activity["id"])
                return b is not None and b.state == "building" and b.phase == "packing"

            wait_until(packing, 60, "the bundle being packed", first.log)
            first.kill()
            killed_at = time.monotonic()
            assert bundle(runtime, activity["id"]).state == "building"
            assert built_lines(first) == 0

            second.launch(include="workers.tasks").wait_ready()
            wait_until(lambda: bundle(runtime, activity["id"]).state == "ready", 90, "the rebuilt bundle", second.log)
            assert time.monotonic() - killed_at < 60, "the killed worker's task must run again within a minute"
            built = bundle(runtime, activity["id"])
            assert built_lines(first, second) == 1

            # A further delivery finds it built and changes nothing.
            client_app = make_celery(runtime.settings, name="kf-fault-client")
            try:
                assert client_app.send_task(BUILD, kwargs={"activity_id": activity["id"]}).get(timeout=60) == "done"
            finally:
                client_app.close()
            assert built_lines(first, second) == 1
            assert bundle(runtime, activity["id"]).finished_at == built.finished_at

            got = client.get(f"/api/activities/{activity['id']}/bundle", headers=login("lead-a"))
            assert got.status_code == 200
            assert hashlib.sha256(got.content).hexdigest() == built.sha256
            with zipfile.ZipFile(io.BytesIO(got.content)) as z:
                assert z.testzip() is None
                members = {i.filename.rsplit("/", 1)[-1]: i for i in z.infolist()}
                manifest_name = next(i.filename for i in z.infolist() if i.filename.endswith("manifest.json"))
                manifest = json.loads(z.read(manifest_name))
                assert members["全程录像.mp4"].file_size == len(video)
                digest = hashlib.sha256(z.read(members["全程录像.mp4"])).hexdigest()
            assert digest == hashlib.sha256(video).hexdigest()
            assert digest in json.dumps(manifest)
        with runtime.db.session() as session:
            [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == "activity.archive_requested"))
            assert session.get(OutboxReceipt, (row.id, BUILD)) is not None
    finally:
        first.discard()
        second.discard()
