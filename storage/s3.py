"""The object store on an S3-compatible bucket (MinIO in full mode), through the minio SDK."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import BinaryIO, cast
from urllib.parse import quote, unquote

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import ENABLED
from minio.error import InvalidResponseError, S3Error, ServerError
from minio.versioningconfig import VersioningConfig

from storage.objects import (
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    ObjectStoreUnavailable,
    Spool,
    StoredObject,
    content_disposition,
    validate_key,
)

# Bodies above one part go up as a multipart upload; minio buffers one part per upload thread.
PART_SIZE = 16 * 1024 * 1024
_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "NoSuchObject", "NotFound", "ResourceNotFound"}
_ALREADY_EXISTS = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}
# Metadata travels as x-amz-meta-* headers, which must be ASCII: the filename is percent-encoded.
_META_FILENAME = "x-amz-meta-filename"
_META_SHA256 = "x-amz-meta-sha256"


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


def _http_client() -> urllib3.PoolManager:
    # Minio's default waits 5 minutes and retries 5 times; an outage should fail a request fast.
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=3, read=30),
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
                    if item.object_name is not None:
                        yield item.object_name
        except ObjectNotFound:
            # No bucket yet: nothing has been written.
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
            if not self._client.bucket_exists(self.bucket):
                raise ObjectStoreUnavailable(f"bucket {self.bucket} is missing")

    def _write_new(self, key: str, spool: Spool, obj: StoredObject) -> bool:
        if not self._bucket_ready:
            self.ensure_bucket()
        with _translated(key):
            self._client.put_object(
                self.bucket,
                key,
                spool.file,
                length=spool.size,
                content_type=obj.content_type or "application/octet-stream",
                metadata={_META_FILENAME: quote(obj.filename, safe=""), _META_SHA256: obj.sha256},
                part_size=PART_SIZE,
            )
        return True
