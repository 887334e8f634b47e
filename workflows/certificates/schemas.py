"""Certificates and verification results on the wire."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from workflows.certificates.documents import KIND_LABELS, grouped
from workflows.certificates.models import Certificate
from workflows.presenters import Presented

STATE_LABELS = {"pending": "待会签", "countersigned": "已会签"}


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: Annotated[int, Field(ge=2000, le=2100)]
    activity_id: uuid.UUID | None = None


class CountersignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alliance_id: uuid.UUID | None = None  # every alliance's pending certificates when left out
    pdf: bool = True  # also a PDF of each certificate, where LibreOffice is installed


class CertificateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: str
    year: int
    kind: str
    kind_label: str
    activity_id: uuid.UUID
    activity_number: str
    topic: str
    held_on: date
    teacher_id: uuid.UUID
    teacher_name: str
    kindergarten_id: uuid.UUID
    kindergarten_name: str
    alliance_name: str
    verification_code: str
    state: str
    state_label: str
    countersigned_by: str
    countersigned_at: datetime | None
    docx_document_id: uuid.UUID | None
    pdf_document_id: uuid.UUID | None
    issued_by: str
    issued_at: datetime

    @classmethod
    def of(cls, c: Certificate) -> CertificateOut:
        return cls.model_validate(
            Presented(
                c,
                kind_label=KIND_LABELS[c.kind],
                verification_code=grouped(c.verification_code),
                state_label=STATE_LABELS.get(c.state, c.state),
            )
        )


class BatchOut(BaseModel):
    issued: list[CertificateOut]
    already_issued: int
