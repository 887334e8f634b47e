"""The alliance's teaching-research group (教研组): one seat per kindergarten of the alliance.

A seat holds the teacher the kindergarten sends, named on purpose (``ResearchGroupSeat``), or else
its 业务园长. The lead kindergarten's seat is the group's 组长. A named teacher who has left, or a
kindergarten that has left the alliance, no longer counts: the seat falls back on its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import audit
from workflows.access import Viewer
from workflows.errors import FieldError, Forbidden, NotFound, ValidationFailed
from workflows.registry.models import (
    RESEARCH_HEAD_POST,
    ROLE_LABELS,
    Alliance,
    AllianceRole,
    Kindergarten,
    ResearchGroupSeat,
    Teacher,
)
from workflows.roles import Role

ROLE_ORDER = {AllianceRole.LEAD: 0, AllianceRole.PILLAR: 1, AllianceRole.MEMBER: 2}


@dataclass(frozen=True)
class Seat:
    kindergarten: Kindergarten
    role: AllianceRole
    teacher: Teacher | None
    # True when the kindergarten (or the office) chose this teacher; False for the 业务园长 default.
    named: bool

    @property
    def is_leader(self) -> bool:
        return self.role is AllianceRole.LEAD

    @property
    def role_label(self) -> str:
        return "组长（龙头园）" if self.role is AllianceRole.LEAD else ROLE_LABELS[self.role]


@dataclass(frozen=True)
class ResearchGroup:
    """教研组: the lead's representative leads; the other kindergartens' representatives are members."""

    leader: Teacher | None
    members: list[Teacher]
    seats: list[Seat] = field(default_factory=list)


def research_group(*, session: Session, alliance: Alliance) -> ResearchGroup:
    """The alliance's group as it stands: named seats where they hold, else each 业务园长."""
    memberships = sorted(alliance.current_memberships, key=lambda m: (ROLE_ORDER[m.role], m.kindergarten.code))
    ids = [m.kindergarten_id for m in memberships]
    named = {
        s.kindergarten_id: s.teacher
        for s in session.scalars(select(ResearchGroupSeat).where(ResearchGroupSeat.alliance_id == alliance.id))
    }
    heads: dict[uuid.UUID, Teacher] = {}
    for t in session.scalars(
        select(Teacher)
        .where(Teacher.kindergarten_id.in_(ids), Teacher.post == RESEARCH_HEAD_POST, Teacher.active)
        .order_by(Teacher.code)
    ):
        heads.setdefault(t.kindergarten_id, t)
    seats = []
    for m in memberships:
        chosen = named.get(m.kindergarten_id)
        if chosen is not None and chosen.active and chosen.kindergarten_id == m.kindergarten_id:
            seats.append(Seat(m.kindergarten, m.role, chosen, named=True))
        else:
            seats.append(Seat(m.kindergarten, m.role, heads.get(m.kindergarten_id), named=False))
    leader = next((s.teacher for s in seats if s.role is AllianceRole.LEAD), None)
    members = [s.teacher for s in seats if s.role is not AllianceRole.LEAD and s.teacher is not None]
    return ResearchGroup(leader=leader, members=members, seats=seats)


def alliance_research_group(*, session: Session, viewer: Viewer, alliance: Alliance) -> ResearchGroup | None:
    """The research group names people: shown to the bureau and the alliance's own kindergartens."""
    if not viewer.may_see_alliance_private(alliance.id):
        return None
    return research_group(session=session, alliance=alliance)


def visible_research_group(
    *, session: Session, viewer: Viewer, alliance_id: uuid.UUID
) -> tuple[Alliance, ResearchGroup]:
    """The alliance and its group, or NotFound for a viewer outside the alliance and the bureau."""
    alliance = session.get(Alliance, alliance_id)
    if alliance is None or not viewer.may_see_alliance_private(alliance.id):
        raise NotFound("联盟不存在")
    return alliance, research_group(session=session, alliance=alliance)


def may_fix_seat(viewer: Viewer, alliance: Alliance, seat: Seat) -> bool:
    """The office and the alliance's lead fix any seat; a kindergarten names its own member seat."""
    if viewer.role in (Role.OFFICER, Role.ADMIN):
        return True
    if viewer.role is Role.LEAD and viewer.alliance_id == alliance.id:
        return True
    return seat.role is not AllianceRole.LEAD and viewer.kindergarten_id == seat.kindergarten.id


def set_seat(
    *,
    session: Session,
    viewer: Viewer,
    alliance_id: uuid.UUID,
    kindergarten_id: uuid.UUID,
    teacher_id: uuid.UUID | None,
) -> ResearchGroup:
    """Name the teacher a kindergarten sends to the group (None: back to its 业务园长)."""
    alliance, group = visible_research_group(session=session, viewer=viewer, alliance_id=alliance_id)
    seat = next((s for s in group.seats if s.kindergarten.id == kindergarten_id), None)
    if seat is None:
        raise ValidationFailed.single("kindergarten_id", "not_member", "该幼儿园不在本联盟")
    if not may_fix_seat(viewer, alliance, seat):
        raise Forbidden("只有成幼科、系统管理员和本联盟龙头园可以调整教研组；成员园可指定本园的成员")
    teacher = session.get(Teacher, teacher_id) if teacher_id is not None else None
    if teacher_id is not None and (teacher is None or teacher.kindergarten_id != kindergarten_id or not teacher.active):
        name = seat.kindergarten.name
        if seat.role is AllianceRole.LEAD:
            message = f"教研组组长须为龙头园（{name}）的在职教师"
        else:
            message = f"须为{name}的在职教师"
        raise ValidationFailed([FieldError("teacher_id", "not_of_kindergarten", message)])
    existing = session.scalar(
        select(ResearchGroupSeat).where(
            ResearchGroupSeat.alliance_id == alliance.id, ResearchGroupSeat.kindergarten_id == kindergarten_id
        )
    )
    if teacher is None:
        if existing is not None:
            session.delete(existing)
    elif existing is None:
        session.add(ResearchGroupSeat(alliance_id=alliance.id, kindergarten_id=kindergarten_id, teacher_id=teacher.id))
    else:
        existing.teacher_id = teacher.id
        existing.teacher = teacher
    session.flush()
    audit.append(
        session,
        entity_type="alliance",
        entity_id=alliance.id,
        event="research_group_leader" if seat.role is AllianceRole.LEAD else "research_group_member",
        actor=viewer.actor,
        data={"kindergarten": seat.kindergarten.code, "teacher": teacher.code if teacher else None},
    )
    return research_group(session=session, alliance=alliance)


def set_leader(*, session: Session, viewer: Viewer, alliance_id: uuid.UUID, teacher_id: uuid.UUID) -> ResearchGroup:
    """Name the group's 组长: a teacher of the alliance's lead kindergarten, nobody else."""
    alliance, group = visible_research_group(session=session, viewer=viewer, alliance_id=alliance_id)
    lead = next((s for s in group.seats if s.role is AllianceRole.LEAD), None)
    if lead is None:
        raise ValidationFailed.single("teacher_id", "no_lead", "本联盟还没有龙头园，无法指定教研组组长")
    return set_seat(
        session=session,
        viewer=viewer,
        alliance_id=alliance.id,
        kindergarten_id=lead.kindergarten.id,
        teacher_id=teacher_id,
    )
