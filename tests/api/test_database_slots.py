"""Embedded mode (SQLite): requests that read never wait for the write lock; writers take turns.

Another connection holds SQLite's write lock here (as a long write would): reads, and a sign-in that
writes nothing, answer at once; a failed sign-in (it records the failure) and a writing request wait
for the lock and then succeed. A burst of readers and writers together all finish.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from api.deps import SQLITE_READER_SLOTS
from api.main import create_app
from storage import migrate
from storage.runtime import Runtime, build_runtime
from tests.api.test_applications import FORM
from tests.fixtures.app import PASSWORD, World, build_world, make_settings
from tests.fixtures.database import fresh_database_url
from tests.fixtures.server import live_server, token
from workflows.accounts.models import LoginFailure

HOLD_S = 1.0


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """Embedded mode's database whichever backend the suite's ``db`` is on: SQLite's write lock."""
    url = fresh_database_url("sqlite", tmp_path)
    migrate.upgrade(url)
    runtime = build_runtime(make_settings(url, tmp_path))
    yield runtime
    runtime.close()


@pytest.fixture
def world(sqlite_runtime: Runtime) -> World:
    return build_world(sqlite_runtime)


@contextmanager
def write_lock_held(runtime: Runtime) -> Iterator[Callable[[], None]]:
    """SQLite's write lock, held by another connection until ``release`` (or the block ends)."""
    assert runtime.db.engine.url.database
    holder = sqlite3.connect(runtime.db.engine.url.database, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    lock = threading.Lock()

    def release() -> None:
        with lock:
            if holder.in_transaction:
                holder.execute("COMMIT")

    try:
        yield release
    finally:
        release()
        holder.close()


def _timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    response = call()
    return response, time.monotonic() - began


def test_reads_and_a_clean_sign_in_do_not_wait_for_the_write_lock(sqlite_runtime: Runtime, world: World) -> None:
    with live_server(create_app(runtime=sqlite_runtime)) as base:
        applicant = token(base, "kg-a1", PASSWORD)
        created = httpx.post(f"{base}/api/applications", headers=applicant, json=FORM)
        assert created.status_code == 201, created.text
        with write_lock_held(sqlite_runtime), httpx.Client(base_url=base, timeout=60) as c:
            for path in ("/api/me", "/api/applications", f"/api/applications/{created.json()['id']}"):
                r, took = _timed(partial(c.get, path, headers=applicant))
                assert r.status_code == 200, (path, r.text)
                assert took < HOLD_S, path
            r, took = _timed(lambda: c.post("/api/auth/token", data={"username": "kg-a2", "password": PASSWORD}))
            assert r.status_code == 200, r.text
            assert took < HOLD_S


def test_a_failed_sign_in_and_a_write_wait_for_the_lock_then_succeed(sqlite_runtime: Runtime, world: World) -> None:
    with live_server(create_app(runtime=sqlite_runtime)) as base:
        applicant = token(base, "kg-a1", PASSWORD)
        with write_lock_held(sqlite_runtime) as release, ThreadPoolExecutor(4) as pool:
            failed = pool.submit(
                _timed, lambda: httpx.post(f"{base}/api/auth/token", data={"username": "kg-a2", "password": "wrong"})
            )
            created = pool.submit(
                _timed, lambda: httpx.post(f"{base}/api/applications", headers=applicant, json=FORM, timeout=60)
            )
            time.sleep(HOLD_S)
            assert not failed.done() and not created.done()  # both wait for the lock
            release()
            (failure, _), (application, _) = failed.result(timeout=60), created.result(timeout=60)
        assert failure.status_code == 401 and failure.json()["code"] == "bad_credentials"
        assert application.status_code == 201, application.text
        with sqlite_runtime.db.session() as s:
            assert s.scalar(select(func.count()).where(LoginFailure.username == "kg-a2")) == 1
        # A sign-in that clears the failure writes too: it still works.
        assert httpx.post(f"{base}/api/auth/token", data={"username": "kg-a2", "password": PASSWORD}).status_code == 200
        with sqlite_runtime.db.session() as s:
            assert s.scalar(select(func.count()).where(LoginFailure.username == "kg-a2")) == 0


def test_a_burst_of_readers_and_writers_all_finish(sqlite_runtime: Runtime, world: World) -> None:
    """More readers than reader slots, failing sign-ins (readers that write) and writers, all at once."""
    with live_server(create_app(runtime=sqlite_runtime)) as base:
        headers = {name: token(base, name, PASSWORD) for name in ("kg-a1", "kg-a2", "kg-b1", "kg-out")}

        def read(n: int) -> int:
            return httpx.get(f"{base}/api/applications", headers=headers["kg-a1"], timeout=120).status_code

        def fail_sign_in(n: int) -> int:
            data = {"username": "officer", "password": f"wrong-{n}"}
            return httpx.post(f"{base}/api/auth/token", data=data, timeout=120).status_code

        def write(name: str) -> int:
            return httpx.post(f"{base}/api/applications", headers=headers[name], json=FORM, timeout=120).status_code

        with ThreadPoolExecutor(24) as pool:
            reads = [pool.submit(read, n) for n in range(4 * SQLITE_READER_SLOTS)]
            failures = [pool.submit(fail_sign_in, n) for n in range(3)]
            writes = [pool.submit(write, name) for name in headers]
            assert [f.result(timeout=120) for f in reads] == [200] * len(reads)
            assert [f.result(timeout=120) for f in failures] == [401] * len(failures)
            assert [f.result(timeout=120) for f in writes] == [201] * len(writes)
