"""Kindergartens, alliances and the arrangement table."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import CurrentViewer, SessionDep
from workflows.accounts import service as accounts
from workflows.accounts.schemas import UserOut
from workflows.registry import service as registry
from workflows.registry.models import Category
from workflows.registry.schemas import AllianceOut, KindergartenOut, TeacherOut

router = APIRouter(tags=["registry"])


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
    return KindergartenOut.of(registry.get_kindergarten(session=session, viewer=viewer, kindergarten_id=kindergarten_id))


@router.get("/kindergartens/{kindergarten_id}/teachers", response_model=list[TeacherOut])
def list_teachers(kindergarten_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[TeacherOut]:
    teachers = registry.list_teachers(session=session, viewer=viewer, kindergarten_id=kindergarten_id)
    return [TeacherOut.of(t) for t in teachers]


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
