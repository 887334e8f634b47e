"""Refuse oversized request bodies before they are read: by Content-Length up front, and by
counting while the body streams in when no length was declared (chunked uploads)."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Room for multipart boundaries and the other form fields around the file itself.
MULTIPART_SLACK = 64 * 1024


class BodySizeLimit:
    """ASGI middleware; ``limit_for(scope)`` gives the byte limit of a request (by its path, and whether
    it carries credentials): decided from the headers alone, before any of the body is read."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[Scope], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope) + MULTIPART_SLACK
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit, scope["path"])
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
                        await _refuse(send, limit, scope["path"])
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


# A page's form gets a page in Chinese, never JSON (the app's own error page needs the request's session,
# which a refusal before the body is read does not have): the message and the way back.
REFUSED_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>文件过大 · 幼教联盟文书流转</title><link rel="stylesheet" href="/static/app.css"></head>
<body><main id="main"><section class="card error-card"><h1>文件过大</h1><p>{message}</p>
<p>请返回上一页，选择较小的文件后重新上传。</p><p class="muted">错误代码 413</p>
<p><a class="button" href="/">返回首页</a></p></section></main></body></html>
"""
PAGE_POLICY = b"default-src 'self'; script-src 'none'; style-src 'self'; frame-ancestors 'none'"


async def _refuse(send: Send, limit: int, path: str) -> None:
    message = f"上传内容过大：不能超过 {limit / 1024 / 1024:.0f} MB"
    headers = [(b"connection", b"close")]
    if path == "/api" or path.startswith("/api/"):
        body = json.dumps({"code": "payload_too_large", "message": message}, ensure_ascii=False).encode()
        headers.append((b"content-type", b"application/json; charset=utf-8"))
    else:
        body = REFUSED_PAGE.format(message=message).encode()
        headers += [(b"content-type", b"text/html; charset=utf-8"), (b"content-security-policy", PAGE_POLICY)]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
