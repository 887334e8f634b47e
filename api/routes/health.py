"""Liveness and dependency health."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import RuntimeDep
from workflows.health import run_checks

router = APIRouter(tags=["health"])


@router.get("/health")
def health(runtime: RuntimeDep) -> JSONResponse:
    """200 when every dependency answers, 503 otherwise; says which mode runs."""
    checks = run_checks(runtime)
    ok = all(c.ok for c in checks)
    body = {
        "status": "ok" if ok else "degraded",
        "mode": runtime.settings.mode,
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
    }
    return JSONResponse(body, status_code=200 if ok else 503)
