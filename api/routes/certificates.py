"""Certificates (公开课证书, 讲座证书): issued by the alliance's lead, countersigned by the section."""

from __future__ import annotations

import uuid

from api.deps import CurrentViewer, SessionDep, YearFilter
from api.routing import api_router
from workflows import jobs
from workflows.certificates import service
from workflows.certificates.schemas import BatchBody, BatchOut, CertificateOut, CountersignBody

router = api_router(prefix="/certificates", tags=["certificates"])


@router.post("/batch", response_model=BatchOut, status_code=201)
def issue_batch(body: BatchBody, session: SessionDep, viewer: CurrentViewer) -> BatchOut:
    batch = service.issue_batch(session=session, viewer=viewer, year=body.year, activity_id=body.activity_id)
    return BatchOut(issued=[CertificateOut.of(c) for c in batch.issued], already_issued=batch.already_issued)


@router.post("/countersign", response_model=jobs.JobOut, status_code=202)
def countersign(body: CountersignBody, session: SessionDep, viewer: CurrentViewer) -> jobs.JobOut:
    job = service.start_countersign(session=session, viewer=viewer, alliance_id=body.alliance_id, pdf=body.pdf)
    return jobs.JobOut.of(job)


@router.get("", response_model=list[CertificateOut])
def list_certificates(
    session: SessionDep,
    viewer: CurrentViewer,
    year: YearFilter = None,
    activity_id: uuid.UUID | None = None,
    state: str | None = None,
) -> list[CertificateOut]:
    rows = service.list_visible(session=session, viewer=viewer, year=year, activity_id=activity_id, state=state)
    return [CertificateOut.of(c) for c in rows]


@router.get("/{certificate_id}", response_model=CertificateOut)
def get_certificate(certificate_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> CertificateOut:
    return CertificateOut.of(service.get_visible(session=session, viewer=viewer, certificate_id=certificate_id))
