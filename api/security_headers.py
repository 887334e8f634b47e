"""One middleware gives every response its security headers: pages, API JSON, feeds, files, errors.

A response that set a header itself keeps it (the pages' own policy, a sandboxed image, a PDF allowed in
our own frames); the rest get a policy by what they are. HSTS goes out only over HTTPS (the request's
scheme, or a public URL that is https behind a TLS-terminating proxy).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# HTML that brought no policy of its own (the public news page): no script at all, its inline style.
HTML_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
# JSON, feeds, downloads: nothing in them may run or be framed.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
HSTS = "max-age=31536000"
PDF = "application/pdf"


class SecurityHeaders:
    """ASGI middleware; ``https_everywhere()`` says whether the public URL is https."""

    def __init__(self, app: ASGIApp, https_everywhere: Callable[[], bool]) -> None:
        self.app = app
        self.https_everywhere = https_everywhere

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https" or self.https_everywhere()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_headers(MutableHeaders(scope=message), https=https)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_headers(headers: MutableHeaders, *, https: bool) -> None:
    """Set what ``headers`` lacks of the security headers."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if content_type == PDF:
        # Shown in a frame of our own pages; Chrome's viewer will not start under a sandbox policy.
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    else:
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Content-Security-Policy", HTML_POLICY if content_type == "text/html" else DATA_POLICY)
    if https:
        headers.setdefault("Strict-Transport-Security", HSTS)
