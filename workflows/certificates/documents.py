"""Certificates as Word documents, and as PDF where LibreOffice is installed."""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from templates.district import BUREAU_SECTION_NAME
from templates.docx import render_docx
from workflows import clock
from workflows.certificates.models import Certificate
from workflows.clock import chinese_date as chinese_date

logger = logging.getLogger(__name__)

TEMPLATE = "certificate.docx"
ISSUER = BUREAU_SECTION_NAME
KIND_LABELS = {"open_class": "公开课证书", "lecture": "讲座证书"}
KIND_OF_FORMAT = {"公开课": "open_class", "讲座": "lecture"}
ROLE_PHRASES = {"open_class": "执教公开课", "lecture": "主讲专题讲座"}
PDF_TIMEOUT_SECONDS = 300


def grouped(code: str) -> str:
    """A code as printed: ABCD-EFGH-JKLM, easy to read out and type back."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def certificate_context(certificate: Certificate, *, verify_url: str) -> dict[str, str]:
    """Every variable of the certificate template, as text."""
    return {
        "title": KIND_LABELS[certificate.kind],
        "number": certificate.number,
        "teacher_name": certificate.teacher_name,
        "kindergarten_name": certificate.kindergarten_name,
        "alliance_name": certificate.alliance_name,
        "topic": certificate.topic,
        "held_on": chinese_date(certificate.held_on),
        "role_phrase": ROLE_PHRASES[certificate.kind],
        "issuer": ISSUER,
        "issued_on": chinese_date(clock.day_of(certificate.issued_at)),
        "verification_code": grouped(certificate.verification_code),
        "verify_url": verify_url,
    }


def render_certificate(certificate: Certificate, *, base_url: str) -> bytes:
    """The certificate's .docx: the same certificate, the same bytes."""
    url = f"{base_url.rstrip('/')}/verify?code={certificate.verification_code}"
    return render_docx(TEMPLATE, certificate_context(certificate, verify_url=url))


def pdf_available() -> bool:
    return shutil.which("soffice") is not None


def convert_to_pdf(files: dict[str, bytes]) -> dict[str, bytes]:
    """Convert .docx files (name -> bytes) to PDF in one LibreOffice run; {} when it is absent or fails."""
    soffice = shutil.which("soffice")
    if soffice is None or not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="kf-certificates-") as folder:
        root = Path(folder)
        sources = []
        for name, content in files.items():
            path = root / f"{name}.docx"
            path.write_bytes(content)
            sources.append(str(path))
        try:
            subprocess.run(
                [soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{root / 'profile'}",
                 "--convert-to", "pdf", "--outdir", str(root / "pdf"), *sources],
                check=True, capture_output=True, timeout=PDF_TIMEOUT_SECONDS,
            )  # fmt: skip
        except (subprocess.SubprocessError, OSError):
            logger.exception("certificates: LibreOffice could not convert %d file(s) to PDF", len(files))
            return {}
        converted = {name: root / "pdf" / f"{name}.pdf" for name in files}
        return {name: path.read_bytes() for name, path in converted.items() if path.exists()}
