"""The S3 server stops while applicants upload: 503s that say so, no row pointing at a missing object,
a submit that still succeeds (its 申请表 renders after the commit and waits for the store), and
success again once the server is back, without restarting the API."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from api.main import create_app
from storage.runtime import build_runtime
from tests.faults.applicants import ATTACHMENTS, full_form, login
from tests.faults.services import MotoServer
from tests.fixtures.app import build_world, make_settings
from tests.fixtures.files import png_bytes
from tests.fixtures.server import live_server
from workers.reconcile import reconcile
from workers.relay import inline_send
from workers.wiring import runner_for
from workflows.applications.documents import RENDER_TOPIC
from workflows.applications.models import Attachment
from workflows.documents.models import Document

pytestmark = pytest.mark.slow
STORE_DOWN = {"code": "object_store_unavailable", "message": "文件存储服务暂时不可用，请稍后重试"}


def upload(http: httpx.Client, headers: dict[str, str], app_id: str, kind: str, content: bytes) -> httpx.Response:
    return http.post(
        f"/api/applications/{app_id}/attachments",
        headers=headers,
        data={"kind": kind},
        files={"file": (f"{kind}.bin", content)},
    )


def test_uploads_during_an_s3_outage_fail_cleanly_and_recover(pg, tmp_path):
    db = pg  # the object store is what fails here; one database backend is enough
    moto = MotoServer(tmp_path)
    moto.start()
    settings = make_settings(
        db.url,
        tmp_path,
        object_store=f"s3://kf-outage-{uuid.uuid4().hex[:12]}",
        s3_endpoint=moto.endpoint,
        s3_access_key="testing",
        s3_secret_key="testing",
        s3_secure=False,
    )
    runtime = build_runtime(settings)
    try:
        build_world(runtime)
        with live_server(create_app(runtime=runtime)) as base, httpx.Client(base_url=base, timeout=60) as http:
            applicant = login(http, "kg-out")
            app = http.post("/api/applications", headers=applicant, json=full_form(99)).json()
            for kind, content, _ in ATTACHMENTS:
                assert upload(http, applicant, app["id"], kind, content).status_code == 201
            app = http.get(f"/api/applications/{app['id']}", headers=applicant).json()

            moto.stop()
            with ThreadPoolExecutor(4) as pool:
                replies = list(
                    pool.map(
                        lambda n: upload(http, applicant, app["id"], "fire_safety", png_bytes(color=f"#{n:06x}")),
                        range(8),
                    )
                )
            assert [(r.status_code, r.json()) for r in replies] == [(503, STORE_DOWN)] * 8
            health = http.get("/api/health")
            assert health.status_code == 503
            assert health.json()["checks"]["object_store"]["ok"] is False
            during = http.get(f"/api/applications/{app['id']}", headers=applicant).json()
            assert (during["state"], during["version"], len(during["attachments"])) == ("draft", app["version"], 3)

            # The submit itself needs no object store: its 申请表 renders after the commit, and waits.
            submit = http.post(
                f"/api/applications/{app['id']}/events/submit", headers=applicant, json={"version": app["version"]}
            )
            assert submit.status_code == 200, submit.text
            assert (submit.json()["state"], submit.json()["form_status"]) == ("submitted", "generating")
            runner = runner_for(runtime)
            assert runner is not None and runner.drain(60)
            assert [f.name for f in runner.failures] == [RENDER_TOPIC]  # the store was down
            with runtime.db.session() as session:
                assert session.scalar(select(func.count()).select_from(Document)) == 0
            assert http.get(f"/api/applications/{app['id']}", headers=applicant).json()["form_status"] == "generating"

            # moto keeps nothing: it comes back empty, the store makes its bucket again by itself. The
            # reconciler sends the render again (its outbox row has no receipt) and the 申请表 is stored.
            moto.start()
            reconcile(runtime, inline_send(runner), older_than=timedelta(0))
            assert runner.drain(60)
            assert http.get(f"/api/applications/{app['id']}", headers=applicant).json()["form_status"] == "ready"
            assert http.get("/api/health").status_code == 200
        with runtime.db.session() as session:
            attachments = list(session.scalars(select(Attachment)))
            documents = list(session.scalars(select(Document)))
        # Only the successful uploads left rows: the 3 before the outage; the 8 refused ones none.
        assert len(attachments) == 3
        assert len(documents) == 1
        assert all(runtime.objects.exists(row.object_key) for row in documents)
    finally:
        runtime.close()
        moto.stop()
