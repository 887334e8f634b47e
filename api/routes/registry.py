"""Kindergartens, alliances and the arrangement table."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated

from fastapi import File, Response, UploadFile
from pydantic import BaseModel

from api.deps import CurrentViewer, SessionDep
from api.routing import api_router
from storage.objects import content_disposition
from workflows.accounts import service as accounts
from workflows.accounts.schemas import UserOut
from workflows.applications.needs import member_needs
from workflows.applications.schemas import MemberNeedsOut
from workflows.documents.service import XLSX
from workflows.registry import service as registry
from workflows.registry import teachers
from workflows.registry.arrangement import export_arrangement, import_arrangement
from workflows.registry.models import Category
from workflows.registry.schemas import AllianceOut, KindergartenOut, ServiceAreaIn, TeacherOut
from workflows.registry.service_area import set_service_area
from workflows.roles import Role

router = api_router(tags=["registry"])


class ImportReportOut(BaseModel):
    alliances_created: int
    alliances_updated: int
    kindergartens_created: int
    kindergartens_updated: int
    memberships_started: int
    memberships_ended: int
    unchanged: int
    not_in_sheet: list[str]


@router.get("/kindergartens", response_model=list[KindergartenOut])
def list_kindergartens(
    session: SessionDep,
    viewer: CurrentViewer,
    category: Category | None = None,
    town: str | None = None,
    alliance_id: uuid.UUID | None = None,
    q: str | None = None,
) -> list[KindergartenOut]:
    views = registry.list_kindergartens(
        session=session, viewer=viewer, category=category, town=town, alliance_id=alliance_id, query=q
    )
    return [KindergartenOut.of(v) for v in views]


@router.get("/kindergartens/{kindergarten_id}", response_model=KindergartenOut)
def get_kindergarten(kindergarten_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> KindergartenOut:
    return KindergartenOut.of(
        registry.get_kindergarten(session=session, viewer=viewer, kindergarten_id=kindergarten_id)
    )


@router.get("/kindergartens/{kindergarten_id}/teachers", response_model=list[TeacherOut])
def list_teachers(kindergarten_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[TeacherOut]:
    rows = teachers.kindergarten_teachers(session=session, viewer=viewer, kindergarten_id=kindergarten_id)
    return [TeacherOut.of(t) for t in rows]


@router.get("/kindergartens/{kindergarten_id}/users", response_model=list[UserOut])
def list_users(kindergarten_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[UserOut]:
    view = registry.get_kindergarten(session=session, viewer=viewer, kindergarten_id=kindergarten_id)
    alliance_id = view.membership.alliance_id if view.membership else None
    users = accounts.list_kindergarten_users(
        session=session, viewer=viewer, kindergarten_id=kindergarten_id, alliance_id=alliance_id
    )
    return [UserOut.of(u) for u in users]


@router.get("/alliances", response_model=list[AllianceOut])
def list_alliances(session: SessionDep, viewer: CurrentViewer) -> list[AllianceOut]:
    return [AllianceOut.of(a) for a in registry.list_alliances(session=session)]


@router.get("/alliances/{alliance_id}", response_model=AllianceOut)
def get_alliance(alliance_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> AllianceOut:
    alliance = registry.get_alliance(session=session, alliance_id=alliance_id)
    group = registry.alliance_research_group(session=session, viewer=viewer, alliance=alliance)
    return AllianceOut.of(alliance, group)


@router.put("/alliances/{alliance_id}/service-area", response_model=AllianceOut)
def put_service_area(
    alliance_id: uuid.UUID, body: ServiceAreaIn, session: SessionDep, viewer: CurrentViewer
) -> AllianceOut:
    """Replace the 乡镇/街道 the alliance serves (officer, admin); a town another alliance serves is a 422."""
    alliance = set_service_area(session=session, viewer=viewer, alliance_id=alliance_id, towns=body.service_area)
    return AllianceOut.of(alliance, registry.alliance_research_group(session=session, viewer=viewer, alliance=alliance))


@router.get("/alliances/{alliance_id}/member-needs", response_model=list[MemberNeedsOut])
def get_member_needs(alliance_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[MemberNeedsOut]:
    """Each member's stated needs (需求诊断) and reasons, for the lead's semester plan; the bureau,
    lead and pillar of the alliance only."""
    rows = member_needs(session=session, viewer=viewer, alliance_id=alliance_id)
    return [MemberNeedsOut(**{**dataclasses.asdict(r), "needs": list(r.needs)}) for r in rows]


ARRANGEMENT_FILENAME = "联盟安排表.xlsx"


@router.get("/arrangement", response_class=Response)
def export_arrangement_table(session: SessionDep, viewer: CurrentViewer) -> Response:
    """The arrangement table (附件1 联盟安排表) as .xlsx, for the bureau."""
    viewer.require_role(Role.OFFICER, Role.ADMIN, Role.RESEARCHER)
    return Response(
        export_arrangement(session),
        media_type=XLSX,
        headers={"Content-Disposition": content_disposition(ARRANGEMENT_FILENAME)},
    )


@router.post("/arrangement", response_model=ImportReportOut)
def import_arrangement_table(
    file: Annotated[UploadFile, File()], session: SessionDep, viewer: CurrentViewer
) -> ImportReportOut:
    """Import the arrangement table: all or nothing, every problem listed by row and column."""
    viewer.require_role(Role.OFFICER, Role.ADMIN)
    report = import_arrangement(session, file.file, actor=viewer.actor)
    return ImportReportOut(**dataclasses.asdict(report))
