"""The object store on a local folder (embedded mode)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, cast

from storage.objects import (
    CHUNK_SIZE,
    ListedObject,
    ObjectConflict,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreUnavailable,
    Spool,
    StoredObject,
    validate_key,
)

_META_SUFFIX = ".meta.json"
_SPOOL_DIR = ".tmp"


class LocalStore(ObjectStore):
    """Objects as read-only files under ``root``, each with a JSON metadata sidecar."""

    mode = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def stat(self, key: str) -> StoredObject:
        """Metadata of the object under ``key``; raises ObjectNotFound."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        try:
            meta = json.loads(_meta_path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            # The data file is the commit point and the sidecar follows it; a missing sidecar means
            # a writer is mid-way (or crashed there), so the object is not complete yet.
            raise ObjectNotFound(key) from exc
        return StoredObject(
            key=key,
            sha256=meta["sha256"],
            size=meta["size"],
            filename=meta["filename"],
            content_type=meta["content_type"],
        )

    def open(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        """The stored file, opened for reading; raises ObjectNotFound."""
        try:
            return cast(BinaryIO, self._path(key).open("rb"))
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise ObjectNotFound(key) from exc

    def exists(self, key: str) -> bool:
        """True if an object is stored under ``key``."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the object and its sidecar; a missing key is not an error."""
        path = self._path(key)
        path.unlink(missing_ok=True)
        _meta_path(path).unlink(missing_ok=True)

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Yield the keys under ``prefix`` in sorted order."""
        if not self.root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            # Skip the spool folder and any other dot folder; sort for a stable order.
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith(".") or name.endswith(_META_SUFFIX):
                    continue
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def list_objects(self, prefix: str = "") -> Iterator[ListedObject]:
        """Yield the objects under ``prefix`` in sorted order, with size and mtime."""
        # Walk only the folder the prefix names, not the whole store.
        folder = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not folder.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith(".") or name.endswith(_META_SUFFIX):
                    continue
                path = Path(dirpath, name)
                key = path.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    info = path.stat()
                except FileNotFoundError:
                    continue  # deleted meanwhile
                yield ListedObject(key, info.st_size, datetime.fromtimestamp(info.st_mtime, UTC))

    def _touch(self, key: str) -> None:
        with contextlib.suppress(OSError):
            os.utime(self._path(key))

    def presigned_url(self, key: str, *, filename: str, expires: timedelta = timedelta(minutes=10)) -> str | None:
        """None: files on a local folder are served through the API."""
        return None

    def check(self) -> None:
        """Raise ObjectStoreUnavailable unless the root folder exists (or can be made) and is writable."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root):
                pass
        except OSError as exc:
            raise ObjectStoreUnavailable(f"object folder {self.root} is not writable: {exc}") from exc

    def _spool_dir(self) -> Path:
        # Spool inside the root so the final move is a same-filesystem link, never a copy.
        return self.root / _SPOOL_DIR

    def _write_new(self, key: str, spool: Spool, obj: StoredObject) -> bool:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(spool.path, 0o444)
            try:
                # A hard link publishes the complete file atomically like os.replace, but fails
                # instead of overwriting when another writer won the race: write-once holds.
                os.link(spool.path, path)
            except FileExistsError:
                if _meta_path(path).exists():
                    return False
                # Data without a sidecar: a writer crashed (or is) between the two steps. Finish its
                # work when the bodies match; a different body is a conflict like any other.
                if _file_sha256(path) != spool.sha256:
                    raise ObjectConflict(f"{key} already holds different content") from None
            _write_json_atomically(_meta_path(path), _meta(obj))
        except OSError as exc:
            raise ObjectStoreUnavailable(f"cannot write {key}: {exc}") from exc
        return True

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + _META_SUFFIX)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _meta(obj: StoredObject) -> dict[str, object]:
    return {
        "sha256": obj.sha256,
        "size": obj.size,
        "filename": obj.filename,
        "content_type": obj.content_type,
    }


def _write_json_atomically(path: Path, data: dict[str, object]) -> None:
    """Write JSON through a temp file and os.replace, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".meta-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file, ensure_ascii=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
