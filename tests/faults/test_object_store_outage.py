"""The S3 server stops while applicants upload: 503s that say so, no row pointing at a missing object,
and success again once the server is back, without restarting the API."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

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
            submit = http.post(
                f"/api/applications/{app['id']}/events/submit", headers=applicant, json={"version": app["version"]}
            )
            assert (submit.status_code, submit.json()) == (503, STORE_DOWN)
            assert submit.headers["retry-after"] == "30"
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
            with runtime.db.session() as session:
                assert session.scalar(select(func.count()).select_from(Document)) == 0

            # moto keeps nothing: it comes back empty, the store makes its bucket again by itself.
            moto.start()
            assert upload(http, applicant, app["id"], "fire_safety", png_bytes(color="green")).status_code == 201
            for kind, content, _ in ATTACHMENTS:  # the scans stored before the outage died with moto
                assert upload(http, applicant, app["id"], kind, content).status_code == 201
            app = http.get(f"/api/applications/{app['id']}", headers=applicant).json()
            submit = http.post(
                f"/api/applications/{app['id']}/events/submit", headers=applicant, json={"version": app["version"]}
            )
            assert submit.status_code == 200, submit.text
            assert http.get("/api/health").status_code == 200
        with runtime.db.session() as session:
            attachments = list(session.scalars(select(Attachment)))
            documents = list(session.scalars(select(Document)))
        # Only the successful uploads left rows: 3 before, 4 after; the 8 refused ones none.
        assert len(attachments) == 7
        assert len(documents) == 1
        current = [a for a in attachments if a.replaced_at is None]
        assert all(runtime.objects.exists(row.object_key) for row in [*current, *documents])
    finally:
        runtime.close()
        moto.stop()
