"""Accounts on the wire."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from workflows.access import Viewer
from workflows.accounts.models import ROLE_LABELS, Role, User


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class MeOut(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    role: str
    role_label: str
    kindergarten_id: uuid.UUID | None
    alliance_id: uuid.UUID | None

    @classmethod
    def of(cls, viewer: Viewer) -> MeOut:
        return cls(
            id=viewer.user_id,
            username=viewer.username,
            display_name=viewer.display_name,
            role=viewer.role.value,
            role_label=ROLE_LABELS[viewer.role],
            kindergarten_id=viewer.kindergarten_id,
            alliance_id=viewer.alliance_id,
        )


class UserOut(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    role: str
    role_label: str
    phone: str
    is_active: bool

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(
            id=u.id,
            username=u.username,
            display_name=u.display_name,
            role=u.role.value,
            role_label=ROLE_LABELS[Role(u.role)],
            phone=u.phone,
            is_active=u.is_active,
        )
