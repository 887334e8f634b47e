"""The fixed-layout (版式) copy of a Word document: PDF/A-2b through headless LibreOffice, where installed.

Each call gets a LibreOffice profile of its own (``-env:UserInstallation``), so concurrent
conversions never share one, and a timeout, so a hung converter cannot hold a request or a worker.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from workflows.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 180
# PDF/A-2b: fonts embedded, no external dependencies; incremental signatures keep it PDF/A.
PDF_FILTER = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'


def converter() -> str | None:
    """The LibreOffice executable, or None where it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(content: bytes, *, timeout: float = TIMEOUT_SECONDS) -> bytes | None:
    """The PDF/A rendering of a .docx; None when LibreOffice is absent, ServiceUnavailable when it fails."""
    executable = converter()
    if executable is None:
        logger.warning("LibreOffice not found: no PDF is produced")
        return None
    with tempfile.TemporaryDirectory(prefix="kinderflow-pdf-") as folder:
        work = Path(folder)
        source = work / "document.docx"
        source.write_bytes(content)
        command = [
            executable,
            "--headless",
            "--norestore",
            "--nologo",
            "--nolockcheck",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--convert-to",
            PDF_FILTER,
            "--outdir",
            str(work),
            str(source),
        ]
        try:
            result = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ServiceUnavailable("文档转换为 PDF 超时，请稍后重试", code="conversion_timeout") from None
        target = work / "document.pdf"
        if result.returncode != 0 or not target.is_file():
            logger.error(
                "LibreOffice failed (%s): %s", result.returncode, result.stderr.decode(errors="replace")[-500:]
            )
            raise ServiceUnavailable("文档转换为 PDF 失败，请稍后重试", code="conversion_failed")
        return target.read_bytes()
