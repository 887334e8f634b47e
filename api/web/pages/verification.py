"""The verification page's backend: the same checks as ``/api/verify``.

Agreements first (their archived files and signatures, ``workflows.agreements.verification``), then
the other verifiable documents registered in ``workflows.verification`` (certificates, ...).
Importing this module connects ``pages.verify`` to them.
"""

from __future__ import annotations

from typing import BinaryIO

from api.client_address import client_address
from api.rate_limit import REFUSED, count_verification
from api.web.deps import Page
from api.web.pages.verify import VerificationBackend, VerificationResult, set_backend
from workflows import clock
from workflows.agreements import verification
from workflows.agreements.schemas import VerificationOut
from workflows.agreements.verification_files import TooLarge, inspect_upload
from workflows.verification import Verified, find_by_code, find_by_sha256


def _agreement_result(out: VerificationOut) -> VerificationResult:
    details: list[tuple[str, str]] = []
    doc = out.document
    if doc is not None:
        details.append(("文件", doc.title))
        details += [(p.label, p.name) for p in doc.parties]
        details.append(("协议状态", doc.status))
        details.append(("协议期限", f"{doc.term_start.isoformat()} 至 {doc.term_end.isoformat()}"))
        if doc.effective_on:
            details.append(("生效日期", doc.effective_on.isoformat()))
    if out.matched:
        details.append(("对应存档", out.matched))
    for s in out.signatures:
        details.append(
            (f"{s.party}签署", f"{s.party_name} · {s.signed_on.isoformat()} · {'有效' if s.valid else '无效'}")
        )
    if out.method:
        details.append(("核验方式", out.method))
    if out.sha256:
        details.append(("文件指纹（SHA-256）", out.sha256))
    return VerificationResult(
        genuine=out.ok, summary=out.summary, details=details, checks=[(c.ok, c.message) for c in out.checks]
    )


def _other_result(found: Verified, *, by_file: bool) -> VerificationResult:
    checks = [
        (True, f"与签发存档的{found.kind_label}逐字节一致" if by_file else f"核验码对应本系统签发的{found.kind_label}")
    ]
    if not found.genuine:
        checks.append((False, f"该{found.kind_label}已失效"))
    details = [("文件类型", found.kind_label), ("编号", found.reference), *found.details]
    if found.issued_at:
        details.append(("签发时间", clock.day_of(found.issued_at).isoformat()))
    return VerificationResult(genuine=found.genuine, summary=found.summary, details=details, checks=checks)


def _limited(page: Page) -> VerificationResult | None:
    """Counted in the page's transaction (its database slot is already held), like the API's."""
    if count_verification(page.db, client_address(page.request)):
        return None
    return VerificationResult(genuine=False, summary=REFUSED)


def by_code(page: Page, code: str) -> VerificationResult:
    if (refused := _limited(page)) is not None:
        return refused
    code = code[:32]
    out = verification.verify_code(session=page.db, settings=page.settings, objects=page.objects, code=code)
    if not out.found and (other := find_by_code(page.db, code)) is not None:
        return _other_result(other, by_file=False)
    return _agreement_result(out)


def by_file(page: Page, file: BinaryIO, filename: str) -> VerificationResult:
    if (refused := _limited(page)) is not None:
        return refused
    limit = page.settings.max_upload_bytes
    try:
        upload = inspect_upload(file, max_bytes=limit)
    except TooLarge:
        return VerificationResult(genuine=False, summary=f"文件过大：不能超过 {limit // (1024 * 1024)} MB")
    out = verification.verify_file(
        session=page.db, settings=page.settings, objects=page.objects, file=file, upload=upload
    )
    if not out.found and (other := find_by_sha256(page.db, upload.sha256)) is not None:
        return _other_result(other, by_file=True)
    return _agreement_result(out)


BACKEND = VerificationBackend(by_code=by_code, by_file=by_file)
set_backend(BACKEND)
