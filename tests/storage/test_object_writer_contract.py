"""The streaming writer (``open_writer``) keeps the put_at contract on both backends."""

from __future__ import annotations

import hashlib
import io
from typing import BinaryIO, cast

import pytest

from storage.objects import (
    ObjectConflict,
    ObjectStore,
    ObjectTooLarge,
    StoredObject,
)
from tests.storage.objects_support import (
    MIB,
    GeneratedBody,
    body_of,
    leftovers,
    read_all,
)

# The streaming writer (open_writer): the same contract as put_at, without knowing the body up front.


def write_stream(store: ObjectStore, key: str, body: BinaryIO, *, piece: int = 300_001, **meta: str) -> StoredObject:
    filename = meta.get("filename", "活动档案.zip")
    with store.open_writer(key, filename=filename, content_type=meta.get("content_type", "application/zip")) as out:
        assert out.writable() and not out.seekable()
        while chunk := body.read(piece):
            assert out.write(chunk) == len(chunk)
        assert out.tell() == out.size
    assert out.result is not None
    return out.result


@pytest.mark.parametrize("size", [0, 1, 5 * MIB + 3, 40 * MIB + 17])
def test_writer_round_trip(store: ObjectStore, size: int) -> None:
    body = GeneratedBody(size)

    stored = write_stream(store, "bundles/2026/活动-1.zip", cast(BinaryIO, body))

    assert stored == StoredObject(
        key="bundles/2026/活动-1.zip",
        sha256=body.digest.hexdigest(),
        size=size,
        filename="活动档案.zip",
        content_type="application/zip",
    )
    assert store.stat(stored.key) == stored
    digest = hashlib.sha256()
    for chunk in store.iter_chunks(stored.key):
        digest.update(chunk)
    assert digest.hexdigest() == stored.sha256
    assert list(store.list_keys()) == [stored.key]
    assert leftovers(store) == []


def test_writer_is_write_once(store: ObjectStore) -> None:
    key = "bundles/2026/term.zip"
    original = body_of(20 * MIB + 5, seed=1)
    stored = write_stream(store, key, io.BytesIO(original), filename="第一次.zip")

    same = write_stream(store, key, io.BytesIO(original), filename="第二次.zip")
    assert same == stored  # the existing object, metadata and all

    for other in (body_of(20 * MIB + 5, seed=2), b"small and different"):
        with pytest.raises(ObjectConflict):
            write_stream(store, key, io.BytesIO(other))
    assert read_all(store, key) == original
    assert store.stat(key) == stored
    assert list(store.list_keys()) == [key]
    assert leftovers(store) == []
    # put_at sees the streamed object like any other.
    assert store.put_at(key, io.BytesIO(original), filename="x", content_type="application/zip") == stored


def test_writer_agrees_with_put(store: ObjectStore) -> None:
    data = body_of(17 * MIB + 1, seed=3)
    streamed = write_stream(store, "reports/a.bin", io.BytesIO(data))
    put = store.put(io.BytesIO(data), filename="活动档案.zip", content_type="application/zip")
    assert (streamed.sha256, streamed.size) == (put.sha256, put.size)


def test_writer_error_in_block_stores_nothing(store: ObjectStore) -> None:
    key = "bundles/failed.zip"
    for size in (MIB, 33 * MIB):
        with (
            pytest.raises(RuntimeError, match="midway"),
            store.open_writer(key, filename="a.zip", content_type="application/zip") as out,
        ):
            out.write(body_of(size))
            raise RuntimeError("midway")
        assert not store.exists(key)
        assert out.closed and out.result is None
    assert list(store.list_keys()) == []
    assert leftovers(store) == []


def test_writer_enforces_max_size_and_refuses_bad_keys(store: ObjectStore) -> None:
    with (
        pytest.raises(ObjectTooLarge),
        store.open_writer("bundles/big.zip", filename="b.zip", content_type="application/zip", max_size=MIB) as out,
    ):
        out.write(body_of(MIB))
        out.write(b"x")
    assert not store.exists("bundles/big.zip")
    for key in ["../escape", "/abs", ".uploads/x", "a\\b"]:
        with pytest.raises(ValueError), store.open_writer(key, filename="a", content_type="a/b"):
            pass
    assert list(store.list_keys()) == []
    assert leftovers(store) == []
