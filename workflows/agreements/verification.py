"""Public verification: is this the signed original, which signatures hold, and what failed if not.

By code (printed on the document) the archived files are re-checked; by upload the file itself is
compared with the archive byte for byte and its signatures are verified: the detached CMS
signatures for a .docx, the embedded PAdES signatures for a PDF. Answers reveal only the title, the
parties, the dates and the status.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import date, datetime

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.objects import ObjectStore
from storage.settings import Settings
from workflows.agreements import ca, cms, pades
from workflows.agreements.documents import BEIJING, KIND_LABELS, read_document, title_of
from workflows.agreements.machine import AGREEMENT_WORKFLOW
from workflows.agreements.models import Agreement, Signature
from workflows.agreements.parties import PARTY_LABELS
from workflows.agreements.schemas import CheckOut, PublicAgreement, PublicParty, PublicSignature, VerificationOut
from workflows.documents.models import Document

CODE = re.compile(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}")


def normalise_code(code: str) -> str:
    """Codes are read from paper: accept lower case, spaces and missing dashes."""
    raw = re.sub(r"[^0-9A-Za-z]", "", code).upper()
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:12]}" if len(raw) == 12 else raw


def _public(agreement: Agreement) -> PublicAgreement:
    def day(value: datetime | None) -> date | None:
        return value.astimezone(BEIJING).date() if value else None

    return PublicAgreement(
        title=title_of(agreement),
        parties=[PublicParty(label=PARTY_LABELS[p], name=agreement.parties[p]["name"]) for p in agreement.party_keys],
        status=AGREEMENT_WORKFLOW.label(agreement.state),
        term_start=agreement.term_start,
        term_end=agreement.term_end,
        sent_on=day(agreement.sent_at),
        effective_on=day(agreement.effective_at),
        ended_on=day(agreement.ended_at),
    )


def _result(
    agreement: Agreement | None, checks: list[CheckOut], *, signatures: list[PublicSignature] | None = None,
    matched: Document | None = None, sha256: str | None = None,
) -> VerificationOut:  # fmt: skip
    return VerificationOut(
        found=agreement is not None,
        original=matched is not None,
        ok=agreement is not None and bool(checks) and all(c.ok for c in checks),
        matched=f"{KIND_LABELS.get(matched.kind, matched.kind)}（{matched.filename}）" if matched else None,
        sha256=sha256,
        document=_public(agreement) if agreement else None,
        signatures=signatures or [],
        checks=checks,
        failed=[c.name for c in checks if not c.ok],
    )


def _signatures_of_round(agreement: Agreement, round_no: int) -> list[Signature]:
    return sorted((s for s in agreement.signatures if s.round == round_no), key=lambda s: (s.step, s.signed_at))


def _cms_checks(
    session: Session, objects: ObjectStore, authority: x509.Certificate, content: bytes, signatures: list[Signature]
) -> tuple[list[CheckOut], dict[str, bool]]:
    checks, by_party = [], {}
    for s in signatures:
        stored = session.get(Document, s.cms_document_id)
        assert stored is not None
        result = cms.verify_detached(content, read_document(objects, stored), ca_certificate=authority)
        label = PARTY_LABELS[s.party]
        if result.ok:
            message = f"{label}的 CMS 签名有效：内容未改动，证书由本系统签发"
        elif not result.intact:
            message = f"{label}的 CMS 签名与该文件不符：文件内容已被改动"
        elif not result.valid:
            message = f"{label}的 CMS 签名本身无效"
        else:
            message = f"{label}的签名证书不是本系统签发的，或已失效"
        checks.append(CheckOut(name=f"cms.{s.party}", ok=result.ok, message=message))
        by_party[s.party] = result.ok
    return checks, by_party


def _pdf_checks(content: bytes, authority: x509.Certificate, expected: int) -> tuple[list[CheckOut], dict[str, bool]]:
    report = pades.validate_pdf(content, ca_certificate=authority)
    if not report.readable:
        return [CheckOut(name="pdf.readable", ok=False, message="文件无法作为 PDF 读取（可能已损坏或被改动）")], {}
    checks, by_party = [], {}
    for sig in report.signatures:
        party = sig.field.split("-")[0]
        label = PARTY_LABELS.get(party, sig.field)
        if sig.ok:
            message = f"{label}的 PDF 签名有效，签名后仅追加了其他签名"
        elif not sig.intact:
            message = f"{label}的 PDF 签名所覆盖的内容已被改动"
        elif not sig.valid:
            message = f"{label}的 PDF 签名本身无效"
        elif not sig.trusted:
            message = f"{label}的签名证书不是本系统签发的，或已失效"
        else:
            message = f"{label}签名之后，文件被加入了签名以外的改动"
        checks.append(CheckOut(name=f"pdf.{party}", ok=sig.ok, message=message))
        by_party[party] = sig.ok
    last = report.signatures[-1] if report.signatures else None
    checks.append(
        CheckOut(
            name="pdf.signatures",
            ok=len(report.signatures) >= expected and expected > 0,
            message=f"文件含 {len(report.signatures)} 个签名（应有 {expected} 个）",
        )
    )
    checks.append(
        CheckOut(
            name="pdf.coverage",
            ok=bool(last and last.covers_whole_file),
            message="最后一个签名覆盖整个文件"
            if last and last.covers_whole_file
            else "文件在最后一个签名之后被追加了内容",
        )
    )
    return checks, by_party


def _public_signatures(
    agreement: Agreement, signatures: list[Signature], *results: dict[str, bool]
) -> list[PublicSignature]:
    return [
        PublicSignature(
            party=PARTY_LABELS[s.party],
            party_name=agreement.parties[s.party]["name"],
            signed_on=s.signed_at.astimezone(BEIJING).date(),
            valid=all(r.get(s.party, False) for r in results if r),
        )
        for s in signatures
    ]


def verify_code(*, session: Session, settings: Settings, objects: ObjectStore, code: str) -> VerificationOut:
    """Re-check the archived files of the agreement that carries ``code``."""
    agreement = session.scalar(select(Agreement).where(Agreement.verification_code == normalise_code(code)))
    if agreement is None or agreement.frozen_docx_id is None:
        return _result(None, [CheckOut(name="code", ok=False, message="没有找到使用该验证码的已签署文件")])
    authority = ca.authority_certificate(session=session, settings=settings)
    signatures = _signatures_of_round(agreement, agreement.round)
    frozen = session.get(Document, agreement.frozen_docx_id)
    assert frozen is not None
    checks, cms_ok = _cms_checks(session, objects, authority, read_document(objects, frozen), signatures)
    pdf_ok: dict[str, bool] = {}
    if agreement.signed_pdf_id is not None and signatures:
        latest = session.get(Document, agreement.signed_pdf_id)
        assert latest is not None
        pdf_checks, pdf_ok = _pdf_checks(read_document(objects, latest), authority, len(signatures))
        checks += pdf_checks
    checks.append(_state_check(agreement))
    return _result(agreement, checks, signatures=_public_signatures(agreement, signatures, cms_ok, pdf_ok))


def _state_check(agreement: Agreement) -> CheckOut:
    effective = agreement.state in ("effective", "expired", "terminated")
    label = AGREEMENT_WORKFLOW.label(agreement.state)
    return CheckOut(
        name="signed_by_all",
        ok=effective,
        message="各方已全部签署" if effective else f"协议尚未由各方全部签署（当前：{label}）",
    )


def _code_inside(content: bytes) -> str | None:
    """The verification code printed in the file (a PDF's signature reasons, a .docx's text)."""
    texts: list[str] = []
    if content.startswith(b"%PDF"):
        texts = pades.signature_reasons(content)
    elif content.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                for name in archive.namelist():
                    if name.startswith("word/") and name.endswith(".xml"):
                        try:
                            texts.append(archive.read(name).decode("utf-8", errors="replace"))
                        except (zipfile.BadZipFile, OSError, ValueError):
                            continue  # this part is damaged; the others may still name the code
        except zipfile.BadZipFile:
            return None
    for text in texts:
        match = CODE.search(text)
        if match:
            return match.group(0)
    return None


def verify_file(
    *, session: Session, settings: Settings, objects: ObjectStore, content: bytes, code: str | None = None
) -> VerificationOut:
    """Compare an uploaded file with the archive and verify its signatures; name every failed check."""
    sha256 = hashlib.sha256(content).hexdigest()
    matched = session.scalar(
        select(Document).where(Document.sha256 == sha256, Document.owner_type == "agreement").limit(1)
    )
    agreement = session.get(Agreement, matched.owner_id) if matched else None
    wanted = normalise_code(code) if code else _code_inside(content)
    if agreement is None and wanted:
        agreement = session.scalar(select(Agreement).where(Agreement.verification_code == wanted))
    if agreement is None or agreement.frozen_docx_id is None:
        return _result(
            None,
            [CheckOut(name="archive", ok=False, message="存档中没有与该文件一致的协议，也无法从文件中识别验证码")],
            sha256=sha256,
        )
    if matched is not None and matched.owner_id != agreement.id:
        matched = None
    checks = [
        CheckOut(
            name="archive",
            ok=matched is not None,
            message=f"与存档的「{KIND_LABELS.get(matched.kind, matched.kind)}」逐字节一致"
            if matched
            else "与存档的任何文件都不一致：文件已被改动，或不是本协议的签署文件",
        )
    ]
    authority = ca.authority_certificate(session=session, settings=settings)
    if content.startswith(b"%PDF"):
        signatures = _signatures_of_round(agreement, agreement.round)
        more, pdf_ok = _pdf_checks(content, authority, len(signatures))
        checks += more
        public = _public_signatures(agreement, signatures, pdf_ok)
    elif matched is not None and matched.kind == "completion_certificate":
        sig = session.scalar(
            select(Document).where(
                Document.owner_type == "agreement",
                Document.owner_id == agreement.id,
                Document.kind == "completion_certificate_signature",
            )
        )
        result = cms.verify_detached(content, read_document(objects, sig), ca_certificate=authority) if sig else None
        checks.append(
            CheckOut(name="cms.system", ok=bool(result and result.ok), message="签署完成证明的系统签名有效"
                     if result and result.ok else "签署完成证明的系统签名无效")
        )  # fmt: skip
        public = []
    else:
        # A .docx: the detached signatures of the round it belongs to (the current one, unless it is an
        # earlier round's frozen file, whose signatures were voided).
        round_no = agreement.round
        if matched is not None and matched.kind == "agreement_final":
            round_no = matched.version_no
        signatures = _signatures_of_round(agreement, round_no)
        more, cms_ok = _cms_checks(session, objects, authority, content, signatures)
        checks += more
        if round_no != agreement.round or any(s.voided_at for s in signatures):
            checks.append(CheckOut(name="round", ok=False, message=f"该文件属于已作废的第 {round_no} 轮签署"))
        public = _public_signatures(agreement, signatures, cms_ok)
    checks.append(_state_check(agreement))
    return _result(agreement, checks, signatures=public, matched=matched, sha256=sha256)
