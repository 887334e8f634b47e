"""Object-level authorisation, decided in one place and used by every route and page.

A ``Viewer`` is what the rest of the domain knows about the caller: role, own kindergarten and
the alliance that kindergarten currently belongs to. Objects a viewer may not see are reported as
not found (404), never as forbidden, so their existence is not revealed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflows.accounts.models import User
from workflows.audit import Actor
from workflows.errors import NotFound
from workflows.registry.models import Membership
from workflows.roles import BUREAU_ROLES, Role


@dataclass(frozen=True)
class Viewer:
    user_id: uuid.UUID
    username: str
    display_name: str
    role: Role
    kindergarten_id: uuid.UUID | None
    alliance_id: uuid.UUID | None
    # A password someone else chose: nothing but changing it is allowed until then.
    must_change_password: bool = False

    @property
    def is_bureau(self) -> bool:
        """Officers, researchers and admins see every record."""
        return self.role in BUREAU_ROLES

    @property
    def actor(self) -> Actor:
        return Actor(id=str(self.user_id), name=self.display_name, role=self.role.value)

    def require_role(self, *roles: Role) -> None:
        """Refuse callers outside ``roles``; as 404, like every other refusal to see."""
        if self.role not in roles:
            raise NotFound()

    def may_see_kindergarten_private(self, kindergarten_id: uuid.UUID, alliance_id: uuid.UUID | None) -> bool:
        """Contacts, users and teachers: the bureau, the kindergarten itself, and its alliance's
        lead and pillar (who organise the alliance's work)."""
        if self.is_bureau or kindergarten_id == self.kindergarten_id:
            return True
        return (
            self.role in (Role.LEAD, Role.PILLAR) and self.alliance_id is not None and alliance_id == self.alliance_id
        )

    def may_see_alliance_private(self, alliance_id: uuid.UUID) -> bool:
        """An alliance's working records: the bureau and the alliance's own kindergartens."""
        return self.is_bureau or (self.alliance_id is not None and alliance_id == self.alliance_id)


def current_alliance_id(session: Session, kindergarten_id: uuid.UUID | None) -> uuid.UUID | None:
    if kindergarten_id is None:
        return None
    stmt = select(Membership.alliance_id).where(
        Membership.kindergarten_id == kindergarten_id, Membership.ended_on.is_(None)
    )
    return session.scalar(stmt)


def viewer_for(session: Session, user: User) -> Viewer:
    """The viewer of a signed-in user, with the alliance its kindergarten is in today."""
    return Viewer(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        kindergarten_id=user.kindergarten_id,
        alliance_id=current_alliance_id(session, user.kindergarten_id),
        must_change_password=user.must_change_password,
    )


# One statement for the signed-in caller of every request: the account's columns a Viewer needs and
# the checks need, and its kindergarten's alliance today; built once.
_SIGNED_IN = (
    select(
        User.id,
        User.username,
        User.display_name,
        User.role,
        User.kindergarten_id,
        User.must_change_password,
        User.is_active,
        User.session_version,
        Membership.alliance_id,
    )
    .outerjoin(Membership, (Membership.kindergarten_id == User.kindergarten_id) & Membership.ended_on.is_(None))
    .where(User.id == bindparam("user_id"))
    .limit(1)
)


def signed_in_viewer(session: Session, *, user_id: uuid.UUID, session_version: int) -> Viewer:
    """The viewer a token or a browser session speaks for, in one statement: an active account whose
    sessions have not ended since (``session_version``, as ``accounts.service.get_session_user``
    checks it), with the alliance its kindergarten is in today. NotFound otherwise."""
    row = session.execute(_SIGNED_IN, {"user_id": user_id}).first()
    if row is None or not row.is_active or row.session_version != session_version:
        raise NotFound()
    return Viewer(
        user_id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        kindergarten_id=row.kindergarten_id,
        alliance_id=row.alliance_id,
        must_change_password=row.must_change_password,
    )


def ensure_visible(visible: bool) -> None:
    if not visible:
        raise NotFound()
