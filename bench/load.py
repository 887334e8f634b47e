"""A district's busiest day on loopback: 200 applicants at once sign in, create an application,
upload its three scans and submit it, against full mode and against embedded mode.

Full mode: a PostgreSQL database made for the run, a private Redis as the Celery broker, moto's S3
server, a real ``celery worker`` and ``uvicorn`` (``API_WORKERS`` processes), all separate processes.
Embedded mode: one uvicorn process with SQLite, a local object folder and the in-process runner.
The applicants (200 private kindergartens, each with an applicant account) are written straight
into the database, with the test suite's cheap argon2id parameters (server and seeding alike), so
sign-in measures the service rather than the password hash. The load comes from one asyncio
process with an httpx client per applicant. Afterwards every submission is counted in the
database: none may be lost, and no request may fail.
"""

from __future__ import annotations

import asyncio
import io
import os
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import func, select

from bench._services import (
    CHEAP_ARGON2,
    Processes,
    base_env,
    postgres_database,
    start_api,
    start_moto,
    start_redis,
    start_worker,
)

APPLICANTS = 200
QUICK_APPLICANTS = 20
# On 2 cores one uvicorn process beat two in full mode (51.9 against 45.1 req/s, p95 8.6 against
# 11.3 s: PostgreSQL, moto, the worker and the load client share the cores, and a second API process
# only adds contention). Embedded mode is one process by construction.
API_WORKERS = int(os.environ.get("KINDERFLOW_BENCH_API_WORKERS", "1"))
PASSWORD = "bench-pass-2026"
REQUEST_TIMEOUT = 120.0


@dataclass
class Run:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0

    def record(self, step: str, started: float, response: httpx.Response, expected: int) -> None:
        self.latencies.setdefault(step, []).append(time.perf_counter() - started)
        self.statuses[f"{step} {response.status_code}"] += 1
        if response.status_code != expected:
            self.errors.append(f"{step}: {response.status_code} {response.text[:200]}")


def _pdf() -> bytes:
    body = b"BT /F1 12 Tf 72 720 Td (licence) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length " + str(len(body)).encode() + b" >>\nstream\n" + body + b"\nendstream",
    ]
    out = io.BytesIO(b"%PDF-1.4\n")
    out.seek(0, 2)
    offsets = []
    for n, obj in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n".encode() + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.write(b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets))
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _image(fmt: str, n: int) -> bytes:
    buffer = io.BytesIO()
    # Each applicant's scans differ, as real ones do: no upload is deduplicated away.
    Image.new("RGB", (320, 240), (n % 256, (n * 7) % 256, 90)).save(buffer, format=fmt)
    return buffer.getvalue()


def attachments(n: int) -> list[tuple[str, bytes, str]]:
    pdf = _pdf().replace(b"(licence)", f"(licence {n})".encode())
    return [("licence", pdf, "许可证.pdf"), ("inspection", _image("PNG", n), "年检.png"),
            ("safety_pledge", _image("JPEG", n), "承诺书.jpg")]  # fmt: skip


def form(n: int) -> dict[str, Any]:
    from workflows.registry.credit_code import make_credit_code

    return {
        "name": f"压测第{n}幼儿园", "credit_code": make_credit_code(f"52360111M{20_000_000 + n:08d}"),
        "licence_no": f"教民3601119{n:05d}", "licence_issued_on": "2019-03-01", "sponsor": "某教育咨询有限公司",
        "legal_representative": "张三", "head_name": "李园长", "head_phone": "13800009999",
        "contact_name": "王老师", "contact_phone": "0791-88886666", "address": f"罗家镇民强路 {n} 号",
        "town": "罗家镇", "ownership": "nonprofit", "inclusive": True, "classes": 6, "children": 180,
        "staff": 30, "teachers": 14, "certified_teachers": 12, "site_area_m2": 2400, "building_area_m2": 1800,
        "last_inspection_year": 2025, "last_inspection_result": "passed", "penalties_last_3_years": 0,
        "safety_incidents_last_3_years": 0, "reasons": "希望加入联盟，提升保教质量。", "needs": ["课程"],
        "commitments_accepted": True,
    }  # fmt: skip


def seed(database_url: str, count: int) -> list[str]:
    """Migrate, then write ``count`` private kindergartens, each with an applicant account."""
    os.environ.update(CHEAP_ARGON2)
    from storage import migrate
    from storage.db import Database
    from storage.settings import Settings
    from workflows.accounts.models import Role, User
    from workflows.accounts.passwords import hash_password
    from workflows.registry.credit_code import make_credit_code
    from workflows.registry.models import Category, Kindergarten

    migrate.upgrade(database_url)
    settings = Settings(demo=True, database_url=database_url, var_dir=Path(tempfile.gettempdir()))
    password_hash = hash_password(settings, PASSWORD)
    db = Database(database_url)
    names = [f"bench{n:03d}" for n in range(count)]
    with db.session() as session:
        for n, username in enumerate(names):
            k = Kindergarten(code=f"BENCH-{n:03d}", name=f"压测第{n}幼儿园", category=Category.PRIVATE, town="罗家镇",
                             credit_code=make_credit_code(f"52360111M{20_000_000 + n:08d}"), head_phone="13800001111")  # fmt: skip
            session.add(k)
            session.flush()
            session.add(User(username=username, display_name=username, role=Role.APPLICANT,
                             kindergarten_id=k.id, password_hash=password_hash))  # fmt: skip
    db.dispose()
    return names


async def applicant(client: httpx.AsyncClient, n: int, username: str, run: Run, start: asyncio.Event) -> None:
    await start.wait()
    t = time.perf_counter()
    r = await client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    run.record("login", t, r, 200)
    if r.status_code != 200:
        return
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    t = time.perf_counter()
    r = await client.post("/api/applications", headers=h, json=form(n))
    run.record("create", t, r, 201)
    if r.status_code != 201:
        return
    app_id = r.json()["id"]
    for kind, content, filename in attachments(n):
        t = time.perf_counter()
        r = await client.post(f"/api/applications/{app_id}/attachments", headers=h, data={"kind": kind},
                              files={"file": (filename, content)})  # fmt: skip
        run.record("upload", t, r, 201)
    t = time.perf_counter()
    r = await client.get(f"/api/applications/{app_id}", headers=h)
    run.record("read", t, r, 200)
    version = r.json()["version"] if r.status_code == 200 else 0
    t = time.perf_counter()
    r = await client.post(f"/api/applications/{app_id}/events/submit", headers=h, json={"version": version})
    run.record("submit", t, r, 200)


async def drive(base: str, names: list[str]) -> Run:
    run = Run()
    start = asyncio.Event()
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends: reusing one the server is
    # closing at that moment fails the request (a client-side race, not a server error).
    limits = httpx.Limits(
        max_connections=len(names) + 10, max_keepalive_connections=len(names) + 10, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT, limits=limits) as client:
        tasks = [asyncio.create_task(applicant(client, n, u, run, start)) for n, u in enumerate(names)]
        began = time.perf_counter()
        start.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        run.wall = time.perf_counter() - began
    run.errors += [f"{type(e).__name__}: {e}" for e in results if isinstance(e, BaseException)]
    return run


def counted(database_url: str) -> dict[str, int]:
    """What the database holds afterwards: every submission must be there, each with its form."""
    from storage.db import Database
    from workflows.applications.models import Application
    from workflows.documents.models import Document

    db = Database(database_url)
    with db.session() as session:
        submitted = session.scalar(select(func.count()).where(Application.state == "submitted")) or 0
        forms = session.scalar(select(func.count()).where(Document.kind == "application_form")) or 0
    db.dispose()
    return {"submitted": submitted, "forms": forms}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def summary(mode: str, run: Run, count: int, found: dict[str, int]) -> dict[str, Any]:
    every = [x for values in run.latencies.values() for x in values]
    requests = len(every)
    return {
        "mode": mode,
        "applicants": count,
        "requests": requests,
        "wall_s": round(run.wall, 2),
        "throughput_rps": round(requests / run.wall, 1),
        "submissions_per_s": round(found["submitted"] / run.wall, 2),
        "p50_ms": round(percentile(every, 50), 1),
        "p95_ms": round(percentile(every, 95), 1),
        "p99_ms": round(percentile(every, 99), 1),
        "by_step_p95_ms": {step: round(percentile(v, 95), 1) for step, v in run.latencies.items()},
        "by_step_mean_ms": {step: round(statistics.fmean(v) * 1000, 1) for step, v in run.latencies.items()},
        "errors": len(run.errors),
        "error_samples": run.errors[:5],
        "submitted_in_db": found["submitted"],
        "forms_in_db": found["forms"],
        "lost": count - found["submitted"],
    }


def full_mode(count: int, folder: Path, api_workers: int = API_WORKERS) -> dict[str, Any]:
    procs = Processes(folder)
    with postgres_database() as database_url:
        try:
            names = seed(database_url, count)
            settings = {"database_url": database_url, "object_store": "s3://kinderflow-bench",
                        "s3_endpoint": start_moto(procs), "s3_access_key": "bench", "s3_secret_key": "bench-secret",
                        "s3_secure": "false", "broker_url": start_redis(procs)}  # fmt: skip
            env = base_env(**settings)
            start_worker(procs, env)
            base = start_api(procs, env, api_workers)
            run = asyncio.run(drive(base, names))
            health = httpx.get(f"{base}/api/health", timeout=30).json()
        finally:
            procs.stop_all()
        result = summary(f"full ({api_workers} API process{'es' if api_workers > 1 else ''})", run, count,
                         counted(database_url))  # fmt: skip
        result["workers_canary"] = health.get("checks", {}).get("workers")
        return result


def embedded_mode(count: int, folder: Path) -> dict[str, Any]:
    procs = Processes(folder)
    database_url = f"sqlite:///{(folder / 'embedded.db').as_posix()}"
    names = seed(database_url, count)
    env = base_env(database_url=database_url, object_store=(folder / "objects").as_posix(), var_dir=str(folder))
    try:
        run = asyncio.run(drive(start_api(procs, env, 1), names))
    finally:
        procs.stop_all()
    return summary("embedded (1 process)", run, count, counted(database_url))


def metrics(result: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [
        {"metric": f"{key} throughput", "value": result["throughput_rps"], "unit": "req/s", "target": None, "passed": None},
        {"metric": f"{key} p50", "value": result["p50_ms"], "unit": "ms", "target": None, "passed": None},
        {"metric": f"{key} p95", "value": result["p95_ms"], "unit": "ms", "target": None, "passed": None},
        {"metric": f"{key} p99", "value": result["p99_ms"], "unit": "ms", "target": None, "passed": None},
        {"metric": f"{key} errors + lost", "value": result["errors"] + result["lost"], "unit": "",
         "target": None, "passed": result["errors"] + result["lost"] == 0},
    ]  # fmt: skip


def run(*, quick: bool = False) -> dict[str, Any]:
    count = QUICK_APPLICANTS if quick else APPLICANTS
    with tempfile.TemporaryDirectory(prefix="kf-load-") as tmp:
        folder = Path(tmp)
        (folder / "full").mkdir()
        (folder / "embedded").mkdir()
        full = full_mode(count, folder / "full")
        embedded = embedded_mode(count, folder / "embedded")
    return {
        "applicants": count,
        "flow": "login, create, 3 uploads, read, submit (7 requests per applicant, all at once)",
        "argon2": "time_cost=1, memory=1 MiB, parallelism=1 (the suite's cheap parameters)",
        "full": full,
        "embedded": embedded,
        "metrics": metrics(full, "full") + metrics(embedded, "embedded"),
    }
