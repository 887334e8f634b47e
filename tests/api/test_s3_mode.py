"""The API on the S3 backend (moto's real HTTP server): health, upload, download, presigned bytes."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from api.main import create_app
from storage.runtime import build_runtime
from tests.fixtures.app import PASSWORD, build_world
from tests.fixtures.files import pdf_bytes
from tests.fixtures.s3 import s3_settings


def test_attachments_round_trip_through_s3(db, s3_server, tmp_path):
    settings = s3_settings(s3_server, f"kf-{uuid.uuid4().hex[:10]}", tmp_path).model_copy(
        update={"database_url": db.url}
    )
    runtime = build_runtime(settings)
    build_world(runtime)
    with TestClient(create_app(runtime=runtime)) as c:
        health = c.get("/api/health").json()
        assert health["checks"]["object_store"] == {"ok": True, "detail": "s3"}
        token = c.post("/api/auth/token", data={"username": "kg-out", "password": PASSWORD}).json()
        h = {"Authorization": f"Bearer {token['access_token']}"}
        app = c.post("/api/applications", headers=h, json={"name": "S3 测试园"}).json()
        body = pdf_bytes("s3")
        up = c.post(
            f"/api/applications/{app['id']}/attachments",
            headers=h,
            data={"kind": "licence"},
            files={"file": ("许可证.pdf", body, "application/pdf")},
        )
        assert up.status_code == 201, up.text
        key = f"sha256/{up.json()['sha256'][:2]}/{up.json()['sha256'][2:4]}/{up.json()['sha256']}"
        assert runtime.objects.stat(key).size == len(body)
        got = c.get(f"/api/applications/{app['id']}/attachments/{up.json()['id']}/content", headers=h)
        assert got.status_code == 200 and got.content == body
        assert "filename*=UTF-8''%E8%AE%B8" in got.headers["content-disposition"]
    runtime.close()
