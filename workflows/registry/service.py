"""Reading the registry: kindergartens and alliances, with object-level visibility."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflows.access import Viewer
from workflows.errors import NotFound
from workflows.registry.models import Alliance, Category, Kindergarten, Membership

# Re-exported: the research group was read from here before it had a module of its own.
from workflows.registry.research_group import ResearchGroup as ResearchGroup
from workflows.registry.research_group import alliance_research_group as alliance_research_group
from workflows.registry.research_group import research_group as research_group


@dataclass(frozen=True)
class KindergartenView:
    """A kindergarten as one viewer may see it: ``private`` says whether contacts may be shown."""

    kindergarten: Kindergarten
    membership: Membership | None
    private: bool


def _view(viewer: Viewer, kindergarten: Kindergarten) -> KindergartenView:
    membership = kindergarten.current_membership
    alliance_id = membership.alliance_id if membership else None
    return KindergartenView(kindergarten, membership, viewer.may_see_kindergarten_private(kindergarten.id, alliance_id))


def list_kindergartens(
    *,
    session: Session,
    viewer: Viewer,
    category: Category | None = None,
    town: str | None = None,
    alliance_id: uuid.UUID | None = None,
    query: str | None = None,
) -> list[KindergartenView]:
    """Every kindergarten's public registry entry; contacts only where the viewer may see them."""
    stmt = select(Kindergarten).options(selectinload(Kindergarten.memberships)).order_by(Kindergarten.code)
    if category is not None:
        stmt = stmt.where(Kindergarten.category == category)
    if town:
        stmt = stmt.where(Kindergarten.town == town)
    if query:
        stmt = stmt.where(Kindergarten.name.contains(query))
    if alliance_id is not None:
        stmt = stmt.join(Membership).where(Membership.alliance_id == alliance_id, Membership.ended_on.is_(None))
    return [_view(viewer, k) for k in session.scalars(stmt).unique()]


def get_kindergarten(*, session: Session, viewer: Viewer, kindergarten_id: uuid.UUID) -> KindergartenView:
    """One kindergarten; its public entry is visible to every signed-in user."""
    kindergarten = session.get(Kindergarten, kindergarten_id)
    if kindergarten is None:
        raise NotFound("幼儿园不存在")
    return _view(viewer, kindergarten)


def list_alliances(*, session: Session) -> list[Alliance]:
    """Every alliance with its lead, pillar and members (public registry information)."""
    stmt = (
        select(Alliance)
        .options(selectinload(Alliance.memberships).selectinload(Membership.kindergarten))
        .order_by(Alliance.code)
    )
    return list(session.scalars(stmt))


def get_alliance(*, session: Session, alliance_id: uuid.UUID) -> Alliance:
    """One alliance; NotFound when there is none."""
    alliance = session.get(Alliance, alliance_id)
    if alliance is None:
        raise NotFound("联盟不存在")
    return alliance
