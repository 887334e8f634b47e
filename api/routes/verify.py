"""Public verification of signed agreements, by code or by uploaded file; no sign-in, rate-limited.

The limit is an in-memory sliding window per client address, per API process (30 requests a
minute): enough to stop scraping codes or hammering the validators from one address; several API
processes each keep their own window.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from api.deps import ClientAddress, ObjectsDep, SessionDep, SettingsDep
from workflows.agreements import verification
from workflows.agreements.schemas import VerificationOut
from workflows.errors import PayloadTooLarge, TooManyAttempts
from workflows.verification import VerifiedOut, find_by_code, find_by_sha256

router = APIRouter(tags=["verification"])

LIMIT = 30
WINDOW_SECONDS = 60.0


class SlidingWindow:
    """At most ``limit`` hits per key within any ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # forget quiet addresses so the table stays small
                for quiet in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[quiet]
            return True


def rate_limit(request: Request, address: ClientAddress) -> None:
    """One window per application instance, kept on its state."""
    window = getattr(request.app.state, "verification_window", None)
    if window is None:
        window = request.app.state.verification_window = SlidingWindow(LIMIT, WINDOW_SECONDS)
    if not window.allow(address):
        raise TooManyAttempts("核验请求过于频繁，请一分钟后再试", code="rate_limited")


RateLimited = Annotated[None, Depends(rate_limit)]


@router.get("/verify/{code}", response_model=VerificationOut | VerifiedOut)
def verify_code(
    code: str, _: RateLimited, session: SessionDep, settings: SettingsDep, objects: ObjectsDep
) -> VerificationOut | VerifiedOut:
    """Re-check the archived, signed files of the agreement that carries this code."""
    result = verification.verify_code(session=session, settings=settings, objects=objects, code=code[:32])
    # Not an agreement's code: the other verifiable documents (certificates, ...) of workflows.verification.
    if not result.found and (other := find_by_code(session, code[:32])) is not None:
        return VerifiedOut.of(other)
    return result


@router.post("/verify", response_model=VerificationOut | VerifiedOut)
def verify_file(
    file: Annotated[UploadFile, File()],
    _: RateLimited,
    session: SessionDep,
    settings: SettingsDep,
    objects: ObjectsDep,
    code: Annotated[str, Form(max_length=32)] = "",
) -> VerificationOut | VerifiedOut:
    """Is this file the archived original? Which signatures hold, and which check failed if not."""
    content = file.file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise PayloadTooLarge()
    result = verification.verify_file(
        session=session, settings=settings, objects=objects, content=content, code=code.strip() or None
    )
    if not result.found and result.sha256 and (other := find_by_sha256(session, result.sha256)) is not None:
        return VerifiedOut.of(other, sha256=result.sha256)
    return result
