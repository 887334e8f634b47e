"""Public verification: is this the signed original, which signatures hold, and what failed if not.

By code (printed on the document) the archived files are re-checked; by upload the file is hashed
first and compared with the archive, and only then looked into as far as needed
(``verification_files``): a .docx's detached CMS signatures are verified over the upload; a PDF the
archive holds byte for byte has its embedded PAdES signatures validated (they are our own bytes),
while one it does not hold is compared with the archived signed PDF instead of being parsed. The
certificate of completion carries no party's signature: it is genuine when its SHA-256 is the one
registered in the archive at completion, and its .docx is also sealed by the installation (CMS).
Answers reveal only the title, the parties, the dates and the status.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime
from typing import BinaryIO

from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.objects import ObjectStore
from storage.settings import Settings
from workflows.agreements import ca, cms, pades
from workflows.agreements.documents import KIND_LABELS, read_document, title_of
from workflows.agreements.machine import AGREEMENT_WORKFLOW
from workflows.agreements.models import Agreement, Signature
from workflows.agreements.parties import PARTY_LABELS
from workflows.agreements.schemas import CheckOut, PublicAgreement, PublicParty, PublicSignature, VerificationOut
from workflows.agreements.verification_files import SignedRange, Upload, codes_inside, compare_with_archive
from workflows.clock import BEIJING
from workflows.documents.models import Document

CERTIFICATE_KINDS = frozenset({"completion_certificate", "completion_certificate_pdf"})
BY_SIGNATURES = "按各方的电子签名核验（签名证书由本系统根证书签发）"
BY_REGISTERED_HASH = "按登记的指纹核验：签署完成证明在协议生效时归档，其 SHA-256 指纹记入存档清单"
BY_REGISTERED_HASH_AND_SEAL = BY_REGISTERED_HASH + "；并核验本系统根证书对其所加的签名（CMS）"


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


def _summary(found: bool, ok: bool, matched: Document | None, checks: list[CheckOut]) -> str:
    failed = [c.message for c in checks if not c.ok]
    if not found:
        return failed[0] if failed else "没有找到对应的协议"
    if not ok:
        return "未通过的检查：" + "；".join(failed)
    if matched is not None and matched.kind in CERTIFICATE_KINDS:
        return "该文件是本系统登记的签署完成证明，与协议生效时归档的文件逐字节一致"
    if matched is not None:
        return "该文件为本系统归档的签署原件，各方签名均有效"
    return "该核验码对应的协议各方签名均有效"


def _result(
    agreement: Agreement | None, checks: list[CheckOut], *, signatures: list[PublicSignature] | None = None,
    matched: Document | None = None, sha256: str | None = None, method: str | None = None,
) -> VerificationOut:  # fmt: skip
    ok = agreement is not None and bool(checks) and all(c.ok for c in checks)
    return VerificationOut(
        found=agreement is not None,
        original=matched is not None,
        ok=ok,
        summary=_summary(agreement is not None, ok, matched, checks),
        method=method if agreement is not None else None,
        matched=f"{KIND_LABELS.get(matched.kind, matched.kind)}（{matched.filename}）" if matched else None,
        sha256=sha256,
        document=_public(agreement) if agreement else None,
        signatures=signatures or [],
        checks=checks,
        failed=[c.name for c in checks if not c.ok],
    )


def _signatures_of_round(agreement: Agreement, round_no: int) -> list[Signature]:
    return sorted((s for s in agreement.signatures if s.round == round_no), key=lambda s: (s.step, s.signed_at))


def _cms_check(content: bytes | BinaryIO, signature: bytes, authority: x509.Certificate) -> cms.CmsCheck:
    """One detached signature over ``content``: bytes, or a stream hashed in chunks from its start."""
    if isinstance(content, bytes):
        return cms.verify_detached(content, signature, ca_certificate=authority)
    content.seek(0)
    try:
        return cms.verify_detached(content, signature, ca_certificate=authority)  # type: ignore[arg-type]  # pyHanko reads streams
    finally:
        content.seek(0)


def _cms_checks(
    session: Session,
    objects: ObjectStore,
    authority: x509.Certificate,
    content: bytes | BinaryIO,
    signatures: list[Signature],
) -> tuple[list[CheckOut], dict[str, bool]]:
    checks, by_party = [], {}
    for s in signatures:
        stored = session.get(Document, s.cms_document_id)
        if stored is None:
            raise RuntimeError("expected stored is not None")
        result = _cms_check(content, read_document(objects, stored), authority)
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
    if frozen is None:
        raise RuntimeError("expected frozen is not None")
    checks, cms_ok = _cms_checks(session, objects, authority, read_document(objects, frozen), signatures)
    pdf_ok: dict[str, bool] = {}
    if agreement.signed_pdf_id is not None and signatures:
        latest = session.get(Document, agreement.signed_pdf_id)
        if latest is None:
            raise RuntimeError("expected latest is not None")
        pdf_checks, pdf_ok = _pdf_checks(read_document(objects, latest), authority, len(signatures))
        checks += pdf_checks
    checks.append(_state_check(agreement))
    return _result(
        agreement, checks, signatures=_public_signatures(agreement, signatures, cms_ok, pdf_ok), method=BY_SIGNATURES
    )


def _state_check(agreement: Agreement) -> CheckOut:
    effective = agreement.state in ("effective", "expired", "terminated")
    label = AGREEMENT_WORKFLOW.label(agreement.state)
    return CheckOut(
        name="signed_by_all",
        ok=effective,
        message="各方已全部签署" if effective else f"协议尚未由各方全部签署（当前：{label}）",
    )


def _pdf_differences(
    session: Session, objects: ObjectStore, agreement: Agreement, file: BinaryIO, upload: Upload
) -> tuple[list[CheckOut], dict[str, bool]]:
    """A PDF the archive does not hold, judged against the archived signed PDF without parsing it."""
    archived_id = agreement.signed_pdf_id or agreement.frozen_pdf_id
    archived = session.get(Document, archived_id) if archived_id else None
    if archived is None:
        return [CheckOut(name="pdf.archived", ok=False, message="存档中没有可比对的签署后 PDF")], {}
    content = read_document(objects, archived)  # our own file: safe to parse, a few MB at most
    ranges = []
    for sig in PdfFileReader(io.BytesIO(content), strict=False).embedded_signatures:
        start, first, second, length = (int(v) for v in sig.sig_object["/ByteRange"])
        ranges.append(
            SignedRange(
                party=sig.field_name.split("-")[0], gap_start=start + first, gap_end=second, end=second + length
            )
        )
    verdicts, overall = compare_with_archive(file, upload.size, io.BytesIO(content), len(content), ranges)
    checks = [
        CheckOut(name=f"pdf.{party}", ok=False, message=f"{PARTY_LABELS.get(party, party)}{problem}")
        for party, problem in verdicts
    ]
    checks.append(CheckOut(name="pdf.coverage", ok=False, message=overall))
    return checks, dict.fromkeys((party for party, _ in verdicts), False)


def _archived_hashes(objects: ObjectStore, agreement: Agreement) -> set[str]:
    """The SHA-256 of every file the write-once archive of the agreement's completion lists."""
    if not agreement.archive_key:
        return set()
    with objects.open(agreement.archive_key) as stream:
        manifest = json.loads(stream.read(1 << 20))
    return {str(entry.get("sha256", "")) for entry in manifest.get("files", [])}


def _certificate_checks(
    session: Session, objects: ObjectStore, authority: x509.Certificate, agreement: Agreement,
    matched: Document, file: BinaryIO,
) -> tuple[list[CheckOut], str]:  # fmt: skip
    """A certificate of completion: registered in the archive at completion, and (its .docx) sealed."""
    label = KIND_LABELS.get(matched.kind, matched.kind)
    registered = matched.sha256 in _archived_hashes(objects, agreement)
    checks = [
        CheckOut(
            name="registered",
            ok=registered,
            message=f"{label}在协议生效时归档登记，其 SHA-256 指纹与存档清单一致"
            if registered
            else f"存档清单中没有登记该{label}的指纹",
        )
    ]
    if matched.kind != "completion_certificate":
        return checks, BY_REGISTERED_HASH
    seal = session.scalar(
        select(Document).where(
            Document.owner_type == "agreement",
            Document.owner_id == agreement.id,
            Document.kind == "completion_certificate_signature",
        )
    )
    sealed = seal is not None and _cms_check(file, read_document(objects, seal), authority).ok
    checks.append(
        CheckOut(
            name="cms.system",
            ok=sealed,
            message="签署完成证明的系统签名（本系统根证书）有效" if sealed else "签署完成证明的系统签名无效",
        )
    )
    return checks, BY_REGISTERED_HASH_AND_SEAL


def _agreement_of_upload(
    session: Session, file: BinaryIO, upload: Upload, code: str | None
) -> tuple[Document | None, Agreement | None, str | None]:
    """The archived file the upload is, its agreement (else the one whose code it names), and why the
    file could not be read when it could not. The hash comes first: a known file is not looked into."""
    matched = session.scalar(
        select(Document).where(Document.sha256 == upload.sha256, Document.owner_type == "agreement").limit(1)
    )
    if matched is not None:
        return matched, session.get(Agreement, matched.owner_id), None
    wanted, unreadable = ([normalise_code(code)], None) if code else codes_inside(file, upload.kind)
    for candidate in wanted:
        agreement = session.scalar(select(Agreement).where(Agreement.verification_code == candidate))
        if agreement is not None:
            return None, agreement, None
    return None, None, unreadable


def verify_file(
    *, session: Session, settings: Settings, objects: ObjectStore, file: BinaryIO, upload: Upload,
    code: str | None = None,
) -> VerificationOut:  # fmt: skip
    """Compare an uploaded file (hashed already: ``upload``) with the archive, then check what it must."""
    matched, agreement, unreadable = _agreement_of_upload(session, file, upload, code)
    if agreement is None or agreement.frozen_docx_id is None:
        message = "存档中没有与该文件一致的协议，也无法从文件中识别验证码"
        if unreadable:
            message = f"存档中没有与该文件一致的协议；{unreadable}"
        return _result(None, [CheckOut(name="archive", ok=False, message=message)], sha256=upload.sha256)
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
    method = BY_SIGNATURES
    public: list[PublicSignature] = []
    if matched is not None and matched.kind in CERTIFICATE_KINDS:
        more, method = _certificate_checks(session, objects, authority, agreement, matched, file)
        checks += more
    elif upload.kind == "pdf":
        signatures = _signatures_of_round(agreement, agreement.round)
        if matched is not None:
            file.seek(0)
            more, pdf_ok = _pdf_checks(file.read(upload.size), authority, len(signatures))  # an archived file: ours
        else:
            more, pdf_ok = _pdf_differences(session, objects, agreement, file, upload)
        checks += more
        public = _public_signatures(agreement, signatures, pdf_ok)
    else:
        # A .docx: the detached signatures of the round it belongs to (the current one, unless it is an
        # earlier round's frozen file, whose signatures were voided).
        round_no = agreement.round
        if matched is not None and matched.kind == "agreement_final":
            round_no = matched.version_no
        signatures = _signatures_of_round(agreement, round_no)
        more, cms_ok = _cms_checks(session, objects, authority, file, signatures)
        checks += more
        if round_no != agreement.round or any(s.voided_at for s in signatures):
            checks.append(CheckOut(name="round", ok=False, message=f"该文件属于已作废的第 {round_no} 轮签署"))
        public = _public_signatures(agreement, signatures, cms_ok)
    checks.append(_state_check(agreement))
    return _result(agreement, checks, signatures=public, matched=matched, sha256=upload.sha256, method=method)
