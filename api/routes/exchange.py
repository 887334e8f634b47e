"""及交流工作 (经验交流): the section publishes an alliance's semester summary to every alliance, or takes it
down with a reason; every alliance reads and downloads the published ones."""

from __future__ import annotations

import uuid

from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentViewer, ObjectsDep, SessionDep
from api.routes.files import stream_object
from api.routing import api_router
from workflows import clock
from workflows.activities import exchange
from workflows.activities.models import SemesterWork
from workflows.activities.schemas import WorkOut
from workflows.activities.views import work_out
from workflows.activities.vocabulary import WorkKind

router = api_router(tags=["exchange"])


class Unpublish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=2000)


@router.get("/exchange", response_model=list[exchange.Shared])
def list_shared(session: SessionDep, viewer: CurrentViewer) -> list[exchange.Shared]:
    return exchange.list_shared(session=session, viewer=viewer)


@router.get("/exchange/{work_id}/content")
def shared_content(
    work_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer, objects: ObjectsDep
) -> StreamingResponse:
    d = exchange.shared_document(session=session, viewer=viewer, work_id=work_id)
    return stream_object(objects, d.object_key, filename=d.filename, content_type=d.content_type)


def _out(session: SessionDep, work: SemesterWork) -> WorkOut:
    today = clock.today()
    return work_out(
        session, semester=work.semester, alliance=work.alliance, kind=WorkKind.SUMMARY, work=work, today=today
    )


@router.post("/semesters/{code}/alliances/{alliance_id}/summary/publish", response_model=WorkOut)
def publish(code: str, alliance_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> WorkOut:
    """Publish the summary as it stands to every alliance (the officer)."""
    work = exchange.publish(session=session, viewer=viewer, semester_code=code, alliance_id=alliance_id)
    return _out(session, work)


@router.post("/semesters/{code}/alliances/{alliance_id}/summary/unpublish", response_model=WorkOut)
def unpublish(
    code: str, alliance_id: uuid.UUID, body: Unpublish, session: SessionDep, viewer: CurrentViewer
) -> WorkOut:
    """Take the published summary down, with a reason (the officer)."""
    work = exchange.unpublish(
        session=session, viewer=viewer, semester_code=code, alliance_id=alliance_id, reason=body.reason
    )
    return _out(session, work)
