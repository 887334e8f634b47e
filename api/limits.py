"""Refuse oversized request bodies before they are read: by Content-Length up front, and by
counting while the body streams in when no length was declared (chunked uploads)."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Room for multipart boundaries and the other form fields around the file itself.
MULTIPART_SLACK = 64 * 1024


class BodySizeLimit:
    """ASGI middleware; ``limit_for(path)`` gives the byte limit of a request path."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"]) + MULTIPART_SLACK
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        received = 0
        response_started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, response_started, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now and tell the app the client is gone, so it stops reading: the rest
                    # of the body is never read, and whatever the app tries to send is dropped.
                    refused = True
                    if not response_started:
                        response_started = True
                        await _refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if refused:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        {"code": "payload_too_large", "message": f"上传内容过大：不能超过 {limit / 1024 / 1024:.0f} MB"},
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
