"""The object store: one interface over a local folder or an S3/MinIO bucket.

Uploads are streamed through a temporary spool file while hashing, so the whole body is never held
in memory. Keys are content-addressed (``sha256/ab/cd/<hex>``) or caller-chosen via ``put_at``;
either way an object is written once and never overwritten. ``open_writer`` is ``put_at`` for a body
the caller writes as it goes (zip bundles): S3 streams it up in parts, a local folder spools it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

CHUNK_SIZE = 1 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}")
# Control characters (C0, DEL, C1) are refused in keys: they break logs, headers and file names.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int
    filename: str
    content_type: str


@dataclass(frozen=True)
class ListedObject:
    """A key as a listing shows it: its size and when it was last written (or deduplicated)."""

    key: str
    size: int
    modified: datetime


class ObjectStoreError(Exception):
    """Base of every object store error."""


class ObjectNotFound(ObjectStoreError):
    """No object under this key."""


class ObjectTooLarge(ObjectStoreError):
    """The body exceeded the allowed size; nothing was stored."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"object larger than {limit} bytes")
        self.limit = limit


class ObjectConflict(ObjectStoreError):
    """A different body already exists under a write-once key."""


class ObjectStoreUnavailable(ObjectStoreError):
    """The backend cannot be reached or written to right now."""


class WriteSink(ABC):
    """Where an ObjectWriter's bytes go; one per open_writer call."""

    @abstractmethod
    def write(self, data: memoryview) -> None:
        """Take the next bytes of the body."""

    @abstractmethod
    def commit(self, obj: StoredObject) -> StoredObject:
        """Publish the body write-once under ``obj.key``; the existing object if an identical one is there."""

    @abstractmethod
    def abort(self) -> None:
        """Discard whatever was written; safe to call more than once, never raises."""


class ObjectWriter(io.RawIOBase):
    """A write-only, non-seekable stream into the store that hashes as it goes; see ObjectStore.open_writer."""

    def __init__(self, sink: WriteSink, max_size: int | None = None) -> None:
        super().__init__()
        self._sink = sink
        self._max_size = max_size
        self._digest = hashlib.sha256()
        self._size = 0
        self.result: StoredObject | None = None

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._size

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("write to a closed object writer")
        view = memoryview(data).cast("B")
        if self._max_size is not None and self._size + len(view) > self._max_size:
            raise ObjectTooLarge(self._max_size)
        self._digest.update(view)
        self._sink.write(view)
        self._size += len(view)
        return len(view)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    @property
    def size(self) -> int:
        return self._size


class SpoolSink(WriteSink):
    """Spools the body to a temp file, then publishes it with the store's ``_write_once``."""

    def __init__(self, store: ObjectStore, key: str) -> None:
        self._store = store
        spool_dir = store._spool_dir()
        try:
            if spool_dir is not None:
                spool_dir.mkdir(parents=True, exist_ok=True)
            self._file = tempfile.NamedTemporaryFile(dir=spool_dir, prefix="writer-", delete=False)  # noqa: SIM115
        except OSError as exc:
            raise ObjectStoreUnavailable(f"cannot create a spool file: {exc}") from exc
        self._path = Path(self._file.name)

    def write(self, data: memoryview) -> None:
        try:
            self._file.write(data)
        except OSError as exc:
            raise ObjectStoreUnavailable(f"cannot write the spool file: {exc}") from exc

    def commit(self, obj: StoredObject) -> StoredObject:
        self._file.close()
        try:
            with self._path.open("rb") as file:
                spool = Spool(path=self._path, file=file, sha256=obj.sha256, size=obj.size)
                return self._store._write_once(obj.key, spool, obj.filename, obj.content_type)
        finally:
            self.abort()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(OSError):
            os.unlink(self._path)


@dataclass(frozen=True)
class Spool:
    """An upload copied to a temporary file, with its hash and size."""

    path: Path
    file: BinaryIO
    sha256: str
    size: int


# Bidirectional controls (LRE…RLO, LRI…PDI, LRM, RLM): "报告\u202egpj.exe" shows as 报告exe.jpg.
# Bidirectional controls and invisible marks: 「报告\u202excod.docx」 shows as 「报告xcod.docx」 …; dropped.
BIDI_CONTROLS = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def without_bidi_controls(name: str) -> str:
    """``name`` without the invisible characters that reorder how it is shown."""
    return BIDI_CONTROLS.sub("", name)


def content_disposition(filename: str) -> str:
    """An attachment header with an ASCII fallback and the UTF-8 name per RFC 5987/6266."""
    filename = without_bidi_controls(filename)
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def content_key(sha256_hex: str) -> str:
    """The content-addressed key for a SHA-256 hex digest: ``sha256/ab/cd/<hex>``."""
    if not _HEX64.fullmatch(sha256_hex):
        raise ValueError("expected a lowercase 64-character SHA-256 hex digest")
    return f"sha256/{sha256_hex[:2]}/{sha256_hex[2:4]}/{sha256_hex}"


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative key, else raise ValueError."""
    if not key or key.startswith("/") or "\\" in key or _CONTROL.search(key):
        raise ValueError(f"invalid object key: {key!r}")
    # Dot-leading segments cover "..", "." and the local backend's own ".tmp" spool folder.
    if any(not part or part.startswith(".") for part in key.split("/")):
        raise ValueError(f"invalid object key: {key!r}")
    # The local backend keeps metadata in "<path>.meta.json"; a key must never collide with one.
    if key.endswith(".meta.json"):
        raise ValueError(f"invalid object key: {key!r}")
    return key


class ObjectStore(ABC):
    """Write-once object storage; see LocalStore and S3Store."""

    mode: str

    def put(self, stream: BinaryIO, *, filename: str, content_type: str, max_size: int | None = None) -> StoredObject:
        """Store a body under its content address; an identical body is not written twice."""
        with self._spool(stream, max_size) as spool:
            return self._write_once(content_key(spool.sha256), spool, filename, content_type)

    def put_at(
        self,
        key: str,
        stream: BinaryIO,
        *,
        filename: str,
        content_type: str,
        max_size: int | None = None,
    ) -> StoredObject:
        """Store a body under a caller-chosen key, once; a different body there raises ObjectConflict."""
        validate_key(key)
        with self._spool(stream, max_size) as spool:
            return self._write_once(key, spool, filename, content_type)

    @contextlib.contextmanager
    def open_writer(
        self, key: str, *, filename: str, content_type: str, max_size: int | None = None
    ) -> Iterator[ObjectWriter]:
        """A writable stream stored write-once under ``key`` when the block exits cleanly (``writer.result``).

        An exception inside the block discards the upload. A different body already under ``key`` raises
        ObjectConflict and the new upload is discarded; an identical one is kept and returned.
        """
        validate_key(key)
        sink = self._open_sink(key)
        writer = ObjectWriter(sink, max_size)
        try:
            yield writer
            obj = StoredObject(
                key=key, sha256=writer.sha256, size=writer.size, filename=filename, content_type=content_type
            )
            writer.result = sink.commit(obj)
        except BaseException:
            sink.abort()
            raise
        finally:
            writer.close()

    def _open_sink(self, key: str) -> WriteSink:
        """Where open_writer's bytes go; by default a spool file published like ``put_at``."""
        return SpoolSink(self, key)

    @abstractmethod
    def stat(self, key: str) -> StoredObject:
        """Metadata of the object under ``key``; raises ObjectNotFound."""

    @abstractmethod
    def open(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """A streaming, readable file-like for the object; raises ObjectNotFound."""

    def iter_chunks(self, key: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """Yield the object's bytes in chunks of at most ``chunk_size``."""
        with self.open(key) as body:
            while chunk := body.read(chunk_size):
                yield chunk

    @abstractmethod
    def exists(self, key: str) -> bool:
        """True if an object is stored under ``key``."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object (orphan sweep only); a missing key is not an error."""

    @abstractmethod
    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Yield the keys that start with ``prefix``."""

    def list_objects(self, prefix: str = "") -> Iterator[ListedObject]:
        """Yield the objects whose keys start with ``prefix``, with size and modification time."""
        raise NotImplementedError(f"{type(self).__name__} cannot list modification times")

    def _touch(self, key: str) -> None:  # noqa: B027 - optional hook, a no-op where times cannot be set
        """Mark an existing object as just written (a new upload deduplicated onto it); see the orphan sweep."""

    @abstractmethod
    def presigned_url(self, key: str, *, filename: str, expires: timedelta = timedelta(minutes=10)) -> str | None:
        """A time-limited direct download URL, or None when the backend cannot offer one."""

    @abstractmethod
    def check(self) -> None:
        """Health probe; raises ObjectStoreUnavailable."""

    @abstractmethod
    def _write_new(self, key: str, spool: Spool, obj: StoredObject) -> bool:
        """Write the spooled body under ``key``; False if another writer got there first."""

    def _spool_dir(self) -> Path | None:
        """Where upload spool files go (None: the system temp folder)."""
        return None

    def _write_once(self, key: str, spool: Spool, filename: str, content_type: str) -> StoredObject:
        obj = StoredObject(key=key, sha256=spool.sha256, size=spool.size, filename=filename, content_type=content_type)
        existing = self._stat_or_none(key)
        if existing is None:
            if self._write_new(key, spool, obj):
                return obj
            existing = self.stat(key)
        if existing.sha256 != spool.sha256:
            raise ObjectConflict(f"{key} already holds different content")
        # Someone is about to point a row at this object: an old orphan must look young to the sweep.
        self._touch(key)
        return existing

    def _stat_or_none(self, key: str) -> StoredObject | None:
        try:
            return self.stat(key)
        except ObjectNotFound:
            return None

    @contextlib.contextmanager
    def _spool(self, stream: BinaryIO, max_size: int | None) -> Iterator[Spool]:
        """Copy ``stream`` to a temp file chunk by chunk, hashing; the temp file is always removed."""
        spool_dir = self._spool_dir()
        try:
            if spool_dir is not None:
                spool_dir.mkdir(parents=True, exist_ok=True)
            tmp = tempfile.NamedTemporaryFile(dir=spool_dir, prefix="upload-", delete=False)  # noqa: SIM115
        except OSError as exc:
            raise ObjectStoreUnavailable(f"cannot create a spool file: {exc}") from exc
        path = Path(tmp.name)
        try:
            digest = hashlib.sha256()
            size = 0
            with tmp:
                while chunk := stream.read(CHUNK_SIZE):
                    size += len(chunk)
                    # Stop reading as soon as the limit is passed: the rest may be gigabytes.
                    if max_size is not None and size > max_size:
                        raise ObjectTooLarge(max_size)
                    digest.update(chunk)
                    tmp.write(chunk)
            with path.open("rb") as file:
                yield Spool(path=path, file=file, sha256=digest.hexdigest(), size=size)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
