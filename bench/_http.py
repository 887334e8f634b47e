"""A minimal HTTP/1.1 client for the load benchmark: asyncio protocol, keep-alive, requests as bytes.

httpx spends more CPU per request than the server under test does, so a benchmark driven by it
measures the client. This one does only what the load needs: write a request that was serialised
beforehand (bodies and multipart forms are built before the clock starts; only the bearer token and
the record id are spliced in), then read the status line, the headers and a body framed by
Content-Length or chunked transfer coding. The caller parses the JSON fields it needs.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

CRLF = b"\r\n"
HEAD_END = b"\r\n\r\n"
MAX_HEAD = 64 * 1024


class ProtocolError(Exception):
    """The server sent something that is not a well-formed HTTP/1.1 response."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # names lowercased; a repeated header keeps its last value
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def keep_alive(self) -> bool:
        return self.headers.get("connection", "").lower() != "close"


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """The status code and headers of a response head (without the blank line that ends it)."""
    lines = head.split(CRLF)
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"bad status line: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise ProtocolError(f"bad header line: {line[:80]!r}")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return int(parts[1]), headers


def parse_chunked(buffer: bytes | bytearray, start: int) -> tuple[bytes, int] | None:
    """The body of a chunked message beginning at ``start`` and where it ends; None if incomplete."""
    body = bytearray()
    at = start
    while True:
        line_end = buffer.find(CRLF, at)
        if line_end < 0:
            return None
        size_text = bytes(buffer[at:line_end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size: {size_text[:20]!r}") from None
        at = line_end + 2
        if size == 0:
            # Trailers (rare) end with an empty line, as the head does.
            end = buffer.find(CRLF, at)
            while end > at:
                at = end + 2
                end = buffer.find(CRLF, at)
            return (bytes(body), end + 2) if end >= 0 else None
        if len(buffer) < at + size + 2:
            return None
        body += buffer[at : at + size]
        at += size + 2


class Connection(asyncio.Protocol):
    """One keep-alive connection; one request in flight at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Response] | None = None
        self.closed = False
        self._head: tuple[int, dict[str, str], int] | None = None  # status, headers, body start

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(cls, host, port)
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            try:
                self._complete()
            except ProtocolError as exc:
                self.waiter.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection closed mid-response: {exc or 'EOF'}"))

    def _complete(self) -> None:
        assert self.waiter is not None
        if self._head is None:
            end = self.buffer.find(HEAD_END)
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    raise ProtocolError("response head too long")
                return
            status, headers = parse_head(bytes(self.buffer[:end]))
            self._head = (status, headers, end + 4)
        status, headers, start = self._head
        if "content-length" in headers:
            length = int(headers["content-length"])
            if len(self.buffer) < start + length:
                return
            body, end = bytes(self.buffer[start : start + length]), start + length
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            framed = parse_chunked(self.buffer, start)
            if framed is None:
                return
            body, end = framed
        elif status in (204, 304) or 100 <= status < 200:
            body, end = b"", start
        else:
            raise ProtocolError("a response without Content-Length or chunked coding")
        del self.buffer[:end]
        self._head = None
        self.waiter.set_result(Response(status, headers, body))

    async def send(self, request: bytes) -> Response:
        if self.closed or self.transport is None:
            raise ConnectionError("connection is closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        if self.buffer:  # bytes that arrived early (never expected between requests)
            self._complete()
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def request_bytes(
    method: str, path: str, host: str, *, body: bytes = b"", content_type: str | None = None, token: str = ""
) -> bytes:
    """A whole HTTP/1.1 request as bytes (for requests serialised before the clock starts)."""
    return request_head(method, path, host, body_length=len(body), content_type=content_type, token=token) + body


def request_head(
    method: str, path: str, host: str, *, body_length: int, content_type: str | None = None, token: str = ""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept: */*"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    if method != "GET" or body_length:
        lines.append(f"Content-Length: {body_length}")
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def form_body(fields: dict[str, str]) -> tuple[bytes, str]:
    """An application/x-www-form-urlencoded body and its content type."""
    return urlencode(fields).encode(), "application/x-www-form-urlencoded"


def multipart_body(fields: dict[str, str], file_field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with text fields and one file, and its content type."""
    boundary = "kinderflow-bench-7f3c9a51e2d04b8c"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    quoted = filename.replace('"', "%22")
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{quoted}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
