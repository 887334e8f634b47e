"""Verification of a fully signed agreement's originals, and of copies with one byte changed: by code,
by file, the certificate of completion, and every link and QR code at the public address.

The agreement is signed once per backend by ``test_agreement_signing``'s module-scoped ``signed``.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from typing import Any

from docx import Document as WordDocument
from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature

from tests.api import test_agreement_signing
from tests.api.test_agreement_signing import PUBLIC_URL, Signed, _validation_context
from workflows.agreements.documents import qr_png

# The signing module's module-scoped fixture: the agreement is signed once per backend for this module too.
signed = test_agreement_signing.signed


def test_verify_by_code_and_by_original_file(signed: Signed) -> None:
    code = signed.agreement["verification_code"]
    by_code = signed.client.get(f"/api/verify/{code.lower().replace('-', '')}").json()
    assert by_code["found"] and by_code["ok"], by_code
    assert [s["party"] for s in by_code["signatures"]] == ["丙方", "甲方", "乙方", "监督方"]
    assert all(s["valid"] for s in by_code["signatures"])
    body = str(by_code)
    assert "kg-out" not in body and "lead-a" not in body  # no signer accounts or names, only parties and dates
    assert by_code["document"]["status"] == "已生效"
    for document_id in (signed.agreement["signed_pdf_id"], signed.agreement["frozen_docx_id"]):
        content = signed.download(document_id)
        r = signed.client.post("/api/verify", files={"file": ("x", content, "application/octet-stream")})
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["original"] and result["ok"] and result["failed"] == [], result
    unknown = signed.client.get("/api/verify/AAAA-BBBB-CCCC").json()
    assert unknown["found"] is False and unknown["ok"] is False


def _flip(content: bytes, at: float) -> bytes:
    position = int(len(content) * at)
    return content[:position] + bytes([content[position] ^ 0x01]) + content[position + 1 :]


def test_one_flipped_byte_fails_verification_and_names_the_check(signed: Signed) -> None:
    pdf = _flip(signed.download(signed.agreement["signed_pdf_id"]), 0.3)
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    statuses = [validate_pdf_signature(s, _validation_context(signed)) for s in reader.embedded_signatures]
    assert not all(s.intact and s.valid for s in statuses)
    r = signed.client.post("/api/verify", files={"file": ("协议.pdf", pdf, "application/pdf")}).json()
    assert r["found"] and not r["original"] and not r["ok"]
    assert "archive" in r["failed"] and any(name.startswith("pdf.") for name in r["failed"]), r
    broken = next(c for c in r["checks"] if c["name"].startswith("pdf.") and not c["ok"])
    assert "改动" in broken["message"]

    docx = _flip(signed.download(signed.agreement["frozen_docx_id"]), 0.5)
    folder = signed.folder / "flipped"
    folder.mkdir(exist_ok=True)
    (folder / "agreement.docx").write_bytes(docx)
    (folder / "ca.pem").write_bytes(signed.client.get("/api/ca.pem").content)
    member = next(s for s in signed.agreement["signatures"] if s["party"] == "member")
    (folder / "member.p7s").write_bytes(signed.download(member["cms_document_id"]))
    result = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(folder / "member.p7s"), "-content",
         str(folder / "agreement.docx"), "-CAfile", str(folder / "ca.pem"), "-purpose", "any", "-out", "/dev/null"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    r = signed.client.post(
        "/api/verify",
        files={"file": ("协议.docx", docx, "application/octet-stream")},
        data={"code": signed.agreement["verification_code"]},
    ).json()
    assert r["found"] and not r["ok"]
    assert {"archive", "cms.member", "cms.lead", "cms.pillar", "cms.bureau"} <= set(r["failed"]), r
    assert "内容已被改动" in next(c["message"] for c in r["checks"] if c["name"] == "cms.member")


def _verify_upload(signed: Signed, content: bytes, name: str, **data: str) -> dict[str, Any]:
    r = signed.client.post("/api/verify", files={"file": (name, content, "application/octet-stream")}, data=data)
    assert r.status_code == 200, r.text
    return r.json()


def test_verification_tells_the_truth_a_genuine_completion_certificate_verifies_and_a_one_byte_change_does_not(
    signed: Signed,
) -> None:
    code = signed.agreement["verification_code"]
    [pdf_doc] = signed.documents("completion_certificate_pdf")
    pdf = signed.download(pdf_doc["id"])
    docx = signed.download(signed.agreement["certificate_id"])

    # The PDF people download carries no party's signature: it is genuine by its hash, registered at completion.
    result = _verify_upload(signed, pdf, "签署完成证明.pdf")
    assert result["found"] and result["original"] and result["ok"] and result["failed"] == [], result
    assert result["matched"].startswith("签署完成证明（PDF）") and "个签名" not in str(result)
    assert result["method"].startswith("按登记的指纹核验") and "根证书" not in result["method"]
    assert next(c for c in result["checks"] if c["name"] == "registered")["ok"]
    assert result["summary"].startswith("该文件是本系统登记的签署完成证明")
    # The .docx is registered too, and sealed with the installation's key (CMS): both are checked and said.
    result = _verify_upload(signed, docx, "签署完成证明.docx")
    assert result["ok"] and result["failed"] == [], result
    assert {c["name"] for c in result["checks"] if c["ok"]} >= {"archive", "registered", "cms.system"}
    assert "根证书" in result["method"]

    # One byte changed: neither verifies, with or without the code, and nothing claims they do.
    for content, name in ((pdf, "签署完成证明.pdf"), (docx, "签署完成证明.docx")):
        for at in (0.2, 0.5, 0.9):
            changed = _flip(content, at)
            for data in ({}, {"code": code}):
                result = _verify_upload(signed, changed, name, **data)
                assert not result["ok"] and not result["original"] and "archive" in result["failed"], (name, at, result)

    # The public page says how the certificate was verified (over HTTPS: the public address is, so the
    # session cookie is Secure).
    browser = TestClient(signed.client.app, base_url="https://testserver")
    page = browser.get("/verify")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = browser.post(
        "/verify", data={"csrf_token": token}, files={"file": ("签署完成证明.pdf", pdf, "application/pdf")}
    )
    assert r.status_code == 200 and "核验通过" in r.text and "核验未通过" not in r.text, r.text
    assert "核验方式" in r.text and "按登记的指纹核验" in r.text and "文件含 0 个签名" not in r.text
    r = browser.post(
        "/verify", data={"csrf_token": token}, files={"file": ("签署完成证明.pdf", _flip(pdf, 0.5), "application/pdf")}
    )
    assert r.status_code == 200 and "核验未通过" in r.text


def test_every_qr_code_and_link_in_a_document_uses_the_configured_public_address(signed: Signed) -> None:
    url = f"{PUBLIC_URL}/verify?code={signed.agreement['verification_code']}"
    certificate = WordDocument(io.BytesIO(signed.download(signed.agreement["certificate_id"])))
    text = " ".join(
        [p.text for p in certificate.paragraphs] + [c.text for t in certificate.tables for r in t.rows for c in r.cells]
    )
    assert url in text and "127.0.0.1" not in text
    final = signed.download(signed.agreement["frozen_docx_id"])
    with zipfile.ZipFile(io.BytesIO(final)) as archive:
        pictures = [archive.read(n) for n in archive.namelist() if n.startswith("word/media/")]
        body = archive.read("word/document.xml").decode()
    assert qr_png(url) in pictures  # the QR code printed on the agreement encodes the public address
    assert "127.0.0.1" not in body
