"""The agreement as documents: drafts re-rendered on every edit, and the frozen final .docx and PDF.

Sending freezes the agreement: the final .docx is rendered once (seal images and the signature
block filled, the verification code and its QR code printed) and converted to PDF/A. Signatures
then accumulate on exactly those bytes.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from typing import Any

import qrcode
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.objects import ObjectStore
from storage.settings import Settings
from templates.build_agreement import QR_PICTURE, SEAL_PICTURES
from templates.district import BUREAU_SHORT
from templates.docx import render_docx
from templates.pictures import replace_pictures
from workflows.agreements.conversion import docx_to_pdf
from workflows.agreements.models import LEAD_PILLAR, MEMBER, Agreement
from workflows.agreements.parties import BUREAU_PARTY_NAME, party_label
from workflows.agreements.seals import read_object, seal_key
from workflows.applications.models import Application, Decision
from workflows.clock import BEIJING as BEIJING
from workflows.clock import beijing
from workflows.clock import chinese_date as chinese_date
from workflows.documents.models import Document
from workflows.documents.service import next_version_no, store_generated
from workflows.errors import FieldError
from workflows.registry.models import Kindergarten

TEMPLATES = {MEMBER: "agreement.docx", LEAD_PILLAR: "agreement_lead_pillar.docx"}
PDF = "application/pdf"
CMS = "application/pkcs7-signature"
KIND_LABELS = {
    "agreement_draft": "协议书草稿",
    "agreement_final": "协议书定稿（.docx）",
    "agreement_pdf": "协议书定稿（PDF）",
    "agreement_signed_pdf": "签署后的 PDF",
    "agreement_signature": "CMS 签名",
    "completion_certificate": "签署完成证明（.docx）",
    "completion_certificate_pdf": "签署完成证明（PDF）",
    "completion_certificate_signature": "签署完成证明的系统签名",
}


def beijing_time(value: datetime | None) -> str:
    """A timestamp as the office reads it: Beijing time, to the second."""
    return "" if value is None else beijing(value).strftime("%Y-%m-%d %H:%M:%S（北京时间）")


def verify_url(settings: Settings, code: str) -> str:
    # The public verification page (api/web/pages/verify.py); /api/verify/{code} answers the same in JSON.
    return f"{settings.base_url.rstrip('/')}/verify?code={code}"


def title_of(agreement: Agreement) -> str:
    if agreement.kind == LEAD_PILLAR:
        return "青山湖区1+1+N幼教联盟协议书（龙头园与支柱园）"
    member = agreement.parties.get("member", {}).get("name", "")
    return f"青山湖区1+1+N幼教联盟协议书（{member}）"


def subject_of(agreement: Agreement) -> str:
    """Who the agreement is with, as a list or a 待办 names it: the member, or 龙头园与支柱园."""
    if agreement.kind == LEAD_PILLAR:
        return "龙头园与支柱园"
    return str(agreement.parties.get("member", {}).get("name", ""))


def refresh_parties(session: Session, agreement: Agreement) -> None:
    """Copy the parties' current names, heads and addresses onto the agreement (as printed)."""
    parties: dict[str, Any] = {}
    for party in agreement.party_keys:
        kindergarten_id = agreement.kindergarten_of(party)
        k = session.get(Kindergarten, kindergarten_id) if kindergarten_id else None
        parties[party] = {
            "label": party_label(party),
            "name": k.name if k else BUREAU_PARTY_NAME,
            "head": (k.head_name if k else "") or "",
            "address": (k.address if k else "") or "",
            "kindergarten_id": str(kindergarten_id) if kindergarten_id else None,
        }
    agreement.parties = parties


def basis_of(session: Session, agreement: Agreement) -> str:
    """The sentence of the preamble that says how the parties came to this agreement."""
    alliance = agreement.alliance.name
    if agreement.kind == LEAD_PILLAR:
        basis = f"依《联盟安排表》，甲方为{alliance}龙头园，乙方为{alliance}支柱园，共同带领联盟成员园开展工作。"
    elif agreement.application_id is not None:
        application = session.get(Application, agreement.application_id)
        number = application.number if application else "—"
        decision = session.scalar(select(Decision).where(Decision.application_id == agreement.application_id))
        # 方案: 书面打报告至区教科体局申请，经批复即可加入 — the agreement names the 批复 it follows.
        approval = f"批复同意（{decision.number}，申请编号 {number}）" if decision else f"审核批准（申请编号 {number}）"
        basis = f"经丙方申请、{BUREAU_SHORT}{approval}，丙方加入{alliance}。"
    else:
        basis = f"依《联盟安排表》，丙方为{alliance}成员园。"
    previous = session.get(Agreement, agreement.renewal_of_id) if agreement.renewal_of_id else None
    if previous is not None:
        basis += f"本协议为编号 {previous.number} 协议（{chinese_date(previous.term_end)}期满）的续签。"
    return basis


def agreement_context(session: Session, settings: Settings, agreement: Agreement, *, final: bool) -> dict[str, Any]:
    """Every template variable of the agreement, as plain text values."""
    draft_no = next_version_no(session, owner_type="agreement", owner_id=agreement.id, kind="agreement_draft")
    context: dict[str, Any] = {
        "number": agreement.number,
        "status_line": "定稿（签署版）" if final else f"草稿 第 {draft_no} 版（仅供审阅，不作签署）",
        "alliance_name": agreement.alliance.name,
        "basis": basis_of(session, agreement),
        "term_start": chinese_date(agreement.term_start),
        "term_end": chinese_date(agreement.term_end),
        "special_clauses": agreement.special_clauses.strip() or "无。",
        "verification_code": agreement.verification_code if final else "（发出签署时启用）",
        "verify_url": verify_url(settings, agreement.verification_code) if final else "",
        "verify_note": "扫描二维码或访问上述网址，可核验本协议是否为签署原件。" if final else "草稿不可核验。",
    }
    for party in agreement.party_keys:
        info = agreement.parties[party]
        for field in ("label", "name", "head", "address"):
            context[f"{party}_{field}"] = info[field] or "—"
    return context


def seal_problem(session: Session, agreement: Agreement, party: str) -> FieldError | None:
    """Why ``party`` cannot put its seal on the agreement yet (no seal image uploaded), or None."""
    if seal_key(session, agreement, party):
        return None
    where = (
        f"请成幼科在「我的账号」中上传{BUREAU_SHORT}印章" if party == "bureau" else "请该园在「我的账号」中上传本园印章"
    )
    name = agreement.parties[party]["name"]
    return FieldError(f"seals.{party}", "seal_missing", f"{name}尚未上传印章图片（{where}）")


def seal_problems(session: Session, agreement: Agreement) -> list[FieldError]:
    """Every party whose seal image is missing (the final document prints every party's)."""
    return [p for party in agreement.party_keys if (p := seal_problem(session, agreement, party)) is not None]


def qr_png(text: str) -> bytes:
    image = qrcode.make(text, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def render_draft(
    *, session: Session, settings: Settings, objects: ObjectStore, agreement: Agreement, actor_id: str | None
) -> Document:
    """Render the agreement as it stands as its next draft version (no seals, not verifiable)."""
    refresh_parties(session, agreement)
    context = agreement_context(session, settings, agreement, final=False)
    version_no = next_version_no(session, owner_type="agreement", owner_id=agreement.id, kind="agreement_draft")
    return store_generated(
        session=session,
        objects=objects,
        owner_type="agreement",
        owner_id=agreement.id,
        kind="agreement_draft",
        title=f"联盟协议书（草稿 第 {version_no} 版）",
        filename=f"{agreement.number}_协议书_草稿v{version_no}.docx",
        content=render_docx(TEMPLATES[agreement.kind], context),
        created_by=actor_id,
    )


def freeze(
    *, session: Session, settings: Settings, objects: ObjectStore, agreement: Agreement, actor_id: str | None
) -> tuple[Document, Document | None]:
    """Render the final .docx once (seals, signature block, code, QR) and its PDF; store both."""
    refresh_parties(session, agreement)
    context = agreement_context(session, settings, agreement, final=True)
    pictures = {
        SEAL_PICTURES[p]: read_object(objects, seal_key(session, agreement, p) or "") for p in agreement.party_keys
    }
    pictures[QR_PICTURE] = qr_png(verify_url(settings, agreement.verification_code))
    content = replace_pictures(render_docx(TEMPLATES[agreement.kind], context), pictures)
    stem = f"{agreement.number}_联盟协议书_第{agreement.round}轮"
    docx = store_generated(
        session=session,
        objects=objects,
        owner_type="agreement",
        owner_id=agreement.id,
        kind="agreement_final",
        title=f"联盟协议书定稿（第 {agreement.round} 轮签署）",
        filename=f"{stem}.docx",
        content=content,
        created_by=actor_id,
    )
    pdf_bytes = docx_to_pdf(content)
    pdf = None
    if pdf_bytes is not None:
        pdf = store_generated(
            session=session,
            objects=objects,
            owner_type="agreement",
            owner_id=agreement.id,
            kind="agreement_pdf",
            title=f"联盟协议书定稿 PDF（第 {agreement.round} 轮签署）",
            filename=f"{stem}.pdf",
            content=pdf_bytes,
            content_type=PDF,
            created_by=actor_id,
        )
    return docx, pdf


def read_document(objects: ObjectStore, document: Document) -> bytes:
    """A stored document's bytes, checked against the hash recorded when it was stored."""
    content = read_object(objects, document.object_key)
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise RuntimeError(f"stored document {document.id} does not match its recorded SHA-256")
    return content
