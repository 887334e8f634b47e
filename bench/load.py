"""A district's busiest day on loopback, side by side with a lean reference service doing the same work.

200 applicants at once each sign in, create an application, upload its three scans, read it back and
submit it (7 requests each), against four services in turn, each started fresh for its run:

- embedded mode: one uvicorn process with SQLite, a local object folder and the in-process runner;
- the reference (``bench/reference.py``) on SQLite and a local folder: the embedded comparison;
- full mode: a PostgreSQL database made for the run, a private Redis as the Celery broker, moto's S3
  server, a real ``celery worker`` and uvicorn (``API_WORKERS`` processes), all separate processes;
- the reference on PostgreSQL and moto's S3 (it renders the 申请表 in the request; there is no
  worker): the full comparison.

Every service is started through ``bench.instrumented`` (SQL statement counter, CPU stamps). The
applicants' kindergartens and accounts are written straight into the database beforehand, with the
test suite's cheap argon2id parameters for seeding and serving alike, so sign-in measures the service
rather than the password hash. The load comes from ``bench._client`` in a process of its own, whose
CPU per request is measured and reported; it first warms the service up, then runs a sequential
calibration pass per request kind (server CPU and SQL statements per request), then the load.
Afterwards every submission is counted in the database: none may be lost, and no request may fail.

Targets: embedded at least 0.6x the reference's throughput, full at least 0.5x; p99 under 2 s in
embedded mode; 0 errors and 0 lost submissions everywhere; the client under 1 ms CPU per request.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench._flow import PASSWORD, REQUESTS_PER_APPLICANT, STEPS, credit_code
from bench._services import (
    CHEAP_ARGON2,
    ROOT,
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
CALIBRATION_APPLICANTS = 30
QUICK_CALIBRATION_APPLICANTS = 5
WARMUP_APPLICANTS = 2
# On 2 cores one uvicorn process beat two in full mode (51.9 against 45.1 req/s, p95 8.6 against
# 11.3 s: PostgreSQL, moto, the worker and the load client share the cores, and a second API process
# only adds contention). Embedded mode is one process by construction. With more than one process the
# /__bench/stamp figures (CPU, SQL statements) cover the one process that answered the stamp.
API_WORKERS = int(os.environ.get("KINDERFLOW_BENCH_API_WORKERS", "1"))
CLIENT_TIMEOUT_S = 3600

EMBEDDED_VS_REFERENCE = 0.6
FULL_VS_REFERENCE = 0.5
EMBEDDED_P99_MS = 2000.0
CLIENT_CPU_MS = 1.0


PHASES = ("warmup", "calibrate", "load")


def plan(
    count: int, calibration: int, *, warmup: int = WARMUP_APPLICANTS, settle_s: float = 0.5, idle_s: float = 5.0
) -> dict[str, Any]:
    """What the client does: the applicants of each phase, numbered apart so that no two share a
    kindergarten, and how long it waits for work after responses (settle) and measures idling."""
    out: dict[str, Any] = {"settle_s": settle_s, "idle_s": idle_s}
    n = 0
    for phase, size in zip(PHASES, (warmup, calibration, count), strict=True):
        out[phase] = [{"n": n + i, "username": f"bench{n + i:03d}"} for i in range(size)]
        n += size
    return out


def applicants_of(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for phase in PHASES for a in plan[phase]]


def _settings(database_url: str) -> Any:
    os.environ.update(CHEAP_ARGON2)
    from storage.settings import Settings

    return Settings(demo=True, database_url=database_url, var_dir=Path(tempfile.gettempdir()))


def seed_server(database_url: str, applicants: list[dict[str, Any]]) -> None:
    """Migrate, then write one private kindergarten with an applicant account per applicant."""
    from storage import migrate
    from storage.db import Database
    from workflows.accounts.models import User
    from workflows.accounts.passwords import hash_password
    from workflows.registry.models import Category, Kindergarten
    from workflows.roles import Role

    settings = _settings(database_url)
    migrate.upgrade(database_url)
    password_hash = hash_password(settings, PASSWORD)
    db = Database(database_url)
    with db.session() as session:
        for a in applicants:
            n = a["n"]
            k = Kindergarten(code=f"BENCH-{n:03d}", name=f"压测第{n}幼儿园", category=Category.PRIVATE, town="罗家镇",
                             credit_code=credit_code(n), head_phone="13800001111")  # fmt: skip
            session.add(k)
            session.flush()
            session.add(User(username=a["username"], display_name=a["username"], role=Role.APPLICANT,
                             kindergarten_id=k.id, password_hash=password_hash))  # fmt: skip
    db.dispose()


def counted_server(database_url: str) -> dict[str, int]:
    """What the project's database holds afterwards: submissions, each with its rendered form."""
    from storage.db import Database
    from workflows.applications.models import Application
    from workflows.documents.models import Document

    db = Database(database_url)
    with db.session() as session:
        submitted = session.scalar(select(func.count()).where(Application.state == "submitted")) or 0
        forms = session.scalar(select(func.count()).where(Document.kind == "application_form")) or 0
    db.dispose()
    return {"submitted": submitted, "forms": forms}


def seed_reference(database_url: str, applicants: list[dict[str, Any]]) -> None:
    from bench import reference

    reference.seed(database_url, [a["username"] for a in applicants], PASSWORD, _settings(database_url))


def counted_reference(database_url: str) -> dict[str, int]:
    from bench import reference

    return reference.counted(database_url)


def drive(folder: Path, base: str, groups: dict[str, int | None], plan: dict[str, Any]) -> dict[str, Any]:
    """Run the load client in its own process against ``base``; its result."""
    host, port = base.removeprefix("http://").split(":")
    config = folder / "client.json"
    result = folder / "client-result.json"
    config.write_text(json.dumps({"host": host, "port": int(port), "groups": groups} | plan))
    completed = subprocess.run(
        [sys.executable, "-m", "bench._client", str(config), str(result)],
        cwd=ROOT, capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise RuntimeError(f"the load client failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
    outcome: dict[str, Any] = json.loads(result.read_text())
    return outcome


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000 if ordered else 0.0


def summary(label: str, outcome: dict[str, Any], plan: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    latencies: dict[str, list[float]] = outcome["latencies"]
    every = [x for values in latencies.values() for x in values]
    expected = len(applicants_of(plan))
    service = outcome["service"]
    wall = outcome["wall_s"]
    return {
        "mode": label,
        "applicants": len(plan["load"]),
        "requests": outcome["requests"],
        "wall_s": round(wall, 2),
        "throughput_rps": round(outcome["requests"] / wall, 1),
        "submissions_per_s": round(outcome["statuses"].get("submit 200", 0) / wall, 2),
        "p50_ms": round(percentile(every, 50), 1),
        "p95_ms": round(percentile(every, 95), 1),
        "p99_ms": round(percentile(every, 99), 1),
        "by_step_p95_ms": {step: round(percentile(v, 95), 1) for step, v in latencies.items()},
        "by_step_mean_ms": {step: round(statistics.fmean(v) * 1000, 1) for step, v in latencies.items() if v},
        # Warm-up and calibration requests count too: they are the same requests, one at a time.
        "errors": len(outcome["errors"]) + len(outcome["setup_errors"]),
        "error_samples": (outcome["errors"] + outcome["setup_errors"])[:5],
        "client_cpu_ms_per_request": round(outcome["client_cpu_ms_per_request"], 3),
        # Under load, per request of the mix: the API process group and (full mode) the worker group,
        # from /proc; the API process's SQL statements from its counter. A database server's CPU is
        # not counted (SQLite runs inside the API process, PostgreSQL does not).
        "server_cpu_ms_per_request": round(service["api_proc_cpu_ms"] + service.get("worker_proc_cpu_ms", 0.0), 2),
        "api_cpu_ms_per_request": round(service["api_cpu_ms"], 2),
        "worker_cpu_ms_per_request": round(service.get("worker_proc_cpu_ms", 0.0), 2),
        "sql_per_request": round(service["sql"], 2),
        "calibration": outcome["calibration"],
        "idle_per_s": outcome["idle_per_s"],  # subtracted from the CPU figures above
        "load_average_before": found["load_average_before"],
        "expected_submissions": expected,
        "submitted_in_db": found["submitted"],
        "forms_in_db": found["forms"],
        # A submission counts once it is in the database with its rendered form.
        "lost": expected - min(found["submitted"], found["forms"]),
        "forms_settled_s": found.get("settled_s", 0.0),
    }


def _serve(
    label: str,
    folder: Path,
    database_url: str,
    settings: dict[str, str],
    *,
    app: str,
    seed: Callable[[str, list[dict[str, Any]]], None],
    counted: Callable[[str], dict[str, int]],
    plan: dict[str, Any],
    workers: int = 1,
    worker_env: bool = False,
) -> dict[str, Any]:
    """Seed, start the service (and its worker), drive it, stop it, count what it stored."""
    procs = Processes(folder)
    seed(database_url, applicants_of(plan))
    # Other work on the machine shows here: the runs of a pair are compared as they were measured.
    load_average = [round(x, 2) for x in os.getloadavg()]
    extra: dict[str, Any] = {}
    try:
        if settings.get("object_store", "").startswith("s3://"):
            settings["s3_endpoint"] = start_moto(procs)
        if worker_env:
            settings["broker_url"] = start_redis(procs)
        env = base_env(database_url=database_url, **settings)
        if worker_env:
            start_worker(procs, env)
        base = start_api(procs, env, workers, app=app)
        groups = {"api": procs.pids["api"], "worker": procs.pids.get("worker")}
        outcome = drive(folder, base, groups, plan)
        found = settled(counted, database_url) | {"load_average_before": load_average}
        if worker_env:
            with urllib.request.urlopen(f"{base}/api/health", timeout=30) as response:
                extra["workers_canary"] = json.load(response).get("checks", {}).get("workers")
    finally:
        procs.stop_all()
    return summary(label, outcome, plan, found) | extra


def settled(counted: Callable[[str], dict[str, int]], database_url: str, timeout: float = 60.0) -> dict[str, Any]:
    """The database's counts once every submission has its form (a worker may still be rendering)."""
    began = time.monotonic()
    while True:
        found: dict[str, Any] = counted(database_url)
        waited = time.monotonic() - began
        if found["forms"] >= found["submitted"] or waited > timeout:
            return found | {"settled_s": round(waited, 1)}
        time.sleep(0.5)


def embedded_pair(folder: Path, plan: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Embedded mode, then the reference on SQLite and a local folder."""
    out = []
    for key, app, seed, counted in (
        ("embedded", "bench.instrumented:server", seed_server, counted_server),
        ("reference", "bench.instrumented:reference", seed_reference, counted_reference),
    ):
        where = folder / key
        where.mkdir()
        settings = {"object_store": (where / "objects").as_posix(), "var_dir": str(where)}
        label = "embedded (1 process)" if key == "embedded" else "reference on SQLite, local folder (1 process)"
        out.append(_serve(label, where, f"sqlite:///{(where / 'db.sqlite').as_posix()}", settings, app=app,
                          seed=seed, counted=counted, plan=plan))  # fmt: skip
    return out[0], out[1]


def full_pair(folder: Path, plan: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Full mode, then the reference on PostgreSQL and moto's S3; each with a database and S3 of its own."""
    out = []
    for key in ("full", "reference"):
        where = folder / key
        where.mkdir()
        settings = {"object_store": "s3://kinderflow-bench", "s3_access_key": "bench",
                    "s3_secret_key": "bench-secret", "s3_secure": "false", "var_dir": str(where)}  # fmt: skip
        if key == "full":
            settings |= pkcs11_token(where / "softhsm2")
        with postgres_database() as database_url:
            if key == "full":
                plural = "es" if API_WORKERS > 1 else ""
                out.append(_serve(f"full (Celery worker, {API_WORKERS} API process{plural})", where, database_url,
                                  settings, app="bench.instrumented:server", seed=seed_server, counted=counted_server,
                                  plan=plan, workers=API_WORKERS, worker_env=True))  # fmt: skip
            else:
                out.append(_serve("reference on PostgreSQL, moto S3 (1 process, renders in the request)", where,
                                  database_url, settings, app="bench.instrumented:reference", seed=seed_reference,
                                  counted=counted_reference, plan=plan))  # fmt: skip
    return out[0], out[1]


def pkcs11_token(folder: Path) -> dict[str, str]:
    """Full mode's settings for a SoftHSM2 token of the run's own (full mode refuses to start without
    one; ``provision`` also points SOFTHSM2_CONF, which the services inherit, at its configuration)."""
    from storage import softhsm

    token = softhsm.provision(folder, label="kinderflow-bench")
    return {"pkcs11_module": token.module, "pkcs11_token_label": token.label, "pkcs11_pin": token.pin}


def _metric(name: str, value: float, unit: str = "", target: float | None = None, op: str = ">=") -> dict[str, Any]:
    passed = None
    if target is not None:
        passed = {">=": value >= target, "<": value < target, "==": value == target}[op]
    return {"metric": name, "value": value, "unit": unit, "target": target, "target_op": op, "passed": passed}


def run_metrics(key: str, r: dict[str, Any], p99_target: float | None = None) -> list[dict[str, Any]]:
    return [
        _metric(f"{key} throughput", r["throughput_rps"], "req/s"),
        _metric(f"{key} p50", r["p50_ms"], "ms"),
        _metric(f"{key} p95", r["p95_ms"], "ms"),
        _metric(f"{key} p99", r["p99_ms"], "ms", p99_target, "<"),
        _metric(f"{key} errors + lost", r["errors"] + r["lost"], "", 0, "=="),
        _metric(f"{key} server CPU", r["server_cpu_ms_per_request"], "ms/req"),
        _metric(f"{key} SQL statements", r["sql_per_request"], "/req"),
        _metric(f"{key} client CPU", r["client_cpu_ms_per_request"], "ms/req", CLIENT_CPU_MS, "<"),
    ]


def metrics(result: dict[str, Any]) -> list[dict[str, Any]]:
    embedded, ref_sqlite = result["embedded"], result["reference_sqlite"]
    full, ref_pg = result["full"], result["reference_postgres"]
    return [
        *run_metrics("embedded", embedded, EMBEDDED_P99_MS),
        *run_metrics("ref-sqlite", ref_sqlite),
        _metric("embedded / ref-sqlite throughput", result["ratios"]["embedded"], "x", EMBEDDED_VS_REFERENCE),
        *run_metrics("full", full),
        *run_metrics("ref-pg", ref_pg),
        _metric("full / ref-pg throughput", result["ratios"]["full"], "x", FULL_VS_REFERENCE),
    ]


def calibration_table(result: dict[str, Any]) -> str:
    """Server CPU ms and SQL statements per request kind, each service beside its reference."""
    columns = [("embedded", "embedded"), ("reference_sqlite", "ref-sqlite"), ("full", "full"),
               ("reference_postgres", "ref-pg")]  # fmt: skip
    header = ["kind", *(f"{name} {what}" for _, name in columns for what in ("CPU ms", "SQL"))]
    rows = [header]
    for kind in STEPS:
        row = [kind]
        for key, _ in columns:
            c = result[key]["calibration"].get(kind)
            cpu = None if c is None else c["api_cpu_ms"] + c.get("worker_proc_cpu_ms", 0.0)
            row += ["-", "-"] if c is None else [f"{cpu:.2f}", f"{c['sql']:.1f}"]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run(*, quick: bool = False) -> dict[str, Any]:
    count = QUICK_APPLICANTS if quick else APPLICANTS
    steps = plan(count, QUICK_CALIBRATION_APPLICANTS if quick else CALIBRATION_APPLICANTS)
    with tempfile.TemporaryDirectory(prefix="kf-load-") as tmp:
        folder = Path(tmp)
        (folder / "embedded").mkdir()
        (folder / "full").mkdir()
        embedded, ref_sqlite = embedded_pair(folder / "embedded", steps)
        full, ref_pg = full_pair(folder / "full", steps)
    result: dict[str, Any] = {
        "applicants": count,
        "flow": f"login, create, 3 uploads, read, submit ({REQUESTS_PER_APPLICANT} requests per applicant, all at once)",
        "argon2": "time_cost=1, memory=1 MiB, parallelism=1 (the suite's cheap parameters), server and reference",
        "calibration": f"{len(steps['calibrate'])} applicants, one request at a time, grouped by kind; "
        "CPU ms = API process (stamps) + worker process group (/proc); SQL = statements in the API process",
        "embedded": embedded,
        "reference_sqlite": ref_sqlite,
        "full": full,
        "reference_postgres": ref_pg,
    }
    finish(result)
    print("Server CPU ms and SQL statements per request, by kind (sequential calibration pass):")
    print(calibration_table(result), flush=True)
    return result


def finish(result: dict[str, Any]) -> None:
    """Add the throughput ratios, the per-kind table and the metrics to the four services' results."""
    result["ratios"] = {
        mode: round(result[mode]["throughput_rps"] / result[ref]["throughput_rps"], 3)
        if result[ref]["throughput_rps"]
        else 0.0
        for mode, ref in (("embedded", "reference_sqlite"), ("full", "reference_postgres"))
    }
    result["calibration_table"] = calibration_table(result).splitlines()
    result["metrics"] = metrics(result)
