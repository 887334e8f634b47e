"""What each member said it needs when it applied (需求诊断 and 申请理由), for the lead's semester plan.

方案: 「各联盟应根据该联盟教师的实际需要，选择适宜的切入点……每学期初，制定联盟互动计划」 and 「根据园本
发展需求和自愿的原则……申请」: the needs a private kindergarten stated are what the plan should answer.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflows.access import Viewer
from workflows.applications.models import Application
from workflows.applications.schemas import NEEDS
from workflows.errors import NotFound
from workflows.registry.models import Alliance, AllianceRole, Membership
from workflows.roles import Role

READERS = frozenset({Role.LEAD, Role.PILLAR})


@dataclass(frozen=True)
class MemberNeeds:
    """One member of the alliance and what its approved application asked for (None: a founding
    member that joined through the arrangement table, not by applying)."""

    kindergarten_id: uuid.UUID
    kindergarten_name: str
    town: str
    joined_on: date
    application_id: uuid.UUID | None
    application_number: str | None
    needs: tuple[str, ...]
    reasons: str


def may_read(viewer: Viewer, alliance_id: uuid.UUID) -> bool:
    """The bureau, and the lead and pillar who plan the alliance's semester."""
    return viewer.is_bureau or (viewer.role in READERS and viewer.alliance_id == alliance_id)


def member_needs(*, session: Session, viewer: Viewer, alliance_id: uuid.UUID) -> list[MemberNeeds]:
    """Each current member's stated needs and reasons, members by name; NotFound for other readers."""
    if not may_read(viewer, alliance_id) or session.get(Alliance, alliance_id) is None:
        raise NotFound("联盟不存在")
    members = session.scalars(
        select(Membership)
        .where(
            Membership.alliance_id == alliance_id,
            Membership.ended_on.is_(None),
            Membership.role == AllianceRole.MEMBER,
        )
        .options(selectinload(Membership.kindergarten))
    ).all()
    ids = [m.kindergarten_id for m in members]
    approved = session.scalars(
        select(Application)
        .where(
            Application.kindergarten_id.in_(ids),
            Application.state == "approved",
            Application.approved_alliance_id == alliance_id,
        )
        .order_by(Application.decided_at)
    ).all()
    latest = {a.kindergarten_id: a for a in approved}  # the last decision wins
    found = []
    for m in sorted(members, key=lambda m: m.kindergarten.name):
        application = latest.get(m.kindergarten_id)
        form = application.form if application else {}
        needs = tuple(n for n in NEEDS if n in (form.get("needs") or []))
        found.append(
            MemberNeeds(
                kindergarten_id=m.kindergarten_id,
                kindergarten_name=m.kindergarten.name,
                town=m.kindergarten.town,
                joined_on=m.started_on,
                application_id=application.id if application else None,
                application_number=application.number if application else None,
                needs=needs,
                reasons=str(form.get("reasons") or ""),
            )
        )
    return found


def tally(rows: list[MemberNeeds]) -> list[tuple[str, int]]:
    """How many members asked for each need, most asked first (the plan's likely 切入点)."""
    counts = Counter(n for r in rows for n in r.needs)
    return sorted(counts.items(), key=lambda item: (-item[1], NEEDS.index(item[0])))
