"""Detached CMS (PKCS#7) signatures over the frozen agreement file, and their verification.

The signature is DER, carries the signer's certificate and signed attributes (content type, signing
time, message digest), and verifies with ``openssl cms -verify -binary -inform DER -content <file>
-CAfile ca.pem -purpose any``. Verification here uses pyHanko's CMS validator against the
installation CA, so it checks the digest, the signature and the certificate chain.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
from pyhanko_certvalidator import ValidationContext


def sign_detached(content: bytes, *, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> bytes:
    """A DER detached CMS signature over ``content`` (binary mode: the bytes as they are)."""
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(certificate, key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
    )


@dataclass(frozen=True)
class CmsCheck:
    """What verifying one detached signature found."""

    intact: bool  # the content digest matches
    valid: bool  # the signature over the signed attributes holds
    trusted: bool  # the certificate chains to the installation CA
    signer: str = ""
    signed_at: datetime | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted


def trust_context(ca_certificate: x509.Certificate) -> ValidationContext:
    """A validation context that trusts only the installation CA (no network fetching)."""
    root = asn1_x509.Certificate.load(ca_certificate.public_bytes(serialization.Encoding.DER))
    return ValidationContext(trust_roots=[root], allow_fetching=False)


def verify_detached(content: bytes, signature: bytes, *, ca_certificate: x509.Certificate) -> CmsCheck:
    """Check a detached signature over ``content`` against the installation CA."""
    try:
        signed_data = asn1_cms.ContentInfo.load(signature)["content"]
        status = asyncio.run(
            async_validate_detached_cms(content, signed_data, signer_validation_context=trust_context(ca_certificate))
        )
    except Exception as exc:  # noqa: BLE001 - a malformed signature file is a failed check, not a crash
        return CmsCheck(False, False, False, error=f"{type(exc).__name__}: {exc}"[:300])
    return CmsCheck(
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        signer=status.signing_cert.subject.human_friendly,
        signed_at=status.signer_reported_dt,
    )
