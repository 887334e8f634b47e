"""Work on untrusted content in a child process with a memory and a time limit.

Some work on uploaded files cannot be bounded from inside the library doing it, and in embedded mode
tasks run on a thread of the web server's own process, where a runaway parse would take the
server's memory and the GIL with it. Such work runs here instead: a fresh Python process limits
itself (``RLIMIT_AS`` for memory, ``RLIMIT_CPU`` for processor time, and a lower priority) before it
imports anything else, reads the file from a temporary path, and prints its JSON answer; the parent kills it at a
wall-clock deadline. The same code runs in a Celery worker (full mode) and on the embedded runner.

Only the jobs named in ``JOBS`` can run, each a function ``(path) -> JSON value`` that may raise
``workflows.untrusted.UnsafeFile`` to refuse the file with a Chinese message.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any, BinaryIO

JOBS = {"docx_blocks": "workflows.library.extraction:blocks_of_path"}
MAX_OUTPUT_BYTES = 16 << 20


@dataclass(frozen=True)
class Bounds:
    memory_bytes: int = 512 << 20
    cpu_seconds: int = 30
    wall_seconds: float = 60.0


class SandboxFailed(Exception):
    """The job refused the file or did not finish within its bounds: ``code`` and a Chinese ``message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def run_bounded(job: str, file: BinaryIO, *, bounds: Bounds = Bounds(), max_bytes: int) -> Any:
    """Run ``job`` on the contents of ``file`` in a bounded child process; its JSON answer."""
    if job not in JOBS:
        raise ValueError(f"no sandboxed job {job!r}")
    with tempfile.NamedTemporaryFile(prefix="kinderflow-sandbox-") as spool:
        copied = 0
        while chunk := file.read(1 << 20):
            copied += len(chunk)
            if copied > max_bytes:
                raise SandboxFailed("too_large", f"文件过大：不能超过 {max_bytes // (1024 * 1024)} MB")
            spool.write(chunk)
        spool.flush()
        command = [
            sys.executable,
            "-m",
            "workflows.sandbox",
            job,
            spool.name,
            str(bounds.memory_bytes),
            str(bounds.cpu_seconds),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, timeout=bounds.wall_seconds, check=False, env=_child_env(), cwd=_root()
            )
        except subprocess.TimeoutExpired:
            raise SandboxFailed("timeout", "文件处理超时（内容过于复杂），未能读取") from None
    if done.returncode != 0 or len(done.stdout) > MAX_OUTPUT_BYTES:
        memory = b"MemoryError" in done.stderr[-4000:]
        cpu = done.returncode in (-9, -24)  # SIGXCPU at the soft RLIMIT_CPU, SIGKILL at the hard one
        if memory:
            raise SandboxFailed("too_much_memory", "文件处理时占用内存超过上限（内容过于复杂），未能读取")
        if cpu:
            raise SandboxFailed("timeout", "文件处理超时（内容过于复杂），未能读取")
        raise SandboxFailed("failed", "文件无法读取（内容已损坏或格式不受支持）")
    answer = json.loads(done.stdout)
    if "refused" in answer:
        raise SandboxFailed(answer["refused"]["code"], answer["refused"]["message"])
    return answer["result"]


def _root() -> str:
    # The directory that holds the ``workflows`` package, so ``-m workflows.sandbox`` finds it.
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child_env() -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_root(), env.get("PYTHONPATH", "")) if p)
    return env


def _limit_self(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    # Background work: the requests of the process that started it (embedded mode) come first.
    os.nice(10)


def _child(argv: list[str]) -> int:
    job, path, memory, cpu = argv
    _limit_self(int(memory), int(cpu))
    from workflows.untrusted import UnsafeFile  # noqa: PLC0415 - the parsers load under the limits just set

    module_name, _, function = JOBS[job].partition(":")
    run = getattr(importlib.import_module(module_name), function)
    try:
        answer: dict[str, Any] = {"result": run(path)}
    except UnsafeFile as exc:
        answer = {"refused": {"code": exc.code, "message": exc.message}}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
