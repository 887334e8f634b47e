"""The six teams as records (leader), nomination rounds, and the overview of who serves in each team."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import utcnow
from workflows import audit
from workflows.access import Viewer
from workflows.errors import Conflict, NotFound, StaleVersion, ValidationFailed
from workflows.mentors.models import Mentor, MentorTeam, NominationRound
from workflows.mentors.service import get_mentor, list_mentors, today_cst
from workflows.mentors.vocabulary import TEAM_LABELS, TEAMS
from workflows.registry.models import LEVEL_LABELS, TeacherLevel
from workflows.roles import Role

# Age bands for 「年龄结构合理」: by the age reached this year.
AGE_BANDS = (("under30", "30岁以下", 0, 29), ("30to39", "30–39岁", 30, 39), ("40to49", "40–49岁", 40, 49),
             ("over50", "50岁及以上", 50, 200))  # fmt: skip
UNKNOWN_AGE = "未填写出生年份"


def age_band(birth_year: int | None, year: int) -> str:
    """The label of the age band a teacher born in ``birth_year`` is in during ``year``."""
    if birth_year is None:
        return UNKNOWN_AGE
    age = year - birth_year
    return next(label for _, label, low, high in AGE_BANDS if low <= age <= high)


# --- rounds ------------------------------------------------------------------------------------------


def current_round(session: Session, today: date | None = None) -> NominationRound | None:
    """The round open now (not closed, deadline not passed), if any."""
    today = today or today_cst()
    stmt = select(NominationRound).where(NominationRound.closed_at.is_(None), NominationRound.deadline >= today)
    return session.scalars(stmt.order_by(NominationRound.opened_at.desc())).first()


def list_rounds(session: Session) -> list[NominationRound]:
    """Every round, newest first."""
    return list(session.scalars(select(NominationRound).order_by(NominationRound.opened_at.desc())))


def open_round(*, session: Session, viewer: Viewer, deadline: date | None, note: str = "") -> NominationRound:
    """Open a nomination round with a deadline (成幼科); one round at a time."""
    viewer.require_role(Role.OFFICER)
    today = today_cst()
    if deadline is None:
        raise ValidationFailed.single("deadline", "required", "请填写推荐截止日期")
    if deadline < today:
        raise ValidationFailed.single("deadline", "in_past", "截止日期不能早于今天")
    if current_round(session, today) is not None:
        raise Conflict("已有正在进行的推荐，请先结束它", code="round_open")
    row = NominationRound(year=today.year, deadline=deadline, note=note.strip(), opened_by=viewer.user_id)
    session.add(row)
    session.flush()
    audit.append(session, entity_type="mentor_round", entity_id=row.id, event="open", actor=viewer.actor,
                 to_state="open", data={"deadline": deadline.isoformat()})  # fmt: skip
    return row


def close_round(*, session: Session, viewer: Viewer, round_id: uuid.UUID) -> NominationRound:
    """End a round before its deadline (成幼科)."""
    viewer.require_role(Role.OFFICER)
    row = session.get(NominationRound, round_id, with_for_update=True)
    if row is None:
        raise NotFound("推荐轮次不存在")
    if row.closed_at is not None:
        raise Conflict("该轮推荐已结束", code="round_closed")
    row.closed_at = utcnow()
    audit.append(session, entity_type="mentor_round", entity_id=row.id, event="close", actor=viewer.actor,
                 from_state="open", to_state="closed")  # fmt: skip
    return row


# --- teams -------------------------------------------------------------------------------------------


def team_record(session: Session, team: str) -> MentorTeam:
    """The team's record, made on first use."""
    if team not in TEAMS:
        raise NotFound("导师团不存在")
    row = session.get(MentorTeam, team)
    if row is None:
        row = MentorTeam(team=team)
        session.add(row)
        session.flush()
    return row


def set_leader(
    *, session: Session, viewer: Viewer, team: str, mentor_id: uuid.UUID | None, version: int | None
) -> MentorTeam:
    """Name (or clear) the team's leader (团长) among its active mentors (成幼科)."""
    viewer.require_role(Role.OFFICER)
    existed = session.get(MentorTeam, team) is not None
    row = team_record(session, team)
    # Version 0 is the team before its record was first written (see ``overview``).
    if version is not None and version != (row.version if existed else 0):
        raise StaleVersion("导师团信息已被他人修改，请刷新后重试")
    if mentor_id is not None:
        mentor = get_mentor(session=session, viewer=viewer, mentor_id=mentor_id)
        if mentor.team != team or mentor.state != "active":
            raise ValidationFailed.single("leader_id", "not_member", f"团长须是{TEAM_LABELS[team]}的在任导师")
    row.leader_id = mentor_id
    session.flush()
    audit.append(session, entity_type="mentor_team", entity_id=uuid.uuid5(uuid.NAMESPACE_URL, f"mentor-team:{team}"),
                 event="leader", actor=viewer.actor, data={"team": team, "mentor_id": str(mentor_id or "")})  # fmt: skip
    return row


@dataclass
class TeamOverview:
    team: str
    label: str
    leader: Mentor | None
    version: int
    members: list[Mentor]
    by_kindergarten: Counter[str] = field(default_factory=Counter)
    by_level: Counter[str] = field(default_factory=Counter)
    by_age: Counter[str] = field(default_factory=Counter)


def overview(*, session: Session, year: int | None = None) -> list[TeamOverview]:
    """Each team with its leader and active members, counted by kindergarten, teacher level and age band."""
    year = year or today_cst().year
    records = {r.team: r for r in session.scalars(select(MentorTeam))}
    mentors = list_mentors(session=session)
    teams = []
    for team in TEAMS:
        record = records.get(team)
        members = [m for m in mentors if m.team == team]
        leader = next((m for m in members if record is not None and m.id == record.leader_id), None)
        view = TeamOverview(team, TEAM_LABELS[team], leader, record.version if record else 0, members)
        for m in members:
            view.by_kindergarten[m.kindergarten.name] += 1
            view.by_level[LEVEL_LABELS[TeacherLevel(m.teacher.level)]] += 1
            view.by_age[age_band(m.teacher.birth_year, year)] += 1
        teams.append(view)
    return teams
