"""Which object store an installation uses: ``storage.objects`` defines the interface, the backends
(``storage.localstore``, ``storage.s3``) implement it, and this module picks one from the settings."""

from __future__ import annotations

from pathlib import Path

from storage.localstore import LocalStore
from storage.objects import ObjectStore
from storage.s3 import S3Store
from storage.settings import Settings


def build_object_store(settings: Settings) -> ObjectStore:
    """The store named by ``settings.object_store``: ``s3://bucket`` or a folder path."""
    target = settings.object_store
    if target.startswith("s3://"):
        bucket = target.removeprefix("s3://").rstrip("/")
        if not bucket or "/" in bucket:
            raise ValueError(f"object_store must be s3://<bucket>, got {target!r}")
        return S3Store(
            bucket=bucket,
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
    return LocalStore(Path(target))
