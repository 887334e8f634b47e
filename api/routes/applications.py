"""Applications to join an alliance: form, attachments, workflow events, history, documents."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import File, Form, UploadFile
from fastapi.responses import StreamingResponse

from api.deps import CurrentViewer, ObjectsDep, SessionDep, SettingsDep
from api.routes.files import stream_object
from api.routing import api_router
from workflows import audit
from workflows.applications import events, service
from workflows.applications.schemas import (
    ApplicationCreate,
    ApplicationOut,
    ApplicationUpdate,
    AttachmentKind,
    AttachmentOut,
    EventBody,
)
from workflows.applications.views import application_out, applications_out, attachment_out
from workflows.documents.schemas import DocumentOut, HistoryOut
from workflows.documents.service import list_for_owner

router = api_router(prefix="/applications", tags=["applications"])


@router.post("", response_model=ApplicationOut, status_code=201)
def create_application(body: ApplicationCreate, session: SessionDep, viewer: CurrentViewer) -> ApplicationOut:
    application = service.create(session=session, viewer=viewer, form=body)
    return application_out(session, viewer, application)


@router.get("", response_model=list[ApplicationOut])
def list_applications(
    session: SessionDep,
    viewer: CurrentViewer,
    state: str | None = None,
    town: str | None = None,
    alliance_id: uuid.UUID | None = None,
) -> list[ApplicationOut]:
    rows = service.list_visible(session=session, viewer=viewer, state=state, town=town, alliance_id=alliance_id)
    return applications_out(session, viewer, rows)


@router.get("/{application_id}", response_model=ApplicationOut)
def get_application(application_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> ApplicationOut:
    return application_out(
        session, viewer, service.get_visible(session=session, viewer=viewer, application_id=application_id)
    )


@router.put("/{application_id}", response_model=ApplicationOut)
def update_application(
    application_id: uuid.UUID, body: ApplicationUpdate, session: SessionDep, viewer: CurrentViewer
) -> ApplicationOut:
    application = service.update_form(
        session=session, viewer=viewer, application_id=application_id, version=body.version, form=body.form
    )
    return application_out(session, viewer, application)


@router.post("/{application_id}/events/{event}", response_model=ApplicationOut)
def fire_event(
    application_id: uuid.UUID,
    event: str,
    body: EventBody,
    session: SessionDep,
    settings: SettingsDep,
    viewer: CurrentViewer,
    objects: ObjectsDep,
) -> ApplicationOut:
    application = events.fire_event(
        session=session,
        settings=settings,
        viewer=viewer,
        objects=objects,
        application_id=application_id,
        event=event,
        version=body.version,
        comment=body.comment,
        fields=body.model_dump(exclude={"version", "comment"}),
    )
    return application_out(session, viewer, application)


@router.get("/{application_id}/history", response_model=list[HistoryOut])
def history(application_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[HistoryOut]:
    service.get_visible(session=session, viewer=viewer, application_id=application_id)
    return [
        HistoryOut.of(e, viewer) for e in audit.history(session, entity_type="application", entity_id=application_id)
    ]


@router.post("/{application_id}/attachments", response_model=AttachmentOut, status_code=201)
def upload_attachment(
    application_id: uuid.UUID,
    kind: Annotated[AttachmentKind, Form()],
    file: Annotated[UploadFile, File()],
    session: SessionDep,
    viewer: CurrentViewer,
    objects: ObjectsDep,
    settings: SettingsDep,
) -> AttachmentOut:
    a = service.add_attachment(
        session=session,
        viewer=viewer,
        objects=objects,
        settings=settings,
        application_id=application_id,
        kind=kind,
        stream=file.file,
        filename=file.filename or kind.value,
    )

    return attachment_out(a)


@router.get("/{application_id}/attachments/{attachment_id}/content")
def attachment_content(
    application_id: uuid.UUID,
    attachment_id: uuid.UUID,
    session: SessionDep,
    viewer: CurrentViewer,
    objects: ObjectsDep,
) -> StreamingResponse:
    a = service.get_attachment(
        session=session, viewer=viewer, application_id=application_id, attachment_id=attachment_id
    )
    # A download: only the pages show an attachment in the browser (their preview).
    return stream_object(objects, a.object_key, filename=a.filename, content_type=a.content_type)


@router.get("/{application_id}/documents", response_model=list[DocumentOut])
def application_documents(application_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[DocumentOut]:
    service.get_visible(session=session, viewer=viewer, application_id=application_id)
    return [
        DocumentOut.of(d) for d in list_for_owner(session=session, owner_type="application", owner_id=application_id)
    ]
