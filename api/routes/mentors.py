"""Mentor teams (幼教导师团): nominations, appointments, yearly reviews, alliances, guidance, workload."""

from __future__ import annotations

import uuid

from fastapi import Query, Response

from api.deps import CurrentViewer, ObjectsDep, SessionDep
from api.routing import api_router
from storage.objects import content_disposition
from workflows import audit
from workflows.documents.schemas import DocumentOut, HistoryOut
from workflows.documents.service import XLSX, list_for_owner
from workflows.mentors import events, service, teams, workload
from workflows.mentors.models import NominationRound
from workflows.mentors.schemas import (
    AssignmentCreate,
    GuidanceCreate,
    GuidanceOut,
    LeaderBody,
    MentorOut,
    NominationCreate,
    NominationEventBody,
    NominationOut,
    ReviewEventBody,
    RoundCreate,
    RoundOut,
    TeamOut,
    WorkloadOut,
)
from workflows.mentors.views import guidance_out, mentor_out, nomination_out

router = api_router(prefix="/mentors", tags=["mentors"])
Year = Query(default=None, ge=2000, le=2100, description="年度（默认今年）")


def _round_out(row: NominationRound) -> RoundOut:
    return RoundOut.model_validate(row)


def _team_out(view: teams.TeamOverview) -> TeamOut:
    return TeamOut(
        team=view.team, label=view.label, version=view.version,
        leader_id=view.leader.id if view.leader else None,
        leader_name=view.leader.teacher.name if view.leader else None,
        members=len(view.members), by_kindergarten=dict(view.by_kindergarten), by_level=dict(view.by_level),
        by_age=dict(view.by_age),
    )  # fmt: skip


@router.get("/rounds", response_model=list[RoundOut])
def list_rounds(session: SessionDep, viewer: CurrentViewer) -> list[RoundOut]:
    return [_round_out(r) for r in teams.list_rounds(session)]


@router.post("/rounds", response_model=RoundOut, status_code=201)
def open_round(body: RoundCreate, session: SessionDep, viewer: CurrentViewer) -> RoundOut:
    return _round_out(teams.open_round(session=session, viewer=viewer, deadline=body.deadline, note=body.note))


@router.post("/rounds/{round_id}/close", response_model=RoundOut)
def close_round(round_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> RoundOut:
    return _round_out(teams.close_round(session=session, viewer=viewer, round_id=round_id))


@router.get("/teams", response_model=list[TeamOut])
def list_teams(session: SessionDep, viewer: CurrentViewer) -> list[TeamOut]:
    return [_team_out(t) for t in teams.overview(session=session)]


@router.put("/teams/{team}/leader", response_model=TeamOut)
def set_leader(team: str, body: LeaderBody, session: SessionDep, viewer: CurrentViewer) -> TeamOut:
    teams.set_leader(session=session, viewer=viewer, team=team, mentor_id=body.leader_id, version=body.version)
    return next(_team_out(t) for t in teams.overview(session=session) if t.team == team)


@router.post("/nominations", response_model=NominationOut, status_code=201)
def nominate(body: NominationCreate, session: SessionDep, viewer: CurrentViewer, objects: ObjectsDep) -> NominationOut:
    nomination = service.nominate(session=session, viewer=viewer, objects=objects, body=body)
    return nomination_out(session, viewer, nomination)


@router.get("/nominations", response_model=list[NominationOut])
def list_nominations(
    session: SessionDep, viewer: CurrentViewer, state: str | None = None, team: str | None = None
) -> list[NominationOut]:
    rows = service.list_nominations(session=session, viewer=viewer, state=state, team=team)
    return [nomination_out(session, viewer, n) for n in rows]


@router.get("/nominations/{nomination_id}", response_model=NominationOut)
def get_nomination(nomination_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> NominationOut:
    nomination = service.get_nomination(session=session, viewer=viewer, nomination_id=nomination_id)
    return nomination_out(session, viewer, nomination)


@router.post("/nominations/{nomination_id}/events/{event}", response_model=NominationOut)
def nomination_event(
    nomination_id: uuid.UUID,
    event: str,
    body: NominationEventBody,
    session: SessionDep,
    viewer: CurrentViewer,
    objects: ObjectsDep,
) -> NominationOut:
    nomination = events.fire_nomination_event(
        session=session, viewer=viewer, objects=objects, nomination_id=nomination_id, event=event, body=body
    )
    return nomination_out(session, viewer, nomination)


@router.get("/nominations/{nomination_id}/history", response_model=list[HistoryOut])
def nomination_history(nomination_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[HistoryOut]:
    service.get_nomination(session=session, viewer=viewer, nomination_id=nomination_id)
    return [
        HistoryOut.of(e, viewer)
        for e in audit.history(session, entity_type="mentor_nomination", entity_id=nomination_id)
    ]


@router.get("/nominations/{nomination_id}/documents", response_model=list[DocumentOut])
def nomination_documents(nomination_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[DocumentOut]:
    service.get_nomination(session=session, viewer=viewer, nomination_id=nomination_id)
    return [
        DocumentOut.of(d)
        for d in list_for_owner(session=session, owner_type="mentor_nomination", owner_id=nomination_id)
    ]


@router.post("/guidance", response_model=GuidanceOut, status_code=201)
def record_guidance(body: GuidanceCreate, session: SessionDep, viewer: CurrentViewer) -> GuidanceOut:
    return guidance_out(workload.record_guidance(session=session, viewer=viewer, body=body))


@router.get("/guidance", response_model=list[GuidanceOut])
def list_guidance(activity_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[GuidanceOut]:
    return [guidance_out(g) for g in workload.list_guidance(session=session, viewer=viewer, activity_id=activity_id)]


@router.get("", response_model=list[MentorOut])
def list_mentors(
    session: SessionDep,
    viewer: CurrentViewer,
    team: str | None = None,
    alliance_id: uuid.UUID | None = None,
    state: str | None = "active",
) -> list[MentorOut]:
    rows = service.list_mentors(session=session, team=team, alliance_id=alliance_id, state=state or None)
    return [mentor_out(viewer, m) for m in rows]


@router.get("/{mentor_id}", response_model=MentorOut)
def get_mentor(mentor_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> MentorOut:
    return mentor_out(viewer, service.get_mentor(session=session, viewer=viewer, mentor_id=mentor_id))


@router.post("/{mentor_id}/events/{event}", response_model=MentorOut)
def review_event(
    mentor_id: uuid.UUID, event: str, body: ReviewEventBody, session: SessionDep, viewer: CurrentViewer
) -> MentorOut:
    mentor = events.fire_review_event(session=session, viewer=viewer, mentor_id=mentor_id, event=event, body=body)
    return mentor_out(viewer, mentor)


@router.get("/{mentor_id}/guidance", response_model=list[GuidanceOut])
def mentor_guidance(mentor_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[GuidanceOut]:
    service.get_mentor(session=session, viewer=viewer, mentor_id=mentor_id)
    return [guidance_out(g) for g in workload.list_mentor_guidance(session=session, mentor_id=mentor_id)]


@router.get("/{mentor_id}/history", response_model=list[HistoryOut])
def mentor_history(mentor_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[HistoryOut]:
    service.get_mentor(session=session, viewer=viewer, mentor_id=mentor_id)
    return [HistoryOut.of(e, viewer) for e in audit.history(session, entity_type="mentor", entity_id=mentor_id)]


@router.post("/{mentor_id}/assignments", response_model=MentorOut, status_code=201)
def assign(mentor_id: uuid.UUID, body: AssignmentCreate, session: SessionDep, viewer: CurrentViewer) -> MentorOut:
    assignment = service.assign(session=session, viewer=viewer, mentor_id=mentor_id, alliance_id=body.alliance_id)
    return mentor_out(viewer, assignment.mentor)


@router.delete("/{mentor_id}/assignments/{alliance_id}", response_model=MentorOut)
def unassign(mentor_id: uuid.UUID, alliance_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> MentorOut:
    mentor = service.end_assignment(session=session, viewer=viewer, mentor_id=mentor_id, alliance_id=alliance_id)
    return mentor_out(viewer, mentor)


@router.get("/{mentor_id}/documents", response_model=list[DocumentOut])
def mentor_documents(mentor_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer) -> list[DocumentOut]:
    mentor = service.get_mentor(session=session, viewer=viewer, mentor_id=mentor_id)
    if not service.may_see_workload(viewer, mentor):
        return []
    return [DocumentOut.of(d) for d in list_for_owner(session=session, owner_type="mentor", owner_id=mentor_id)]


@router.get("/{mentor_id}/workload", response_model=WorkloadOut)
def mentor_workload(
    mentor_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer, year: int | None = Year
) -> WorkloadOut:
    return workload.workload(session=session, viewer=viewer, mentor_id=mentor_id, year=year)


@router.get("/{mentor_id}/workload.xlsx")
def mentor_workload_xlsx(
    mentor_id: uuid.UUID, session: SessionDep, viewer: CurrentViewer, year: int | None = Year
) -> Response:
    filename, content = workload.workload_xlsx(session=session, viewer=viewer, mentor_id=mentor_id, year=year)
    return Response(content, media_type=XLSX, headers={"Content-Disposition": content_disposition(filename)})
