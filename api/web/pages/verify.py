"""The public verification page: is this document the archived, signed original?

The agreements area plugs the service in with ``set_backend(...)`` (``pages/verification.py``, the
same checks as ``/api/verify``); without a backend the forms are shown and the page says the
service is coming.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, BinaryIO

from fastapi import File, Form, UploadFile
from starlette.responses import Response

from api.web.deps import Page, PublicPage
from api.web.routing import web_router
from workflows.errors import ValidationFailed

router = web_router()


@dataclass(frozen=True)
class VerificationResult:
    """What the page shows: a verdict, a one-line explanation and the document's particulars."""

    genuine: bool
    summary: str
    details: list[tuple[str, str]] = field(default_factory=list)
    # Each check the service made: (passed, what it found), so a failure says which check failed.
    checks: list[tuple[bool, str]] = field(default_factory=list)


@dataclass(frozen=True)
class VerificationBackend:
    """The checks behind the page; each gets the page (its transaction, settings and object store)."""

    by_code: Callable[[Page, str], VerificationResult]
    by_file: Callable[[Page, BinaryIO, str], VerificationResult]


_backend: VerificationBackend | None = None


def set_backend(backend: VerificationBackend | None) -> None:
    """Connect the page to the verification service (the agreements area calls this)."""
    global _backend
    _backend = backend


def _page(page: Page, **context: Any) -> Response:
    base: dict[str, Any] = {"available": _backend is not None, "code": "", "result": None, "error": ""}
    return page.render("verify.html", **{**base, **context})


@router.get("/verify")
def verify_form(page: PublicPage, code: str = "") -> Response:
    if code and _backend is not None:
        return _check(page, lambda b: b.by_code(page, code.strip()), code=code)
    return _page(page, code=code)


@router.post("/verify")
def verify(
    page: PublicPage,
    code: Annotated[str, Form(max_length=64)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if _backend is None:
        return _page(page, code=code)
    if file is not None and file.filename:
        return _check(page, lambda b: b.by_file(page, file.file, file.filename or ""), code=code)
    if code.strip():
        return _check(page, lambda b: b.by_code(page, code.strip()), code=code)
    return _page(page, code=code, error="请输入核验码，或选择要核验的文件")


def _check(page: Page, run: Callable[[VerificationBackend], VerificationResult], *, code: str) -> Response:
    if _backend is None:
        raise RuntimeError("expected _backend is not None")
    try:
        result = run(_backend)
    except ValidationFailed as exc:
        return _page(page, code=code, error=exc.message)
    return _page(page, code=code, result=result)
