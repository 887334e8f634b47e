"""What a person reads of an agreement: its text before signing, and its files sorted by use.

The text comes from the .docx the signatures cover (the frozen one of the round being signed), so
the page shows exactly what is signed. The files fall into the one a person wants (the final signed
version and the certificate of completion) and the technical ones (each party's .p7s, the PDF after
each signature, earlier rounds and drafts), which the pages fold away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from storage.objects import ObjectStore
from templates.docx_text import Block, read_blocks
from workflows.agreements.documents import read_document
from workflows.agreements.models import Agreement
from workflows.documents.models import Document
from workflows.documents.service import list_for_owner

COMPLETED_STATES = frozenset({"effective", "expired", "terminated"})


def signing_text(session: Session, objects: ObjectStore, agreement: Agreement) -> list[Block]:
    """The text being signed (the frozen .docx of this round); empty before the agreement is sent."""
    if agreement.frozen_docx_id is None:
        return []
    frozen = session.get(Document, agreement.frozen_docx_id)
    if frozen is None:
        raise RuntimeError("expected frozen is not None")
    return read_blocks(read_document(objects, frozen))


def draft_text(session: Session, objects: ObjectStore, agreement: Agreement) -> list[Block]:
    """The text of the latest draft (what sending would freeze, but for seals and the code)."""
    drafts = [
        d
        for d in list_for_owner(session=session, owner_type="agreement", owner_id=agreement.id)
        if d.kind == "agreement_draft"
    ]
    return read_blocks(read_document(objects, drafts[0])) if drafts else []


@dataclass
class AgreementFiles:
    """The agreement's files as the pages offer them."""

    final: Document | None = None  # 最终签署版: the PDF with every signature, else the frozen .docx
    certificate: Document | None = None  # 签署完成证明: its PDF where there is one, else the .docx
    current: Document | None = None  # before completion: the text as it stands (draft, or frozen for signing)
    technical: list[Document] = field(default_factory=list)  # everything else, newest first


def files_of(session: Session, agreement: Agreement) -> AgreementFiles:
    """Every file of the agreement, the one or two a person wants picked out, the rest technical."""
    documents = list_for_owner(session=session, owner_type="agreement", owner_id=agreement.id)
    by_id = {d.id: d for d in documents}

    def newest(kind: str) -> Document | None:
        return next((d for d in documents if d.kind == kind), None)

    files = AgreementFiles()
    if agreement.state in COMPLETED_STATES and agreement.effective_at is not None:
        final_id = agreement.signed_pdf_id or agreement.frozen_docx_id
        files.final = by_id.get(final_id) if final_id else None
        if agreement.certificate_id is not None:  # None while it is made, after the last signature
            files.certificate = newest("completion_certificate_pdf") or by_id.get(agreement.certificate_id)
    elif agreement.state == "signing" and agreement.frozen_docx_id is not None:
        files.current = by_id.get(agreement.frozen_pdf_id or agreement.frozen_docx_id)
    else:
        files.current = newest("agreement_draft")
    picked = {d.id for d in (files.final, files.certificate, files.current) if d is not None}
    files.technical = sorted((d for d in documents if d.id not in picked), key=lambda d: d.created_at, reverse=True)
    return files
