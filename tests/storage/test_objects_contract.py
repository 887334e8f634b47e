"""One contract for both object store backends: a local folder and S3 (moto over real HTTP)."""

from __future__ import annotations

import hashlib
import io
import json
import stat as stat_mode
from pathlib import Path
from typing import BinaryIO, cast
from urllib.parse import quote

import httpx
import pytest
from minio import Minio

from storage.localstore import LocalStore
from storage.objects import (
    ObjectConflict,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreUnavailable,
    ObjectTooLarge,
    content_key,
)
from storage.s3 import S3Store
from storage.stores import build_object_store
from tests.fixtures.s3 import S3Server, free_port, s3_settings
from tests.storage.objects_support import (
    CHINESE_NAME,
    MIB,
    GeneratedBody,
    body_of,
    put_bytes,
    read_all,
    sha,
)


def test_factory_picks_the_backend(store: ObjectStore) -> None:
    assert store.mode == ("s3" if isinstance(store, S3Store) else "local")
    assert isinstance(store, S3Store | LocalStore)


def test_round_trip(store: ObjectStore) -> None:
    data = body_of(3 * MIB + 17)
    stored = put_bytes(store, data, filename="report.pdf")

    assert stored.size == len(data)
    assert store.stat(stored.key) == stored
    assert store.exists(stored.key)
    assert read_all(store, stored.key) == data
    with store.open(stored.key) as body:
        assert body.read(10) == data[:10]
        assert body.read(5) == data[10:15]
    chunks = list(store.iter_chunks(stored.key, chunk_size=MIB))
    assert max(len(c) for c in chunks) <= MIB
    assert b"".join(chunks) == data


def test_key_is_the_content_address(store: ObjectStore) -> None:
    data = b"kinderflow\n"
    digest = hashlib.sha256(data).hexdigest()

    stored = put_bytes(store, data)

    assert stored.sha256 == digest
    assert stored.key == f"sha256/{digest[:2]}/{digest[2:4]}/{digest}" == content_key(digest)
    assert list(store.list_keys()) == [stored.key]


def test_content_key_refuses_what_is_not_a_digest() -> None:
    for bad in ["", "ab", "G" * 64, "A" * 64, "a" * 63, "a" * 65, "../" + "a" * 61]:
        with pytest.raises(ValueError):
            content_key(bad)


def test_unicode_filename_and_content_type_survive(store: ObjectStore) -> None:
    stored = put_bytes(store, b"%PDF-1.7 ...", filename=CHINESE_NAME, content_type="application/pdf")

    again = store.stat(stored.key)
    assert again.filename == CHINESE_NAME
    assert again.content_type == "application/pdf"
    assert again.sha256 == sha(b"%PDF-1.7 ...")
    assert again.size == len(b"%PDF-1.7 ...")


def test_empty_body_is_allowed(store: ObjectStore) -> None:
    stored = put_bytes(store, b"")

    assert stored.size == 0
    assert stored.sha256 == sha(b"")
    assert store.stat(stored.key).size == 0
    assert read_all(store, stored.key) == b""
    assert list(store.iter_chunks(stored.key)) == []


def test_same_body_is_stored_once_and_not_rewritten(store: ObjectStore) -> None:
    data = body_of(1000)
    first = put_bytes(store, data, filename="first.pdf", content_type="application/pdf")

    second = put_bytes(store, data, filename="second.docx", content_type="application/msword")

    # The existing object wins: its metadata comes back and nothing was written over it.
    assert second == first
    assert store.stat(first.key).filename == "first.pdf"
    assert list(store.list_keys()) == [first.key]


def test_put_at_is_write_once(store: ObjectStore) -> None:
    key = "bundles/2024/term-1.zip"
    original = body_of(5000, seed=1)
    stored = store.put_at(key, io.BytesIO(original), filename="第一学期.zip", content_type="application/zip")
    assert stored.key == key
    assert stored.sha256 == sha(original)

    same = store.put_at(key, io.BytesIO(original), filename="other.zip", content_type="application/zip")
    assert same == stored

    with pytest.raises(ObjectConflict):
        store.put_at(key, io.BytesIO(body_of(5000, seed=2)), filename="x.zip", content_type="application/zip")
    assert read_all(store, key) == original
    assert store.stat(key) == stored


def test_too_large_stops_reading_and_stores_nothing(store: ObjectStore) -> None:
    body = GeneratedBody(50 * MIB)

    with pytest.raises(ObjectTooLarge) as caught:
        store.put(
            cast(BinaryIO, body),
            filename="big.bin",
            content_type="application/octet-stream",
            max_size=2 * MIB,
        )

    assert caught.value.limit == 2 * MIB
    # It stopped shortly after the limit rather than draining the 50 MiB stream.
    assert body.produced <= 2 * MIB + 4 * MIB
    with pytest.raises(ObjectTooLarge):
        store.put_at(
            "bundles/too-big.zip",
            io.BytesIO(body_of(MIB + 1)),
            filename="b.zip",
            content_type="application/zip",
            max_size=MIB,
        )
    assert list(store.list_keys()) == []
    assert not store.exists("bundles/too-big.zip")


def test_body_of_exactly_max_size_is_accepted(store: ObjectStore) -> None:
    data = body_of(MIB)
    stored = store.put(io.BytesIO(data), filename="a", content_type="text/plain", max_size=MIB)
    assert stored.size == MIB
    assert read_all(store, stored.key) == data


def test_large_upload_is_streamed(store: ObjectStore) -> None:
    total = 64 * MIB
    body = GeneratedBody(total)

    stored = store.put(cast(BinaryIO, body), filename="视频.mp4", content_type="video/mp4")

    assert body.produced == total
    assert len(body.requests) > 16, "the body was read in a few huge gulps"
    assert max(body.requests) <= 4 * MIB, "a single read asked for more than a few MiB"
    assert stored.size == total
    assert stored.sha256 == body.digest.hexdigest()
    assert store.stat(stored.key) == stored

    digest, size = hashlib.sha256(), 0
    for chunk in store.iter_chunks(stored.key, chunk_size=MIB):
        assert len(chunk) <= MIB
        digest.update(chunk)
        size += len(chunk)
    assert size == total
    assert digest.hexdigest() == stored.sha256


def test_missing_key_is_not_found(store: ObjectStore) -> None:
    missing = content_key(sha(b"never stored"))
    # Before anything was written (on S3 the bucket does not exist yet) and after.
    for _ in range(2):
        assert not store.exists(missing)
        with pytest.raises(ObjectNotFound):
            store.stat(missing)
        with pytest.raises(ObjectNotFound), store.open(missing):
            pass
        with pytest.raises(ObjectNotFound):
            list(store.iter_chunks(missing))
        put_bytes(store, b"something else")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../escape",
        "a/../../b",
        "a/..",
        "a\\b",
        "a\x00b",
        "a\nb",
        "a\x7fb",
        "a//b",
        "a/",
        ".hidden",
        "a/./b",
        "x.pdf.meta.json",
    ],
)
def test_invalid_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put_at(key, io.BytesIO(b"data"), filename="a", content_type="text/plain")
    with pytest.raises(ValueError):
        store.stat(key)
    assert list(store.list_keys()) == []


def test_list_keys_by_prefix(store: ObjectStore) -> None:
    for key in ["bundles/b/2.zip", "bundles/a/1.zip", "reports/x.pdf", "bundlesque.txt"]:
        store.put_at(key, io.BytesIO(key.encode()), filename="f", content_type="application/zip")
    content = put_bytes(store, b"content")

    assert sorted(store.list_keys("bundles/")) == ["bundles/a/1.zip", "bundles/b/2.zip"]
    assert list(store.list_keys("reports/")) == ["reports/x.pdf"]
    assert list(store.list_keys("sha256/")) == [content.key]
    assert list(store.list_keys("nothing/")) == []
    assert sorted(store.list_keys()) == sorted(
        ["bundles/a/1.zip", "bundles/b/2.zip", "bundlesque.txt", "reports/x.pdf", content.key]
    )


def test_delete(store: ObjectStore) -> None:
    kept = put_bytes(store, b"kept")
    gone = put_bytes(store, b"gone")

    store.delete(gone.key)

    assert not store.exists(gone.key)
    with pytest.raises(ObjectNotFound):
        store.stat(gone.key)
    assert list(store.list_keys()) == [kept.key]
    store.delete(gone.key)  # already gone: fine
    store.delete("bundles/never-existed.zip")
    # The same content can be stored again after an orphan sweep removed it.
    assert put_bytes(store, b"gone") == gone
    assert read_all(store, gone.key) == b"gone"


def test_check_passes(store: ObjectStore) -> None:
    store.check()
    put_bytes(store, b"x")
    store.check()


def test_presigned_url_downloads_with_utf8_filename(store: ObjectStore) -> None:
    data = body_of(2048)
    stored = put_bytes(store, data, filename=CHINESE_NAME)

    url = store.presigned_url(stored.key, filename=CHINESE_NAME)

    if store.mode == "local":
        assert url is None
        return
    assert url is not None
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == data
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(CHINESE_NAME, safe='')}" in disposition
    assert 'filename="_____ A&B.pdf"' in disposition


# Backend-specific behaviour behind the contract.


def test_s3_bucket_is_created_with_versioning(s3_store: S3Store, s3_server: S3Server) -> None:
    client = Minio(s3_server.endpoint, access_key=s3_server.access_key, secret_key=s3_server.secret_key, secure=False)
    assert not client.bucket_exists(s3_store.bucket)  # created lazily, not by the constructor

    put_bytes(s3_store, b"first write")

    assert client.bucket_exists(s3_store.bucket)
    assert client.get_bucket_versioning(s3_store.bucket).status == "Enabled"
    s3_store.ensure_bucket()  # already there: fine


def test_s3_stores_share_an_existing_bucket(s3_store: S3Store, s3_server: S3Server, tmp_path: Path) -> None:
    stored = put_bytes(s3_store, b"shared", filename=CHINESE_NAME)
    other = build_object_store(s3_settings(s3_server, s3_store.bucket, tmp_path))

    other.check()
    assert other.stat(stored.key) == stored
    assert put_bytes(other, b"shared") == stored


def test_s3_outage_raises_unavailable(s3_server: S3Server, tmp_path: Path) -> None:
    down = S3Server(endpoint=f"127.0.0.1:{free_port()}")  # nothing listens there
    store = build_object_store(s3_settings(down, "kf-down", tmp_path))

    with pytest.raises(ObjectStoreUnavailable):
        store.check()
    with pytest.raises(ObjectStoreUnavailable):
        put_bytes(store, b"lost")
    # An outage must not look like a missing object.
    with pytest.raises(ObjectStoreUnavailable):
        store.stat(content_key(sha(b"lost")))
    with pytest.raises(ObjectStoreUnavailable):
        list(store.list_keys())


def test_local_files_are_read_only_with_a_json_sidecar(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    stored = put_bytes(store, b"%PDF", filename=CHINESE_NAME)

    path = tmp_path / "objects" / stored.key
    assert stat_mode.S_IMODE(path.stat().st_mode) == 0o444
    meta = json.loads(Path(f"{path}.meta.json").read_text(encoding="utf-8"))
    assert meta == {
        "sha256": stored.sha256,
        "size": 4,
        "filename": CHINESE_NAME,
        "content_type": "application/pdf",
    }
    # No spool or temp files are left behind, and none show up as keys.
    assert not list((tmp_path / "objects" / ".tmp").iterdir())
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, f"{path.name}.meta.json"]


def test_local_too_large_leaves_no_spool_file(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    with pytest.raises(ObjectTooLarge):
        store.put(io.BytesIO(body_of(3 * MIB)), filename="a", content_type="a/b", max_size=MIB)
    assert list((tmp_path / "objects" / ".tmp").iterdir()) == []


def test_local_put_finishes_an_object_whose_sidecar_was_lost(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    stored = put_bytes(store, b"body", filename="a.pdf")
    sidecar = tmp_path / "objects" / f"{stored.key}.meta.json"
    sidecar.unlink()  # as if the process died between the data file and its sidecar

    with pytest.raises(ObjectNotFound):
        store.stat(stored.key)
    assert put_bytes(store, b"body", filename="a.pdf") == stored
    assert store.stat(stored.key) == stored


def test_local_check_fails_when_root_is_not_a_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "objects"
    blocker.write_text("a file where the folder should be")
    store = LocalStore(blocker)

    with pytest.raises(ObjectStoreUnavailable):
        store.check()
    with pytest.raises(ObjectStoreUnavailable):
        put_bytes(store, b"x")
