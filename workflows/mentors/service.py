"""Mentor teams: nominate a teacher, read nominations and mentors with visibility, assign alliances."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.objects import ObjectStore
from workflows import audit, clock
from workflows.access import Viewer
from workflows.documents import service as documents
from workflows.errors import Conflict, FieldError, NotFound, TransitionNotAllowed, ValidationFailed
from workflows.mentors.documents import render_nomination_form
from workflows.mentors.models import Mentor, MentorAssignment, MentorNomination, NominationRound
from workflows.mentors.schemas import NominationCreate, NominationForm
from workflows.mentors.vocabulary import QUALIFICATION_LABELS, TEAM_LABELS, Qualification
from workflows.notifications import notify_users, users_with_role
from workflows.numbering import next_value
from workflows.registry.models import LEVEL_LABELS, Alliance, Teacher, TeacherLevel
from workflows.roles import KINDERGARTEN_ROLES, Role

# The registry levels that back each claimed qualification; 课题组成员 is backed by the form.
QUALIFYING_LEVELS = {
    Qualification.BACKBONE: frozenset({TeacherLevel.BACKBONE, TeacherLevel.LEADER}),
    Qualification.LEADER: frozenset({TeacherLevel.LEADER}),
}


def today_cst() -> date:
    return clock.today()


# --- nominations -------------------------------------------------------------------------------------


def get_nomination(
    *, session: Session, viewer: Viewer, nomination_id: uuid.UUID, lock: bool = False
) -> MentorNomination:
    """A nomination the bureau or the nominating kindergarten may see; NotFound otherwise."""
    stmt = select(MentorNomination).where(MentorNomination.id == nomination_id)
    if lock:
        stmt = stmt.with_for_update()
    nomination = session.scalar(stmt)
    if nomination is None or not (viewer.is_bureau or nomination.kindergarten_id == viewer.kindergarten_id):
        raise NotFound("推荐记录不存在")
    return nomination


def list_nominations(
    *, session: Session, viewer: Viewer, state: str | None = None, team: str | None = None
) -> list[MentorNomination]:
    """The nominations the viewer may see, newest first."""
    stmt = select(MentorNomination).options(
        selectinload(MentorNomination.teacher), selectinload(MentorNomination.kindergarten)
    )
    if not viewer.is_bureau:
        if viewer.kindergarten_id is None:
            return []
        stmt = stmt.where(MentorNomination.kindergarten_id == viewer.kindergarten_id)
    if state:
        stmt = stmt.where(MentorNomination.state == state)
    if team:
        stmt = stmt.where(MentorNomination.team == team)
    return list(session.scalars(stmt.order_by(MentorNomination.created_at.desc())))


def _qualification_problems(teacher: Teacher, body: NominationCreate) -> list[FieldError]:
    problems = []
    for claimed in body.qualifications:
        levels = QUALIFYING_LEVELS.get(claimed)
        if levels is not None and teacher.level not in levels:
            problems.append(
                FieldError(
                    "qualifications",
                    "not_in_registry",
                    f"教师名册中{teacher.name}为「{LEVEL_LABELS[teacher.level]}」，"
                    f"不能以「{QUALIFICATION_LABELS[claimed]}」推荐；请先更新名册",
                )
            )
    if Qualification.RESEARCH_MEMBER in body.qualifications and not body.research_topics:
        problems.append(FieldError("research_topics", "required", "以课题组成员推荐时请填写所参与的课题"))
    return problems


def _open_round_id(session: Session) -> uuid.UUID | None:
    today = today_cst()
    return session.scalar(
        select(NominationRound.id).where(NominationRound.closed_at.is_(None), NominationRound.deadline >= today)
    )


def nominate(*, session: Session, viewer: Viewer, objects: ObjectStore, body: NominationCreate) -> MentorNomination:
    """Nominate one of the viewer's own teachers for a mentor team and render the nomination form."""
    if viewer.role not in KINDERGARTEN_ROLES or viewer.kindergarten_id is None:
        raise NotFound()
    round_id = _open_round_id(session)
    if round_id is None:
        raise TransitionNotAllowed("目前没有正在进行的导师推荐，请等待成幼科发起")
    teacher = session.get(Teacher, body.teacher_id)
    if teacher is None or teacher.kindergarten_id != viewer.kindergarten_id or not teacher.active:
        raise ValidationFailed.single("teacher_id", "not_found", "只能推荐本园在职教师")
    problems = _qualification_problems(teacher, body)
    if problems:
        raise ValidationFailed(problems)
    if session.scalar(select(Mentor.number).where(Mentor.teacher_id == teacher.id, Mentor.state == "active")):
        raise Conflict(f"{teacher.name}已是在任导师", code="already_mentor")
    open_one = session.scalar(
        select(MentorNomination.number).where(
            MentorNomination.teacher_id == teacher.id, MentorNomination.state == "nominated"
        )
    )
    if open_one:
        raise Conflict(f"{teacher.name}已有待审核的推荐 {open_one}", code="open_nomination_exists")
    year = today_cst().year
    nomination = MentorNomination(
        number=f"DS{year}-{next_value(session, f'mentor_nomination:{year}'):04d}",
        round_id=round_id,
        teacher_id=teacher.id,
        kindergarten_id=teacher.kindergarten_id,
        team=body.team,
        qualifications=[q.value for q in body.qualifications],
        form=NominationForm.model_validate(body.model_dump(include=set(NominationForm.model_fields))).model_dump(),
        nominated_by=viewer.user_id,
    )
    session.add(nomination)
    session.flush()
    audit.append(
        session,
        entity_type="mentor_nomination",
        entity_id=nomination.id,
        event="create",
        actor=viewer.actor,
        to_state=nomination.state,
        data={"number": nomination.number, "teacher_id": str(teacher.id), "team": body.team},
    )
    render_nomination_form(session=session, objects=objects, nomination=nomination, actor=viewer)
    notify_users(
        session,
        users_with_role(session, Role.RESEARCHER),
        kind="mentor.nominated",
        title=f"导师推荐待审核：{teacher.name}（{TEAM_LABELS[body.team]}）",
        body=f"推荐编号 {nomination.number}",
        link=f"/mentors/nominations/{nomination.id}",
    )
    return nomination


# --- mentors -----------------------------------------------------------------------------------------


def get_mentor(*, session: Session, viewer: Viewer, mentor_id: uuid.UUID, lock: bool = False) -> Mentor:
    """A mentor: the roster is open to every signed-in user (the teams serve the whole district)."""
    stmt = select(Mentor).where(Mentor.id == mentor_id)
    if lock:
        stmt = stmt.with_for_update()
    mentor = session.scalar(stmt)
    if mentor is None:
        raise NotFound("导师不存在")
    return mentor


def may_see_workload(viewer: Viewer, mentor: Mentor) -> bool:
    """The bureau, the mentor's kindergarten, and the leads of the alliances the mentor serves."""
    if viewer.is_bureau or viewer.kindergarten_id == mentor.kindergarten_id:
        return True
    served = {a.alliance_id for a in mentor.assignments}
    return viewer.role == Role.LEAD and viewer.alliance_id in served


def _owner_check(session: Session, viewer: Viewer, owner_id: uuid.UUID) -> None:
    mentor = get_mentor(session=session, viewer=viewer, mentor_id=owner_id)
    if not may_see_workload(viewer, mentor):
        raise NotFound("文件不存在")


def _nomination_owner_check(session: Session, viewer: Viewer, owner_id: uuid.UUID) -> None:
    get_nomination(session=session, viewer=viewer, nomination_id=owner_id)


documents.register_owner("mentor", _owner_check)
documents.register_owner("mentor_nomination", _nomination_owner_check)


def list_mentors(
    *,
    session: Session,
    team: str | None = None,
    alliance_id: uuid.UUID | None = None,
    state: str | None = "active",
) -> list[Mentor]:
    """The roster by team and name, optionally only one team's or one alliance's mentors."""
    stmt = select(Mentor).options(
        selectinload(Mentor.teacher),
        selectinload(Mentor.kindergarten),
        selectinload(Mentor.assignments).selectinload(MentorAssignment.alliance),
        selectinload(Mentor.reviews),
    )
    if team:
        stmt = stmt.where(Mentor.team == team)
    if state:
        stmt = stmt.where(Mentor.state == state)
    if alliance_id:
        stmt = stmt.where(
            Mentor.id.in_(
                select(MentorAssignment.mentor_id).where(
                    MentorAssignment.alliance_id == alliance_id, MentorAssignment.ended_on.is_(None)
                )
            )
        )
    return sorted(session.scalars(stmt), key=lambda m: (m.team, m.number))


def active_alliance(session: Session, alliance_id: uuid.UUID, field: str = "alliance_id") -> Alliance:
    alliance = session.get(Alliance, alliance_id)
    if alliance is None or not alliance.active:
        raise ValidationFailed.single(field, "not_found", "所选联盟不存在或已停用")
    return alliance


def assign(*, session: Session, viewer: Viewer, mentor_id: uuid.UUID, alliance_id: uuid.UUID) -> MentorAssignment:
    """Assign an active mentor to an alliance (成幼科)."""
    viewer.require_role(Role.OFFICER)
    mentor = get_mentor(session=session, viewer=viewer, mentor_id=mentor_id, lock=True)
    if mentor.state != "active":
        raise TransitionNotAllowed("导师已退出，不能再分派联盟")
    alliance = active_alliance(session, alliance_id)
    if any(a.alliance_id == alliance.id for a in mentor.current_assignments):
        raise Conflict(f"该导师已在指导「{alliance.name}」", code="already_assigned")
    assignment = start_assignment(session, viewer, mentor, alliance.id, today_cst())
    audit.append(
        session,
        entity_type="mentor",
        entity_id=mentor.id,
        event="assign",
        actor=viewer.actor,
        from_state=mentor.state,
        to_state=mentor.state,
        data={"alliance_id": str(alliance.id), "alliance": alliance.name},
    )
    return assignment


def start_assignment(
    session: Session, viewer: Viewer, mentor: Mentor, alliance_id: uuid.UUID, today: date
) -> MentorAssignment:
    assignment = MentorAssignment(
        mentor_id=mentor.id, alliance_id=alliance_id, started_on=today, assigned_by=viewer.user_id
    )
    session.add(assignment)
    mentor.assignments.append(assignment)
    session.flush()
    return assignment


def end_assignment(*, session: Session, viewer: Viewer, mentor_id: uuid.UUID, alliance_id: uuid.UUID) -> Mentor:
    """End a mentor's current assignment to an alliance (kept in the history)."""
    viewer.require_role(Role.OFFICER)
    mentor = get_mentor(session=session, viewer=viewer, mentor_id=mentor_id, lock=True)
    current = next((a for a in mentor.current_assignments if a.alliance_id == alliance_id), None)
    if current is None:
        raise NotFound("该导师当前未指导这个联盟")
    current.ended_on = today_cst()
    session.flush()
    audit.append(
        session,
        entity_type="mentor",
        entity_id=mentor.id,
        event="unassign",
        actor=viewer.actor,
        from_state=mentor.state,
        to_state=mentor.state,
        data={"alliance_id": str(alliance_id)},
    )
    return mentor
