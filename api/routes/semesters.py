"""Semesters and each alliance's semester plan (联盟互动计划) and summary (教研经验小结)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import File, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from api.deps import CurrentViewer, ObjectsDep, SessionDep, SettingsDep
from api.routes.files import stream_object
from api.routing import api_router
from workflows import clock
from workflows.access import Viewer
from workflows.activities import semester_work, semesters
from workflows.activities.schemas import PlanSave, SemesterCreate, SemesterOut, SemesterUpdate, SummarySave, WorkOut
from workflows.activities.views import semester_out, work_out
from workflows.activities.vocabulary import WorkKind
from workflows.errors import NotFound

router = api_router(prefix="/semesters", tags=["semesters"])


@router.get("", response_model=list[SemesterOut])
def list_semesters(session: SessionDep, viewer: CurrentViewer) -> list[SemesterOut]:
    return [semester_out(s) for s in semesters.list_semesters(session=session)]


@router.post("", response_model=SemesterOut, status_code=201)
def create_semester(body: SemesterCreate, session: SessionDep, viewer: CurrentViewer) -> SemesterOut:
    return semester_out(semesters.create_semester(session=session, viewer=viewer, body=body))


@router.get("/{code}", response_model=SemesterOut)
def get_semester(code: str, session: SessionDep, viewer: CurrentViewer) -> SemesterOut:
    return semester_out(semesters.get_semester(session=session, code=code))


@router.patch("/{code}", response_model=SemesterOut)
def update_semester(code: str, body: SemesterUpdate, session: SessionDep, viewer: CurrentViewer) -> SemesterOut:
    return semester_out(semesters.update_semester(session=session, viewer=viewer, code=code, body=body))


def _work_out(session: Session, viewer: Viewer, code: str, alliance_id: uuid.UUID, kind: WorkKind) -> WorkOut:
    semester, alliance, work = semester_work.get_work(
        session=session, viewer=viewer, semester_code=code, alliance_id=alliance_id, kind=kind
    )
    today = clock.today()
    return work_out(session, semester=semester, alliance=alliance, kind=kind, work=work, today=today)


@router.get("/{code}/alliances/{alliance_id}/{kind}", response_model=WorkOut)
def get_work(code: str, alliance_id: uuid.UUID, kind: WorkKind, session: SessionDep, viewer: CurrentViewer) -> WorkOut:
    return _work_out(session, viewer, code, alliance_id, kind)


@router.put("/{code}/alliances/{alliance_id}/plan", response_model=WorkOut)
def save_plan(
    code: str, alliance_id: uuid.UUID, body: PlanSave, session: SessionDep, viewer: CurrentViewer, objects: ObjectsDep
) -> WorkOut:
    semester_work.save_form(
        session=session, viewer=viewer, objects=objects, semester_code=code, alliance_id=alliance_id,
        kind=WorkKind.PLAN, form=body.form.model_dump(mode="json"), version=body.version,
    )  # fmt: skip
    return _work_out(session, viewer, code, alliance_id, WorkKind.PLAN)


@router.put("/{code}/alliances/{alliance_id}/summary", response_model=WorkOut)
def save_summary(
    code: str,
    alliance_id: uuid.UUID,
    body: SummarySave,
    session: SessionDep,
    viewer: CurrentViewer,
    objects: ObjectsDep,
) -> WorkOut:
    semester_work.save_form(
        session=session, viewer=viewer, objects=objects, semester_code=code, alliance_id=alliance_id,
        kind=WorkKind.SUMMARY, form=body.form.model_dump(mode="json"), version=body.version,
    )  # fmt: skip
    return _work_out(session, viewer, code, alliance_id, WorkKind.SUMMARY)


@router.post("/{code}/alliances/{alliance_id}/{kind}/upload", response_model=WorkOut)
def upload_work(
    code: str,
    alliance_id: uuid.UUID,
    kind: WorkKind,
    file: Annotated[UploadFile, File()],
    session: SessionDep,
    viewer: CurrentViewer,
    objects: ObjectsDep,
    settings: SettingsDep,
) -> WorkOut:
    semester_work.upload(
        session=session, viewer=viewer, objects=objects, settings=settings, semester_code=code,
        alliance_id=alliance_id, kind=kind, stream=file.file, filename=file.filename or kind.value,
    )  # fmt: skip
    return _work_out(session, viewer, code, alliance_id, kind)


@router.get("/{code}/alliances/{alliance_id}/{kind}/content")
def work_content(
    code: str, alliance_id: uuid.UUID, kind: WorkKind, session: SessionDep, viewer: CurrentViewer, objects: ObjectsDep
) -> StreamingResponse:
    _, _, work = semester_work.get_work(
        session=session, viewer=viewer, semester_code=code, alliance_id=alliance_id, kind=kind
    )
    document = semester_work.current_document(session, work)
    if document is None:
        raise NotFound("尚未提交")
    return stream_object(objects, document.object_key, filename=document.filename, content_type=document.content_type)
