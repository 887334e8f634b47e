"""Agreements, signing keys and verification results on the wire."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from workflows.ranges import Version


class AgreementUpdate(BaseModel):
    """The variable parts the officer edits while the agreement is a draft."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    term_start: date | None = None
    term_end: date | None = None
    special_clauses: str | None = Field(default=None, max_length=4000)
    route: list[list[str]] | None = None


class AgreementEventBody(BaseModel):
    """``POST .../events/<event>``: version and comment (or ``reason``); signing adds ``pin``,
    ``read_confirmed`` (the signer has read the whole text, as the signing page asks) and ``party``."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    comment: str = Field(default="", max_length=2000)
    reason: str = Field(default="", max_length=2000)
    pin: SecretStr | None = None
    read_confirmed: bool = False
    party: str | None = None


class RenewBody(BaseModel):
    """``POST /api/agreements/<id>/renew``: the version of the agreement the officer saw."""

    model_config = ConfigDict(extra="forbid")

    version: Version


class GenerateBody(BaseModel):
    """``POST /api/agreements/generate``: every alliance's members without an agreement, and with
    ``lead_pillar`` each alliance's missing lead–pillar agreement too."""

    model_config = ConfigDict(extra="forbid")

    lead_pillar: bool = True


class AgreementBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    kind: str
    state: str
    state_label: str
    term_no: int
    term_start: date
    term_end: date


class MemberAgreementsOut(BaseModel):
    """A current member (or, for the lead–pillar line, the lead) and its agreements."""

    kindergarten_id: uuid.UUID
    kindergarten_name: str
    role: str
    role_label: str
    started_on: date
    agreement: AgreementBrief | None
    renewal: AgreementBrief | None
    missing: bool


class AllianceAgreementsOut(BaseModel):
    alliance_id: uuid.UUID
    alliance_code: str
    alliance_name: str
    lead_name: str | None
    pillar_name: str | None
    lead_pillar: MemberAgreementsOut | None
    members: list[MemberAgreementsOut]
    missing: int
    lead_pillar_missing: bool


class PartyOut(BaseModel):
    key: str
    label: str
    name: str
    kindergarten_id: uuid.UUID | None


class SignatureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    party: str
    party_label: str
    step: int
    round: int
    signer_name: str
    signed_at: datetime
    certificate_serial: str
    certificate_sha256: str
    content_sha256: str
    cms_document_id: uuid.UUID
    pdf_document_id: uuid.UUID | None
    void: bool


class StepOut(BaseModel):
    index: int
    parties: list[str]
    done: bool


class AgreementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    kind: str
    title: str
    subject: str
    state: str
    state_label: str
    version: Version
    round: int
    alliance_id: uuid.UUID
    alliance_name: str
    application_id: uuid.UUID | None
    parties: list[PartyOut]
    route: list[StepOut]
    current_step: int | None
    awaiting: list[str]
    my_party: str | None
    term_start: date
    term_end: date
    special_clauses: str
    renewal_of_id: uuid.UUID | None
    term_no: int
    verification_code: str | None
    verify_url: str | None
    last_comment: str
    created_at: datetime
    sent_at: datetime | None
    effective_at: datetime | None
    ended_at: datetime | None
    frozen_docx_id: uuid.UUID | None
    frozen_pdf_id: uuid.UUID | None
    signed_pdf_id: uuid.UUID | None
    certificate_id: uuid.UUID | None
    signatures: list[SignatureOut]
    allowed_events: list[str]
    # While the send's job makes the final files: 「生成中」, the job (its progress) and no signing yet.
    files_generating: bool = False
    files_status_label: str = ""
    freeze_job_id: uuid.UUID | None = None
    # Effective, while the certificate of completion and the archive are made after the last signature.
    certificate_generating: bool = False


class SigningKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pin: SecretStr
    # The account password, asked again: a stolen session alone cannot enrol or replace a key.
    password: SecretStr
    current_pin: SecretStr | None = None


class SigningKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    algorithm: str
    subject: str
    issuer: str
    serial: str
    sha256: str
    not_before: datetime
    not_after: datetime
    created_at: datetime
    certificate_pem: str


class PublicParty(BaseModel):
    label: str
    name: str


class PublicAgreement(BaseModel):
    """What verification may reveal: the title, the parties, the dates and the status."""

    title: str
    parties: list[PublicParty]
    status: str
    term_start: date
    term_end: date
    sent_on: date | None
    effective_on: date | None
    ended_on: date | None


class CheckOut(BaseModel):
    name: str
    ok: bool
    message: str


class PublicSignature(BaseModel):
    party: str
    party_name: str
    signed_on: date
    valid: bool


class VerificationOut(BaseModel):
    found: bool
    original: bool  # byte for byte an archived file of the agreement
    ok: bool  # every check below holds
    summary: str = ""  # the verdict in one sentence
    method: str | None = None  # how it was verified: the parties' signatures, or a registered hash (and seal)
    matched: str | None = None  # which archived file it is
    sha256: str | None = None
    document: PublicAgreement | None = None
    signatures: list[PublicSignature] = []
    checks: list[CheckOut] = []
    failed: list[str] = []
