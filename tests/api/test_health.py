from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app
from storage.runtime import build_runtime
from tests.fixtures.app import make_settings


def test_health_reports_each_dependency(client, backend):
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["mode"] == "embedded"
    assert body["checks"]["database"] == {"ok": True, "detail": backend}
    assert body["checks"]["object_store"]["ok"] is True
    assert body["checks"]["broker"] == {"ok": True, "detail": "in-process"}


def test_health_is_503_when_the_broker_is_down(db, tmp_path):
    # A port nothing listens on: the broker check must fail, and say so.
    settings = make_settings(db.url, tmp_path, broker_url="redis://127.0.0.1:1/0")
    runtime = build_runtime(settings)
    with TestClient(create_app(runtime=runtime)) as c:
        r = c.get("/api/health")
    runtime.close()
    assert r.status_code == 503
    body = r.json()
    assert body["mode"] == "full"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
