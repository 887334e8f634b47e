"""The processes a load run starts on loopback: a private Redis, moto's S3 server, a Celery worker,
uvicorn; and a PostgreSQL database of its own. Each is stopped (or dropped) when the run ends."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get(
    "KINDERFLOW_BENCH_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
# The suite's cheap argon2id parameters: logins measure the service, not the password hash.
CHEAP_ARGON2 = {"KINDERFLOW_ARGON2_TIME_COST": "1", "KINDERFLOW_ARGON2_MEMORY_KIB": "1024",
                "KINDERFLOW_ARGON2_PARALLELISM": "1"}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(done: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} not ready after {timeout:.0f} s\n{tail}")
        time.sleep(0.2)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


class Processes:
    """Started processes, stopped together (process groups: workers' children go too)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen[bytes]] = []
        self.pids: dict[str, int] = {}  # each a process group's id too (a new session per process)

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> Path:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.started.append(process)
        self.pids[name] = process.pid
        return log

    def stop_all(self) -> None:
        for process in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.started):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.started.clear()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of the bench's own on the local PostgreSQL, dropped afterwards."""
    name = f"kf_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def base_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINDERFLOW_")}
    env |= CHEAP_ARGON2 | {"PYTHONUNBUFFERED": "1", "KINDERFLOW_SECRET_KEY": secrets.token_urlsafe(48)}
    env |= {f"KINDERFLOW_{key.upper()}": value for key, value in settings.items()}
    return env


def start_redis(procs: Processes) -> str:
    port = free_port()
    log = procs.start(
        "redis",
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--maxmemory-policy", "noeviction", "--dir", str(procs.folder)],
    )  # fmt: skip

    def answers() -> bool:
        try:
            return bool(redis.Redis(port=port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    wait_until(answers, 15, "redis", log)
    return f"redis://127.0.0.1:{port}/0"


def start_moto(procs: Processes) -> str:
    port = free_port()
    log = procs.start("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)])
    wait_until(lambda: _http_ok(f"http://127.0.0.1:{port}/"), 30, "moto", log)
    return f"127.0.0.1:{port}"


def start_worker(procs: Processes, env: dict[str, str]) -> None:
    log = procs.start(
        "worker",
        [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--pool=prefork", "--concurrency=1",
         "--without-mingle", "--without-gossip", "-l", "info"],
        env,
    )  # fmt: skip
    wait_until(lambda: "ready." in log.read_text(errors="replace"), 60, "celery worker", log)


def start_api(procs: Processes, env: dict[str, str], workers: int, app: str = "api.main:create_app") -> str:
    """uvicorn serving ``app`` (an app factory) on a free loopback port; its base URL."""
    port = free_port()
    log = procs.start(
        "api",
        [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: _http_ok(f"{base}/api/health"), 60, "api", log)
    return base
