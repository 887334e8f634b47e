"""The load client, in a process of its own so that its CPU time is its own and nobody else's.

``python -m bench._client <config.json> <result.json>``. The config names the service (host, port),
the applicants of each phase and the process groups whose CPU is read from /proc. Phases, in order:

- warm-up: a couple of applicants through the whole flow, one after another, not measured;
- calibration: applicants one request at a time, grouped by request kind (all sign-ins, then all
  creates, ...). Around each group the service is stamped (``GET /__bench/stamp``, added by
  ``bench.instrumented``: the API process's CPU time and its running count of SQL statements), and
  the CPU of every process in the service's process groups is read from /proc, so each kind gets CPU
  milliseconds and SQL statements per request;
- load: every applicant at once, each on its own keep-alive connection. The client's own CPU time
  over the run, divided by the requests it made, is reported with the result.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._flow import STEPS, Flow
from bench._http import Connection, ProtocolError, Response, request_bytes

REQUEST_TIMEOUT = 120.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Target:
    host: str
    port: int

    @property
    def authority(self) -> str:
        return f"{self.host}:{self.port}"


class Applicant:
    """One applicant's way through the flow on one keep-alive connection; a failed step ends it."""

    def __init__(self, flow: Flow, target: Target, tally: Tally) -> None:
        self.flow = flow
        self.target = target
        self.tally = tally
        self.conn: Connection | None = None
        self.token = ""
        self.application_id = ""
        self.version = 0
        self.failed = False

    async def call(self, step: str, request: bytes, expected: int) -> Response | None:
        started = time.perf_counter()
        try:
            if self.conn is None or self.conn.closed:
                self.conn = await Connection.open(self.target.host, self.target.port)
            response = await asyncio.wait_for(self.conn.send(request), REQUEST_TIMEOUT)
        except (OSError, ProtocolError, TimeoutError) as exc:
            self.tally.errors.append(f"{step}: {type(exc).__name__}: {exc}")
            self.tally.statuses[f"{step} failed"] += 1
            self.close()
            self.failed = True
            return None
        self.tally.latencies[step].append(time.perf_counter() - started)
        self.tally.statuses[f"{step} {response.status}"] += 1
        if not response.keep_alive:
            self.close()
        if response.status != expected:
            self.tally.errors.append(f"{step}: {response.status} {response.body[:200].decode(errors='replace')}")
            self.failed = True
            return None
        return response

    async def login(self) -> None:
        response = await self.call("login", self.flow.login, 200)
        if response is not None:
            self.token = response.json()["access_token"]

    async def create(self) -> None:
        response = await self.call("create", self.flow.create(self.token), 201)
        if response is not None:
            self.application_id = response.json()["id"]

    async def upload(self) -> None:
        for request in self.flow.uploads(self.token, self.application_id):
            if await self.call("upload", request, 201) is None:
                return

    async def read(self) -> None:
        response = await self.call("read", self.flow.read(self.token, self.application_id), 200)
        if response is not None:
            self.version = response.json()["version"]

    async def submit(self) -> None:
        request = self.flow.submit(self.token, self.application_id, self.version)
        response = await self.call("submit", request, 200)
        if response is not None and response.json().get("state") != "submitted":
            self.tally.errors.append(f"submit: answered 200 but the state is {response.json().get('state')!r}")
            self.failed = True

    async def step(self, name: str) -> None:
        if not self.failed:
            await getattr(self, name)()

    async def whole_flow(self) -> None:
        for name in STEPS:
            await self.step(name)
        self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def group_cpu_ms(pgid: int | None) -> float:
    """CPU time of every live process in a process group (and of the children they waited for)."""
    if pgid is None:
        return 0.0
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        # After the command name: state ppid pgrp ... utime(11) stime(12) cutime(13) cstime(14).
        if int(fields[2]) == pgid:
            ticks += sum(int(f) for f in fields[11:15])
    return ticks * 1000 / CLOCK_TICKS


class Probe:
    """Stamps from the instrumented service and CPU of its process groups, read at one moment."""

    def __init__(self, target: Target, groups: dict[str, int | None]) -> None:
        self.target = target
        self.groups = groups
        self.request = request_bytes("GET", "/__bench/stamp", target.authority)
        self.conn: Connection | None = None

    async def read(self) -> dict[str, float]:
        if self.conn is None or self.conn.closed:
            self.conn = await Connection.open(self.target.host, self.target.port)
        response = await self.conn.send(self.request)
        stamp = {
            "api_cpu_ms": int(response.headers["x-bench-cpu-ns"]) / 1e6,
            "sql": float(response.headers["x-bench-sql"]),
        }
        stamp |= {f"{name}_proc_cpu_ms": group_cpu_ms(pgid) for name, pgid in self.groups.items()}
        return stamp | {"at": time.perf_counter()}

    async def idle_rates(self, seconds: float) -> dict[str, float]:
        """What the service spends per second doing nothing (event loop timers, a worker's polling)."""
        before = await self.read()
        await asyncio.sleep(seconds)
        after = await self.read()
        return {key: (after[key] - before[key]) / (after["at"] - before["at"]) for key in before if key != "at"}


def per_request(
    before: dict[str, float], after: dict[str, float], count: int, idle: dict[str, float]
) -> dict[str, float]:
    """The service's CPU and statements between two readings per request, less what idling cost meanwhile."""
    elapsed = after["at"] - before["at"]
    # /proc counts in 10 ms ticks: over a short window the idle rate can come out a tick high, and
    # a cost cannot be negative.
    return {
        key: round(max(0.0, after[key] - before[key] - idle.get(key, 0.0) * elapsed) / count, 3)
        for key in before
        if key != "at"
    } | {"requests": count}


async def warm_up(flows: list[Flow], target: Target) -> Tally:
    tally = Tally()
    for flow in flows:
        await Applicant(flow, target, tally).whole_flow()
    return tally


async def calibrate(
    flows: list[Flow], target: Target, probe: Probe, settle: float, idle: dict[str, float]
) -> tuple[dict[str, Any], Tally]:
    """Each request kind in turn, one request at a time: CPU and SQL statements per request of that kind."""
    tally = Tally()
    applicants = [Applicant(flow, target, tally) for flow in flows]
    kinds: dict[str, Any] = {}
    before = await probe.read()
    for kind in STEPS:
        done = len(tally.latencies[kind])
        for applicant in applicants:
            await applicant.step(kind)
        # Work after the responses (commit hooks, in-process tasks, a worker) belongs to this kind.
        await asyncio.sleep(settle)
        after = await probe.read()
        count = len(tally.latencies[kind]) - done
        if count:
            kinds[kind] = per_request(before, after, count, idle)
            kinds[kind]["latency_ms"] = round(statistics.fmean(tally.latencies[kind][done:]) * 1000, 2)
        before = after
    for applicant in applicants:
        applicant.close()
    return kinds, tally


async def load(
    flows: list[Flow], target: Target, probe: Probe, settle: float, idle: dict[str, float]
) -> dict[str, Any]:
    """Every applicant at once; wall time, latencies and the client's own CPU per request."""
    tally = Tally()
    applicants = [Applicant(flow, target, tally) for flow in flows]
    start = asyncio.Event()

    async def one(applicant: Applicant) -> None:
        await start.wait()
        await applicant.whole_flow()

    tasks = [asyncio.create_task(one(a)) for a in applicants]
    await asyncio.sleep(0)
    gc.collect()
    gc.freeze()  # everything built so far lives to the end: keep the collector off it
    before = await probe.read()
    cpu_started = time.process_time()
    began = time.perf_counter()
    start.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    wall = time.perf_counter() - began
    client_cpu = time.process_time() - cpu_started
    tally.errors += [f"{type(e).__name__}: {e}" for e in outcomes if isinstance(e, BaseException)]
    await asyncio.sleep(settle)
    after = await probe.read()
    requests = sum(len(v) for v in tally.latencies.values())
    return {
        "wall_s": wall,
        "requests": requests,
        "latencies": tally.latencies,
        "statuses": dict(tally.statuses),
        "errors": tally.errors,
        "client_cpu_ms": client_cpu * 1000,
        "client_cpu_ms_per_request": client_cpu * 1000 / max(1, requests),
        "service": per_request(before, after, max(1, requests), idle),
    }


async def main(config: dict[str, Any]) -> dict[str, Any]:
    target = Target(config["host"], config["port"])
    flows = {
        phase: [Flow(target.authority, a["n"], a["username"]) for a in config[phase]]
        for phase in ("warmup", "calibrate", "load")
    }
    probe = Probe(target, config["groups"])
    settle = config.get("settle_s", 0.5)
    warm = await warm_up(flows["warmup"], target)
    await asyncio.sleep(settle)
    idle = await probe.idle_rates(config.get("idle_s", 5.0))
    calibration, calibration_tally = await calibrate(flows["calibrate"], target, probe, settle, idle)
    result = await load(flows["load"], target, probe, settle, idle)
    result["calibration"] = calibration
    result["idle_per_s"] = {key: round(value, 3) for key, value in idle.items()}
    result["setup_errors"] = warm.errors + calibration_tally.errors
    return result


def _run(coroutine: Any) -> Any:
    try:
        import uvloop  # noqa: PLC0415 - optional: the stock loop is the fallback
    except ImportError:  # the stock loop works too, at a somewhat higher cost per request
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


if __name__ == "__main__":
    config_path, result_path = (Path(p) for p in sys.argv[1:3])
    outcome = _run(main(json.loads(config_path.read_text())))
    result_path.write_text(json.dumps(outcome, ensure_ascii=False))
