"""Background jobs (bulk actions): progress and per-item errors, for their creator and the bureau."""

from __future__ import annotations

import uuid

from api.deps import CurrentViewer, SessionDep
from api.routing import api_router
from workflows import jobs

router = api_router(prefix="/jobs", tags=["jobs"])


@router.get("/{job_id}", response_model=jobs.JobOut)
def get_job(job_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> jobs.JobOut:
    return jobs.JobOut.of(jobs.get_visible(session=session, viewer=viewer, job_id=job_id))
