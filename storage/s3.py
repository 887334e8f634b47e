"""The object store on an S3-compatible bucket (MinIO in full mode), through the minio SDK."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import BinaryIO, cast
from urllib.parse import quote, unquote

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import ENABLED, REPLACE, CopySource
from minio.datatypes import Part
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.versioningconfig import VersioningConfig

from storage.objects import (
    ListedObject,
    ObjectConflict,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    ObjectStoreUnavailable,
    Spool,
    StoredObject,
    WriteSink,
    content_disposition,
    validate_key,
)

# Bodies above one part go up as a multipart upload; minio buffers one part per upload thread.
PART_SIZE = 16 * 1024 * 1024
SLOW_READ_TIMEOUT = 600.0
_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "NoSuchObject", "NotFound", "ResourceNotFound"}
_ALREADY_EXISTS = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}
# Metadata travels as x-amz-meta-* headers, which must be ASCII: the filename is percent-encoded.
_META_FILENAME = "x-amz-meta-filename"
_META_SHA256 = "x-amz-meta-sha256"
# Streamed bodies go up under a staging key first: their hash (metadata) is known only at the end. A
# dot-leading segment is never a valid key, so staging objects cannot collide with or pose as one.
_STAGING_PREFIX = ".uploads/"


@contextlib.contextmanager
def _translated(key: str | None = None) -> Iterator[None]:
    """Turn minio/urllib3 errors into the store's own errors."""
    try:
        yield
    except S3Error as exc:
        if key is not None and exc.code in _NOT_FOUND:
            raise ObjectNotFound(key) from exc
        raise ObjectStoreError(f"S3 error {exc.code}: {exc.message}") from exc
    except (ServerError, InvalidResponseError, urllib3.exceptions.HTTPError, OSError) as exc:
        # Refused connections, timeouts, exhausted retries and 5xx answers all mean "down now".
        raise ObjectStoreUnavailable(f"object store unreachable: {exc}") from exc


def _http_client(read_timeout: float = 30) -> urllib3.PoolManager:
    # Minio's default waits 5 minutes and retries 5 times; an outage should fail a request fast.
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=3, read=read_timeout),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=certifi.where(),
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
    )


class S3Store(ObjectStore):
    """Objects in one bucket; the bucket is created with versioning on first write or check()."""

    mode = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint: str,
        access_key: str,
        secret_key: str,
        secure: bool,
        region: str,
    ) -> None:
        self.bucket = bucket
        # A region given up front also keeps minio from asking the server for it before presigning.
        self._client = Minio(
            endpoint,
            access_key=access_key or None,
            secret_key=secret_key or None,
            secure=secure,
            region=region,
            http_client=_http_client(),
        )
        # Completing (and copying) a multi-gigabyte streamed upload takes the server a while to answer;
        # only those calls get to wait that long.
        self._slow_client = Minio(
            endpoint,
            access_key=access_key or None,
            secret_key=secret_key or None,
            secure=secure,
            region=region,
            http_client=_http_client(read_timeout=SLOW_READ_TIMEOUT),
        )
        self._bucket_ready = False

    def ensure_bucket(self) -> None:
        """Create the bucket if missing and turn versioning on; safe to call repeatedly."""
        with _translated():
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket)
                except S3Error as exc:
                    # Another process created it between the two calls.
                    if exc.code not in _ALREADY_EXISTS:
                        raise
            # Versioning keeps an overwritten or deleted object recoverable, the last line of defence
            # for write-once (S3 has no portable "create only if absent" through this SDK).
            self._client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED))
        self._bucket_ready = True

    def stat(self, key: str) -> StoredObject:
        """Metadata of the object under ``key``; raises ObjectNotFound."""
        validate_key(key)
        with _translated(key):
            info = self._client.stat_object(self.bucket, key)
        headers = info.metadata or {}
        filename = headers.get(_META_FILENAME)
        return StoredObject(
            key=key,
            sha256=headers.get(_META_SHA256, ""),
            size=info.size or 0,
            filename=unquote(filename) if filename else key.rsplit("/", 1)[-1],
            content_type=info.content_type or "application/octet-stream",
        )

    @contextlib.contextmanager
    def open(self, key: str) -> Iterator[BinaryIO]:
        """The object's body as a streaming response; the connection is released on exit."""
        validate_key(key)
        with _translated(key):
            response = self._client.get_object(self.bucket, key)
        try:
            yield cast(BinaryIO, response)
        except urllib3.exceptions.HTTPError as exc:
            # Only the body read can raise these here; the caller's own errors pass through untouched.
            raise ObjectStoreUnavailable(f"object store read failed: {exc}") from exc
        finally:
            response.close()
            response.release_conn()

    def exists(self, key: str) -> bool:
        """True if an object is stored under ``key``."""
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        """Remove the object (a delete marker, with versioning on); a missing key is not an error."""
        validate_key(key)
        try:
            with _translated(key):
                self._client.remove_object(self.bucket, key)
        except ObjectNotFound:
            pass

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Yield the keys under ``prefix`` in the server's (lexicographic) order."""
        try:
            with _translated(prefix):
                for item in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                    if item.object_name is not None and not item.object_name.startswith(_STAGING_PREFIX):
                        yield item.object_name
        except ObjectNotFound:
            # No bucket yet: nothing has been written.
            return

    def list_objects(self, prefix: str = "") -> Iterator[ListedObject]:
        """Yield the objects under ``prefix`` in key order, with size and last-modified time."""
        try:
            with _translated(prefix):
                for item in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                    name = item.object_name
                    if name is None or name.startswith(_STAGING_PREFIX) or item.last_modified is None:
                        continue
                    yield ListedObject(name, item.size or 0, item.last_modified)
        except ObjectNotFound:
            return

    def presigned_url(self, key: str, *, filename: str, expires: timedelta = timedelta(minutes=10)) -> str | None:
        """A signed GET URL that downloads the object under ``filename``."""
        validate_key(key)
        with _translated(key):
            return self._client.get_presigned_url(
                "GET",
                self.bucket,
                key,
                expires=expires,
                response_headers={"response-content-disposition": content_disposition(filename)},
            )

    def check(self) -> None:
        """Raise ObjectStoreUnavailable unless the bucket can be reached (creating it if needed)."""
        if not self._bucket_ready:
            self.ensure_bucket()
            return
        with _translated():
            exists = self._client.bucket_exists(self.bucket)
        if not exists:
            # The server came back without its data (or an operator removed the bucket): recreate it.
            self._bucket_ready = False
            self.ensure_bucket()

    def _write_new(self, key: str, spool: Spool, obj: StoredObject) -> bool:
        if not self._bucket_ready:
            self.ensure_bucket()
        try:
            self._put(key, spool, obj)
        except ObjectNotFound:
            # NoSuchBucket: the bucket vanished since it was made ready. Make it again, then retry once.
            self._bucket_ready = False
            self.ensure_bucket()
            spool.file.seek(0)
            self._put(key, spool, obj)
        return True

    def _put(self, key: str, spool: Spool, obj: StoredObject) -> None:
        with _translated(key):
            self._client.put_object(
                self.bucket,
                key,
                spool.file,
                length=spool.size,
                content_type=obj.content_type or "application/octet-stream",
                metadata=_metadata(obj),
                part_size=PART_SIZE,
            )

    def _open_sink(self, key: str) -> WriteSink:
        if not self._bucket_ready:
            self.ensure_bucket()
        return _MultipartSink(self, key)


def _metadata(obj: StoredObject) -> dict[str, str | list[str] | tuple[str]]:
    return {_META_FILENAME: quote(obj.filename, safe=""), _META_SHA256: obj.sha256}


class _MultipartSink(WriteSink):
    """Streams a body up in PART_SIZE parts: one fixed buffer, never the whole body.

    A body smaller than one part goes up as a single PUT straight to its key. A larger one becomes a
    multipart upload to a staging key, which is then copied server-side to the real key together with
    its metadata (the SHA-256 is known only at the end) and the staging version removed.
    """

    def __init__(self, store: S3Store, key: str) -> None:
        self._store = store
        self._client = store._client
        self._slow_client = store._slow_client
        self._key = key
        self._staging = f"{_STAGING_PREFIX}{uuid.uuid4().hex}"
        self._buffer = bytearray(PART_SIZE)
        self._fill = 0
        self._upload_id: str | None = None
        self._parts: list[Part] = []
        self._staged_version: str | None = None
        self._staged = False

    def write(self, data: memoryview) -> None:
        while len(data):
            n = min(len(data), PART_SIZE - self._fill)
            self._buffer[self._fill : self._fill + n] = data[:n]
            self._fill += n
            data = data[n:]
            if self._fill == PART_SIZE:
                self._upload_part()

    def commit(self, obj: StoredObject) -> StoredObject:
        existing = self._store._stat_or_none(self._key)
        if existing is not None:
            self.abort()
            if existing.sha256 != obj.sha256:
                raise ObjectConflict(f"{self._key} already holds different content")
            self._store._touch(self._key)  # as in _write_once: the orphan sweep must see it as young
            return existing
        with _translated(self._key):
            if self._upload_id is None:
                self._client.put_object(
                    self.bucket,
                    self._key,
                    io.BytesIO(memoryview(self._buffer)[: self._fill]),
                    length=self._fill,
                    content_type=obj.content_type or "application/octet-stream",
                    metadata=_metadata(obj),
                )
                return obj
            if self._fill:
                self._upload_part()
            done = self._slow_client._complete_multipart_upload(
                self.bucket, self._staging, self._upload_id, self._parts
            )
            self._upload_id, self._staged, self._staged_version = None, True, done.version_id
            self._slow_client.copy_object(
                self.bucket,
                self._key,
                CopySource(self.bucket, self._staging, version_id=self._staged_version),
                metadata={"Content-Type": obj.content_type or "application/octet-stream", **_metadata(obj)},
                metadata_directive=REPLACE,
            )
        self.abort()  # removes the staging version
        return obj

    def abort(self) -> None:
        # Best effort: the upload already failed or was superseded; a leftover is only wasted space.
        if self._upload_id is not None:
            with contextlib.suppress(Exception):
                self._client._abort_multipart_upload(self.bucket, self._staging, self._upload_id)
            self._upload_id = None
        if self._staged:
            with contextlib.suppress(Exception):
                self._client.remove_object(self.bucket, self._staging, version_id=self._staged_version)
            self._staged = False

    @property
    def bucket(self) -> str:
        return self._store.bucket

    def _upload_part(self) -> None:
        with _translated(self._key):
            if self._upload_id is None:
                headers: dict[str, str | list[str] | tuple[str]] = {"Content-Type": "application/octet-stream"}
                self._upload_id = self._client._create_multipart_upload(self.bucket, self._staging, headers)
            number = len(self._parts) + 1
            # A view of the buffer, not a copy: minio hashes and sends any bytes-like body.
            part = cast(bytes, memoryview(self._buffer)[: self._fill])
            etag = self._client._upload_part(self.bucket, self._staging, part, None, self._upload_id, number)
        self._parts.append(Part(number, etag))
        self._fill = 0
