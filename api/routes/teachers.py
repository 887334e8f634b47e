"""The teacher roster (教师名册) and the alliances' teaching-research groups (教研组)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated

from fastapi import File, Response, UploadFile
from pydantic import BaseModel

from api.deps import CurrentViewer, SessionDep, VersionQuery
from api.routing import api_router
from storage.objects import content_disposition
from workflows.documents.service import XLSX
from workflows.registry import research_group, teachers
from workflows.registry.models import TeacherLevel
from workflows.registry.roster_sheet import export_roster, import_roster, roster_template
from workflows.registry.schemas import (
    LeaderIn,
    ResearchGroupOut,
    SeatIn,
    TeacherCreate,
    TeacherOut,
    TeacherUpdate,
)
from workflows.roles import Role

router = api_router(tags=["teachers"])

ROSTER_FILENAME = "教师名册.xlsx"
TEMPLATE_FILENAME = "教师名册（空白模板）.xlsx"
ROSTER_READERS = (Role.OFFICER, Role.ADMIN, Role.RESEARCHER)
ROSTER_IMPORTERS = (Role.OFFICER, Role.ADMIN)


class RosterImportOut(BaseModel):
    created: int
    updated: int
    marked_left: int
    unchanged: int
    not_in_sheet: int


def xlsx(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": content_disposition(filename), "Cache-Control": "no-store"},
    )


@router.get("/teachers", response_model=list[TeacherOut])
def list_roster(
    session: SessionDep,
    viewer: CurrentViewer,
    kindergarten_id: uuid.UUID | None = None,
    alliance_id: uuid.UUID | None = None,
    level: TeacherLevel | None = None,
    active: bool | None = None,
    q: str | None = None,
) -> list[TeacherOut]:
    """The roster: every kindergarten's for the bureau, a principal's own kindergarten's otherwise."""
    rows = teachers.list_roster(
        session=session,
        viewer=viewer,
        kindergarten_id=kindergarten_id,
        alliance_id=alliance_id,
        level=level,
        active=active,
        query=q.strip() if q else None,
    )
    return [TeacherOut.of(t) for t in rows]


@router.post("/teachers", response_model=TeacherOut, status_code=201)
def create_teacher(body: TeacherCreate, session: SessionDep, viewer: CurrentViewer) -> TeacherOut:
    """Add a teacher; a principal adds to its own kindergarten, the officer and admin to any."""
    return TeacherOut.of(teachers.create_teacher(session=session, viewer=viewer, body=body))


@router.get("/teachers/roster.xlsx", response_class=Response)
def export_roster_workbook(session: SessionDep, viewer: CurrentViewer) -> Response:
    """The district roster as .xlsx (the same roster, the same bytes)."""
    viewer.require_role(*ROSTER_READERS)
    return xlsx(export_roster(session), ROSTER_FILENAME)


@router.get("/teachers/template.xlsx", response_class=Response)
def roster_template_workbook(viewer: CurrentViewer) -> Response:
    """An empty roster workbook with the guide to filling it in."""
    viewer.require_role(*ROSTER_READERS)
    return xlsx(roster_template(), TEMPLATE_FILENAME)


@router.post("/teachers/import", response_model=RosterImportOut)
def import_roster_workbook(
    file: Annotated[UploadFile, File()], session: SessionDep, viewer: CurrentViewer
) -> RosterImportOut:
    """Import the district roster: all or nothing, every problem listed by row and column."""
    viewer.require_role(*ROSTER_IMPORTERS)
    report = import_roster(session, file.file, actor=viewer.actor)
    return RosterImportOut(**dataclasses.asdict(report))


@router.get("/teachers/{teacher_id}", response_model=TeacherOut)
def get_teacher(teacher_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> TeacherOut:
    return TeacherOut.of(teachers.get_teacher(session=session, viewer=viewer, teacher_id=teacher_id))


@router.patch("/teachers/{teacher_id}", response_model=TeacherOut)
def update_teacher(
    teacher_id: uuid.UUID, body: TeacherUpdate, session: SessionDep, viewer: CurrentViewer
) -> TeacherOut:
    """Change an entry; ``{"active": false}`` marks the teacher as left (离职), kept for history."""
    return TeacherOut.of(teachers.update_teacher(session=session, viewer=viewer, teacher_id=teacher_id, body=body))


@router.delete("/teachers/{teacher_id}", status_code=204, response_class=Response)
def delete_teacher(
    teacher_id: uuid.UUID, version: VersionQuery, session: SessionDep, viewer: CurrentViewer
) -> Response:
    """Remove an entry made by mistake; 409 once anything refers to the teacher (mark left instead)."""
    teachers.delete_teacher(session=session, viewer=viewer, teacher_id=teacher_id, version=version)
    return Response(status_code=204)


@router.get("/alliances/{alliance_id}/research-group", response_model=ResearchGroupOut)
def get_research_group(alliance_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> ResearchGroupOut:
    """教研组: one seat per kindergarten; the lead's seat is the 组长. Seen by the alliance and the bureau."""
    _, group = research_group.visible_research_group(session=session, viewer=viewer, alliance_id=alliance_id)
    return ResearchGroupOut.of(group)


@router.put("/alliances/{alliance_id}/research-group/leader", response_model=ResearchGroupOut)
def set_research_leader(
    alliance_id: uuid.UUID, body: LeaderIn, session: SessionDep, viewer: CurrentViewer
) -> ResearchGroupOut:
    """Name the 组长: an active teacher of the alliance's lead kindergarten (422 otherwise)."""
    group = research_group.set_leader(
        session=session, viewer=viewer, alliance_id=alliance_id, teacher_id=body.teacher_id
    )
    return ResearchGroupOut.of(group)


@router.put("/alliances/{alliance_id}/research-group/seats/{kindergarten_id}", response_model=ResearchGroupOut)
def set_research_seat(
    alliance_id: uuid.UUID, kindergarten_id: uuid.UUID, body: SeatIn, session: SessionDep, viewer: CurrentViewer
) -> ResearchGroupOut:
    """Name the teacher a kindergarten sends; ``null`` returns the seat to its 业务园长."""
    group = research_group.set_seat(
        session=session,
        viewer=viewer,
        alliance_id=alliance_id,
        kindergarten_id=kindergarten_id,
        teacher_id=body.teacher_id,
    )
    return ResearchGroupOut.of(group)
