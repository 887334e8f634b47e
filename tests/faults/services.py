"""Real processes the fault tests break on purpose: a private Redis, moto's S3 server, Celery workers.

Each runs on its own loopback port, so stopping it disturbs no other test (the machine's Redis and
PostgreSQL are never stopped). Everything waits with a deadline and fails with the process log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import redis

from tests.fixtures.s3 import free_port

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = "redis-server"


def wait_until(done: Callable[[], object], timeout: float, what: str, log: Path | None = None) -> None:
    """Poll ``done`` until true; fail after ``timeout`` seconds naming ``what`` (and the log's tail)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            tail = ""
            if log is not None and log.exists():
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-60:])
            raise AssertionError(f"no {what} after {timeout:.0f} s\n{tail}")
        time.sleep(0.1)


def stop_process(process: subprocess.Popen[bytes], *, timeout: float = 20) -> None:
    """SIGTERM the process group, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_hard(process)


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    """``kill -9`` the process and every child it started (its process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


class RedisServer:
    """A redis-server of our own, started with the machine's flags: nothing kept on disk."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.log = folder / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
            "--dir", str(self.folder), "--maxmemory-policy", "noeviction",
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.answers, 15, f"redis on port {self.port}", self.log)

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            kill_hard(self.process)
            self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=2, socket_timeout=5)


class MotoServer:
    """moto's standalone S3 server on a port that stays the same across restarts."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.log = folder / "moto.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(self.answers, 30, f"moto on port {self.port}", self.log)

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.endpoint}/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            kill_hard(self.process)
            self.process = None


class CeleryWorker:
    """``celery -A workers.app worker`` as a separate process, configured only by environment."""

    def __init__(self, folder: Path, env: dict[str, str], *, name: str, pool: str = "prefork") -> None:
        self.folder = folder
        self.env = env
        self.name = name
        self.pool = pool
        self.log = folder / f"worker-{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, include: str = "tests.faults.tasks") -> CeleryWorker:
        self.launch(include=include)
        return self.wait_ready()

    def launch(self, *, include: str = "tests.faults.tasks") -> CeleryWorker:
        command = [
            sys.executable, "-m", "celery", "-A", "workers.app", "worker", f"--pool={self.pool}",
            "--concurrency=1", "-n", f"{self.name}@%h", "-I", include, "--without-mingle",
            "--without-gossip", "-l", "info",
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def wait_ready(self) -> CeleryWorker:
        wait_until(lambda: "ready." in self.log.read_text(errors="replace"), 60, f"worker {self.name} ready", self.log)
        return self

    def kill(self) -> None:
        assert self.process is not None
        kill_hard(self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def discard(self) -> None:
        """Stop at once: for teardown, when nothing it holds matters any more."""
        if self.process is not None and self.process.poll() is None:
            kill_hard(self.process)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-60:])


def worker_env(*, broker_url: str, database_url: str, object_store: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker process: the parent's, with KINDERFLOW_* replaced by ours."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KINDERFLOW_")}
    env |= {
        "KINDERFLOW_BROKER_URL": broker_url,
        "KINDERFLOW_DATABASE_URL": database_url,
        "KINDERFLOW_OBJECT_STORE": object_store,
        "KINDERFLOW_DEMO": "true",
        "KINDERFLOW_VAR_DIR": str(var_dir),
        "PYTHONUNBUFFERED": "1",
    }
    for key, value in extra.items():
        env[f"KINDERFLOW_{key.upper()}"] = value
    return env
