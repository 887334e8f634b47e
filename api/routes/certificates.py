"""Certificates (公开课证书, 讲座证书): batch issue, list, read."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import CurrentViewer, ObjectsDep, SessionDep, SettingsDep, YearFilter
from workflows.certificates import service
from workflows.certificates.schemas import BatchBody, BatchOut, CertificateOut

router = APIRouter(prefix="/certificates", tags=["certificates"])


@router.post("/batch", response_model=BatchOut, status_code=201)
def issue_batch(
    body: BatchBody, session: SessionDep, viewer: CurrentViewer, objects: ObjectsDep, settings: SettingsDep
) -> BatchOut:
    batch = service.issue_batch(
        session=session,
        viewer=viewer,
        objects=objects,
        year=body.year,
        activity_id=body.activity_id,
        pdf=body.pdf,
        base_url=settings.base_url,
    )
    return BatchOut(
        issued=[CertificateOut.of(c) for c in batch.issued], already_issued=batch.already_issued, pdf=batch.pdf
    )


@router.get("", response_model=list[CertificateOut])
def list_certificates(
    session: SessionDep, viewer: CurrentViewer, year: YearFilter = None, activity_id: uuid.UUID | None = None
) -> list[CertificateOut]:
    rows = service.list_visible(session=session, viewer=viewer, year=year, activity_id=activity_id)
    return [CertificateOut.of(c) for c in rows]


@router.get("/{certificate_id}", response_model=CertificateOut)
def get_certificate(certificate_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> CertificateOut:
    return CertificateOut.of(service.get_visible(session=session, viewer=viewer, certificate_id=certificate_id))
