"""Oversized uploads are refused with 413 before the body is read whole; nothing is stored."""

from __future__ import annotations

import socket

import httpx
from fastapi.testclient import TestClient

from api.main import create_app
from storage.runtime import build_runtime
from tests.fixtures.app import build_world, make_settings
from tests.fixtures.files import pdf_bytes
from tests.fixtures.server import live_server, token

LIMIT = 64 * 1024


def _client(db, tmp_path):
    runtime = build_runtime(make_settings(db.url, tmp_path, max_upload_bytes=LIMIT))
    build_world(runtime)
    return runtime


def test_declared_oversize_is_413_and_nothing_stored(db, tmp_path):
    runtime = _client(db, tmp_path)
    with TestClient(create_app(runtime=runtime)) as c:
        h = {
            "Authorization": "Bearer "
            + c.post("/api/auth/token", data={"username": "kg-out", "password": "pw-test-2026"}).json()["access_token"]
        }
        app = c.post("/api/applications", headers=h, json={}).json()
        big = pdf_bytes() + b"0" * (LIMIT * 3)
        r = c.post(
            f"/api/applications/{app['id']}/attachments",
            headers=h,
            data={"kind": "licence"},
            files={"file": ("big.pdf", big, "application/pdf")},
        )
        assert r.status_code == 413
        assert r.json()["code"] == "payload_too_large"
        # Just over the per-file limit but within the multipart slack: refused by the store's limit.
        near = pdf_bytes() + b"0" * LIMIT
        r = c.post(
            f"/api/applications/{app['id']}/attachments",
            headers=h,
            data={"kind": "licence"},
            files={"file": ("near.pdf", near, "application/pdf")},
        )
        assert r.status_code == 413
        assert c.get(f"/api/applications/{app['id']}", headers=h).json()["attachments"] == []
    assert list(runtime.objects.list_keys()) == []
    runtime.close()


def test_undeclared_chunked_oversize_is_cut_off_while_streaming(db, tmp_path):
    runtime = _client(db, tmp_path)
    with live_server(create_app(runtime=runtime)) as base:
        h = token(base, "kg-out", "pw-test-2026")

        app = httpx.post(f"{base}/api/applications", headers=h, json={}).json()
        port = int(base.rsplit(":", 1)[1])
        boundary = "kfboundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nlicence\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        request = (
            f"POST /api/applications/{app['id']}/attachments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {h['Authorization']}\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n"
        ).encode()
        sent = 0
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(request)
            chunk = head + pdf_bytes()
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            piece = b"0" * 16384
            try:
                # Keep streaming well past the limit; the server answers (and stops reading) early.
                for _ in range(200):
                    sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                    sent += len(piece)
            except (BrokenPipeError, ConnectionResetError):
                pass
            response = sock.recv(4096)
        assert b" 413 " in response.split(b"\r\n", 1)[0]
        assert sent < 200 * 16384 or b"payload_too_large" in response
        assert httpx.get(f"{base}/api/applications/{app['id']}", headers=h).json()["attachments"] == []
    assert list(runtime.objects.list_keys()) == []
    runtime.close()


def test_the_media_limit_is_only_for_signed_in_callers_and_decided_before_the_body(db, tmp_path):
    """A stranger's body to */materials is held to the general limit: 413 from the declared length, no
    byte of the body read (authentication, a dependency, would only come after FastAPI read the form)."""
    runtime = _client(db, tmp_path)
    path = "/api/activities/00000000-0000-0000-0000-000000000000/materials"
    size = LIMIT * 4  # over the general limit, well under the media one
    with live_server(create_app(runtime=runtime)) as base:
        port = int(base.rsplit(":", 1)[1])
        good = token(base, "kg-out", "pw-test-2026")["Authorization"]
        forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")

        def first_line(authorization: str | None) -> bytes:
            head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {size}\r\n"
            head += "Content-Type: multipart/form-data; boundary=x\r\n"
            if authorization:
                head += f"Authorization: {authorization}\r\n"
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                sock.sendall(head.encode() + b"\r\n")  # the headers only: the body never comes
                sock.settimeout(3)
                try:
                    return sock.recv(4096).split(b"\r\n", 1)[0]
                except TimeoutError:
                    return b"(waiting for the body)"

        assert b" 413 " in first_line(None)
        assert b" 413 " in first_line(forged)
        assert first_line(good) == b"(waiting for the body)"  # a signed-in member may send media
    runtime.close()
