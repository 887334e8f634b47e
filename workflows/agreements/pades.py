"""PAdES signatures on the agreement PDF: one incremental revision per party, each with a visible stamp.

Every signature is appended as an incremental update, so the earlier signatures stay intact and a PDF
reader lists them all. No timestamp authority is reachable here, so signatures are PAdES-B-B (the
signing time is the signer's claim, bound by the signature).
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from cryptography import x509
from PIL import Image
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation.pdf_embedded import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko.stamp import StaticStampStyle

from workflows.agreements.cms import trust_context

Box = tuple[float, float, float, float]


def sign_pdf(
    pdf: bytes,
    *,
    signer: signers.Signer,
    field_name: str,
    box: Box,
    stamp: Image.Image,
    reason: str,
    location: str,
) -> bytes:
    """``pdf`` with one more signature (a new visible field on the last page), as an incremental update.

    ``signer`` is pyHanko's PKCS#11 signer for the signer's key in the token (``token.pdf_signer``)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    rectangle = (round(box[0]), round(box[1]), round(box[2]), round(box[3]))
    fields.append_signature_field(writer, fields.SigFieldSpec(sig_field_name=field_name, on_page=-1, box=rectangle))
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    style = StaticStampStyle(background=PdfImage(stamp), border_width=0, background_opacity=1.0)
    out = io.BytesIO()
    signers.PdfSigner(metadata, signer=signer, stamp_style=style).sign_pdf(writer, output=out)
    return out.getvalue()


@dataclass(frozen=True)
class PdfSignatureCheck:
    """One embedded signature as the validator found it."""

    field: str
    intact: bool
    valid: bool
    trusted: bool
    # Nothing but signature fields and form filling was added after this signature.
    unchanged_after: bool
    covers_whole_file: bool
    signer: str = ""
    reason: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.unchanged_after


@dataclass(frozen=True)
class PdfReport:
    readable: bool
    signatures: list[PdfSignatureCheck]
    error: str = ""


def validate_pdf(pdf: bytes, *, ca_certificate: x509.Certificate) -> PdfReport:
    """Validate every embedded signature against the installation CA."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - a damaged file is a failed check, not a crash
        return PdfReport(False, [], f"{type(exc).__name__}: {exc}"[:300])
    return PdfReport(True, [_check(sig, ca_certificate) for sig in embedded])


def _check(sig: object, ca_certificate: x509.Certificate) -> PdfSignatureCheck:
    name = getattr(sig, "field_name", "") or ""
    reason = str(getattr(sig, "sig_object", {}).get("/Reason", "") or "")
    try:
        status = asyncio.run(
            async_validate_pdf_signature(sig, signer_validation_context=trust_context(ca_certificate))  # type: ignore[arg-type]
        )
    except Exception as exc:  # noqa: BLE001 - pyHanko raises many kinds; each is a failed check
        return PdfSignatureCheck(name, False, False, False, False, False, reason=reason, error=str(exc)[:300])
    level = status.modification_level
    return PdfSignatureCheck(
        field=name,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        unchanged_after=level is not None and level <= ModificationLevel.FORM_FILLING,
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        signer=status.signing_cert.subject.human_friendly,
        reason=reason,
    )


def signature_reasons(pdf: bytes) -> list[str]:
    """The /Reason of every signature the file still lets us read (used to find the verification code)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        return [str(sig.sig_object.get("/Reason", "")) for sig in reader.embedded_signatures]
    except Exception:  # noqa: BLE001 - a damaged file has no readable reasons
        return []
