"""Liveness and dependency health."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from api.deps import RuntimeDep
from api.routing import api_router
from workers.canary import check_workers
from workflows.health import Check, run_checks

router = api_router(tags=["health"])


@router.get("/health")
def health(runtime: RuntimeDep) -> JSONResponse:
    """200 when every dependency answers and a worker answers a ping, 503 otherwise; says which mode runs."""
    checks = run_checks(runtime)
    broker = next((c for c in checks if c.name == "broker"), None)
    if broker is None or broker.ok:
        checks.append(check_workers(runtime))
    ok = all(c.ok for c in checks)
    body = {
        "status": "ok" if ok else "degraded",
        "mode": runtime.settings.mode,
        "checks": {c.name: _check_out(c) for c in checks},
    }
    return JSONResponse(body, status_code=200 if ok else 503)


def _check_out(check: Check) -> dict[str, object]:
    out: dict[str, object] = {"ok": check.ok, "detail": check.detail}
    if check.latency_ms is not None:
        out["latency_ms"] = check.latency_ms
    return out
