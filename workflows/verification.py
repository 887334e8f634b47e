"""Public verification of issued documents other than agreements: a registry of lookups.

An area that issues verifiable documents (certificates, ...) registers a verifier: a lookup by the
verification code printed on the document and a lookup by the SHA-256 of an uploaded file.
``/api/verify`` checks agreements first (``workflows.agreements.verification``, with their
signatures) and then asks every registered verifier, so the route knows no area's tables and the
areas never touch each other's. The answer has the same ``found``/``original``/``ok``/``checks``
fields as the agreements' answer, plus what kind of document it is and its particulars.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Verified:
    """What a verifier found: the document's kind, reference, whether it stands, and its particulars."""

    kind: str
    kind_label: str
    reference: str
    genuine: bool
    summary: str
    details: list[tuple[str, str]] = field(default_factory=list)
    issued_at: datetime | None = None
    sha256: list[str] = field(default_factory=list)


LookupByCode = Callable[[Session, str], Verified | None]
LookupBySha256 = Callable[[Session, str], Verified | None]


@dataclass(frozen=True)
class Verifier:
    kind: str
    by_code: LookupByCode
    by_sha256: LookupBySha256


_verifiers: dict[str, Verifier] = {}


def register_verifier(kind: str, lookup_by_code: LookupByCode, lookup_by_sha256: LookupBySha256) -> None:
    """Let ``/api/verify`` recognise the documents of ``kind`` (registering again replaces)."""
    _verifiers[kind] = Verifier(kind, lookup_by_code, lookup_by_sha256)


def registered_kinds() -> list[str]:
    return sorted(_verifiers)


def normalise_code(code: str) -> str:
    """Codes are read off paper: case, spaces and dashes do not matter."""
    return re.sub(r"[^0-9A-Za-z]", "", code).upper()


def find_by_code(session: Session, code: str) -> Verified | None:
    """The registered document whose printed verification code is ``code``, if any."""
    if not normalise_code(code):
        return None
    return next((found for v in _verifiers.values() if (found := v.by_code(session, code)) is not None), None)


def find_by_sha256(session: Session, sha256: str) -> Verified | None:
    """The registered document whose exact bytes hash to ``sha256``, if any."""
    digest = sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        return None
    return next((found for v in _verifiers.values() if (found := v.by_sha256(session, digest)) is not None), None)


class VerifiedCheck(BaseModel):
    name: str
    ok: bool
    message: str


class VerifiedDetail(BaseModel):
    label: str
    value: str


class VerifiedOut(BaseModel):
    """A registered document's verification answer on the wire."""

    found: bool = True
    original: bool  # the uploaded file is byte for byte the issued one
    ok: bool
    matched: str | None = None
    sha256: str | None = None
    checks: list[VerifiedCheck]
    failed: list[str]
    kind: str
    kind_label: str
    reference: str
    summary: str
    details: list[VerifiedDetail]
    issued_at: datetime | None

    @classmethod
    def of(cls, v: Verified, *, sha256: str | None = None) -> VerifiedOut:
        """By code (no ``sha256``) or by an uploaded file that matched (its ``sha256``)."""
        check = (
            VerifiedCheck(name="archive", ok=True, message=f"与签发存档的{v.kind_label}逐字节一致")
            if sha256
            else VerifiedCheck(name="code", ok=True, message=f"核验码对应本系统签发的{v.kind_label}")
        )
        checks = [check]
        if not v.genuine:
            checks.append(VerifiedCheck(name="status", ok=False, message=f"该{v.kind_label}已失效"))
        return cls(
            original=sha256 is not None,
            ok=all(c.ok for c in checks),
            matched=f"{v.kind_label}（{v.reference}）",
            sha256=sha256,
            checks=checks,
            failed=[c.name for c in checks if not c.ok],
            kind=v.kind,
            kind_label=v.kind_label,
            reference=v.reference,
            summary=v.summary,
            details=[VerifiedDetail(label=label, value=value) for label, value in v.details],
            issued_at=v.issued_at,
        )
