"""Teaching-research activities: plan, announce, attendance, sign-in sheet, materials, comments, bundle."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import File, Form, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from api.deps import CurrentViewer, ObjectsDep, SessionDep, SettingsDep
from api.routes.files import stream_object
from api.routing import api_router
from storage.objects import content_disposition
from workflows import audit, clock
from workflows.activities import archive, attendance, documents, events, guidance, materials, notice, service
from workflows.activities.schemas import (
    ActivityCreate,
    ActivityOut,
    ActivityUpdate,
    AttendanceBody,
    BundleStatusOut,
    CommentIn,
    CommentOut,
    CompletenessOut,
    EventBody,
    LateNoticeBody,
    MaterialOut,
    WalkIn,
    WithdrawBody,
)
from workflows.activities.views import activity_out, bundle_out, comment_out, completeness_out, material_out
from workflows.activities.vocabulary import MaterialCategory
from workflows.documents.schemas import DocumentOut, HistoryOut
from workflows.documents.service import DOCX, list_for_owner

router = api_router(prefix="/activities", tags=["activities"])


@router.post("", response_model=ActivityOut, status_code=201)
def create_activity(body: ActivityCreate, session: SessionDep, viewer: CurrentViewer) -> ActivityOut:
    return activity_out(viewer, service.create(session=session, viewer=viewer, body=body))


@router.get("", response_model=list[ActivityOut])
def list_activities(
    session: SessionDep,
    viewer: CurrentViewer,
    semester: str | None = None,
    alliance_id: uuid.UUID | None = None,
    state: str | None = None,
) -> list[ActivityOut]:
    rows = service.list_visible(session=session, viewer=viewer, semester=semester, alliance_id=alliance_id, state=state)
    return [activity_out(viewer, a) for a in rows]


@router.get("/{activity_id}", response_model=ActivityOut)
def get_activity(activity_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> ActivityOut:
    return activity_out(viewer, service.get_visible(session=session, viewer=viewer, activity_id=activity_id))


@router.put("/{activity_id}", response_model=ActivityOut)
def update_activity(
    activity_id: uuid.UUID, body: ActivityUpdate, session: SessionDep, viewer: CurrentViewer
) -> ActivityOut:
    activity = service.update(session=session, viewer=viewer, activity_id=activity_id, version=body.version, body=body)
    return activity_out(viewer, activity)


@router.post("/{activity_id}/events/{event}", response_model=ActivityOut)
def fire_event(
    activity_id: uuid.UUID, event: str, body: EventBody, session: SessionDep, viewer: CurrentViewer
) -> ActivityOut:
    activity = events.fire_event(
        session=session, viewer=viewer, activity_id=activity_id, event=event, version=body.version, comment=body.comment
    )
    return activity_out(viewer, activity)


@router.post("/{activity_id}/late-notice", response_model=ActivityOut)
def allow_late_notice(
    activity_id: uuid.UUID, body: LateNoticeBody, session: SessionDep, viewer: CurrentViewer
) -> ActivityOut:
    """成幼科准许逾期通报: the activity may then be announced, marked 未提前通报."""
    activity = notice.allow_late_notice(
        session=session, viewer=viewer, activity_id=activity_id, reason=body.reason, version=body.version,
        today=clock.today(),
    )  # fmt: skip
    return activity_out(viewer, activity)


@router.get("/{activity_id}/history", response_model=list[HistoryOut])
def history(activity_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[HistoryOut]:
    service.get_visible(session=session, viewer=viewer, activity_id=activity_id)
    return [HistoryOut.of(e, viewer) for e in audit.history(session, entity_type="activity", entity_id=activity_id)]


@router.put("/{activity_id}/attendance", response_model=ActivityOut)
def record_attendance(
    activity_id: uuid.UUID, body: AttendanceBody, session: SessionDep, viewer: CurrentViewer
) -> ActivityOut:
    activity = attendance.record_attendance(
        session=session, viewer=viewer, activity_id=activity_id, entries=body.entries, rest_present=body.rest_present
    )
    return activity_out(viewer, activity)


@router.post("/{activity_id}/walk-ins", response_model=ActivityOut, status_code=201)
def add_walk_in(activity_id: uuid.UUID, body: WalkIn, session: SessionDep, viewer: CurrentViewer) -> ActivityOut:
    """Someone who came without being on the list: a teacher of the alliance, or a guest by name and kindergarten."""
    activity = attendance.add_walk_in(session=session, viewer=viewer, activity_id=activity_id, body=body)
    return activity_out(viewer, activity)


@router.post("/{activity_id}/guidance", response_model=ActivityOut, status_code=201)
def add_guidance(
    activity_id: uuid.UUID, body: guidance.GuidanceIn, session: SessionDep, viewer: CurrentViewer
) -> ActivityOut:
    """指导 (教研员深入各联盟): the researcher or a mentor who came to guide, present or late."""
    row = guidance.add_guidance(session=session, viewer=viewer, activity_id=activity_id, body=body)
    return activity_out(viewer, row.activity)


@router.get("/{activity_id}/sign-in-sheet")
def sign_in_sheet(
    activity_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer, settings: SettingsDep
) -> Response:
    """The sign-in sheet to print (.docx), as the activity stands; its QR code opens the phone sign-in
    page at the public address. Nothing is stored."""
    activity = service.get_visible(session=session, viewer=viewer, activity_id=activity_id)
    filename, content = documents.render_sign_in_sheet(activity, base_url=settings.base_url)
    return Response(content, media_type=DOCX, headers={"Content-Disposition": content_disposition(filename)})


@router.get("/{activity_id}/documents", response_model=list[DocumentOut])
def activity_documents(activity_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[DocumentOut]:
    service.get_visible(session=session, viewer=viewer, activity_id=activity_id)
    return [DocumentOut.of(d) for d in list_for_owner(session=session, owner_type="activity", owner_id=activity_id)]


@router.post("/{activity_id}/materials", response_model=MaterialOut, status_code=201)
def upload_material(
    activity_id: uuid.UUID,
    category: Annotated[MaterialCategory, Form()],
    file: Annotated[UploadFile, File()],
    session: SessionDep,
    viewer: CurrentViewer,
    objects: ObjectsDep,
    settings: SettingsDep,
) -> MaterialOut:
    m = materials.add_material(
        session=session, viewer=viewer, objects=objects, settings=settings, activity_id=activity_id,
        category=category, stream=file.file, filename=file.filename or category.value,
    )  # fmt: skip
    return material_out(m)


@router.get("/{activity_id}/materials", response_model=list[MaterialOut])
def list_materials(
    activity_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer, withdrawn: bool = False
) -> list[MaterialOut]:
    """The current materials; with ``withdrawn=true``, those taken back instead (with who and why)."""
    if withdrawn:
        activity = service.get_visible(session=session, viewer=viewer, activity_id=activity_id)
        return [material_out(m) for m in materials.withdrawn_materials(activity)]
    return [material_out(m) for m in materials.list_materials(session=session, viewer=viewer, activity_id=activity_id)]


@router.get("/{activity_id}/materials/{material_id}/content")
def material_content(
    activity_id: uuid.UUID, material_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer, objects: ObjectsDep
) -> StreamingResponse:
    m = materials.get_material(session=session, viewer=viewer, activity_id=activity_id, material_id=material_id)
    return stream_object(objects, m.object_key, filename=m.filename, content_type=m.content_type)


@router.post("/{activity_id}/materials/{material_id}/withdraw", response_model=MaterialOut)
def withdraw_material(
    activity_id: uuid.UUID, material_id: uuid.UUID, body: WithdrawBody, session: SessionDep, viewer: CurrentViewer
) -> MaterialOut:
    m = materials.withdraw_material(
        session=session, viewer=viewer, activity_id=activity_id, material_id=material_id, reason=body.reason
    )
    return material_out(m)


@router.get("/{activity_id}/completeness", response_model=CompletenessOut)
def material_completeness(activity_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> CompletenessOut:
    activity = service.get_visible(session=session, viewer=viewer, activity_id=activity_id)
    return completeness_out(activity, today=clock.today())


@router.post("/{activity_id}/comments", response_model=CommentOut, status_code=201)
def add_comment(activity_id: uuid.UUID, body: CommentIn, session: SessionDep, viewer: CurrentViewer) -> CommentOut:
    return comment_out(service.add_comment(session=session, viewer=viewer, activity_id=activity_id, body=body.body))


@router.get("/{activity_id}/comments", response_model=list[CommentOut])
def list_comments(activity_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[CommentOut]:
    return [comment_out(c) for c in service.list_comments(session=session, viewer=viewer, activity_id=activity_id)]


@router.get("/{activity_id}/bundle/status", response_model=BundleStatusOut)
def bundle_status(activity_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> BundleStatusOut:
    return bundle_out(archive.get_bundle(session=session, viewer=viewer, activity_id=activity_id))


@router.get("/{activity_id}/bundle", response_model=None)
def download_bundle(
    activity_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer, objects: ObjectsDep
) -> StreamingResponse | RedirectResponse:
    b = archive.ready_bundle(session=session, viewer=viewer, activity_id=activity_id)
    if b.object_key is None:
        raise RuntimeError("expected b.object_key is not None")
    url = objects.presigned_url(b.object_key, filename=b.filename)
    if url is not None:  # S3: the client fetches the zip from the store directly
        return RedirectResponse(url, status_code=307)
    return stream_object(objects, b.object_key, filename=b.filename, content_type="application/zip")
