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
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.db import Database, utcnow
from storage.objects import ObjectStore, StoredObject
from storage.settings import Settings
from templates.docx import render_docx
from workflows import audit, outbox
from workflows.agreements import ca, cms
from workflows.agreements.conversion import docx_to_pdf
from workflows.agreements.documents import (
    CMS,
    KIND_LABELS,
    PDF,
    beijing_time,
    chinese_date,
    title_of,
    verify_url,
)
from workflows.agreements.machine import AGREEMENT_WORKFLOW
from workflows.agreements.models import Agreement, SigningKey
from workflows.agreements.notices import notify_parties
from workflows.agreements.parties import PARTY_LABELS
from workflows.documents.models import Document
from workflows.documents.service import DOCX, list_for_owner, next_version_no

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


ARCHIVE_TOPIC = "agreements.complete"


def complete(*, session: Session, settings: Settings, objects: ObjectStore, agreement: Agreement) -> None:
    """The last party signed: the agreement is effective from now. The certificate of completion, its
    PDF (LibreOffice), the installation's signature and the write-once archive are made after this
    transaction commits (``run_completion``, from the outbox): none of it holds the audit head or
    SQLite's write lock. Until then the agreement page shows the certificate as 「生成中」."""
    agreement.effective_at = utcnow()
    outbox.record(session, ARCHIVE_TOPIC, agreement_id=str(agreement.id), round=agreement.round)


def completion_pending(agreement: Agreement) -> bool:
    """Whether the agreement's certificate of completion and archive are still being made."""
    return agreement.effective_at is not None and agreement.certificate_id is None


@dataclass(frozen=True)
class _Made:
    """A file of the completion, stored (content-addressed) before its row, with the row's id chosen."""

    id: uuid.UUID
    kind: str
    title: str
    stored: StoredObject


def run_completion(
    *,
    db: Database,
    settings: Settings,
    objects: ObjectStore,
    agreement_id: uuid.UUID,
    round_no: int,
    finish: Callable[[Session], None] | None = None,
) -> str | None:
    """Make the certificate of completion of round ``round_no`` and the archive, once; idempotent.

    1. One short transaction reads what the certificate shows (the timeline, the files, the signers).
    2. With no transaction open: render the .docx, convert it to PDF, sign it as the installation,
       store the three files and copy every file of the round with a manifest under the archive.
    3. One short transaction writes the rows (ids chosen in 2, so the manifest names them), the
       audit entry and the parties' notification, if the round is still waiting for them.
    Returns the manifest's key, or None when there was nothing to do."""
    with db.session() as session:
        agreement = session.get(Agreement, agreement_id)
        if agreement is None or agreement.round != round_no or not completion_pending(agreement):
            return None
        context = certificate_context(session, settings, agreement)
        authority = ca.ensure_authority(session=session, settings=settings)
        archived = archived_documents(session, agreement)
        session.expunge_all()
    content = render_docx(TEMPLATE, context)
    stem = f"{agreement.number}_签署完成证明"
    made = [_Made(uuid.uuid4(), "completion_certificate", "签署完成证明",
                  objects.put(io.BytesIO(content), filename=f"{stem}.docx", content_type=DOCX))]  # fmt: skip
    pdf_bytes = docx_to_pdf(content)
    if pdf_bytes is not None:
        made.append(_Made(uuid.uuid4(), "completion_certificate_pdf", "签署完成证明（PDF）",
                          objects.put(io.BytesIO(pdf_bytes), filename=f"{stem}.pdf", content_type=PDF)))  # fmt: skip
    signature = cms.sign_detached(content, key=authority.key, certificate=authority.certificate)
    made.append(_Made(uuid.uuid4(), "completion_certificate_signature", "签署完成证明的系统签名",
                      objects.put(io.BytesIO(signature), filename=f"{stem}.p7s", content_type=CMS)))  # fmt: skip
    files = [_ArchivedFile(d.id, d.kind, d.filename, d.sha256, d.size, d.content_type, d.object_key) for d in archived]
    files += [_ArchivedFile(m.id, m.kind, m.stored.filename, m.stored.sha256, m.stored.size, m.stored.content_type,
                            m.stored.key) for m in made]  # fmt: skip
    manifest_key = archive(objects=objects, agreement=agreement, files=files)
    with db.session() as session:
        agreement = session.get(Agreement, agreement_id, with_for_update=True)
        if agreement is None or agreement.round != round_no or not completion_pending(agreement):
            return None  # a redelivery finished first; what this one stored is left to the sweep
        for m in made:
            session.add(
                Document(
                    id=m.id,
                    kind=m.kind,
                    owner_type="agreement",
                    owner_id=agreement.id,
                    version_no=next_version_no(session, owner_type="agreement", owner_id=agreement.id, kind=m.kind),
                    title=m.title,
                    filename=m.stored.filename,
                    content_type=m.stored.content_type,
                    size=m.stored.size,
                    sha256=m.stored.sha256,
                    object_key=m.stored.key,
                )  # fmt: skip
            )
        session.flush()
        # Not a change anyone made: the version a party saw on the page stays valid (a renewal, say).
        session.execute(
            update(Agreement)
            .where(Agreement.id == agreement.id)
            .values(certificate_id=made[0].id, archive_key=manifest_key)
        )
        session.expire(agreement, ["certificate_id", "archive_key"])
        audit.append(
            session,
            entity_type="agreement",
            entity_id=agreement.id,
            event="archive",
            actor=audit.SYSTEM_ACTOR,
            from_state=agreement.state,
            to_state=agreement.state,
            data={"manifest": manifest_key, "certificate_sha256": made[0].stored.sha256},
        )
        notify_parties(
            session, agreement, list(agreement.party_keys), "agreement.effective",
            f"联盟协议书 {agreement.number} 已生效", "各方已全部签署，签署完成证明已生成",
        )  # fmt: skip
        if finish is not None:
            finish(session)
        return manifest_key


def archived_documents(session: Session, agreement: Agreement) -> list[Document]:
    """The files of the effective round: the frozen .docx and PDF, every signature and signed PDF."""
    ids = [agreement.frozen_docx_id, agreement.frozen_pdf_id]
    for s in agreement.current_signatures:
        ids += [s.cms_document_id, s.pdf_document_id]
    wanted = [i for i in ids if i is not None]
    found = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(wanted)))}
    return [found[i] for i in wanted]


@dataclass(frozen=True)
class _ArchivedFile:
    document_id: uuid.UUID
    kind: str
    filename: str
    sha256: str
    size: int
    content_type: str
    object_key: str


def archive(*, objects: ObjectStore, agreement: Agreement, files: list[_ArchivedFile]) -> str:
    """Copy the round's files under a write-once archive folder; returns the manifest key."""
    entries = [
        {"name": f"{n:02d}_{f.filename}", "kind": f.kind, "sha256": f.sha256, "size": f.size,
         "document_id": str(f.document_id)}
        for n, f in enumerate(files, start=1)
    ]  # fmt: skip
    manifest = {
        "agreement": agreement.number,
        "verification_code": agreement.verification_code,
        "round": agreement.round,
        "effective_at": agreement.effective_at.isoformat() if agreement.effective_at else None,
        "files": entries,
    }
    body = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    folder = f"{ARCHIVE_PREFIX}/{agreement.number}/round-{agreement.round}-{hashlib.sha256(body).hexdigest()[:16]}"
    for entry, file in zip(entries, files, strict=True):
        name = str(entry["name"])
        with objects.open(file.object_key) as stream:
            objects.put_at(f"{folder}/{name}", stream, filename=name, content_type=file.content_type)
    key = f"{folder}/manifest.json"
    objects.put_at(key, io.BytesIO(body), filename="manifest.json", content_type="application/json")
    return key
