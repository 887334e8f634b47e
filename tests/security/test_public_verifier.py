"""The public verifier (no account needed) against what an attacker sends, on a live server.

``kinderflow serve`` runs in a process of its own (embedded mode, SQLite, the in-process runner), as
``make run`` starts it, so its memory is measured from /proc: a zip bomb must cost it almost
nothing, answer within two seconds and stall nobody; and X-Forwarded-For from loopback must not buy
a fresh rate-limit allowance.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from docx import Document as WordDocument

from tests.faults.services import stop_process, wait_until
from tests.fixtures.s3 import free_port

GIB = 1 << 30
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.document.main+xml"/></Types>'
)


def zip_bomb(path: Path, members: int) -> Path:
    """A ~1 MB .docx per member, each member 1 GiB of spaces at compression level 9, written streaming."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", "<w:document/>")
        block = b" " * (1 << 20)
        for n in range(members):
            with archive.open(f"word/document{n}.xml", "w", force_zip64=True) as member:
                for _ in range(GIB // len(block)):
                    member.write(block)
    return path


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, bytes]:
    folder = tmp_path_factory.mktemp("bombs")
    found = {n: zip_bomb(folder / f"bomb{n}.docx", n).read_bytes() for n in (1, 3)}
    assert all(len(content) < 4 * (1 << 20) for content in found.values())
    return found


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM of the server process, in bytes."""
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) * 1024
        return fields

    def reset_peak(self) -> None:
        # "5" resets the peak resident set size (VmHWM) to the current one (proc(5), clear_refs).
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("verifier-server")
    kinderflow = str(Path(sys.executable).with_name("kinderflow"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "LANG": "C.UTF-8",
        "KINDERFLOW_DEMO": "true",
        "KINDERFLOW_VAR_DIR": str(folder / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run([kinderflow, "migrate"], env=env, check=True, capture_output=True, timeout=180)
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [kinderflow, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/api/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, 90, "kinderflow serve", log)
        yield Server(base, process, log)
    finally:
        stop_process(process)


def small_docx() -> bytes:
    document = WordDocument()
    document.add_paragraph("一份普通的文件，不是本系统签发的。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def post_file(base: str, content: bytes, name: str = "协议.docx", **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/verify", files={"file": (name, content, "application/octet-stream")}, headers=headers, timeout=60
    )


def test_the_server_warns_at_start_when_no_public_address_is_set(server: Server) -> None:
    assert "KINDERFLOW_PUBLIC_URL is not set" in server.log.read_text(errors="replace")


@pytest.mark.parametrize("members", [1, 3])
def test_a_1_gib_zip_bomb_on_the_public_verifier_costs_nothing_and_stalls_nobody(
    server: Server, bombs: dict[int, bytes], members: int
) -> None:
    # Warm up: the same path with an ordinary file, so that imports and caches are not counted.
    warm = post_file(server.base, small_docx())
    assert warm.status_code == 200 and warm.json()["found"] is False, warm.text
    assert httpx.get(f"{server.base}/verify", timeout=30).status_code == 200
    before = server.memory()["VmRSS"]
    server.reset_peak()

    answers: dict[str, tuple[float, httpx.Response]] = {}

    def bomb() -> None:
        started = time.monotonic()
        response = post_file(server.base, bombs[members])
        answers["bomb"] = (time.monotonic() - started, response)

    thread = threading.Thread(target=bomb)
    thread.start()
    time.sleep(0.02)
    started = time.monotonic()
    other = httpx.get(f"{server.base}/verify", timeout=30)  # another visitor, at the same time
    other_seconds = time.monotonic() - started
    thread.join(timeout=60)
    seconds, response = answers["bomb"]

    peak = server.memory()["VmHWM"]
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["found"] is False and result["ok"] is False
    assert "压缩炸弹" in result["checks"][0]["message"], result
    assert seconds < 2.0, f"the bomb took {seconds:.2f} s"
    assert peak - before < 50 * (1 << 20), f"RSS grew by {(peak - before) / (1 << 20):.1f} MB"
    assert other.status_code == 200 and other_seconds < 1.0, f"the other request took {other_seconds:.2f} s"


def test_x_forwarded_for_from_loopback_buys_no_fresh_allowance(server: Server) -> None:
    """Nothing is configured as a trusted proxy: every request from here is the same client."""
    seen = []
    for n in range(40):
        r = httpx.get(
            f"{server.base}/api/verify/AAAA-BBBB-CCCC", headers={"X-Forwarded-For": f"198.51.100.{n}"}, timeout=30
        )
        seen.append(r.status_code)
        if r.status_code == 429:
            break
    assert seen[-1] == 429, seen
    assert r.json()["code"] == "rate_limited" and "过于频繁" in r.json()["message"]
    # The page shares the same count.
    assert "核验请求过于频繁" in httpx.get(f"{server.base}/verify", params={"code": "AAAA-BBBB-CCCC"}, timeout=30).text
