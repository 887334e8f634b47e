"""Test-only tasks the fault tests send to real worker processes (``celery worker -I tests.faults.tasks``).

``slow_build`` mimics an archive bundle: it writes a content-addressed object slowly, chunk by
chunk, then records completion in a row; it is idempotent (a second delivery finds the row and
stops). Every task appends what it did to the file named by its ``log`` argument (or the
``FAULT_RUN_LOG`` environment variable), so a test can count runs across processes.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select

from workers.registry import task
from workers.runtime import get_runtime
from workflows.documents.models import Document

SLOW_BUILD = "tests.faults.slow_build"
MARK_APPROVED = "tests.faults.mark_approved"
NOTE = "tests.faults.note"
BUNDLE_OWNER = "fault-bundle"
MARK_OWNER = "fault-approval"


def note_run(log: str, line: str) -> None:
    with Path(log).open("a", encoding="utf-8") as file:
        file.write(f"{line}\n")
        file.flush()
        os.fsync(file.fileno())


def bundle_chunks(owner_id: str, chunks: int) -> Iterator[bytes]:
    """The deterministic body of a test bundle, 128 KiB per chunk."""
    for i in range(chunks):
        yield hashlib.sha256(f"{owner_id}:{i}".encode()).digest() * 4096


def bundle_sha256(owner_id: str, chunks: int) -> str:
    digest = hashlib.sha256()
    for chunk in bundle_chunks(owner_id, chunks):
        digest.update(chunk)
    return digest.hexdigest()


class SlowStream:
    """A readable stream that hands out one chunk per read, sleeping before each."""

    def __init__(self, chunks: Iterator[bytes], delay: float) -> None:
        self._chunks = chunks
        self._delay = delay

    def read(self, size: int = -1) -> bytes:
        time.sleep(self._delay)
        return next(self._chunks, b"")


def _existing(owner_type: str, owner_id: str, kind: str) -> uuid.UUID | None:
    with get_runtime().db.session() as session:
        return session.scalar(
            select(Document.id).where(
                Document.owner_type == owner_type, Document.owner_id == uuid.UUID(owner_id), Document.kind == kind
            )
        )


def _record(owner_type: str, owner_id: str, kind: str, stored: object) -> None:
    with get_runtime().db.session() as session:
        session.add(
            Document(
                kind=kind,
                owner_type=owner_type,
                owner_id=uuid.UUID(owner_id),
                version_no=1,
                title=f"{kind} (test)",
                filename=stored.filename,  # type: ignore[attr-defined]
                content_type=stored.content_type,  # type: ignore[attr-defined]
                size=stored.size,  # type: ignore[attr-defined]
                sha256=stored.sha256,  # type: ignore[attr-defined]
                object_key=stored.key,  # type: ignore[attr-defined]
            )
        )


@task(name=SLOW_BUILD)
def slow_build(owner_id: str, chunks: int, delay: float, log: str) -> str:
    """Build the test bundle of ``owner_id`` unless it exists; ``chunks`` x ``delay`` seconds of work."""
    if _existing(BUNDLE_OWNER, owner_id, "bundle") is not None:
        note_run(log, f"skip {os.getpid()}")
        return "exists"
    note_run(log, f"start {os.getpid()}")
    stream = SlowStream(bundle_chunks(owner_id, chunks), delay)
    stored = get_runtime().objects.put(stream, filename=f"{owner_id}.zip", content_type="application/zip")  # type: ignore[arg-type]
    _record(BUNDLE_OWNER, owner_id, "bundle", stored)
    note_run(log, f"done {os.getpid()}")
    return stored.sha256


@task(name=MARK_APPROVED)
def mark_approved(application_id: str, alliance_id: str = "", kindergarten_id: str = "") -> str:
    """What an approval starts, for the tests: a marker document, once per application."""
    log = os.environ.get("FAULT_RUN_LOG", "")
    delay = float(os.environ.get("FAULT_TASK_DELAY", "0"))
    if log:
        note_run(log, f"run {application_id}")
    if _existing(MARK_OWNER, application_id, "marker") is not None:
        return "exists"
    time.sleep(delay)

    stored = get_runtime().objects.put(
        io.BytesIO(f"approved:{application_id}".encode()), filename="marker.txt", content_type="text/plain"
    )
    _record(MARK_OWNER, application_id, "marker", stored)
    return "marked"


@task(name=NOTE)
def note(token: str, log: str) -> str:
    """Append ``token`` to ``log``."""
    note_run(log, token)
    return token


SUICIDE = "tests.faults.suicide"


@task(name=SUICIDE)
def suicide(log: str) -> None:
    """A poison message: kills the process that runs it, every time."""

    note_run(log, f"run {os.getpid()}")
    os.kill(os.getpid(), signal.SIGKILL)
