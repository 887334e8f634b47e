"""Turning agreements and signing keys into what the API returns."""

from __future__ import annotations

import uuid

from cryptography import x509
from sqlalchemy.orm import Session

from storage.settings import Settings
from workflows.access import Viewer
from workflows.agreements import freezing
from workflows.agreements.completion import completion_pending
from workflows.agreements.documents import subject_of, title_of, verify_url
from workflows.agreements.generation import AllianceAgreements, MemberLine
from workflows.agreements.machine import AGREEMENT_WORKFLOW, PARTY_EVENTS, SYSTEM_EVENTS
from workflows.agreements.models import Agreement, SigningKey
from workflows.agreements.parties import PARTY_LABELS, party_of
from workflows.agreements.schemas import (
    AgreementBrief,
    AgreementOut,
    AllianceAgreementsOut,
    MemberAgreementsOut,
    PartyOut,
    SigningKeyOut,
    StepOut,
)
from workflows.presenters import Presented
from workflows.registry.models import ROLE_LABELS


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
    generating = freezing.generating(agreement)
    if generating:
        allowed = [e for e in allowed if e != "sign"]
    job = freezing.current_job(session, agreement) if generating else None
    return AgreementOut.model_validate(
        Presented(
            agreement,
            title=title_of(agreement),
            subject=subject_of(agreement),
            state_label=AGREEMENT_WORKFLOW.label(agreement.state),
            alliance_name=agreement.alliance.name,
            parties=[
                PartyOut(
                    key=p,
                    label=agreement.parties[p]["label"],
                    name=agreement.parties[p]["name"],
                    kindergarten_id=uuid.UUID(agreement.parties[p]["kindergarten_id"])
                    if agreement.parties[p]["kindergarten_id"]
                    else None,
                )
                for p in agreement.party_keys
            ],
            route=[StepOut(index=i, parties=step, done=set(step) <= signed) for i, step in enumerate(agreement.route)],
            current_step=agreement.current_step if agreement.state == "signing" else None,
            awaiting=agreement.awaiting if agreement.state == "signing" else [],
            my_party=mine,
            verification_code=agreement.verification_code if sent else None,
            verify_url=verify_url(settings, agreement.verification_code) if sent else None,
            signatures=[
                Presented(
                    s,
                    party_label=PARTY_LABELS[s.party],
                    void=s.voided_at is not None or s.round != agreement.round,
                )
                for s in agreement.signatures
            ],
            files_generating=generating,
            files_status_label=freezing.GENERATING_LABEL if generating else "",
            freeze_job_id=job.id if job else None,
            certificate_generating=completion_pending(agreement),
            allowed_events=allowed,
        )
    )


def signing_key_out(record: SigningKey) -> SigningKeyOut:
    """A signing key's public side: its certificate."""
    certificate = x509.load_pem_x509_certificate(record.certificate_pem.encode())
    return SigningKeyOut.model_validate(
        Presented(
            record,
            subject=certificate.subject.rfc4514_string(),
            issuer=certificate.issuer.rfc4514_string(),
            serial=record.certificate_serial,
            sha256=record.certificate_sha256,
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
        )
    )


def agreement_brief(agreement: Agreement) -> AgreementBrief:
    return AgreementBrief.model_validate(Presented(agreement, state_label=AGREEMENT_WORKFLOW.label(agreement.state)))


def _line_out(line: MemberLine) -> MemberAgreementsOut:
    m = line.membership
    return MemberAgreementsOut(
        kindergarten_id=m.kindergarten_id,
        kindergarten_name=m.kindergarten.name,
        role=m.role.value,
        role_label=ROLE_LABELS[m.role],
        started_on=m.started_on,
        agreement=agreement_brief(line.current) if line.current else None,
        renewal=agreement_brief(line.renewal) if line.renewal else None,
        missing=line.missing,
    )


def alliance_agreements_out(overview: AllianceAgreements) -> AllianceAgreementsOut:
    """An alliance's members and the state of their agreements."""
    return AllianceAgreementsOut(
        alliance_id=overview.alliance.id,
        alliance_code=overview.alliance.code,
        alliance_name=overview.alliance.name,
        lead_name=overview.alliance.lead.name if overview.alliance.lead else None,
        pillar_name=overview.alliance.pillar.name if overview.alliance.pillar else None,
        lead_pillar=_line_out(overview.lead_pillar) if overview.lead_pillar else None,
        members=[_line_out(m) for m in overview.members],
        missing=overview.missing,
        lead_pillar_missing=overview.lead_pillar_missing,
    )
