"""The teachers an activity may draw on: those of the alliance's kindergartens, from the roster
(教师名册, ``workflows.registry.models.Teacher``), grouped by kindergarten for the pickers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflows.registry.models import Alliance, AllianceRole, Kindergarten, Teacher

ROLE_ORDER = {AllianceRole.LEAD: 0, AllianceRole.PILLAR: 1, AllianceRole.MEMBER: 2}


@dataclass(frozen=True)
class RosterGroup:
    """One kindergarten of the alliance and its active teachers."""

    kindergarten: Kindergarten
    role: AllianceRole
    teachers: list[Teacher]


def alliance_teachers(session: Session, alliance: Alliance, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Teacher]:
    """Those of ``ids`` who are active teachers of a kindergarten in the alliance today."""
    wanted = list(ids)
    if not wanted:
        return {}
    kindergartens = [m.kindergarten_id for m in alliance.current_memberships]
    stmt = select(Teacher).where(Teacher.id.in_(wanted), Teacher.kindergarten_id.in_(kindergartens), Teacher.active)
    return {t.id: t for t in session.scalars(stmt)}


def alliance_roster(*, session: Session, alliance: Alliance) -> list[RosterGroup]:
    """The alliance's kindergartens (lead, pillar, then members) with their active teachers, by code."""
    memberships = sorted(alliance.current_memberships, key=lambda m: (ROLE_ORDER[m.role], m.kindergarten.code))
    ids = [m.kindergarten_id for m in memberships]
    stmt = (
        select(Teacher)
        .where(Teacher.kindergarten_id.in_(ids), Teacher.active)
        .options(selectinload(Teacher.kindergarten))
        .order_by(Teacher.code)
    )
    by_kindergarten: dict[uuid.UUID, list[Teacher]] = {i: [] for i in ids}
    for teacher in session.scalars(stmt):
        by_kindergarten[teacher.kindergarten_id].append(teacher)
    return [RosterGroup(m.kindergarten, m.role, by_kindergarten[m.kindergarten_id]) for m in memberships]
