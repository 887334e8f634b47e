"""When the last party signed: the certificate of completion (签署完成证明) and the write-once archive.

The certificate lists the parties, signers, certificates, times and addresses, the SHA-256 of every
version of the agreement and the audit timeline; the installation CA signs it (CMS). The signed
files, the signatures and the certificate are then copied under ``archive/agreements/...`` with a
manifest. The object store writes each key once and never overwrites it (a versioned bucket on S3);
the folder name carries a hash of its content, so a retried completion never collides with an
abandoned attempt.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from templates.docx import render_docx
from workflows import audit
from workflows.agreements import ca, cms
from workflows.agreements.conversion import docx_to_pdf
from workflows.agreements.documents import (
    CMS,
    KIND_LABELS,
    PDF,
    beijing_time,
    chinese_date,
    read_document,
    title_of,
    verify_url,
)
from workflows.agreements.machine import AGREEMENT_WORKFLOW
from workflows.agreements.models import Agreement, SigningKey
from workflows.agreements.notices import notify_parties
from workflows.agreements.parties import PARTY_LABELS
from workflows.documents.models import Document
from workflows.documents.service import list_for_owner, store_generated

TEMPLATE = "completion_certificate.docx"
ARCHIVE_PREFIX = "archive/agreements"


def _signature_rows(session: Session, agreement: Agreement) -> list[dict[str, Any]]:
    rows = []
    for s in sorted(agreement.current_signatures, key=lambda s: (s.step, s.signed_at)):
        key = session.get(SigningKey, s.signing_key_id)
        if key is None:
            raise RuntimeError("expected key is not None")
        certificate = x509.load_pem_x509_certificate(key.certificate_pem.encode())
        rows.append(
            {
                "step": str(s.step + 1),
                "party": PARTY_LABELS[s.party],
                "party_name": agreement.parties[s.party]["name"],
                "signer": s.signer_name,
                "signed_at": beijing_time(s.signed_at),
                "address": s.address or "—",
                "subject": certificate.subject.rfc4514_string(),
                "serial": s.certificate_serial,
                "fingerprint": s.certificate_sha256,
                "not_after": certificate.not_valid_after_utc.date().isoformat(),
            }
        )
    return rows


def certificate_context(session: Session, settings: Settings, agreement: Agreement) -> dict[str, Any]:
    """Every template variable of the certificate of completion."""
    authority = ca.authority_certificate(session=session, settings=settings)
    files = sorted(
        list_for_owner(session=session, owner_type="agreement", owner_id=agreement.id), key=lambda d: d.created_at
    )
    timeline = audit.history(session, entity_type="agreement", entity_id=agreement.id)
    return {
        "title": title_of(agreement),
        "number": agreement.number,
        "alliance_name": agreement.alliance.name,
        "verification_code": agreement.verification_code,
        "verify_url": verify_url(settings, agreement.verification_code),
        "round": str(agreement.round),
        "sent_at": beijing_time(agreement.sent_at),
        "effective_at": beijing_time(agreement.effective_at),
        "term": f"{chinese_date(agreement.term_start)} 至 {chinese_date(agreement.term_end)}",
        "signatures": _signature_rows(session, agreement),
        "issuer": authority.subject.rfc4514_string(),
        "ca_fingerprint": ca.fingerprint(authority),
        "files": [
            {
                "label": f"{KIND_LABELS.get(d.kind, d.kind)} · {d.filename}",
                "created_at": beijing_time(d.created_at),
                "sha256": d.sha256,
            }
            for d in files
        ],
        "timeline": [
            {
                "seq": str(e.seq),
                "at": beijing_time(e.created_at),
                "actor": e.actor_name,
                "event": AGREEMENT_WORKFLOW.rules[e.event].label if e.event in AGREEMENT_WORKFLOW.rules else e.event,
                "change": f"{AGREEMENT_WORKFLOW.label(e.from_state or '') or '—'} → {AGREEMENT_WORKFLOW.label(e.to_state or '')}",
                "comment": e.comment or "",
            }
            for e in timeline
        ],
        "statement": (
            "本证明由联盟文书流转系统依据签署记录自动生成，并由本系统根证书签名（CMS）。各方签名均使用签署人专有的"
            "密钥，私钥仅以签署人的签名密码加密保存；文件的任何改动都会使上列 SHA-256 和各方签名校验失败。"
            f"可凭验证码 {agreement.verification_code} 核验。"
        ),
        "generated_at": beijing_time(utcnow()),
    }


def complete(*, session: Session, settings: Settings, objects: ObjectStore, agreement: Agreement) -> None:
    """Produce the certificate of completion, sign it as the installation and archive everything."""
    agreement.effective_at = utcnow()
    session.flush()
    content = render_docx(TEMPLATE, certificate_context(session, settings, agreement))
    stem = f"{agreement.number}_签署完成证明"
    certificate = store_generated(
        session=session, objects=objects, owner_type="agreement", owner_id=agreement.id,
        kind="completion_certificate", title="签署完成证明", filename=f"{stem}.docx", content=content,
    )  # fmt: skip
    agreement.certificate_id = certificate.id
    extra: list[Document] = []
    pdf_bytes = docx_to_pdf(content)
    if pdf_bytes is not None:
        extra.append(
            store_generated(
                session=session,
                objects=objects,
                owner_type="agreement",
                owner_id=agreement.id,
                kind="completion_certificate_pdf",
                title="签署完成证明（PDF）",
                filename=f"{stem}.pdf",
                content=pdf_bytes,
                content_type=PDF,
            )  # fmt: skip
        )
    authority = ca.ensure_authority(session=session, settings=settings)
    extra.append(
        store_generated(
            session=session,
            objects=objects,
            owner_type="agreement",
            owner_id=agreement.id,
            kind="completion_certificate_signature",
            title="签署完成证明的系统签名",
            filename=f"{stem}.p7s",
            content=cms.sign_detached(content, key=authority.key, certificate=authority.certificate),
            content_type=CMS,
        )  # fmt: skip
    )
    manifest_key = archive(session=session, objects=objects, agreement=agreement, extra=[certificate, *extra])
    agreement.archive_key = manifest_key
    audit.append(
        session,
        entity_type="agreement",
        entity_id=agreement.id,
        event="archive",
        actor=audit.SYSTEM_ACTOR,
        from_state=agreement.state,
        to_state=agreement.state,
        data={"manifest": manifest_key, "certificate_sha256": certificate.sha256},
    )
    notify_parties(
        session, agreement, list(agreement.party_keys), "agreement.effective", f"联盟协议书 {agreement.number} 已生效",
        "各方已全部签署，签署完成证明已生成",
    )  # fmt: skip


def archived_documents(session: Session, agreement: Agreement) -> list[Document]:
    """The files of the effective round: the frozen .docx and PDF, every signature and signed PDF."""
    ids = [agreement.frozen_docx_id, agreement.frozen_pdf_id]
    for s in agreement.current_signatures:
        ids += [s.cms_document_id, s.pdf_document_id]
    wanted = [i for i in ids if i is not None]
    found = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(wanted)))}
    return [found[i] for i in wanted]


def archive(*, session: Session, objects: ObjectStore, agreement: Agreement, extra: list[Document]) -> str:
    """Copy the round's files and ``extra`` under a write-once archive folder; returns the manifest key."""
    files = archived_documents(session, agreement) + extra
    entries = [
        {"name": f"{n:02d}_{d.filename}", "kind": d.kind, "sha256": d.sha256, "size": d.size, "document_id": str(d.id)}
        for n, d in enumerate(files, start=1)
    ]
    manifest = {
        "agreement": agreement.number,
        "verification_code": agreement.verification_code,
        "round": agreement.round,
        "effective_at": agreement.effective_at.isoformat() if agreement.effective_at else None,
        "files": entries,
    }
    body = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    folder = f"{ARCHIVE_PREFIX}/{agreement.number}/round-{agreement.round}-{hashlib.sha256(body).hexdigest()[:16]}"
    for entry, document in zip(entries, files, strict=True):
        name = str(entry["name"])
        objects.put_at(
            f"{folder}/{name}",
            io.BytesIO(read_document(objects, document)),
            filename=name,
            content_type=document.content_type,
        )
    key = f"{folder}/manifest.json"
    objects.put_at(key, io.BytesIO(body), filename="manifest.json", content_type="application/json")
    return key
