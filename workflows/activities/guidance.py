"""指导 at an activity (教研员深入各联盟): the district researcher, or a mentor of the mentor teams, recorded
in the attendance as having come to guide — whichever alliance the mentor's kindergarten belongs to.

The lead or the host records them from the sign-in sheet; a researcher may also record their own visit.
The dashboards count the researcher's visits per alliance and semester (「分批全程跟踪推进」).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storage.db import utcnow
from workflows.access import Viewer
from workflows.accounts.models import User
from workflows.activities.attendance import _audit, _mark, may_record_attendance
from workflows.activities.machine import ACTIVITY_WORKFLOW, ATTENDANCE_STATES
from workflows.activities.models import Activity, Participant
from workflows.activities.schemas import ChinaTime, Line
from workflows.activities.service import get_visible
from workflows.activities.vocabulary import ATTENDED, RESEARCH_OFFICE, ParticipantRole
from workflows.errors import FieldError, Forbidden, TransitionNotAllowed, ValidationFailed
from workflows.mentors.models import Mentor
from workflows.roles import Role


class GuidanceIn(BaseModel):
    """Who came to guide: a researcher's account or an appointed mentor; exactly one of the two."""

    model_config = ConfigDict(extra="forbid")

    researcher_id: uuid.UUID | None = None
    mentor_id: uuid.UUID | None = None
    attendance: Literal["present", "late"] = "present"
    signed_at: ChinaTime | None = None
    note: Line = ""


@dataclass(frozen=True)
class Candidates:
    """Who may be recorded as 指导 at an activity, not yet on its list."""

    researchers: list[User]
    mentors: list[Mentor]


def researchers(session: Session) -> list[User]:
    stmt = select(User).where(User.role == Role.RESEARCHER, User.is_active).order_by(User.display_name)
    return list(session.scalars(stmt))


def active_mentors(session: Session) -> list[Mentor]:
    stmt = select(Mentor).where(Mentor.state == "active").options(selectinload(Mentor.teacher))
    return sorted(session.scalars(stmt), key=lambda m: (m.team, m.teacher.name))


def candidates(*, session: Session, activity: Activity) -> Candidates:
    users = {p.user_id for p in activity.participants}
    teachers = {p.teacher_id for p in activity.participants}
    return Candidates(
        researchers=[u for u in researchers(session) if u.id not in users],
        mentors=[m for m in active_mentors(session) if m.teacher_id not in teachers],
    )


def _guidable(session: Session, viewer: Viewer, activity_id: uuid.UUID, body: GuidanceIn) -> Activity:
    activity = get_visible(session=session, viewer=viewer, activity_id=activity_id, lock=True)
    own_visit = viewer.role == Role.RESEARCHER and body.researcher_id == viewer.user_id and body.mentor_id is None
    if not (may_record_attendance(viewer, activity) or own_visit):
        raise Forbidden("只有龙头园、承办园或教研员本人可以登记指导人员")
    if activity.state not in ATTENDANCE_STATES:
        label = ACTIVITY_WORKFLOW.label(activity.state)
        raise TransitionNotAllowed(f"活动当前为「{label}」，不能登记指导人员")
    return activity


def add_guidance(*, session: Session, viewer: Viewer, activity_id: uuid.UUID, body: GuidanceIn) -> Participant:
    """Record the researcher or a mentor as 指导 at the activity, present or late."""
    activity = _guidable(session, viewer, activity_id, body)
    if (body.researcher_id is None) == (body.mentor_id is None):
        raise ValidationFailed.single("guide", "one_person", "请选择一位教研员或导师")
    row = Participant(role=ParticipantRole.GUIDANCE, walk_in=True,
                      position=max((p.position for p in activity.participants), default=-1) + 1)  # fmt: skip
    if body.researcher_id is not None:
        user = session.get(User, body.researcher_id)
        if user is None or user.role != Role.RESEARCHER or not user.is_active:
            raise ValidationFailed([FieldError("researcher_id", "not_researcher", "所选账号不是教研员")])
        if any(p.user_id == user.id for p in activity.participants):
            raise ValidationFailed([FieldError("researcher_id", "already_listed", f"{user.display_name}已登记")])
        row.user_id, row.guest_name, row.guest_kindergarten = user.id, user.display_name, RESEARCH_OFFICE
    else:
        mentor = session.get(Mentor, body.mentor_id)
        if mentor is None or mentor.state != "active":
            raise ValidationFailed([FieldError("mentor_id", "not_mentor", "所选教师不是在任导师")])
        if any(p.teacher_id == mentor.teacher_id for p in activity.participants):
            message = f"{mentor.teacher.name}已在名单中，请直接记录出勤"
            raise ValidationFailed([FieldError("mentor_id", "already_listed", message)])
        row.teacher_id, row.kindergarten_id = mentor.teacher_id, mentor.teacher.kindergarten_id
    activity.participants.append(row)
    _mark(row, activity, body.attendance, body.signed_at, body.note, utcnow())
    session.flush()
    who = {"researcher_id": str(body.researcher_id)} if body.researcher_id else {"mentor_id": str(body.mentor_id)}
    _audit(session, viewer, activity, "guidance", **who)
    return row


def is_researcher_visit(p: Participant) -> bool:
    """A researcher came to guide (and was there)."""
    return p.role == ParticipantRole.GUIDANCE and p.user_id is not None and p.attendance in ATTENDED
