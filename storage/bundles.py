"""Streaming, deterministic zip bundles built from stored objects straight into the object store.

Nothing holds a whole bundle, or a whole member, in memory: each member is read from the store in
chunks and written through ``zipfile`` into ``ObjectStore.open_writer``, which uploads as it goes
(S3 multipart parts, or a spool file on a local folder). The same entries give the same bytes:
fixed timestamps and attributes, entries in the given order, data descriptors after every member.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from storage.objects import CHUNK_SIZE, ObjectStore, StoredObject

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_CONTENT_TYPE = "application/zip"
# Media that is already compressed: deflating it costs CPU and gains nothing, so it is STORED.
STORED_SUFFIXES = frozenset(
    {
        "jpg", "jpeg", "png", "gif", "webp", "heic", "mp4", "m4v", "mov", "avi", "mkv", "webm",
        "mp3", "m4a", "aac", "zip", "gz", "7z", "rar", "docx", "xlsx", "pptx", "ofd",
    }
)  # fmt: skip
_FILE_MODE = 0o100644 << 16
_DIR_MODE = (0o040755 << 16) | 0x10  # plus the MS-DOS directory bit
_UTF8_FLAG = 0x800
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DRIVE = re.compile(r"^[A-Za-z]:")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BundleEntry:
    """One member: a stored object (``object_key``) or literal ``data``; a path ending in "/" is a folder."""

    path: str
    object_key: str | None = None
    data: bytes | None = None
    size: int | None = None
    sha256: str | None = None


class _Utf8ZipInfo(zipfile.ZipInfo):
    """Always UTF-8 names with the UTF-8 flag (bit 11) set, ASCII names included."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # zipfile's hook (its name)
        return self.filename.encode("utf-8"), self.flag_bits | _UTF8_FLAG


def check_member_path(path: str) -> str:
    """Return ``path`` if it is a safe relative member path, else raise ValueError."""
    name = path[:-1] if path.endswith("/") else path
    if (
        not name
        or name.startswith("/")
        or "\\" in path
        or _CONTROL.search(path)
        or _DRIVE.match(name)
        or any(part in ("", ".", "..") for part in name.split("/"))
    ):
        raise ValueError(f"unsafe bundle path: {path!r}")
    return path


def compress_type_for(path: str) -> int:
    """STORED for already-compressed media, DEFLATED for everything else."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return zipfile.ZIP_STORED if suffix in STORED_SUFFIXES else zipfile.ZIP_DEFLATED


def build_bundle(
    objects: ObjectStore,
    entries: Sequence[BundleEntry],
    *,
    key: str,
    filename: str,
    progress: Progress | None = None,
    date_time: tuple[int, int, int, int, int, int] = FIXED_DATE_TIME,
) -> StoredObject:
    """Stream ``entries`` as a deterministic zip into ``objects`` under ``key``, write-once."""
    plan = _plan(objects, entries)
    total = sum(size for _, size in plan)
    done = 0
    if progress is not None:
        progress(0, total)
    with (
        objects.open_writer(key, filename=filename, content_type=ZIP_CONTENT_TYPE) as out,
        zipfile.ZipFile(out, mode="w", allowZip64=True) as zf,
    ):
        for entry, size in plan:
            info = _zipinfo(entry.path, date_time)
            if entry.path.endswith("/"):
                zf.mkdir(info)
                continue
            info.compress_type = compress_type_for(entry.path)
            info.file_size = size
            force_zip64 = size * 1.05 > zipfile.ZIP64_LIMIT
            with zf.open(info, mode="w", force_zip64=force_zip64) as member:
                for chunk in _verified(entry, size, _chunks(objects, entry)):
                    member.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
    if out.result is None:
        raise RuntimeError("set when the writer's block exits cleanly")
    return out.result


def _plan(objects: ObjectStore, entries: Sequence[BundleEntry]) -> list[tuple[BundleEntry, int]]:
    """Validate every entry up front, add the folder entries it implies and learn each member's size."""
    plan: list[tuple[BundleEntry, int]] = []
    folders: set[str] = set()
    files: set[str] = set()

    def add_folder(folder: str) -> None:
        if folder[:-1] in files:
            raise ValueError(f"bundle path is both a file and a folder: {folder[:-1]!r}")
        if folder not in folders:
            folders.add(folder)
            plan.append((BundleEntry(path=folder), 0))

    for entry in entries:
        check_member_path(entry.path)
        is_dir = entry.path.endswith("/")
        if is_dir and (entry.object_key is not None or entry.data is not None):
            raise ValueError(f"a folder entry has no content: {entry.path!r}")
        if not is_dir and (entry.object_key is None) == (entry.data is None):
            raise ValueError(f"give exactly one of object_key and data: {entry.path!r}")
        parts = entry.path.rstrip("/").split("/")
        for depth in range(1, len(parts)):
            add_folder("/".join(parts[:depth]) + "/")
        if is_dir:
            add_folder(entry.path)
            continue
        if entry.path in files or entry.path + "/" in folders:
            raise ValueError(f"duplicate bundle path: {entry.path!r}")
        files.add(entry.path)
        plan.append((entry, _size_of(objects, entry)))
    return plan


def _size_of(objects: ObjectStore, entry: BundleEntry) -> int:
    if entry.data is not None:
        size = len(entry.data)
    else:
        if entry.object_key is None:
            raise RuntimeError("expected entry.object_key is not None")
        size = objects.stat(entry.object_key).size
    if entry.size is not None and entry.size != size:
        raise ValueError(f"{entry.path!r}: expected {entry.size} bytes, the source has {size}")
    return size


def _zipinfo(path: str, date_time: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = _Utf8ZipInfo(path, date_time=date_time)
    # Fixed attributes whatever the host: Unix, rw-r--r-- files and rwxr-xr-x folders.
    info.create_system = 3
    info.external_attr = _DIR_MODE if path.endswith("/") else _FILE_MODE
    info.CRC = info.compress_size = info.file_size = 0
    return info


def _chunks(objects: ObjectStore, entry: BundleEntry) -> Iterable[bytes | memoryview]:
    if entry.data is not None:
        view = memoryview(entry.data)
        return (view[i : i + CHUNK_SIZE] for i in range(0, len(view), CHUNK_SIZE))
    if entry.object_key is None:
        raise RuntimeError("expected entry.object_key is not None")
    return objects.iter_chunks(entry.object_key)


def _verified(entry: BundleEntry, size: int, chunks: Iterable[bytes | memoryview]) -> Iterator[bytes | memoryview]:
    """Pass ``chunks`` through, then insist on the planned size and, if given, the SHA-256."""
    digest = hashlib.sha256() if entry.sha256 is not None else None
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > size:
            raise ValueError(f"{entry.path!r}: the source grew beyond {size} bytes")
        if digest is not None:
            digest.update(chunk)
        yield chunk
    if seen != size:
        raise ValueError(f"{entry.path!r}: expected {size} bytes, read {seen}")
    if digest is not None and digest.hexdigest() != entry.sha256:
        raise ValueError(f"{entry.path!r}: SHA-256 differs from the expected {entry.sha256}")
