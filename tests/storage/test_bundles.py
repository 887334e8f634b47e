"""Streaming archive bundles on both object store backends: layout, determinism, safety, memory."""

from __future__ import annotations

import hashlib
import io
import random
import tracemalloc
import zipfile
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from storage.bundles import FIXED_DATE_TIME, BundleEntry, build_bundle
from storage.localstore import LocalStore
from storage.objects import ObjectConflict, ObjectStore, StoredObject
from storage.settings import Settings
from storage.stores import build_object_store
from tests.storage.objects_support import leftovers

MIB = 1 << 20


class Noise:
    """``total`` incompressible bytes, generated as read, never all in memory."""

    def __init__(self, total: int, seed: int) -> None:
        self.total, self.produced = total, 0
        self._rng = random.Random(seed)

    def read(self, size: int = -1) -> bytes:
        want = self.total - self.produced if size < 0 else min(size, self.total - self.produced)
        self.produced += want
        return self._rng.randbytes(want)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return build_object_store(Settings(demo=True, var_dir=tmp_path))
    return cast(ObjectStore, request.getfixturevalue("s3_store"))


def put(store: ObjectStore, data: bytes, filename: str, content_type: str = "application/octet-stream") -> StoredObject:
    return store.put(io.BytesIO(data), filename=filename, content_type=content_type)


def activity_entries(store: ObjectStore) -> tuple[list[BundleEntry], dict[str, bytes]]:
    """A small activity: a manifest, a sign-in sheet, a photo and a video, with Chinese names."""
    files = {
        "01_签到表/签到表.docx": b"PK\x03\x04 pretend docx " * 50,
        "06_影像/照片 01.jpg": random.Random(1).randbytes(300_000),
        "06_影像/课堂实录.mp4": random.Random(2).randbytes(2 * MIB + 11),
        "04_研讨记录/记录.txt": "研讨记录：幼儿游戏观察。\n".encode() * 2000,
    }
    entries = [BundleEntry("00_目录/manifest.json", data=b'{"files": 4}')]
    for path, data in files.items():
        obj = put(store, data, path.rsplit("/", 1)[-1])
        entries.append(BundleEntry(path, object_key=obj.key, size=obj.size, sha256=obj.sha256))
    files["00_目录/manifest.json"] = b'{"files": 4}'
    return entries, files


def read_zip(store: ObjectStore, key: str) -> zipfile.ZipFile:
    with store.open(key) as body:
        return zipfile.ZipFile(io.BytesIO(body.read()))


def test_layout_names_flags_and_compression(store: ObjectStore) -> None:
    entries, files = activity_entries(store)

    stored = build_bundle(store, entries, key="bundles/2026/活动-01.zip", filename="活动档案.zip")

    assert stored == store.stat("bundles/2026/活动-01.zip")
    assert (stored.filename, stored.content_type) == ("活动档案.zip", "application/zip")
    zf = read_zip(store, stored.key)
    assert zf.testzip() is None  # every CRC checks out
    assert zf.namelist() == [
        "00_目录/",
        "00_目录/manifest.json",
        "01_签到表/",
        "01_签到表/签到表.docx",
        "06_影像/",
        "06_影像/照片 01.jpg",
        "06_影像/课堂实录.mp4",
        "04_研讨记录/",
        "04_研讨记录/记录.txt",
    ]
    for info in zf.infolist():
        assert info.flag_bits & 0x800, f"{info.filename}: UTF-8 flag missing"
        assert info.date_time == FIXED_DATE_TIME
        assert info.create_system == 3
    methods = {i.filename: i.compress_type for i in zf.infolist() if not i.is_dir()}
    assert methods["06_影像/照片 01.jpg"] == zipfile.ZIP_STORED
    assert methods["06_影像/课堂实录.mp4"] == zipfile.ZIP_STORED
    assert methods["04_研讨记录/记录.txt"] == zipfile.ZIP_DEFLATED
    assert methods["00_目录/manifest.json"] == zipfile.ZIP_DEFLATED
    assert zf.getinfo("04_研讨记录/").external_attr >> 16 == 0o040755
    # Members come back byte for byte.
    for path, data in files.items():
        assert hashlib.sha256(zf.read(path)).hexdigest() == hashlib.sha256(data).hexdigest()


def test_same_entries_give_the_same_bytes(store: ObjectStore, tmp_path: Path) -> None:
    entries, _ = activity_entries(store)
    first = build_bundle(store, entries, key="bundles/a.zip", filename="a.zip")
    second = build_bundle(store, entries, key="bundles/b.zip", filename="b.zip")
    assert first.sha256 == second.sha256 and first.size == second.size

    # The other backend, fed the same members, writes the same bytes too.
    local = LocalStore(tmp_path / "elsewhere")
    copies = []
    for entry in entries:
        if entry.object_key is None:
            copies.append(entry)
            continue
        with store.open(entry.object_key) as body:
            obj = local.put(cast(BinaryIO, body), filename="x", content_type="application/octet-stream")
        copies.append(BundleEntry(entry.path, object_key=obj.key, sha256=obj.sha256))
    assert build_bundle(local, copies, key="bundles/c.zip", filename="c.zip").sha256 == first.sha256


def test_progress_counts_member_bytes(store: ObjectStore) -> None:
    entries, files = activity_entries(store)
    calls: list[tuple[int, int]] = []

    build_bundle(store, entries, key="bundles/p.zip", filename="p.zip", progress=lambda d, t: calls.append((d, t)))

    total = sum(len(d) for d in files.values())
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert all(t == total for _, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "../escape.txt", "a/../../b.txt", "a\\b.txt", "C:/x.txt", "c:x.txt", "a/\x01.txt", "a//b", "", "."],
)
def test_unsafe_paths_are_refused(store: ObjectStore, path: str) -> None:
    with pytest.raises(ValueError):
        build_bundle(
            store, [BundleEntry("ok.txt", data=b"x"), BundleEntry(path, data=b"x")], key="b/x.zip", filename="x"
        )
    assert list(store.list_keys()) == []
    assert leftovers(store) == []


def test_bad_entries_are_refused(store: ObjectStore) -> None:
    obj = put(store, b"member", "m.txt")
    bad = [
        [BundleEntry("a.txt", data=b"1"), BundleEntry("a.txt", data=b"2")],
        [BundleEntry("a", data=b"1"), BundleEntry("a/b.txt", data=b"2")],
        [BundleEntry("a.txt")],
        [BundleEntry("a.txt", object_key=obj.key, data=b"both")],
        [BundleEntry("a.txt", object_key=obj.key, size=obj.size + 1)],
        [BundleEntry("a.txt", object_key=obj.key, sha256="0" * 64)],  # found out while streaming
    ]
    for entries in bad:
        with pytest.raises(ValueError):
            build_bundle(store, entries, key="bundles/bad.zip", filename="bad.zip")
    assert list(store.list_keys()) == [obj.key]
    assert leftovers(store) == []


def test_bundle_key_is_write_once(store: ObjectStore) -> None:
    entries, _ = activity_entries(store)
    stored = build_bundle(store, entries, key="bundles/once.zip", filename="once.zip")

    assert build_bundle(store, entries, key="bundles/once.zip", filename="again.zip") == stored
    with pytest.raises(ObjectConflict):
        build_bundle(store, entries[:-1], key="bundles/once.zip", filename="fewer.zip")
    assert store.stat("bundles/once.zip") == stored
    assert leftovers(store) == []


def test_many_entries_use_zip64(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    entries = [BundleEntry(f"d{i // 1000:03d}/{i:05d}.txt", data=b"") for i in range(70_000)]

    stored = build_bundle(store, entries, key="bundles/many.zip", filename="many.zip")

    with store.open(stored.key) as body:
        data = body.read()
    assert b"PK\x06\x06" in data[-200:]  # the ZIP64 end of central directory record
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert len(zf.infolist()) == 70_000 + 70


def test_large_bundle_streams_with_bounded_memory(store: ObjectStore, tmp_path: Path) -> None:
    entries = []
    for i in range(40):
        obj = store.put(cast(BinaryIO, Noise(5 * MIB, seed=i)), filename=f"{i}.jpg", content_type="image/jpeg")
        entries.append(BundleEntry(f"06_影像/照片{i:02d}.jpg", object_key=obj.key, sha256=obj.sha256))
    total = 40 * 5 * MIB

    tracemalloc.start()
    try:
        stored = build_bundle(store, entries, key="bundles/large.zip", filename="large.zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert stored.size > total
    assert peak < 40 * MIB, f"peak {peak / MIB:.1f} MiB while bundling {total / MIB:.0f} MiB"
    # Download to disk (zipfile reads the directory by seeking) and check every member's hash.
    copy = tmp_path / "large.zip"
    with copy.open("wb") as out:
        for chunk in store.iter_chunks(stored.key):
            out.write(chunk)
    with zipfile.ZipFile(copy) as zf:
        for entry in entries:
            digest = hashlib.sha256()
            with zf.open(entry.path) as member:
                while chunk := member.read(MIB):
                    digest.update(chunk)
            assert digest.hexdigest() == entry.sha256


def test_members_past_the_zip64_limit_get_zip64_records(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A 4 GiB member is too slow for a unit test; lowering zipfile's limit exercises the same path.
    big = put(store, random.Random(5).randbytes(3 * MIB), "课堂实录.mp4")
    entries = [
        BundleEntry("a/small.txt", data=b"small"),
        BundleEntry("a/课堂实录.mp4", object_key=big.key, sha256=big.sha256),
        BundleEntry("a/after.txt", data=b"after the big one"),
    ]
    with monkeypatch.context() as patch:
        patch.setattr(zipfile, "ZIP64_LIMIT", MIB)
        stored = build_bundle(store, entries, key="bundles/zip64.zip", filename="zip64.zip")

    copy = tmp_path / "zip64.zip"
    copy.write_bytes(b"".join(store.iter_chunks(stored.key)))
    with zipfile.ZipFile(copy) as zf:  # read with the real limit
        info = zf.getinfo("a/课堂实录.mp4")
        assert info.extract_version >= 45  # ZIP64
        assert zf.read("a/课堂实录.mp4") == b"".join(store.iter_chunks(big.key))
        assert zf.read("a/after.txt") == b"after the big one"
        assert zf.testzip() is None
