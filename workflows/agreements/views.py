"""Turning agreements and signing keys into what the API returns."""

from __future__ import annotations

import uuid

from cryptography import x509
from sqlalchemy.orm import Session

from storage.settings import Settings
from workflows.access import Viewer
from workflows.agreements.documents import title_of, verify_url
from workflows.agreements.machine import AGREEMENT_WORKFLOW, PARTY_EVENTS, SYSTEM_EVENTS
from workflows.agreements.models import Agreement, SigningKey
from workflows.agreements.parties import PARTIES, PARTY_LABELS, party_of
from workflows.agreements.schemas import AgreementOut, PartyOut, SignatureOut, SigningKeyOut, StepOut


def agreement_out(session: Session, settings: Settings, viewer: Viewer, agreement: Agreement) -> AgreementOut:
    """The agreement as this viewer sees it, with the events this viewer could fire now."""
    mine = party_of(viewer, agreement)
    allowed = [e for e in AGREEMENT_WORKFLOW.allowed_events(agreement, viewer.role) if e not in SYSTEM_EVENTS]
    if mine is None or mine not in agreement.awaiting:
        allowed = [e for e in allowed if e != "sign"]
    if mine is None or mine in agreement.signed_parties:
        allowed = [e for e in allowed if e not in PARTY_EVENTS]
    signed = agreement.signed_parties
    sent = agreement.frozen_docx_id is not None
    return AgreementOut(
        id=agreement.id,
        number=agreement.number,
        title=title_of(agreement),
        state=agreement.state,
        state_label=AGREEMENT_WORKFLOW.label(agreement.state),
        version=agreement.version,
        round=agreement.round,
        alliance_id=agreement.alliance_id,
        alliance_name=agreement.alliance.name,
        application_id=agreement.application_id,
        parties=[
            PartyOut(
                key=p,
                label=agreement.parties[p]["label"],
                name=agreement.parties[p]["name"],
                kindergarten_id=uuid.UUID(agreement.parties[p]["kindergarten_id"])
                if agreement.parties[p]["kindergarten_id"]
                else None,
            )
            for p in PARTIES
        ],
        route=[StepOut(index=i, parties=step, done=set(step) <= signed) for i, step in enumerate(agreement.route)],
        current_step=agreement.current_step if agreement.state == "signing" else None,
        awaiting=agreement.awaiting if agreement.state == "signing" else [],
        my_party=mine,
        term_start=agreement.term_start,
        term_end=agreement.term_end,
        special_clauses=agreement.special_clauses,
        verification_code=agreement.verification_code if sent else None,
        verify_url=verify_url(settings, agreement.verification_code) if sent else None,
        last_comment=agreement.last_comment,
        created_at=agreement.created_at,
        sent_at=agreement.sent_at,
        effective_at=agreement.effective_at,
        ended_at=agreement.ended_at,
        frozen_docx_id=agreement.frozen_docx_id,
        frozen_pdf_id=agreement.frozen_pdf_id,
        signed_pdf_id=agreement.signed_pdf_id,
        certificate_id=agreement.certificate_id,
        signatures=[
            SignatureOut(
                party=s.party,
                party_label=PARTY_LABELS[s.party],
                step=s.step,
                round=s.round,
                signer_name=s.signer_name,
                signed_at=s.signed_at,
                certificate_serial=s.certificate_serial,
                certificate_sha256=s.certificate_sha256,
                content_sha256=s.content_sha256,
                cms_document_id=s.cms_document_id,
                pdf_document_id=s.pdf_document_id,
                void=s.voided_at is not None or s.round != agreement.round,
            )
            for s in agreement.signatures
        ],
        allowed_events=allowed,
    )


def signing_key_out(record: SigningKey) -> SigningKeyOut:
    """A signing key's public side: its certificate."""
    certificate = x509.load_pem_x509_certificate(record.certificate_pem.encode())
    return SigningKeyOut(
        id=record.id,
        algorithm=record.algorithm,
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial=record.certificate_serial,
        sha256=record.certificate_sha256,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        created_at=record.created_at,
        certificate_pem=record.certificate_pem,
    )
